//! `/proc/net/dev`: per-interface counters.

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NetDev {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

pub fn parse(text: &str) -> Parsed<Vec<NetDev>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        // Two header lines contain `|`; data lines are `name: counters`.
        if line.contains('|') || line.trim().is_empty() {
            continue;
        }
        let Some((name, rest)) = line.split_once(':') else {
            problems.push(Problem::at(
                i + 1,
                format!("expected `iface: counters`, found {}", shape(line)),
            ));
            continue;
        };
        let v: Option<Vec<u64>> = rest.split_whitespace().map(|x| x.parse().ok()).collect();
        match v {
            Some(v) if v.len() >= 16 => out.push(NetDev {
                name: name.trim().to_owned(),
                rx_bytes: v[0],
                rx_packets: v[1],
                rx_errors: v[2],
                rx_dropped: v[3],
                tx_bytes: v[8],
                tx_packets: v[9],
                tx_errors: v[10],
                tx_dropped: v[11],
            }),
            _ => problems.push(Problem::at(
                i + 1,
                format!("expected 16 counters, found {}", shape(line)),
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
    #[test]
    fn reads_counters() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n  eth0: 874354587  1036395    0    5    0     0          0         0 563352563   732147    1    2    0     0       0          0\n";
        let p = super::parse(text);
        assert!(p.problems.is_empty());
        let e = &p.value[0];
        assert_eq!(
            (e.name.as_str(), e.rx_dropped, e.tx_errors, e.tx_dropped),
            ("eth0", 5, 1, 2)
        );
    }
}
