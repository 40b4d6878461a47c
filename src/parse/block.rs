//! `sys/block/<dev>/queue/*`: the I/O scheduler and queue settings of each
//! block device.

use super::{bracketed_choice, single_u64, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BlockQueue {
    /// The active scheduler: the bracketed word in `queue/scheduler`.
    pub scheduler: Option<String>,
    pub schedulers_available: Vec<String>,
    pub rotational: Option<bool>,
    pub read_ahead_kb: Option<u64>,
    pub nr_requests: Option<u64>,
}

/// Store the value of queue attribute `attr` (file name below `queue/`).
/// Attributes we do not model are ignored.
pub fn store(queue: &mut BlockQueue, attr: &str, text: &str) -> Vec<Problem> {
    match attr {
        "scheduler" => {
            let p = bracketed_choice(text);
            (queue.scheduler, queue.schedulers_available) = p.value;
            p.problems
        }
        "rotational" => {
            let p = single_u64(text);
            queue.rotational = p.value.map(|v| v != 0);
            p.problems
        }
        "read_ahead_kb" => {
            let p = single_u64(text);
            queue.read_ahead_kb = p.value;
            p.problems
        }
        "nr_requests" => {
            let p = single_u64(text);
            queue.nr_requests = p.value;
            p.problems
        }
        _ => Vec::new(),
    }
}
