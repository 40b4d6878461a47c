//! Where a capture keeps each file it writes itself, defined once for the
//! writers (`crate::collect`) and the source table (`crate::sources`).
//!
//! A path with `*` is a pattern: the source table globs it as it stands,
//! and a writer fills each `*` in turn ([`fill`]) to name one file.

// The directories, as macros so that every path below is one literal
// spelled once (`concat!` takes literals, not constants).
macro_rules! own {
    ($rest:literal) => {
        concat!("virt-doctor", $rest)
    };
}
macro_rules! sample {
    ($rest:literal) => {
        concat!(own!("/samples/*/"), $rest)
    };
}
macro_rules! virsh {
    ($rest:literal) => {
        concat!("sos_commands/virsh/", $rest)
    };
}

/// What every path of virt-doctor's own begins with (a host never has
/// such a file; the collector writes them).
pub const OWN: &str = own!("");

/// The capture's description of itself ([`super::info`]).
pub const INFO: &str = own!(".json");
/// Device nodes present or absent on the host ([`super::devices`]).
pub const DEVICES: &str = own!("/devices");
/// The answer to `KVM_GET_API_VERSION` on `/dev/kvm` ([`super::kvm`]).
pub const KVM: &str = own!("/kvm");
/// How many entries `sys/kernel/iommu_groups` has ([`super::iommu`]).
pub const IOMMU_GROUPS: &str = own!("/iommu-groups");
/// `<domain> <pid>` per line: whose vCPU threads were sampled
/// ([`super::pids`]).
pub const SAMPLED_PIDS: &str = own!("/samples/domain-pids");

/// Runtime sample `n` (the first `*`) keeps a copy of the host's file
/// named by the rest of the path ([`sampled_from`]).
pub const SAMPLE_UPTIME: &str = sample!("proc/uptime");
pub const SAMPLE_STAT: &str = sample!("proc/stat");
pub const SAMPLE_DISKSTATS: &str = sample!("proc/diskstats");
pub const SAMPLE_NETDEV: &str = sample!("proc/net/dev");
/// ... `*`: the resource (`cpu`, `memory`, `io`).
pub const SAMPLE_PRESSURE: &str = sample!("proc/pressure/*");
/// ... `*`, `*`: QEMU's pid and the vCPU thread's id ([`super::vcpu`]).
pub const SAMPLE_VCPU_COMM: &str = sample!("proc/*/task/*/comm");
pub const SAMPLE_VCPU_SCHEDSTAT: &str = sample!("proc/*/task/*/schedstat");

/// libvirt's answers, where a sosreport's virsh plugin puts them, in
/// virsh's own text (`crate::parse::virsh`, `crate::parse::virt_versions`)
/// or libvirt's XML.
pub const VIRSH_CAPABILITIES: &str = virsh!("virsh_-r_capabilities");
pub const VIRSH_VERSION: &str = virsh!("virsh_-r_version");
pub const VIRSH_LIST: &str = virsh!("virsh_-r_list_--all");
pub const VIRSH_DOMSTATS: &str = virsh!("virsh_-r_domstats");
/// `*`: the domain's name.
pub const VIRSH_DUMPXML: &str = virsh!("virsh_-r_dumpxml_*");
/// `*`: the domain's name.
pub const VIRSH_DUMPXML_INACTIVE: &str = virsh!("inactive/virsh_-r_dumpxml_--inactive_*");
/// `*`, `*`: the domain's and the snapshot's names.
pub const VIRSH_SNAPSHOT: &str = virsh!("snapshots/*/*.xml");

/// The kernel ring buffer, where sosreport keeps `dmesg`'s output.
pub const DMESG: &str = "sos_commands/kernel/dmesg";

/// `pattern` with each `*` replaced by the next of `parts`, in order:
/// `fill(SAMPLE_PRESSURE, &[&0, &"cpu"])` is
/// `virt-doctor/samples/0/proc/pressure/cpu`.
pub fn fill(pattern: &str, parts: &[&dyn std::fmt::Display]) -> String {
    debug_assert_eq!(
        pattern.matches('*').count(),
        parts.len(),
        "one part for each `*` of {pattern}"
    );
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut parts = parts.iter();
    for (i, piece) in pattern.split('*').enumerate() {
        if i > 0 {
            match parts.next() {
                Some(p) => out.push_str(&p.to_string()),
                None => out.push('*'),
            }
        }
        out.push_str(piece);
    }
    out
}

/// The host file a sample pattern copies: `proc/pressure/*` for
/// [`SAMPLE_PRESSURE`].
pub fn sampled_from(pattern: &'static str) -> &'static str {
    pattern.strip_prefix(sample!("")).unwrap_or(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_filled_in_order() {
        assert_eq!(
            fill(SAMPLE_PRESSURE, &[&0, &"cpu"]),
            "virt-doctor/samples/0/proc/pressure/cpu"
        );
        assert_eq!(
            fill(VIRSH_SNAPSHOT, &[&"web01", &"before-upgrade"]),
            "sos_commands/virsh/snapshots/web01/before-upgrade.xml"
        );
        assert_eq!(fill(KVM, &[]), "virt-doctor/kvm");
    }

    #[test]
    fn samples_copy_the_host_file_their_path_ends_with() {
        assert_eq!(sampled_from(SAMPLE_NETDEV), "proc/net/dev");
        assert_eq!(sampled_from(SAMPLE_VCPU_COMM), "proc/*/task/*/comm");
        assert_eq!(INFO, "virt-doctor.json");
        assert!([DEVICES, KVM, IOMMU_GROUPS, SAMPLED_PIDS, SAMPLE_STAT]
            .iter()
            .all(|p| p.starts_with(OWN)));
    }
}
