//! `virt-doctor/devices` ([`super::paths::DEVICES`]): which device nodes
//! the host had, one per line, as the live host's presence checks saw
//! them:
//!
//! ```text
//! dev/kvm present
//! dev/vhost-net absent
//! ```

use crate::parse::{shape, Parsed, Problem};

/// One line: the node's path as written (`dev/kvm`) and whether it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub path: String,
    pub present: bool,
}

pub fn parse(text: &str) -> Parsed<Vec<Device>> {
    let mut devices = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match line.split_once(' ') {
            Some((path, state @ ("present" | "absent"))) => devices.push(Device {
                path: path.to_owned(),
                present: state == "present",
            }),
            _ => problems.push(Problem::at(
                n + 1,
                format!("expected `dev/NAME present|absent`, found {}", shape(line)),
            )),
        }
    }
    Parsed {
        value: devices,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_is_a_node_and_its_state() {
        let p = parse("dev/kvm present\ndev/net/tun absent\n");
        assert!(p.problems.is_empty());
        assert_eq!(
            p.value,
            [
                Device {
                    path: "dev/kvm".into(),
                    present: true
                },
                Device {
                    path: "dev/net/tun".into(),
                    present: false
                }
            ]
        );
        let bad = parse("dev/kvm present\ndev/kvm maybe\n");
        assert_eq!(bad.value.len(), 1);
        assert_eq!(bad.problems[0].line, Some(2));
    }
}
