//! Command-line interface (clap derive): the arguments of every command,
//! and `run`, which hands each command to `crate::commands`. Exit codes
//! follow ruff: 0 = clean, 1 = findings at or above `--fail-on`, 2 = usage
//! or fatal error.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::commands;
use virt_doctor::findings::Severity;
use virt_doctor::lang::Lang;

#[derive(Parser)]
#[command(
    name = "virt-doctor",
    version,
    // `--version` says when libvirt is missing, so a build without it is
    // recognised before a scan comes back without domains' live state.
    long_version = if cfg!(feature = "live") {
        env!("CARGO_PKG_VERSION")
    } else {
        concat!(env!("CARGO_PKG_VERSION"), " (without libvirt: built without the `live` feature)")
    },
    arg_required_else_help = true,
    about = "Find CPU, memory, NUMA, disk and network bottlenecks and misconfigurations on KVM/libvirt hosts",
    long_about = "virt-doctor reads a KVM/libvirt host (live, a captured snapshot directory or tarball, or an \
                  extracted sosreport), checks it against a catalog of tuning rules, and prints each finding \
                  with its evidence and the exact fix. It never changes the host it inspects.\n\n\
                  Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or fatal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: GlobalOpts,
}

/// Flags every command takes, before or after its name
/// (`virt-doctor -v analyze X` and `virt-doctor analyze X -v`).
#[derive(clap::Args)]
struct GlobalOpts {
    /// Show evidence and each rule's why (reports); list skipped rules (lint).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Colour severities: auto (a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    color: ColorWhen,
    /// Language of findings, fixes and rule docs: en or zh-CN (default: from LC_ALL, LC_MESSAGES, LANG).
    #[arg(long, value_name = "LANG", global = true)]
    lang: Option<Lang>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// `auto` follows https://no-color.org: colour on a terminal unless
    /// NO_COLOR is set to something.
    pub(crate) fn on(self, terminal: bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

#[derive(Subcommand)]
enum Command {
    #[cfg_attr(
        feature = "live",
        doc = "Analyze the live host in one go: host files, libvirt (read-only),\n\
               two runtime samples. Nothing is written unless --save is given."
    )]
    #[cfg_attr(
        not(feature = "live"),
        doc = "Analyze the live host in one go: host files and two runtime\n\
               samples. Nothing is written unless --save is given. This build\n\
               has no libvirt (built without the `live` feature)."
    )]
    Scan {
        #[command(flatten)]
        live: LiveOpts,
        /// Also keep what was analyzed as a snapshot tarball (mode 0600).
        #[arg(long, value_name = "FILE.tar.gz")]
        save: Option<PathBuf>,
        #[command(flatten)]
        opts: ReportOpts,
    },
    /// Analyze snapshots: directories, extracted sosreports, or .tar/.tar.gz/.tar.xz.
    /// Two or more (or --manifest) make a fleet run: each host's report,
    /// plus findings across hosts (migration, split brain, drift, N+1).
    #[command(visible_alias = "analyse")]
    Analyze {
        /// Snapshot directories, sosreports, or tarballs.
        #[arg(required_unless_present = "manifest")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        fleet: FleetOpts,
        #[command(flatten)]
        opts: ReportOpts,
    },
    /// Check libvirt domain XML files on their own (for XML kept in git).
    Lint {
        /// Domain XML files, or directories whose *.xml files are read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also run the rules that need host facts, against this snapshot's host.
        #[arg(long, value_name = "SNAPSHOT")]
        host: Option<PathBuf>,
        #[command(flatten)]
        opts: ReportOpts,
    },
    /// Print the fixes of a host's findings (or of domain XML files') as one
    /// POSIX shell script to read and run yourself: host changes first, then
    /// each domain's. virt-doctor never runs it.
    Plan {
        /// A snapshot (directory, sosreport, tarball), or domain XML files and
        /// directories of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// With domain XML files: also run the rules that need host facts,
        /// against this snapshot's host.
        #[arg(long, value_name = "SNAPSHOT")]
        host: Option<PathBuf>,
        #[command(flatten)]
        opts: PlanOpts,
    },
    /// Compare two snapshots or two JSON reports: new, resolved and unchanged findings.
    Diff {
        base: PathBuf,
        new: PathBuf,
        #[command(flatten)]
        opts: DiffOpts,
    },
    #[cfg_attr(
        feature = "live",
        doc = "Capture the live host as a snapshot tarball (mode 0600) for\n\
               `analyze` anywhere: the same data `scan` analyzes."
    )]
    #[cfg_attr(
        not(feature = "live"),
        doc = "Capture the live host as a snapshot tarball (mode 0600) for\n\
               `analyze` anywhere: the same data `scan` analyzes. This build\n\
               has no libvirt (built without the `live` feature)."
    )]
    Collect {
        /// Where to write the capture; .tar, .tar.gz (.tgz) or .tar.xz, compressed accordingly.
        #[arg(short, long, value_name = "FILE.tar.gz")]
        output: PathBuf,
        /// Overwrite OUTPUT if it exists.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        live: LiveOpts,
        /// Also replace host names and IP addresses, consistently.
        #[arg(long)]
        redact_hosts: bool,
    },
    /// Print everything virt-doctor knows about a host (the live host when PATH is omitted).
    Facts {
        /// Snapshot directory, sosreport, or tarball.
        path: Option<PathBuf>,
        #[command(flatten)]
        live: LiveOpts,
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
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
    /// Print a manual page (roff): virt-doctor's, or one subcommand's.
    Man {
        /// The subcommand (analyze, scan, ...); none for virt-doctor(1).
        subcommand: Option<String>,
        /// Write every page (virt-doctor.1, virt-doctor-analyze.1, ...) into DIR instead.
        #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub(crate) enum RulesCommand {
    /// Every rule: code, name, category, severity, title.
    List {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// One rule in full: what it checks, why, when to ignore it, an
    /// example, its parameters and references (like `ruff rule`).
    Show {
        /// Rule code (CPU001) or name (vcpus-exceed-host-cpus).
        rule: String,
    },
    /// Every rule in full, as one Markdown page (docs/rules-reference.md
    /// is this, for the built-in rules).
    Doc {
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ListFormat {
    Table,
    Json,
}

/// How a fleet run reads its hosts.
#[derive(clap::Args)]
pub(crate) struct FleetOpts {
    /// Snapshots listed in FILE, one per line: `PATH [key=value ...]` (relative to FILE's directory; `#` comments).
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: Option<PathBuf>,
    /// Take only this worker's share, I of N (0 <= I < N): whole groups with --group-by, else every N-th host.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub(crate) shard: Option<(usize, usize)>,
    /// Hosts analyzed at once (default: the number of CPUs); memory grows with this, not with the hosts.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: Option<u16>,
    /// Compare hosts within groups: `dir` (the directory above each snapshot) or a manifest label (`cluster`).
    #[arg(long, value_name = "dir|LABEL")]
    pub(crate) group_by: Option<String>,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    virt_doctor::fleet::inputs::parse_shard(s)
}

/// What `diff` compares with and how it reports.
#[derive(clap::Args)]
pub(crate) struct DiffOpts {
    /// Exit 1 only for findings that are new (at or above --fail-on).
    #[arg(long)]
    pub(crate) fail_on_new: bool,
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub(crate) fail_on: FailOn,
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub(crate) format: DiffFormat,
    /// Also load every *.toml rule file in DIR (repeatable; for snapshots).
    #[arg(long = "rules-dir", value_name = "DIR")]
    pub(crate) rules_dirs: Vec<PathBuf>,
    /// Config file (for snapshots).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
}

/// How to read a live host (`scan`, `collect`, `facts` without PATH).
#[derive(clap::Args)]
struct LiveOpts {
    #[cfg_attr(
        feature = "live",
        doc = "libvirt URI, opened read-only; `none` skips libvirt."
    )]
    #[cfg_attr(
        not(feature = "live"),
        doc = "libvirt URI; not asked by this build (built without the `live` feature): a URI gets a note saying so, `none` skips libvirt quietly."
    )]
    #[arg(
        short = 'c',
        long,
        value_name = "URI",
        default_value = "qemu:///system"
    )]
    connect: String,
    /// Seconds between the two runtime samples (CPU, disk, NIC, vCPU wait); 0 skips sampling.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    interval: f64,
    /// Most log bytes kept, all logs together, newest first (K, M, G suffixes).
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_bytes)]
    max_log_bytes: u64,
    /// Read the host's files below DIR instead of / (a host mounted in a container).
    #[arg(long, value_name = "DIR", default_value = "/")]
    sysroot: PathBuf,
    #[cfg_attr(
        feature = "live",
        doc = "Seconds libvirt may take to answer everything."
    )]
    #[cfg_attr(
        not(feature = "live"),
        doc = "Seconds libvirt may take to answer everything (unused: built without the `live` feature)."
    )]
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    libvirt_timeout: u64,
}

impl LiveOpts {
    fn options(&self, redact_hosts: bool) -> virt_doctor::collect::Options {
        virt_doctor::collect::Options {
            sysroot: self.sysroot.clone(),
            connect: (self.connect != "none").then(|| self.connect.clone()),
            interval: self.interval,
            max_log_bytes: self.max_log_bytes,
            redact_hosts,
            libvirt_timeout: std::time::Duration::from_secs(self.libvirt_timeout),
        }
    }
}

/// `64M`, `1G`, `4096`: binary multiples.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| format!("`{s}` is not a size (like 64M, 1G or 4096)"))
}

/// Options shared by everything that produces a report.
#[derive(clap::Args)]
pub(crate) struct ReportOpts {
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub(crate) format: ReportFormat,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub(crate) fail_on: FailOn,
    /// Run only these rules: codes, code prefixes (DISK), names or categories (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub(crate) select: Vec<String>,
    /// Skip these rules: codes, code prefixes, names or categories.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub(crate) ignore: Vec<String>,
    /// Run only rules of at least this severity.
    #[arg(long, value_enum)]
    pub(crate) min_severity: Option<SeverityArg>,
    /// Also list the findings suppressions hid.
    #[arg(long)]
    pub(crate) show_suppressed: bool,
    /// Also load every *.toml rule file in DIR (repeatable).
    #[arg(long = "rules-dir", value_name = "DIR")]
    pub(crate) rules_dirs: Vec<PathBuf>,
    /// Config file (default: ./virt-doctor.toml, then /etc/virt-doctor/config.toml).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// From the global -v.
    #[arg(skip)]
    pub(crate) verbose: bool,
    /// From the global --color.
    #[arg(skip)]
    pub(crate) color: ColorWhen,
    /// From the global --lang, or the locale.
    #[arg(skip)]
    pub(crate) lang: Lang,
    /// Log events before this are skipped: a duration back from now (24h, 7d) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub(crate) since: Option<String>,
    /// Log events after this are skipped: a duration back from now or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub(crate) until: Option<String>,
}

/// What `plan` takes: `analyze`'s selection of rules, and its own formats.
#[derive(clap::Args)]
pub(crate) struct PlanOpts {
    /// sh: the script; json: the same plan as data (docs/plan.md).
    #[arg(long, value_enum, default_value_t = PlanFormat::Sh)]
    format: PlanFormat,
    /// Plan only these rules' fixes: codes, code prefixes (DISK), names or categories.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Leave out these rules: codes, code prefixes, names or categories.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// Only findings of at least this severity.
    #[arg(long, value_enum)]
    min_severity: Option<SeverityArg>,
    /// Also load every *.toml rule file in DIR (repeatable).
    #[arg(long = "rules-dir", value_name = "DIR")]
    rules_dirs: Vec<PathBuf>,
    /// Config file (default: ./virt-doctor.toml, then /etc/virt-doctor/config.toml); suppressed findings are not planned.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Log events before this are skipped (as for analyze).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Log events after this are skipped.
    #[arg(long, value_name = "WHEN")]
    until: Option<String>,
}

impl PlanOpts {
    /// As report options, for the analysis the plan is made from.
    fn report_opts(self, lang: Lang) -> (PlanFormat, ReportOpts) {
        (
            self.format,
            ReportOpts {
                format: ReportFormat::Json,
                fail_on: FailOn::Never,
                select: self.select,
                ignore: self.ignore,
                min_severity: self.min_severity,
                show_suppressed: false,
                rules_dirs: self.rules_dirs,
                config: self.config,
                verbose: false,
                color: ColorWhen::Never,
                lang,
                since: self.since,
                until: self.until,
            },
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    Sh,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Table,
    /// One line per finding: `severity CODE subject: title`.
    Concise,
    Json,
    Jsonl,
    Sarif,
    Junit,
    Markdown,
    Prometheus,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum DiffFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FailOn {
    Info,
    Warning,
    Critical,
    Never,
}

impl FailOn {
    pub(crate) fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Info => Some(Severity::Info),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Critical => Some(Severity::Critical),
            FailOn::Never => None,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum SeverityArg {
    Info,
    Warning,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Warning => Severity::Warning,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FactsFormat {
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
    let global = cli.global;
    let lang = global.lang();
    let result = match cli.command {
        Command::Facts { path, live, format } => {
            commands::facts::facts_command(path, &live.options(false), format)
        }
        Command::Analyze { paths, fleet, opts } => {
            let opts = global.apply(opts);
            if paths.len() == 1 && fleet.manifest.is_none() {
                if fleet.shard.is_some() || fleet.group_by.is_some() {
                    say!("virt-doctor: note: --shard and --group-by apply to fleet runs (two or more snapshots, or --manifest)");
                }
                commands::analyze::analyze(&paths[0], &opts)
            } else {
                commands::analyze::analyze_fleet(&paths, &fleet, &opts)
            }
        }
        Command::Lint { files, host, opts } => {
            commands::lint::lint(&files, host.as_deref(), &global.apply(opts))
        }
        Command::Plan { paths, host, opts } => {
            // Commands are the same in every language; the comments naming
            // each finding are in the report's.
            let (format, opts) = opts.report_opts(lang);
            commands::plan::plan(&paths, host.as_deref(), format, &opts)
        }
        Command::Diff { base, new, opts } => commands::diff::diff(&base, &new, &opts, lang),
        Command::Rules {
            command,
            rules_dirs,
        } => commands::rules::rules_command(command, &rules_dirs, global.lang()),
        Command::Completions { shell } => {
            // Into memory first: clap_complete panics on a write error,
            // and `| head` closing the pipe is no reason to panic.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "virt-doctor", &mut script);
            std::io::Write::write_all(&mut std::io::stdout().lock(), &script)
                .map(|_| 0)
                .map_err(Into::into)
        }
        Command::Man { subcommand, dir } => man(subcommand.as_deref(), dir.as_deref()),
        Command::Scan { live, save, opts } => {
            commands::scan::scan(&live.options(false), save.as_deref(), &global.apply(opts))
        }
        Command::Collect {
            output,
            force,
            live,
            redact_hosts,
        } => commands::collect::collect(&live.options(redact_hosts), &output, force),
    };
    match result {
        Ok(code) => code,
        // The reader went away (`| head`): it has what it wanted, and like
        // ripgrep we stop quietly rather than report an error.
        Err(e) if broken_pipe(&e) => 0,
        Err(e) => {
            let error = virt_doctor::report::words::words(lang).error;
            say!("virt-doctor: {error}: {e:#}");
            2
        }
    }
}

impl GlobalOpts {
    fn apply(&self, mut opts: ReportOpts) -> ReportOpts {
        opts.verbose = self.verbose;
        opts.color = self.color;
        opts.lang = self.lang();
        opts
    }

    /// `--lang`, else the locale's language of messages.
    fn lang(&self) -> Lang {
        self.lang.unwrap_or_else(Lang::from_env)
    }
}

/// Manual pages, one per command, as `git help` has them: virt-doctor(1)
/// and virt-doctor-analyze(1), virt-doctor-scan(1)...
fn man(subcommand: Option<&str>, dir: Option<&Path>) -> anyhow::Result<i32> {
    let top = Cli::command();
    let page = |cmd: clap::Command| -> clap::Command {
        let name = format!("virt-doctor-{}", cmd.get_name());
        cmd.name(name.clone()).bin_name(name)
    };
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let mut pages = vec![top.clone()];
        pages.extend(top.get_subcommands().cloned().map(page));
        for cmd in pages {
            let path = dir.join(format!("{}.1", cmd.get_name()));
            let mut file = std::fs::File::create(&path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            clap_mangen::Man::new(cmd).render(&mut file)?;
        }
        say!(
            "virt-doctor: wrote {} manual pages to {}",
            top.get_subcommands().count() + 1,
            dir.display()
        );
        return Ok(0);
    }
    let cmd = match subcommand {
        None => top,
        Some(name) => match top.find_subcommand(name) {
            Some(sub) => page(sub.clone()),
            None => {
                let names: Vec<&str> = top.get_subcommands().map(|c| c.get_name()).collect();
                anyhow::bail!("no subcommand `{name}` (one of: {})", names.join(", "));
            }
        },
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut roff)?;
    std::io::Write::write_all(&mut std::io::stdout().lock(), &roff)?;
    Ok(0)
}

/// Whether writing the output failed because its reader closed the pipe
/// (directly, or inside serde_json's writer).
fn broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
    })
}
