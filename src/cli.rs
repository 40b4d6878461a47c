//! Command-line interface (clap derive). Exit codes follow ruff:
//! 0 = clean, 1 = findings at or above `--fail-on`, 2 = usage or fatal error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};

use virt_doctor::config::Config;
use virt_doctor::facts::{self, Facts};
use virt_doctor::findings::Severity;
use virt_doctor::report::{self, Report};
use virt_doctor::rules::{self, Catalog};
use virt_doctor::snapshot::Snapshot;

#[derive(Parser)]
#[command(
    name = "virt-doctor",
    version,
    about = "Find CPU, memory, NUMA, disk and network bottlenecks and misconfigurations on KVM/libvirt hosts",
    long_about = "virt-doctor reads a KVM/libvirt host (live, a captured snapshot directory or tarball, or an \
                  extracted sosreport), checks it against a catalog of tuning rules, and prints each finding \
                  with its evidence and the exact fix. It never changes the host it inspects."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyze the live host (collect and analyze in one go).
    Scan,
    /// Analyze a snapshot: a directory, an extracted sosreport, or a .tar/.tar.gz/.tar.xz.
    Analyze {
        /// Snapshot directory, sosreport, or tarball.
        path: PathBuf,
        #[command(flatten)]
        opts: AnalyzeOpts,
    },
    /// Capture the live host as a snapshot tarball for later analysis.
    Collect,
    /// Print everything virt-doctor knows about a host (the live host when PATH is omitted).
    Facts {
        /// Snapshot directory, sosreport, or tarball.
        path: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = FactsFormat::Json)]
        format: FactsFormat,
    },
    /// List the rule catalog or explain one rule.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
        /// Also load every *.toml rule file in DIR (repeatable).
        #[arg(long = "rules-dir", value_name = "DIR", global = true)]
        rules_dirs: Vec<PathBuf>,
    },
    /// Check libvirt domain XML files on their own (for XML kept in git).
    Lint { files: Vec<PathBuf> },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Every rule: code, name, category, severity, title.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// One rule in full: what it checks, why, when to ignore it, its
    /// parameters and references (like `ruff rule`).
    Show {
        /// Rule code (CPU001) or name (vcpus-exceed-host-cpus).
        rule: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
struct AnalyzeOpts {
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    format: ReportFormat,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
    /// Also load every *.toml rule file in DIR (repeatable).
    #[arg(long = "rules-dir", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    /// Config file (default: ./virt-doctor.toml, then /etc/virt-doctor/config.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Show evidence and each rule's explanation.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Info,
    Warning,
    Critical,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum FactsFormat {
    Json,
    Table,
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Facts { path, format } => facts_command(path, format),
        Command::Scan => not_yet("scan", "analysis of the live host"),
        Command::Analyze { path, opts } => analyze_command(&path, &opts),
        Command::Collect => not_yet("collect", "live capture"),
        Command::Rules {
            command,
            rules_dirs,
        } => rules_command(command, &rules_dirs),
        Command::Lint { .. } => not_yet("lint", "domain XML linting"),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("virt-doctor: error: {e:#}");
            2
        }
    }
}

fn not_yet(command: &str, what: &str) -> anyhow::Result<i32> {
    eprintln!(
        "virt-doctor: `{command}` is not built yet ({what} is still being written). \
         `virt-doctor facts [PATH]` works today."
    );
    Ok(2)
}

fn load_catalog(dirs: &[PathBuf]) -> anyhow::Result<Catalog> {
    let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    Catalog::load(&dirs).map_err(|errors| {
        anyhow::anyhow!(
            "the rule catalog has {} error{}:\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n  ")
        )
    })
}

fn analyze_command(path: &Path, opts: &AnalyzeOpts) -> anyhow::Result<i32> {
    let catalog = load_catalog(&opts.rules_dirs)?;
    let config = Config::discover(opts.config.as_deref())?;
    config
        .check(&catalog)
        .map_err(|e| anyhow::anyhow!("{}", e.join("\n")))?;
    let snap = Snapshot::open(path)?;
    let facts = facts::gather(&snap);
    let evaluation = rules::evaluate(&catalog, &facts, &config);
    let rules_run = catalog.rules.len() - evaluation.disabled.len();
    let report = Report::new(&facts, evaluation, rules_run);
    let mut out = std::io::stdout().lock();
    match opts.format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        ReportFormat::Table => {
            let width = terminal_width();
            write!(
                out,
                "{}",
                report::table(&report, &catalog, opts.verbose, width)
            )?;
        }
    }
    let threshold = match opts.fail_on {
        FailOn::Info => Some(Severity::Info),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Critical => Some(Severity::Critical),
        FailOn::Never => None,
    };
    Ok(match (threshold, report.worst()) {
        (Some(t), Some(w)) if w >= t => 1,
        _ => 0,
    })
}

/// The terminal's width when stdout is one; reports to files and pipes
/// keep a fixed, readable width.
fn terminal_width() -> Option<u16> {
    if std::io::stdout().is_terminal() {
        None
    } else {
        Some(120)
    }
}

fn rules_command(command: RulesCommand, dirs: &[PathBuf]) -> anyhow::Result<i32> {
    let catalog = load_catalog(dirs)?;
    let mut out = std::io::stdout().lock();
    match command {
        RulesCommand::List {
            format: ListFormat::Json,
        } => {
            let rows: Vec<serde_json::Value> = catalog
                .rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "category": r.category,
                        "severity": r.severity, "scope": r.scope, "title": r.title,
                        "params": r.params, "references": r.references, "seed": r.seed,
                        "file": r.origin.file, "line": r.origin.line,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        RulesCommand::List {
            format: ListFormat::Table,
        } => {
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED);
            t.set_header(vec![
                "code", "name", "category", "severity", "scope", "title",
            ]);
            for r in &catalog.rules {
                t.add_row(vec![
                    r.code.as_str(),
                    r.name.as_str(),
                    r.category.as_str(),
                    r.severity.as_str(),
                    r.scope.as_str(),
                    r.title.as_str(),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{} rules", catalog.rules.len())?;
        }
        RulesCommand::Show { rule } => {
            let Some(r) = catalog.find(&rule) else {
                eprintln!("virt-doctor: no rule `{rule}`; `virt-doctor rules list` shows them all");
                return Ok(2);
            };
            writeln!(out, "{} ({})", r.code, r.name)?;
            writeln!(out, "{}\n", r.title)?;
            writeln!(
                out,
                "category: {}   severity: {}   scope: {}",
                r.category,
                r.severity.as_str(),
                r.scope.as_str()
            )?;
            writeln!(out, "defined at: {}:{}\n", r.origin.file, r.origin.line)?;
            writeln!(out, "{}\n", r.explanation.trim())?;
            writeln!(out, "checks: {}", r.when.source.trim())?;
            if !r.params.is_empty() {
                writeln!(
                    out,
                    "\nparameters (override in virt-doctor.toml under [rules.{}]):",
                    r.code
                )?;
                for p in &r.params {
                    writeln!(out, "  {} = {}  {}", p.name, p.default, p.doc)?;
                }
            }
            if let Some(seed) = &r.seed {
                writeln!(out, "\nsource document: {seed}")?;
            }
            if !r.references.is_empty() {
                writeln!(out, "\nreferences:")?;
                for x in &r.references {
                    writeln!(out, "  - {x}")?;
                }
            }
        }
    }
    Ok(0)
}

fn open(path: Option<PathBuf>) -> anyhow::Result<Snapshot> {
    match path {
        None => Ok(Snapshot::live()),
        Some(p) => Snapshot::open(&p),
    }
}

fn facts_command(path: Option<PathBuf>, format: FactsFormat) -> anyhow::Result<i32> {
    let snap = open(path)?;
    let facts = facts::gather(&snap);
    let mut out = std::io::stdout().lock();
    match format {
        FactsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &facts)?;
            writeln!(out)?;
        }
        FactsFormat::Table => write!(out, "{}", facts_table(&facts))?,
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

fn facts_table(f: &Facts) -> String {
    let h = &f.host;
    let mut s = String::new();
    let mut host = Table::new();
    host.load_preset(UTF8_FULL_CONDENSED);
    host.set_header(vec!["host", opt(&h.hostname).as_str()]);
    let cpu = &h.cpu;
    host.add_row(vec!["kernel".into(), opt(&h.kernel)]);
    host.add_row(vec![
        "cpu".into(),
        format!(
            "{} logical ({} sockets x {} cores x {} threads, from {}), {}, virtualization {}",
            opt(&cpu.logical),
            opt(&cpu.sockets),
            opt(&cpu.cores_per_socket),
            opt(&cpu.threads_per_core),
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
                "{} KiB: {} total, {} free",
                p.size_kib,
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
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_header(vec!["NUMA node", "cpus", "memory", "free", "hugepages"]);
        for n in &h.numa.nodes {
            let hp: Vec<String> = n
                .hugepages
                .iter()
                .map(|p| format!("{}K {}/{}", p.size_kib, opt(&p.free), opt(&p.total)))
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
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
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
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
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
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec!["source", "status", "path", "detail"]);
    for src in &f.sources {
        t.add_row(vec![
            src.id.clone(),
            format!("{:?}", src.status).to_lowercase(),
            opt(&src.path),
            src.detail.clone().unwrap_or_default(),
        ]);
    }
    s.push_str(&format!("{t}\n"));
    s
}
