//! Values computed from the facts rather than read: what rules compare
//! against thresholds.

use serde::Serialize;

use super::{DomainFacts, Host};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Derived {
    /// Which domains the totals below count: `active` when the snapshot
    /// shows which domains were running, otherwise `defined` (every
    /// domain found, as in a sosreport with only persistent definitions).
    pub domain_basis: &'static str,
    pub domains_counted: usize,
    /// Sum of the counted domains' vCPUs (current count where set).
    pub vcpus_total: u32,
    /// `vcpus_total` / host logical CPUs.
    pub vcpu_overcommit_ratio: Option<f64>,
    /// Sum of the counted domains' `<memory>`.
    pub domain_memory_total_kib: u64,
    /// `domain_memory_total_kib` / host MemTotal.
    pub memory_commit_ratio: Option<f64>,
}

pub fn build(host: &Host, domains: &[DomainFacts]) -> Derived {
    let any_active = domains.iter().any(|d| d.active);
    let counted: Vec<&DomainFacts> = domains.iter().filter(|d| !any_active || d.active).collect();
    let vcpus_total: u32 = counted
        .iter()
        .map(|d| d.domain.vcpus_current.or(d.domain.vcpus).unwrap_or(0))
        .sum();
    let domain_memory_total_kib: u64 = counted.iter().filter_map(|d| d.domain.memory_kib).sum();
    Derived {
        domain_basis: if any_active { "active" } else { "defined" },
        domains_counted: counted.len(),
        vcpus_total,
        vcpu_overcommit_ratio: host
            .cpu
            .logical
            .filter(|n| *n > 0)
            .map(|n| round2(f64::from(vcpus_total) / f64::from(n))),
        domain_memory_total_kib,
        memory_commit_ratio: host
            .memory
            .total_kib
            .filter(|n| *n > 0)
            .map(|n| round2(domain_memory_total_kib as f64 / n as f64)),
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
