//! Which cgroup controllers the host offers: cgroup v2's
//! `sys/fs/cgroup/cgroup.controllers` (one line, space-separated) or v1's
//! `proc/cgroups` table (`#subsys_name hierarchy num_cgroups enabled`).

use std::collections::BTreeSet;

use super::{shape, Parsed, Problem};

/// The controllers a host offers, and the cgroup version its `cpu`
/// controller is mounted in (the one libvirt writes `<shares>` through).
#[derive(Debug, Default, PartialEq)]
pub struct Cgroups {
    pub controllers: BTreeSet<String>,
    /// 1 or 2; None when `proc/cgroups` has no `cpu` row.
    pub cpu_version: Option<u8>,
}

pub fn parse_v2(text: &str) -> Parsed<Cgroups> {
    Parsed::ok(Cgroups {
        controllers: text.split_whitespace().map(str::to_owned).collect(),
        cpu_version: Some(2),
    })
}

/// Enabled controllers of `proc/cgroups`. The table exists under both
/// versions: a controller in hierarchy 0 is on the unified (v2)
/// hierarchy, so a host whose snapshot lacks `cgroup.controllers` is not
/// taken for v1.
pub fn parse_v1(text: &str) -> Parsed<Cgroups> {
    let mut out = BTreeSet::new();
    let mut cpu_version = None;
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [name, hierarchy, _, enabled] => {
                if *enabled == "1" {
                    out.insert((*name).to_owned());
                }
                if *name == "cpu" {
                    cpu_version = Some(if *hierarchy == "0" { 2 } else { 1 });
                }
            }
            _ => problems.push(Problem::at(
                n + 1,
                format!(
                    "expected `subsys hierarchy num_cgroups enabled`, found {}",
                    shape(line)
                ),
            )),
        }
    }
    Parsed {
        value: Cgroups {
            controllers: out,
            cpu_version,
        },
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts() {
        let v2 = parse_v2("cpuset cpu io memory hugetlb pids rdma misc\n").value;
        assert!(v2.controllers.contains("cpuset") && v2.controllers.contains("io"));
        assert!(!v2.controllers.contains("blkio"));
        assert_eq!(v2.cpu_version, Some(2));
        let v1 = parse_v1("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t6\t1\t1\ncpu\t3\t74\t1\nblkio\t0\t1\t0\n");
        assert!(v1.problems.is_empty());
        assert_eq!(
            v1.value.controllers.into_iter().collect::<Vec<_>>(),
            ["cpu", "cpuset"]
        );
        assert_eq!(v1.value.cpu_version, Some(1));
    }

    /// `proc/cgroups` of a cgroup v2 host (Linux 6.x, systemd unified):
    /// every controller in hierarchy 0.
    #[test]
    fn proc_cgroups_of_a_v2_host_says_v2() {
        let v2 = parse_v1("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t98\t1\ncpu\t0\t98\t1\nmemory\t0\t98\t1\n");
        assert_eq!(v2.value.cpu_version, Some(2));
        assert_eq!(
            parse_v1("#subsys_name\thierarchy\n").value.cpu_version,
            None
        );
    }
}
