//! `virt-doctor facts`: everything read, as the documented JSON or a table.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use virt_doctor::collect;
use virt_doctor::facts::{self, Facts};
use virt_doctor::snapshot::{Kind, Snapshot};

use crate::cli::FactsFormat;

/// A snapshot on disk, or the live host captured in memory exactly as
/// `scan` captures it.
pub fn open(path: Option<PathBuf>, live: &collect::Options) -> anyhow::Result<Snapshot> {
    match path {
        None => {
            super::say_if_libvirt_missing(live);
            Ok(collect::collect(live).into_snapshot(Kind::Live, &live.sysroot))
        }
        Some(p) => super::open_host(&p),
    }
}

pub fn facts_command(
    path: Option<PathBuf>,
    live: &collect::Options,
    format: FactsFormat,
) -> anyhow::Result<i32> {
    let snap = open(path, live)?;
    let facts = facts::gather(&snap);
    let mut out = std::io::stdout().lock();
    match format {
        FactsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &facts)?;
            writeln!(out)?;
        }
        FactsFormat::Table => {
            let width = virt_doctor::prose::output_width(std::io::stdout().is_terminal());
            write!(out, "{}", facts_table(&facts, width))?
        }
    }
    Ok(0)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), T::to_string)
}

fn gib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "-".into(),
        |k| format!("{:.1} GiB", k as f64 / 1048576.0),
    )
}

/// A table that wraps its cells to fit `width` columns.
fn table(width: usize) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(u16::try_from(width).unwrap_or(u16::MAX));
    t
}

/// `1 socket`, `2 sockets`, `- sockets` when unknown.
fn count(n: &Option<u32>, word: &str) -> String {
    match n {
        Some(1) => format!("1 {word}"),
        Some(n) => format!("{n} {word}s"),
        None => format!("- {word}s"),
    }
}

fn facts_table(f: &Facts, width: usize) -> String {
    let h = &f.host;
    let mut s = String::new();
    let mut host = table(width);
    host.set_header(vec!["host", opt(&h.hostname).as_str()]);
    let cpu = &h.cpu;
    host.add_row(vec!["kernel".into(), opt(&h.kernel)]);
    host.add_row(vec![
        "cpu".into(),
        format!(
            "{} logical ({} x {} x {}, from {}), {}, virtualization {}",
            opt(&cpu.logical),
            count(&cpu.sockets, "socket"),
            count(&cpu.cores_per_socket, "core"),
            count(&cpu.threads_per_core, "thread"),
            opt(&cpu.topology_source),
            opt(&cpu.model),
            opt(&cpu.virtualization)
        ),
    ]);
    let m = &h.memory;
    host.add_row(vec![
        "memory".into(),
        format!(
            "{} total, {} available, swap {} of which {} free",
            gib(m.total_kib),
            gib(m.available_kib),
            gib(m.swap_total_kib),
            gib(m.swap_free_kib)
        ),
    ]);
    let pools: Vec<String> = h
        .hugepages
        .iter()
        .map(|p| {
            format!(
                "{} pages: {} total, {} free",
                virt_doctor::rules::expr::page_size(p.size_kib),
                opt(&p.total),
                opt(&p.free)
            )
        })
        .collect();
    host.add_row(vec![
        "hugepages".into(),
        if pools.is_empty() {
            "-".into()
        } else {
            pools.join("; ")
        },
    ]);
    host.add_row(vec![
        "thp".into(),
        format!(
            "enabled={} defrag={}",
            opt(&h.thp.enabled),
            opt(&h.thp.defrag)
        ),
    ]);
    host.add_row(vec![
        "ksm".into(),
        h.ksm.as_ref().map_or("-".into(), |k| {
            format!(
                "run={} pages_sharing={}",
                opt(&k.get("run")),
                opt(&k.get("pages_sharing"))
            )
        }),
    ]);
    host.add_row(vec!["sysctls".into(), format!("{} read", h.sysctl.len())]);
    host.add_row(vec![
        "devices".into(),
        format!(
            "/dev/kvm {}, /dev/vhost-net {}, /dev/net/tun {}",
            opt(&h.devices.kvm),
            opt(&h.devices.vhost_net),
            opt(&h.devices.tun)
        ),
    ]);
    s.push_str(&format!("{host}\n"));

    if !h.numa.nodes.is_empty() {
        let mut t = table(width);
        t.set_header(vec!["NUMA node", "cpus", "memory", "free", "hugepages"]);
        for n in &h.numa.nodes {
            let hp: Vec<String> = n
                .hugepages
                .iter()
                .map(|p| {
                    format!(
                        "{}: {}/{} free",
                        virt_doctor::rules::expr::page_size(p.size_kib),
                        opt(&p.free),
                        opt(&p.total)
                    )
                })
                .collect();
            t.add_row(vec![
                n.id.to_string(),
                virt_doctor::parse::cpulist::format(&n.cpus),
                gib(n.memory_total_kib),
                gib(n.memory_free_kib),
                hp.join(" "),
            ]);
        }
        s.push_str(&format!("{t}\n"));
    }
    if !h.block.is_empty() {
        let mut t = table(width);
        t.set_header(vec!["block device", "scheduler", "available", "rotational"]);
        for b in &h.block {
            t.add_row(vec![
                b.name.clone(),
                opt(&b.queue.scheduler),
                b.queue.schedulers_available.join(" "),
                opt(&b.queue.rotational),
            ]);
        }
        s.push_str(&format!("{t}\n"));
    }
    if !f.domains.is_empty() {
        let mut t = table(width);
        t.set_header(vec![
            "domain", "vcpus", "memory", "cpu mode", "disks", "nics", "from",
        ]);
        for d in &f.domains {
            let dom = &d.domain;
            let disks: Vec<String> = dom
                .disks
                .iter()
                .map(|k| format!("{}:{}/{}", opt(&k.target), opt(&k.bus), opt(&k.cache)))
                .collect();
            let nics: Vec<String> = dom.interfaces.iter().map(|i| opt(&i.model)).collect();
            t.add_row(vec![
                dom.name.clone(),
                opt(&dom.vcpus),
                gib(dom.memory_kib),
                opt(&dom.cpu_mode),
                disks.join(" "),
                nics.join(" "),
                d.source_path.clone(),
            ]);
        }
        s.push_str(&format!("{t}\n"));
    }
    let mut t = table(width);
    t.set_header(vec!["source", "status", "path", "detail"]);
    for src in &f.sources {
        t.add_row(vec![
            src.id.clone(),
            format!("{:?}", src.status).to_lowercase(),
            match (&src.path, src.files) {
                (Some(p), n) if n > 1 => format!("{p}/ ({n} files)"),
                (None, n) if n > 1 => format!("{n} files"),
                (p, _) => opt(p),
            },
            src.detail.clone().unwrap_or_default(),
        ]);
    }
    s.push_str(&format!("{t}\n"));
    s
}
