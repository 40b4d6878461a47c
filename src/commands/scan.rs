//! `scan`: the live host, captured in memory exactly as `collect`
//! captures it and analyzed as `analyze` would analyze that capture.

use std::path::Path;

use virt_doctor::collect;
use virt_doctor::snapshot::Kind;

use super::analyze::check_snapshot;
use super::{config_for, load_catalog, say_if_libvirt_missing};
use crate::cli::ReportOpts;

pub fn scan(
    live: &collect::Options,
    save: Option<&Path>,
    opts: &ReportOpts,
) -> anyhow::Result<i32> {
    // A mistyped --sysroot would otherwise read as a host with nothing
    // wrong.
    if !live.sysroot.is_dir() {
        anyhow::bail!("--sysroot {}: not a directory", live.sysroot.display());
    }
    // Rules and config are checked before spending seconds on sampling.
    let catalog = load_catalog(&opts.rules_dirs)?;
    config_for(opts, &catalog)?;
    say_if_libvirt_missing(live);
    let capture = collect::collect(live);
    if let Some(path) = save {
        capture.write_archive(path, collect::Compression::of(path)?, true)?;
    }
    check_snapshot(&capture.into_snapshot(Kind::Live, &live.sysroot), opts)
}
