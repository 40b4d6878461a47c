//! `/proc/<pid>/task/<tid>/schedstat`: `<run ns> <wait ns> <timeslices>`.
//! The second field is time spent runnable on a run queue, waiting for a
//! CPU (kernel Documentation/scheduler/sched-stats.rst).

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedstat {
    pub run_ns: u64,
    pub wait_ns: u64,
}

pub fn parse(text: &str) -> Parsed<Option<Schedstat>> {
    let fields: Vec<Option<u64>> = text.split_whitespace().map(|f| f.parse().ok()).collect();
    match fields.as_slice() {
        [Some(run_ns), Some(wait_ns), ..] => Parsed::ok(Some(Schedstat {
            run_ns: *run_ns,
            wait_ns: *wait_ns,
        })),
        _ => Parsed::failed(Problem::at(
            1,
            format!(
                "expected `run_ns wait_ns timeslices`, found {}",
                shape(text.trim())
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_run_and_wait() {
        let p = parse("1925392371 48815612 10021\n");
        assert_eq!(
            p.value,
            Some(Schedstat {
                run_ns: 1925392371,
                wait_ns: 48815612
            })
        );
        assert_eq!(parse("abc").problems[0].line, Some(1));
    }
}
