//! `scan`: the live host, captured in memory exactly as `collect`
//! captures it and analyzed as `analyze` would analyze that capture.

use std::path::Path;

use virt_doctor::analysis;
use virt_doctor::collect;
use virt_doctor::snapshot::Kind;

use super::analyze::print_analysis;
use super::{config_for, load_catalog, log_window, say_if_libvirt_missing};
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
    say_if_libvirt_missing(live);
    // The capture starts at once, on its own thread, and the rules are
    // made ready while it waits out its sampling interval: only the
    // analysis is left for after it (the target is the interval + 0.5 s).
    // A bad rule, config or --since still ends the command at once: the
    // capture only reads, and is abandoned with the process.
    let capturing = {
        let live = live.clone();
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || collect::collect(&live))?
    };
    let catalog = load_catalog(&opts.rules_dirs)?;
    let config = config_for(opts, &catalog)?;
    let window = log_window(opts)?;
    let log_rules = analysis::log_rules(&catalog, &config);
    let capture = capturing
        .join()
        .map_err(|_| anyhow::anyhow!("the capture of the live host failed"))?;
    if let Some(path) = save {
        capture.write_archive(path, collect::Compression::of(path)?, true)?;
    }
    let snap = capture.into_snapshot(Kind::Live, &live.sysroot);
    let a = analysis::run_with(&snap, &catalog, &config, window, &log_rules);
    print_analysis(&snap, a, &catalog, &config, opts)
}
