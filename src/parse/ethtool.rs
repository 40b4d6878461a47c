//! `ethtool -g <dev>` output (`sos_commands/networking/ethtool_-g_<dev>`):
//! NIC ring sizes, maximum and current.
//!
//! ```text
//! Ring parameters for eth0:
//! Pre-set maximums:
//! RX:             4096
//! ...
//! TX:             4096
//! Current hardware settings:
//! RX:             256
//! ...
//! TX:             256
//! ```

use super::{Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rings {
    pub rx_max: Option<u64>,
    pub tx_max: Option<u64>,
    pub rx: Option<u64>,
    pub tx: Option<u64>,
}

pub fn parse_rings(text: &str) -> Parsed<Option<Rings>> {
    let mut r = Rings::default();
    let mut section = "";
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("Pre-set maximums") {
            section = "max";
        } else if l.starts_with("Current hardware settings") {
            section = "cur";
        } else if let Some((k, v)) = l.split_once(':') {
            let v = v.trim().parse::<u64>().ok();
            match (section, k.trim()) {
                ("max", "RX") => r.rx_max = v,
                ("max", "TX") => r.tx_max = v,
                ("cur", "RX") => r.rx = v,
                ("cur", "TX") => r.tx = v,
                _ => {}
            }
        }
    }
    if r == Rings::default() {
        // Devices without ring support print an error instead
        // (`Cannot get device ring settings: Operation not supported`).
        let problems = if text.contains("Operation not supported") || text.trim().is_empty() {
            Vec::new()
        } else {
            vec![Problem::whole("no ring sizes found")]
        };
        return Parsed {
            value: None,
            problems,
        };
    }
    Parsed::ok(Some(r))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_max_and_current() {
        let text = "Ring parameters for eth0:\nPre-set maximums:\nRX:\t\t4096\nRX Mini:\t0\nRX Jumbo:\t0\nTX:\t\t4096\nCurrent hardware settings:\nRX:\t\t256\nRX Mini:\t0\nRX Jumbo:\t0\nTX:\t\t512\n";
        let r = super::parse_rings(text).value.unwrap();
        assert_eq!(
            (r.rx_max, r.tx_max, r.rx, r.tx),
            (Some(4096), Some(4096), Some(256), Some(512))
        );
        let none = super::parse_rings("Cannot get device ring settings: Operation not supported\n");
        assert!(none.value.is_none() && none.problems.is_empty());
    }
}
