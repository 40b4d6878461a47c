//! virt-doctor's own capture: the files `virt-doctor collect` writes into a
//! snapshot besides the host's, where each one lives ([`paths`]) and one
//! parser per format.
//!
//! The collector (`crate::collect`) writes them and the source table
//! (`crate::sources`) reads them back through these parsers; both take
//! their paths from [`paths`], so the two cannot drift, and the collector's
//! writers are tested to round-trip through the parsers here
//! (`crate::collect`'s tests). Copies of the host's own files (the runtime
//! samples of `/proc/stat` and the like) are read by the host's parsers.

pub mod devices;
pub mod info;
pub mod iommu;
pub mod kvm;
pub mod paths;
pub mod pids;
pub mod vcpu;

pub use info::{CaptureInfo, LibvirtInfo, Redactions, SourceTiming};
