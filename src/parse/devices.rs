//! Which of the virtualization device nodes exist. On the live host we
//! look at `/dev` itself; a sosreport has no `/dev` but carries
//! `ls -lanR /dev` output (`sos_commands/block/ls_-lanR_.dev`).

use std::collections::BTreeMap;

use super::Parsed;

/// The device nodes that matter to a KVM host, as paths below `/dev`.
pub const WATCHED: &[&str] = &["kvm", "vhost-net", "net/tun", "vhost-vsock"];

/// From `ls -lanR /dev`: every watched node, present or not. A listing
/// that lacks the `/dev/net:` section says nothing about `net/tun`.
pub fn parse_ls_dev(text: &str) -> Parsed<BTreeMap<String, bool>> {
    let mut dir = String::new();
    let mut seen_dirs = Vec::new();
    let mut present = Vec::new();
    for line in text.lines() {
        if let Some(d) = line.strip_suffix(':').filter(|l| l.starts_with("/dev")) {
            dir = d
                .trim_start_matches("/dev")
                .trim_start_matches('/')
                .to_owned();
            seen_dirs.push(dir.clone());
            continue;
        }
        let Some(name) = line.split_whitespace().last() else {
            continue;
        };
        if line.starts_with('c') || line.starts_with('b') {
            present.push(if dir.is_empty() {
                name.to_owned()
            } else {
                format!("{dir}/{name}")
            });
        }
    }
    let mut out = BTreeMap::new();
    for node in WATCHED {
        let parent = node.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        if seen_dirs.iter().any(|d| d == parent) {
            out.insert((*node).to_owned(), present.iter().any(|p| p == node));
        }
    }
    Parsed::ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_nodes_in_sections() {
        let text = "/dev:\ncrw-rw----  1     0   108  10, 232 Feb 10 16:18 kvm\ncrw-------  1     0     0  10, 238 Feb 10 16:14 vhost-net\n\n/dev/net:\ncrw-rw-rw-  1 0 0 10, 200 Feb 10 16:14 tun\n";
        let p = super::parse_ls_dev(text).value;
        assert_eq!(p.get("kvm"), Some(&true));
        assert_eq!(p.get("net/tun"), Some(&true));
        assert_eq!(p.get("vhost-vsock"), Some(&false));
        let no_net = super::parse_ls_dev("/dev:\ncrw 1 0 0 10, 232 Feb 10 16:18 kvm\n").value;
        assert_eq!(no_net.get("net/tun"), None);
    }
}
