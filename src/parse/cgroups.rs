//! Which cgroup controllers the host offers: cgroup v2's
//! `sys/fs/cgroup/cgroup.controllers` (one line, space-separated) or v1's
//! `proc/cgroups` table (`#subsys_name hierarchy num_cgroups enabled`).

use std::collections::BTreeSet;

use super::{shape, Parsed, Problem};

pub fn parse_v2(text: &str) -> Parsed<BTreeSet<String>> {
    Parsed::ok(text.split_whitespace().map(str::to_owned).collect())
}

/// Enabled controllers of `proc/cgroups`.
pub fn parse_v1(text: &str) -> Parsed<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [name, _, _, enabled] => {
                if *enabled == "1" {
                    out.insert((*name).to_owned());
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
        value: out,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts() {
        let v2 = parse_v2("cpuset cpu io memory hugetlb pids rdma misc\n").value;
        assert!(v2.contains("cpuset") && v2.contains("io") && !v2.contains("blkio"));
        let v1 = parse_v1("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t6\t1\t1\ncpu\t3\t74\t1\nblkio\t0\t1\t0\n");
        assert!(v1.problems.is_empty());
        assert_eq!(v1.value.into_iter().collect::<Vec<_>>(), ["cpu", "cpuset"]);
    }
}
