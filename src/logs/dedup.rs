//! The same kernel event is often in dmesg and in kern.log/messages (or
//! the journal); an event already counted from another file with the same
//! text within ten minutes is counted once.

use std::collections::HashMap;

/// Events with the same text from two files within this many seconds are
/// the same event.
const SAME_EVENT_SECONDS: i64 = 600;
/// Most kernel events remembered; past this the table stops growing (and
/// says so), so memory stays flat on an event storm.
pub const SEEN_CAP: usize = 1_000_000;

/// Kernel events counted so far, by rule and a hash of their text: the
/// file each came from and its time.
#[derive(Default)]
pub struct Seen {
    table: HashMap<(usize, u64), (usize, Option<i64>)>,
    full: bool,
}

pub enum Verdict {
    /// Counted already from another file.
    Duplicate,
    New,
    /// New, and the table just filled up: later events are no longer
    /// remembered (the caller says so once).
    NewAndFull,
}

impl Seen {
    /// Whether the event `rule` found in `body` of file `file` at `t` was
    /// counted from another file; remembers it if not.
    pub fn check(&mut self, rule: usize, body: &str, file: usize, t: Option<i64>) -> Verdict {
        let key = (rule, crate::stable_hash(body));
        if let Some((other_file, other_t)) = self.table.get(&key) {
            let close = match (t, other_t) {
                (Some(a), Some(b)) => (a - b).abs() <= SAME_EVENT_SECONDS,
                _ => true,
            };
            if *other_file != file && close {
                return Verdict::Duplicate;
            }
        }
        if self.table.len() < SEEN_CAP || self.table.contains_key(&key) {
            self.table.insert(key, (file, t));
            Verdict::New
        } else if !self.full {
            self.full = true;
            Verdict::NewAndFull
        } else {
            Verdict::New
        }
    }
}
