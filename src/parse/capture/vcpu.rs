//! The vCPU threads a runtime sample holds
//! ([`super::paths::SAMPLE_VCPU_COMM`]): each thread's `comm`, as the
//! kernel wrote it, names the vCPU (`CPU 3/KVM`); its `schedstat` is read
//! by `crate::parse::schedstat`.

/// QEMU names its vCPU threads `CPU <n>/KVM` (`CPU <n>/TCG` under
/// emulation, which is sampled too: it is the same contention).
pub fn is_vcpu_thread(comm: &str) -> bool {
    let comm = comm.trim();
    comm.strip_prefix("CPU ")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(n, accel)| n.parse::<u32>().is_ok() && matches!(accel, "KVM" | "TCG"))
}

/// `n` of a thread named `CPU n/…`; `None` for any other name. A name is
/// never a problem: the collector keeps only vCPU threads, and a thread
/// renamed since says nothing wrong about the host.
pub fn vcpu_number(comm: &str) -> Option<u32> {
    comm.trim()
        .strip_prefix("CPU ")
        .and_then(|r| r.split('/').next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcpu_threads_are_recognised_by_name() {
        assert!(is_vcpu_thread("CPU 0/KVM\n"));
        assert!(is_vcpu_thread("CPU 15/TCG"));
        assert!(!is_vcpu_thread("qemu-system-x86"));
        assert!(!is_vcpu_thread("CPU x/KVM"));
        assert!(!is_vcpu_thread("IO mon_iothread"));
    }

    #[test]
    fn the_vcpu_number_is_in_the_name() {
        assert_eq!(vcpu_number("CPU 3/KVM\n"), Some(3));
        assert_eq!(vcpu_number("CPU 12/TCG"), Some(12));
        assert_eq!(vcpu_number("IO mon_iothread"), None);
    }
}
