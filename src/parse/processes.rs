//! Which programs run: `ps` output captured by sosreport
//! (`sos_commands/process/ps_auxwww`). On the live host each
//! `/proc/<pid>/comm` is read instead (one name per file).

use std::collections::BTreeSet;

use super::Parsed;

/// Command names (basename of the first word of the COMMAND column).
pub fn parse_ps(text: &str) -> Parsed<BTreeSet<String>> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Parsed::ok(BTreeSet::new());
    };
    let Some(col) = header
        .split_whitespace()
        .position(|h| h == "COMMAND" || h == "CMD")
    else {
        return Parsed {
            value: BTreeSet::new(),
            problems: vec![super::Problem::at(1, "no COMMAND column in the ps header")],
        };
    };
    let names = lines
        .filter_map(|l| l.split_whitespace().nth(col))
        .map(|c| {
            c.trim_start_matches(['[', '\\', '_', '|', ' '])
                .trim_end_matches(']')
        })
        .map(|c| {
            c.rsplit('/')
                .next()
                .unwrap_or(c)
                .trim_end_matches(':')
                .to_owned()
        })
        .filter(|c| !c.is_empty())
        .collect();
    Parsed::ok(names)
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_names() {
        let text = "USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND\nroot 1 0.0 0.1 1 1 ? Ss 10:00 0:01 /sbin/init splash\nroot 912 0.0 0.0 0 0 ? S 10:00 0:00 [kworker/0:1]\nroot 1200 0.0 0.1 1 1 ? Ssl 10:00 0:00 /usr/bin/numad -i 15\n";
        let p = super::parse_ps(text).value;
        assert!(p.contains("numad") && p.contains("init"));
    }
}
