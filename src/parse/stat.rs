//! `/proc/stat`: boot time and CPU time counters.

use std::collections::BTreeMap;

use super::{shape, Parsed, Problem};

/// Jiffies spent in each state since boot (USER_HZ units).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    pub guest: u64,
    pub guest_nice: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stat {
    /// Boot time, seconds since the Unix epoch.
    pub btime: Option<i64>,
    pub total: Option<CpuTimes>,
    pub per_cpu: BTreeMap<u32, CpuTimes>,
    pub procs_running: Option<u64>,
    pub procs_blocked: Option<u64>,
    pub context_switches: Option<u64>,
}

pub fn parse(text: &str) -> Parsed<Stat> {
    let mut out = Stat::default();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let Some(key) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        let first = || rest.first().and_then(|v| v.parse::<u64>().ok());
        match key {
            "cpu" => match times(&rest) {
                Some(t) => out.total = Some(t),
                None => problems.push(Problem::at(
                    i + 1,
                    format!(
                        "expected `cpuN user nice system idle …`, found {}",
                        shape(line)
                    ),
                )),
            },
            _ if key.starts_with("cpu") => match (key[3..].parse::<u32>(), times(&rest)) {
                (Ok(n), Some(t)) => {
                    out.per_cpu.insert(n, t);
                }
                _ => problems.push(Problem::at(
                    i + 1,
                    format!(
                        "expected `cpuN user nice system idle …`, found {}",
                        shape(line)
                    ),
                )),
            },
            "btime" => out.btime = rest.first().and_then(|v| v.parse().ok()),
            "procs_running" => out.procs_running = first(),
            "procs_blocked" => out.procs_blocked = first(),
            "ctxt" => out.context_switches = first(),
            _ => {}
        }
    }
    Parsed {
        value: out,
        problems,
    }
}

/// Older kernels print fewer columns; missing ones are zero, as the
/// kernel would have counted nothing in states it did not track.
fn times(cols: &[&str]) -> Option<CpuTimes> {
    let mut v = [0u64; 10];
    if cols.len() < 4 {
        return None;
    }
    for (slot, c) in v.iter_mut().zip(cols) {
        *slot = c.parse().ok()?;
    }
    Some(CpuTimes {
        user: v[0],
        nice: v[1],
        system: v[2],
        idle: v[3],
        iowait: v[4],
        irq: v[5],
        softirq: v[6],
        steal: v[7],
        guest: v[8],
        guest_nice: v[9],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_btime_and_cpus() {
        let p = super::parse("cpu  10 0 5 100 1 0 0 2 0 0\ncpu0 10 0 5 100 1 0 0 2 0 0\nbtime 1418183276\nprocs_running 2\n");
        assert!(p.problems.is_empty());
        assert_eq!(p.value.btime, Some(1418183276));
        assert_eq!(p.value.total.as_ref().unwrap().steal, 2);
        assert_eq!(p.value.per_cpu.len(), 1);
        assert_eq!(p.value.procs_running, Some(2));
    }
}
