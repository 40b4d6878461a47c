//! Two questions every hypervisor rule depends on, answered from all the
//! evidence a snapshot holds rather than from one file:
//!
//! * Is this a hypervisor at all? libvirt's configuration, daemon,
//!   capabilities or domains, or QEMU processes, say so. A Kubernetes node
//!   or a database server is not one, and "KVM is missing" is no finding
//!   there.
//! * Does KVM work here? The strongest evidence is what libvirt and QEMU
//!   did: capabilities that offer `kvm` guests, a domain running with
//!   `type='kvm'`. Then `/dev/kvm` (a listing, or the capture's probe) and
//!   the kvm modules. CPU flags alone decide nothing: a nested hypervisor
//!   may not show them, and a sosreport taken from a container may not see
//!   `/dev/kvm` although its guests run on it.

use serde::Serialize;

use super::{DomainFacts, Host};
use crate::sources::{HostData, KvmProbe};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Virtualization {
    pub hypervisor: bool,
    /// What says this is (or is not) a hypervisor.
    pub hypervisor_evidence: Vec<String>,
    /// `true` when something shows KVM working, `false` when the snapshot
    /// shows it missing and nothing shows it working, null when it cannot
    /// tell.
    pub kvm: Option<bool>,
    pub kvm_evidence: Vec<String>,
}

const KVM_MODULES: &[&str] = &["kvm_intel", "kvm_amd", "kvm"];

pub fn build(data: &HostData, host: &Host, domains: &[DomainFacts]) -> Virtualization {
    let mut v = Virtualization::default();

    // Is this a hypervisor?
    let mut yes = Vec::new();
    if !data.libvirt_config.is_empty() {
        yes.push(format!(
            "libvirt is configured ({})",
            data.libvirt_config.join(", ")
        ));
    }
    if let Some(p) = &data.processes {
        let running: Vec<&str> = ["libvirtd", "virtqemud"]
            .into_iter()
            .filter(|d| p.contains(*d))
            .collect();
        if !running.is_empty() {
            yes.push(format!("{} runs", running.join(" and ")));
        }
        if p.iter()
            .any(|c| c.starts_with("qemu-kvm") || c.starts_with("qemu-system"))
        {
            yes.push("QEMU processes run".into());
        }
    }
    if data.capabilities.is_some() {
        yes.push("libvirt answered `virsh capabilities`".into());
    }
    if data
        .capture
        .as_ref()
        .is_some_and(|c| c.libvirt.status == "ok")
    {
        yes.push("libvirt answered the capture".into());
    }
    if !domains.is_empty() {
        yes.push(match domains.len() {
            1 => "1 domain defined".to_owned(),
            n => format!("{n} domains defined"),
        });
    }
    v.hypervisor = !yes.is_empty();
    v.hypervisor_evidence = if yes.is_empty() {
        vec!["no libvirt configuration, daemon, capabilities or domains".into()]
    } else {
        yes
    };

    // Does KVM work?
    let mut works = Vec::new();
    let mut missing = Vec::new();
    if let Some(caps) = &data.capabilities {
        if caps.guest_domain_types.iter().any(|t| t == "kvm") {
            works.push("libvirt's capabilities offer kvm guests".into());
        } else if !caps.guest_domain_types.is_empty() {
            missing.push(format!(
                "libvirt's capabilities offer only {} guests",
                caps.guest_domain_types.join(", ")
            ));
        }
    }
    let running_kvm: Vec<&str> = domains
        .iter()
        .filter(|d| d.active && d.domain.domain_type.as_deref() == Some("kvm"))
        .map(|d| d.domain.name.as_str())
        .collect();
    if !running_kvm.is_empty() {
        works.push(format!(
            "running with type='kvm': {}",
            running_kvm
                .iter()
                .take(3)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    match data.kvm_probe.as_ref() {
        Some(KvmProbe::ApiVersion(n)) => works.push(format!("/dev/kvm answered API version {n}")),
        Some(KvmProbe::Absent) => missing.push("/dev/kvm does not exist".into()),
        Some(KvmProbe::Error(..)) | None => {}
    }
    match host.devices.kvm {
        Some(true) => works.push("/dev/kvm exists".into()),
        Some(false) if data.kvm_probe.is_none() => {
            missing.push("/dev/kvm is not in the device listing".into())
        }
        _ => {}
    }
    if let Some(modules) = &data.modules {
        let loaded: Vec<&str> = KVM_MODULES
            .iter()
            .copied()
            .filter(|m| modules.contains(*m))
            .collect();
        if loaded.iter().any(|m| *m != "kvm") {
            works.push(format!("{} is loaded", loaded.join(" and ")));
        } else {
            missing.push("no kvm_intel or kvm_amd module is loaded".into());
        }
    }
    if host.cpu.virtualization.as_deref() == Some("none") {
        missing.push("the CPU flags show no vmx or svm".into());
    }
    // CPU flags alone decide nothing.
    let only_flags = missing.len() == 1 && missing[0].starts_with("the CPU flags");
    v.kvm = if !works.is_empty() {
        Some(true)
    } else if !missing.is_empty() && !only_flags {
        Some(false)
    } else {
        None
    };
    v.kvm_evidence = if works.is_empty() { missing } else { works };
    v
}
