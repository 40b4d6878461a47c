//! `virt-doctor/samples/domain-pids` ([`super::paths::SAMPLED_PIDS`]):
//! whose vCPU threads the runtime samples hold, `<domain> <pid>` per line
//! (a domain name may have spaces; the pid is the last word).

use crate::parse::{shape, Parsed, Problem};

/// (domain, QEMU pid), in the file's order.
pub fn parse(text: &str) -> Parsed<Vec<(String, u32)>> {
    let mut pids = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        match line
            .rsplit_once(' ')
            .and_then(|(d, p)| Some((d, p.parse::<u32>().ok()?)))
        {
            Some((dom, pid)) => pids.push((dom.to_owned(), pid)),
            None => problems.push(Problem::at(
                n + 1,
                format!("expected `DOMAIN PID`, found {}", shape(line)),
            )),
        }
    }
    Parsed {
        value: pids,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_and_a_pid_per_line() {
        let p = parse("web01 4242\nmy guest 77\n");
        assert!(p.problems.is_empty());
        assert_eq!(
            p.value,
            [("web01".to_owned(), 4242), ("my guest".to_owned(), 77)]
        );
        let bad = parse("web01 4242\nweb02\n");
        assert_eq!(bad.value.len(), 1);
        assert_eq!(bad.problems[0].line, Some(2));
    }
}
