//! The libvirt and QEMU versions a host runs: `virsh version` (what the
//! daemon and hypervisor answer, best), else the installed packages
//! (`installed-rpms` of a sosreport, `dpkg -l`). Hosts of one cluster are
//! compared on these: a guest cannot migrate to an older QEMU than the
//! one it was started on.

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VirtVersions {
    pub libvirt: Option<String>,
    pub qemu: Option<String>,
}

/// `virsh version`:
/// ```text
/// Compiled against library: libvirt 9.0.0
/// Using library: libvirt 9.0.0
/// Using API: QEMU 9.0.0
/// Running hypervisor: QEMU 7.2.0
/// ```
pub fn parse_virsh_version(text: &str) -> Parsed<VirtVersions> {
    let mut v = VirtVersions::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let version = value.split_whitespace().nth(1).map(str::to_owned);
        match key.trim() {
            "Using library" => v.libvirt = version,
            "Running hypervisor" => v.qemu = version,
            _ => {}
        }
    }
    if v.libvirt.is_none() && v.qemu.is_none() {
        return Parsed {
            value: v,
            problems: vec![Problem::at(
                1,
                format!(
                    "expected `Using library: libvirt X` or `Running hypervisor: QEMU Y`, found {}",
                    shape(text.lines().next().unwrap_or("").trim())
                ),
            )],
        };
    }
    Parsed::ok(v)
}

/// Package names whose version is the daemon's, and the hypervisor's,
/// on RPM and Debian systems, best first.
const LIBVIRT_PACKAGES: &[&str] = &["libvirt-daemon", "libvirt-daemon-system", "libvirt0"];
const QEMU_PACKAGES: &[&str] = &[
    "qemu-kvm-core",
    "qemu-kvm",
    "qemu-system-x86",
    "qemu-system-x86-core",
    "qemu-system-aarch64",
    "qemu-system-ppc",
    "qemu-system-s390x",
];

fn best(found: &[(usize, String)]) -> Option<String> {
    found
        .iter()
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, v)| v.clone())
}

/// `installed-rpms` (`libvirt-daemon-8.0.0-5.module+el8.6.0.x86_64  Mon 01 Jan …`)
/// or `rpm -qa` output: NAME-VERSION-RELEASE.ARCH, the version being the
/// second field from the right.
pub fn parse_rpm_list(text: &str) -> Parsed<VirtVersions> {
    let mut libvirt = Vec::new();
    let mut qemu = Vec::new();
    for line in text.lines() {
        let Some(nvra) = line.split_whitespace().next() else {
            continue;
        };
        let mut parts = nvra.rsplitn(3, '-');
        let (Some(_release), Some(version), Some(name)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        // An epoch (`15:`) is not part of what people call the version.
        let version = version.rsplit(':').next().unwrap_or(version).to_owned();
        if let Some(rank) = LIBVIRT_PACKAGES.iter().position(|p| *p == name) {
            libvirt.push((rank, version.clone()));
        }
        if let Some(rank) = QEMU_PACKAGES.iter().position(|p| *p == name) {
            qemu.push((rank, version));
        }
    }
    Parsed::ok(VirtVersions {
        libvirt: best(&libvirt),
        qemu: best(&qemu),
    })
}

/// `dpkg -l`: `ii  qemu-system-x86  1:7.2+dfsg-7+deb12u7  amd64  QEMU …`;
/// the upstream version is what lies between the epoch and the Debian
/// revision.
pub fn parse_dpkg_list(text: &str) -> Parsed<VirtVersions> {
    let mut libvirt = Vec::new();
    let mut qemu = Vec::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let [state, name, version, ..] = w.as_slice() else {
            continue;
        };
        if *state != "ii" {
            continue;
        }
        let name = name.split(':').next().unwrap_or(name);
        let upstream = version.split_once(':').map_or(*version, |(_, v)| v);
        let upstream = upstream.rsplit_once('-').map_or(upstream, |(u, _)| u);
        let upstream = upstream
            .split(['+', '~'])
            .next()
            .unwrap_or(upstream)
            .to_owned();
        if let Some(rank) = LIBVIRT_PACKAGES.iter().position(|p| *p == name) {
            libvirt.push((rank, upstream.clone()));
        }
        if let Some(rank) = QEMU_PACKAGES.iter().position(|p| *p == name) {
            qemu.push((rank, upstream));
        }
    }
    Parsed::ok(VirtVersions {
        libvirt: best(&libvirt),
        qemu: best(&qemu),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virsh_version() {
        let v = parse_virsh_version(
            "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\nRunning hypervisor: QEMU 7.2.0\n",
        );
        assert!(v.problems.is_empty());
        assert_eq!(v.value.libvirt.as_deref(), Some("9.0.0"));
        assert_eq!(v.value.qemu.as_deref(), Some("7.2.0"));
        let bad = parse_virsh_version("error: failed to connect to the hypervisor\n");
        assert_eq!(bad.problems.len(), 1);
    }

    #[test]
    fn rpm_list() {
        let v = parse_rpm_list(
            "libvirt-daemon-driver-qemu-8.0.0-5.module+el8.6.0+14480+c0a3aa0f.x86_64  Mon Jun 13 2022\n\
             libvirt-daemon-8.0.0-5.module+el8.6.0+14480+c0a3aa0f.x86_64  Mon Jun 13 2022\n\
             qemu-kvm-core-6.2.0-11.module+el8.6.0+14707+5aa4b42d.x86_64  Mon Jun 13 2022\n\
             qemu-kvm-15:6.2.0-11.module+el8.6.0+14707+5aa4b42d.x86_64  Mon Jun 13 2022\n",
        );
        assert_eq!(v.value.libvirt.as_deref(), Some("8.0.0"));
        assert_eq!(v.value.qemu.as_deref(), Some("6.2.0"));
    }

    #[test]
    fn dpkg_list() {
        let v = parse_dpkg_list(
            "ii  libvirt-daemon-system   9.0.0-4+deb12u2   amd64  Libvirt daemon configuration files\n\
             ii  libvirt0:amd64          9.0.0-4+deb12u2   amd64  library\n\
             rc  qemu-system-x86         1:5.2+dfsg-11     amd64  removed\n\
             ii  qemu-system-x86         1:7.2+dfsg-7+deb12u7 amd64 QEMU full system emulation\n",
        );
        assert_eq!(v.value.libvirt.as_deref(), Some("9.0.0"));
        assert_eq!(v.value.qemu.as_deref(), Some("7.2"));
    }
}
