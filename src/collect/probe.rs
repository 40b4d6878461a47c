//! Asking the kernel, read-only, what files cannot say.

use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use crate::parse::capture::kvm::KvmProbe;

/// `_IO(KVMIO, 0x00)`: takes no argument, changes nothing.
const KVM_GET_API_VERSION: libc::c_ulong = 0xAE00;

/// The API version, or the errno's name and message, or `Absent`.
///
/// virt-host-validate only checks that /dev/kvm is accessible; opening it
/// and asking its API version proves the module is loaded and answers,
/// which is what QEMU will need. The node is opened read-only: the ioctl
/// does not need write access, and a scan must never open a device for
/// writing.
pub fn kvm_api_version(dev: &Path) -> KvmProbe {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(dev)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return KvmProbe::Absent,
        Err(e) => return KvmProbe::Error(errno_name(e.raw_os_error()), e.to_string()),
    };
    // SAFETY: a valid fd and an ioctl that takes no argument.
    let version = unsafe { libc::ioctl(file.as_raw_fd(), KVM_GET_API_VERSION, 0) };
    if version < 0 {
        let e = std::io::Error::last_os_error();
        return KvmProbe::Error(errno_name(e.raw_os_error()), e.to_string());
    }
    KvmProbe::ApiVersion(i64::from(version))
}

/// The errno's name, which rules match on (`EACCES` is the scanning
/// user's problem, not the host's).
fn errno_name(code: Option<i32>) -> String {
    match code {
        Some(libc::EACCES) => "EACCES".into(),
        Some(libc::EPERM) => "EPERM".into(),
        Some(libc::ENXIO) => "ENXIO".into(),
        Some(libc::ENODEV) => "ENODEV".into(),
        Some(libc::ENOTTY) => "ENOTTY".into(),
        Some(libc::EINVAL) => "EINVAL".into(),
        Some(c) => format!("errno{c}"),
        None => "unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_node_is_absent_and_a_plain_file_is_not_kvm() {
        assert_eq!(
            kvm_api_version(Path::new("/nonexistent/kvm")),
            KvmProbe::Absent
        );
        let f = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            kvm_api_version(f.path()),
            KvmProbe::Error(name, _) if name == "ENOTTY"
        ));
    }
}
