//! `collect`: the live host captured into a tarball for `analyze`
//! anywhere.

use std::path::Path;

use virt_doctor::collect;

/// Write the capture; say where, how libvirt answered and what was cut.
pub fn collect(live: &collect::Options, output: &Path, force: bool) -> anyhow::Result<i32> {
    // Both checked before the seconds of capturing.
    let compression = collect::Compression::of(output)?;
    if !force && output.symlink_metadata().is_ok() {
        anyhow::bail!("{} exists; give --force to overwrite it", output.display());
    }
    let capture = collect::collect(live);
    capture.write_archive(output, compression, force)?;
    let info = &capture.info;
    say!(
        "virt-doctor: wrote {} (libvirt: {}{}; {} secrets redacted{})",
        output.display(),
        info.libvirt.status,
        info.libvirt
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default(),
        info.redactions.secrets,
        if info.redactions.hosts {
            ", host names and addresses replaced"
        } else {
            ""
        }
    );
    for notice in &info.notices {
        say!("virt-doctor: note: {notice}");
    }
    Ok(0)
}
