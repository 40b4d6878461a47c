//! Kernel tunables, as `sysctl -a` prints them and as `/proc/sys` holds them.
//!
//! Values are kept as strings (the kernel's own representation) with runs
//! of whitespace folded to one space, so `net.ipv4.tcp_rmem` reads
//! `4096 131072 6291456` from either source.

use std::collections::BTreeMap;

use super::{shape, Parsed, Problem};

/// Normalise a value as described in the module docs.
pub fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The dotted name for a file below `proc/sys/` (`vm/swappiness` ->
/// `vm.swappiness`). Dots inside a component (interface names such as
/// `eth0.100`) become `/`, exactly as sysctl(8) prints them.
pub fn name_from_path(rel: &str) -> String {
    rel.split('/')
        .map(|c| c.replace('.', "/"))
        .collect::<Vec<_>>()
        .join(".")
}

/// `sysctl -a` output: `name = value` per line.
pub fn parse_sysctl_a(text: &str) -> Parsed<BTreeMap<String, String>> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with("sysctl: ") {
            // sysctl's own complaints (`permission denied on key …`) come
            // mixed into captured output; they are not values.
            continue;
        }
        let Some((name, value)) = line
            .split_once(" = ")
            .or_else(|| line.strip_suffix(" =").map(|n| (n, "")))
        else {
            problems.push(Problem::at(
                i + 1,
                format!("expected `name = value`, found {}", shape(line)),
            ));
            continue;
        };
        // Multi-line values (dev.cdrom.info) repeat the name per line.
        map.entry(name.trim().to_owned())
            .and_modify(|v| {
                v.push('\n');
                v.push_str(&normalise(value));
            })
            .or_insert_with(|| normalise(value));
    }
    Parsed {
        value: map,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_a_lines() {
        let p = parse_sysctl_a("vm.swappiness = 60\nnet.ipv4.tcp_rmem = 4096\t131072\t6291456\nkernel.domainname = \nsysctl: permission denied on key 'fs.protected_fifos'\nnonsense\n");
        assert_eq!(p.value["vm.swappiness"], "60");
        assert_eq!(p.value["net.ipv4.tcp_rmem"], "4096 131072 6291456");
        assert_eq!(p.value["kernel.domainname"], "");
        assert_eq!(
            p.problems,
            vec![Problem::at(
                5,
                "expected `name = value`, found a line of 8 characters"
            )]
        );
    }

    #[test]
    fn proc_sys_names() {
        assert_eq!(name_from_path("vm/swappiness"), "vm.swappiness");
        assert_eq!(
            name_from_path("net/ipv4/conf/eth0.100/rp_filter"),
            "net.ipv4.conf.eth0/100.rp_filter"
        );
    }
}
