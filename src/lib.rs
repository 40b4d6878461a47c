//! virt-doctor: find CPU, memory, NUMA, disk and network bottlenecks and
//! misconfigurations on KVM/libvirt hosts.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! snapshot  ->  sources + parse  ->  facts  ->  (rules -> findings -> report)
//! ```
//!
//! * [`snapshot`]: one reader for the live host, a directory, or a tarball.
//! * [`sources`]: the table of what to read where, feeding
//! * [`parse`]: one pure parser per source, each reporting its problems.
//! * [`facts`]: the documented model rules and `virt-doctor facts` see.
//!
//! Around it, what the commands other than `analyze` add: [`collect`]
//! captures the live host (libvirt only with the `live` feature),
//! [`lint`] checks domain XML files on their own, [`diff`] compares two
//! runs, [`fleet`] analyzes many hosts at once.
//!
//! virt-doctor is read-only: it never changes the host it inspects.

pub mod analysis;
pub mod collect;
pub mod config;
pub mod diff;
pub mod facts;
pub mod findings;
pub mod fleet;
#[doc(hidden)]
pub mod fuzz_entry;
pub mod lang;
pub mod lint;
pub mod logs;
pub mod parse;
pub mod plan;
pub mod prose;
pub mod report;
pub mod rules;
pub mod snapshot;
pub mod sources;
pub mod suppress;

/// FNV-1a: a small, stable 64-bit hash of a text, the same in every run
/// and build (SARIF fingerprints, the log de-duplication table).
pub(crate) fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}
