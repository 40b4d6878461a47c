//! End to end against a real libvirtd running real QEMU guests.
//!
//! Two guests with no OS and a 64 MiB qcow2 disk each (their vCPU threads
//! run all the same): one deliberately mistuned (an IDE data disk with
//! cache='writeback', an e1000 NIC, a VNC password), one well tuned. `scan`
//! must report exactly the expected findings for each, `collect` must not
//! carry the VNC password, and `analyze` of the capture must agree with
//! `scan`. The mistuned guest also gets an internal snapshot, listed
//! through libvirt. Everything started is stopped and undefined, also on failure.
//!
//! Guests must start wherever libvirtd runs, and not every machine that
//! opens /dev/kvm can run every guest CPU: on some nested hosts QEMU dies
//! setting an MSR the outer hypervisor refuses when the guest has
//! `host-passthrough`. So before defining its guests the test starts a
//! small probe guest with each configuration in turn and keeps the first
//! that runs: KVM with `host-passthrough`, KVM with libvirt's default CPU
//! model (no `<cpu>` element), TCG. It says which on stderr. The findings
//! expected of the guests follow from that choice (CPU007 for a KVM guest
//! without a host CPU model, CPU015 under TCG).
//!
//! `VIRT_DOCTOR_E2E_FAIL=kvm-host-passthrough[,kvm-default-cpu[,tcg]]`
//! makes those configurations fail for real (the probe guest gets a QEMU
//! option QEMU rejects, so `virsh start` fails as it does on such a host),
//! which exercises the fallback on a machine where KVM works;
//! `the_probe_falls_back_in_order` does that for each step on every run.
//!
//! Needs root, `qemu-img` and a libvirtd answering at qemu:///system
//! (`.ci/run` installs and starts them). Elsewhere the tests say SKIPPED
//! and why; with `VIRT_DOCTOR_E2E=require` (set by CI) they fail instead.
//! Falling back to TCG is fine under `require`; not running is not.

// Talks to libvirt: only in builds with it (the default `live` feature).
#![cfg(feature = "live")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run, say, stderr, stdout, virsh, SYSTEM_URI as URI};

const MISTUNED: &str = "vd-e2e-mistuned";
const TUNED: &str = "vd-e2e-tuned";
const VNC_PASSWORD: &str = "Vd8e2eP!";

/// Why this machine cannot run the test, if it cannot.
fn unavailable() -> Option<String> {
    common::libvirtd_unavailable(&[("qemu-img", "qemu-img")])
}

/// Stops and undefines the guests and removes their disks when dropped,
/// so a failing assertion cleans up too.
struct Guests {
    dir: PathBuf,
}

impl Guests {
    /// The domains and their QEMU logs (which outlive `undefine` and
    /// would carry one run's log lines into the next).
    fn remove_domains() {
        for name in [MISTUNED, TUNED] {
            let _ = virsh(&["destroy", name]);
            let _ = virsh(&["undefine", "--snapshots-metadata", name]);
            let _ = std::fs::remove_file(format!("/var/log/libvirt/qemu/{name}.log"));
        }
    }
}

impl Drop for Guests {
    fn drop(&mut self) {
        Guests::remove_domains();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How a guest runs, in the order the test tries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accel {
    KvmHostPassthrough,
    KvmDefaultCpu,
    Tcg,
}

impl Accel {
    const IN_ORDER: [Accel; 3] = [Accel::KvmHostPassthrough, Accel::KvmDefaultCpu, Accel::Tcg];

    fn name(self) -> &'static str {
        match self {
            Accel::KvmHostPassthrough => "kvm-host-passthrough",
            Accel::KvmDefaultCpu => "kvm-default-cpu",
            Accel::Tcg => "tcg",
        }
    }

    fn kvm(self) -> bool {
        self != Accel::Tcg
    }

    /// `<domain type=…>` and the `<cpu>` element.
    fn domain_type_and_cpu(self) -> (&'static str, &'static str) {
        match self {
            Accel::KvmHostPassthrough => ("kvm", "<cpu mode='host-passthrough'/>"),
            Accel::KvmDefaultCpu => ("kvm", ""),
            Accel::Tcg => ("qemu", "<cpu mode='maximum'/>"),
        }
    }

    /// Findings every guest gets from this choice alone: a KVM guest on
    /// QEMU's default CPU model lacks the host's features (CPU007); a TCG
    /// guest is emulated (CPU015).
    fn findings(self) -> &'static [&'static str] {
        match self {
            Accel::KvmHostPassthrough => &[],
            Accel::KvmDefaultCpu => &["CPU007"],
            Accel::Tcg => &["CPU015"],
        }
    }
}

/// The configurations `VIRT_DOCTOR_E2E_FAIL` makes fail.
fn forced_failures() -> Vec<Accel> {
    let Ok(list) = std::env::var("VIRT_DOCTOR_E2E_FAIL") else {
        return Vec::new();
    };
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            Accel::IN_ORDER
                .into_iter()
                .find(|a| a.name() == n)
                .unwrap_or_else(|| {
                    panic!("VIRT_DOCTOR_E2E_FAIL: `{n}` is not one of kvm-host-passthrough, kvm-default-cpu, tcg")
                })
        })
        .collect()
}

/// Whether QEMU can be given /dev/kvm at all.
fn kvm_device_usable() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok()
}

/// The first line of libvirt's message, without the `error: ` prefix.
fn virsh_error(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim().trim_start_matches("error: "))
        .filter(|l| !l.is_empty() && !l.starts_with("Failed to start domain"))
        .collect();
    lines.join(" / ")
}

/// Start a small guest with no disk as `accel` says, check that it keeps
/// running for a moment (a KVM error can pause it after its start), and
/// remove it. `broken` adds an option QEMU rejects, so the start fails in
/// QEMU itself, as it does on a host that cannot run the configuration.
fn probe(accel: Accel, name: &str, broken: bool) -> Result<(), String> {
    let (kind, cpu) = accel.domain_type_and_cpu();
    let breakage = if broken {
        "<qemu:commandline><qemu:arg value='-vd-e2e-forced-failure'/></qemu:commandline>"
    } else {
        ""
    };
    let xml = format!(
        "<domain type='{kind}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\
         <name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>\
         <os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}\
         <devices><memballoon model='none'/></devices>{breakage}</domain>"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.xml"));
    std::fs::write(&file, xml).unwrap();
    let remove = || {
        let _ = virsh(&["destroy", name]);
        let _ = virsh(&["undefine", name]);
        let _ = std::fs::remove_file(format!("/var/log/libvirt/qemu/{name}.log"));
    };
    remove();
    let result = (|| {
        let out = virsh(&["define", file.to_str().unwrap()]);
        if !out.status.success() {
            return Err(format!("define: {}", virsh_error(&out)));
        }
        let out = virsh(&["start", name]);
        if !out.status.success() {
            return Err(virsh_error(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
        let state = String::from_utf8_lossy(&virsh(&["domstate", "--reason", name]).stdout)
            .trim()
            .to_owned();
        if state.starts_with("running") {
            Ok(())
        } else {
            Err(format!("started, then {state}"))
        }
    })();
    remove();
    result
}

/// The first configuration whose probe guest runs, and why each one
/// before it did not.
fn choose_accel(probe_name: &str, fail: &[Accel]) -> Result<(Accel, Vec<String>), Vec<String>> {
    let kvm_device = kvm_device_usable();
    let mut tried = Vec::new();
    for accel in Accel::IN_ORDER {
        if accel.kvm() && !kvm_device {
            tried.push(format!("{}: /dev/kvm cannot be opened", accel.name()));
            continue;
        }
        match probe(accel, probe_name, fail.contains(&accel)) {
            Ok(()) => return Ok((accel, tried)),
            Err(e) => tried.push(format!("{}: {e}", accel.name())),
        }
    }
    Err(tried)
}

/// The configuration the guests use, said on stderr.
fn accel_for_guests() -> Accel {
    let fail = forced_failures();
    match choose_accel("vd-e2e-probe", &fail) {
        Ok((accel, tried)) => {
            let forced = if fail.is_empty() {
                String::new()
            } else {
                format!(
                    " (VIRT_DOCTOR_E2E_FAIL={})",
                    fail.iter().map(|a| a.name()).collect::<Vec<_>>().join(",")
                )
            };
            say(&format!("e2e: guests run with {}{forced}", accel.name()));
            for t in tried {
                say(&format!("e2e:   not {t}"));
            }
            accel
        }
        Err(tried) => panic!(
            "no configuration starts a guest here:\n  {}",
            tried.join("\n  ")
        ),
    }
}

fn domain_xml(name: &str, disk: &Path, accel: Accel, tuned: bool) -> String {
    let (kind, cpu) = accel.domain_type_and_cpu();
    let devices = if tuned {
        format!(
            "<disk type='file' device='disk'>\
               <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>\
               <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
             <interface type='user'><model type='virtio'/></interface>\
             <memballoon model='virtio'><stats period='10'/></memballoon>",
            disk.display()
        )
    } else {
        format!(
            "<disk type='file' device='disk'>\
               <driver name='qemu' type='qcow2' cache='writeback'/>\
               <source file='{}'/><target dev='hda' bus='ide'/></disk>\
             <interface type='user'><model type='e1000'/></interface>\
             <graphics type='vnc' port='-1' listen='127.0.0.1' passwd='{VNC_PASSWORD}'/>",
            disk.display()
        )
    };
    let machine = if tuned { "q35" } else { "pc" };
    format!(
        "<domain type='{kind}'><name>{name}</name><memory unit='MiB'>128</memory>\
         <vcpu>1</vcpu><os><type arch='x86_64' machine='{machine}'>hvm</type></os>{cpu}\
         <devices>{devices}</devices></domain>"
    )
}

fn start_guests(accel: Accel) -> Guests {
    Guests::remove_domains();
    let dir = std::env::temp_dir().join(format!("virt-doctor-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // QEMU runs as its own user and must reach the disks.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let guests = Guests { dir: dir.clone() };
    for (name, tuned) in [(MISTUNED, false), (TUNED, true)] {
        let disk = dir.join(format!("{name}.qcow2"));
        let made = Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(&disk)
            .arg("64M")
            .status()
            .unwrap();
        assert!(made.success(), "qemu-img create {}", disk.display());
        let xml = dir.join(format!("{name}.xml"));
        std::fs::write(&xml, domain_xml(name, &disk, accel, tuned)).unwrap();
        for args in [vec!["define", xml.to_str().unwrap()], vec!["start", name]] {
            let out = virsh(&args);
            assert!(
                out.status.success(),
                "virsh {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // An internal snapshot, so snapshot listing through libvirt is tested
    // too (128 MiB of guest memory: too small for SNAP002 to fire).
    let out = virsh(&["snapshot-create-as", MISTUNED, "vd-e2e-snap1"]);
    assert!(
        out.status.success(),
        "snapshot-create-as: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    guests
}

/// Rule codes per domain, for our two domains only (host findings depend
/// on the machine running the test).
fn domain_findings(report: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    out.insert(MISTUNED.into(), BTreeSet::new());
    out.insert(TUNED.into(), BTreeSet::new());
    for f in report["findings"].as_array().unwrap() {
        if let Some(d) = f["domain"].as_str().filter(|d| out.contains_key(*d)) {
            out.get_mut(d)
                .unwrap()
                .insert(f["rule"].as_str().unwrap().to_owned());
        }
    }
    out
}

fn all_findings(report: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    common::findings_with(report, "message")
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("JSON report: {e}; stderr: {}", stderr(out)))
}

/// Why the test cannot run here: a failure under `VIRT_DOCTOR_E2E=require`,
/// else a SKIPPED line and `true`.
fn skip(test: &str) -> bool {
    let Some(why) = unavailable() else {
        return false;
    };
    assert!(
        !common::required("VIRT_DOCTOR_E2E"),
        "{test}: VIRT_DOCTOR_E2E=require but this machine cannot run libvirt guests: {why}"
    );
    say(&format!("SKIPPED {test}: {why}"));
    true
}

/// The fallback itself, forced step by step on whatever machine runs the
/// tests: with a configuration made to fail, the choice moves on to the
/// next one that runs here, and the failure is QEMU's own refusal as
/// libvirt reports it.
#[test]
fn the_probe_falls_back_in_order() {
    if skip("the_probe_falls_back_in_order") {
        return;
    }
    let name = "vd-e2e-probe-fallback";
    let rank = |a: Accel| Accel::IN_ORDER.iter().position(|x| *x == a).unwrap();
    // What runs here unforced; the configurations before it do not.
    let (natural, _) = choose_accel(name, &[])
        .unwrap_or_else(|tried| panic!("nothing starts a guest here: {tried:?}"));
    for failed in [
        &[Accel::KvmHostPassthrough][..],
        &[Accel::KvmHostPassthrough, Accel::KvmDefaultCpu][..],
    ] {
        let (chosen, tried) = choose_accel(name, failed)
            .unwrap_or_else(|t| panic!("forcing {failed:?} to fail, nothing started: {t:?}"));
        assert!(
            !failed.contains(&chosen),
            "forcing {failed:?}: chose {chosen:?}"
        );
        assert!(
            rank(chosen) >= rank(natural),
            "forcing {failed:?}: chose {chosen:?}"
        );
        // One reason for each configuration before the chosen one.
        assert_eq!(tried.len(), rank(chosen), "{tried:?}");
        for (accel, why) in Accel::IN_ORDER.iter().zip(&tried) {
            assert!(why.starts_with(&format!("{}: ", accel.name())), "{why}");
            if failed.contains(accel) && kvm_device_usable() {
                assert!(
                    why.contains("-vd-e2e-forced-failure: invalid option"),
                    "{why}"
                );
            }
        }
    }
    // Nothing runs: every attempt is listed, for the failure message.
    let tried = choose_accel(name, &Accel::IN_ORDER).unwrap_err();
    assert_eq!(tried.len(), 3, "{tried:?}");
    assert!(
        tried[2].starts_with("tcg: ") && tried[2].contains("-vd-e2e-forced-failure"),
        "{tried:?}"
    );
    assert!(!virsh_names().contains(name), "the probe guest was removed");
}

fn virsh_names() -> String {
    String::from_utf8_lossy(&virsh(&["list", "--all", "--name"]).stdout).into_owned()
}

#[test]
fn scan_collect_and_analyze_agree_on_real_qemu_guests() {
    if skip("scan_collect_and_analyze_agree_on_real_qemu_guests") {
        return;
    }
    let accel = accel_for_guests();
    let guests = start_guests(accel);
    let saved = guests.dir.join("scan.tar.gz");

    // Rules judging the sampled rates are left out of the comparison: on
    // a 2-core CI machine busy with other tests, a guest still in its
    // firmware may really wait for a CPU (CPU017), and that is a true
    // finding, not a fixed property of the guest. The rates themselves
    // are checked below.
    let ignore = "--ignore=CPU017,CPU018,CPU019,DISK011,DISK012,NET011";
    let scan = run(&[
        "scan",
        "--connect",
        URI,
        "--interval",
        "1",
        "--format",
        "json",
        "--fail-on",
        "never",
        ignore,
        "--save",
        saved.to_str().unwrap(),
    ]);
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let scan_report = json_of(&scan);

    // What each guest's own QEMU log says is part of what it must get:
    // QEMU's default CPU model asks for features some hosts lack (svm on
    // an Intel host), and QEMU logs each one it drops (LOG063).
    let from_log = |name: &str| -> Option<&str> {
        let log = std::fs::read_to_string(format!("/var/log/libvirt/qemu/{name}.log")).ok()?;
        log.contains("host doesn't support requested feature")
            .then_some("LOG063")
    };
    let expected = |name: &str, own: &[&str]| -> BTreeSet<String> {
        own.iter()
            .chain(accel.findings())
            .copied()
            .chain(from_log(name))
            .map(str::to_owned)
            .collect()
    };
    let mistuned = expected(
        MISTUNED,
        &["DISK001", "DISK003", "DISK008", "NET001", "MEM014"],
    );
    let tuned = expected(TUNED, &[]);
    let found = domain_findings(&scan_report);
    assert_eq!(found[MISTUNED], mistuned, "{MISTUNED}");
    assert_eq!(found[TUNED], tuned, "{TUNED}");
    assert!(
        !all_findings(&scan_report)
            .iter()
            .any(|(r, _, _)| r == "HOST001"),
        "libvirt answered"
    );
    assert_eq!(scan_report["rule_errors"].as_array().map_or(0, Vec::len), 0);

    // What libvirt and the samples said reached the facts.
    let facts = common::facts_of(&saved);
    for name in [MISTUNED, TUNED] {
        let d = facts
            .domains
            .iter()
            .find(|d| d.domain.name == name)
            .unwrap_or_else(|| panic!("{name} in the facts"));
        assert_eq!(d.state.as_deref(), Some("running"), "{name}");
        assert!(d.active && d.pid.is_some(), "{name}");
        let stats = d.stats.as_ref().expect("domstats");
        assert_eq!(stats["vcpu.current"], 1, "{name}");
        assert_eq!(stats["balloon.maximum"], 131072, "{name}");
        assert!(stats.contains_key("block.0.name"), "{name}");
        let wait = d.vcpu_wait.as_ref().expect("vCPU threads were sampled");
        assert_eq!(wait.vcpus.len(), 1, "{name}");
        assert_eq!(wait.vcpus[0].vcpu, Some(0), "{name}");
    }
    let snapshots = &facts
        .domains
        .iter()
        .find(|d| d.domain.name == MISTUNED)
        .unwrap()
        .snapshots;
    assert_eq!((snapshots.count, snapshots.internal), (1, 1));
    let rates = facts.host.rates.as_ref().expect("host rates");
    assert!(rates.interval_seconds >= 0.9, "{}", rates.interval_seconds);
    assert!(rates.cpu.is_some());

    // The saved capture analyzes to exactly what scan reported.
    let analyze = run(&[
        "analyze",
        saved.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
        ignore,
    ]);
    assert_eq!(all_findings(&json_of(&analyze)), all_findings(&scan_report));

    // collect: private, without the VNC password, same domain findings.
    let collected = guests.dir.join("collected.tar.gz");
    let out = run(&[
        "collect",
        "--connect",
        URI,
        "--interval",
        "1",
        "-o",
        collected.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mode = std::fs::metadata(&collected).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let entries = common::tarball_entries(&collected);
    assert!(entries
        .iter()
        .any(|(n, _)| n.ends_with(&format!("run/libvirt/qemu/{MISTUNED}.xml"))));
    for (name, data) in &entries {
        assert!(
            !data
                .windows(VNC_PASSWORD.len())
                .any(|w| w == VNC_PASSWORD.as_bytes()),
            "the VNC password reached {name}"
        );
    }
    let analyzed = run(&[
        "analyze",
        collected.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
        ignore,
    ]);
    let again = domain_findings(&json_of(&analyzed));
    assert_eq!(again[MISTUNED], mistuned);
    assert_eq!(again[TUNED], tuned);
    drop(guests);
    let left = virsh_names();
    assert!(
        !left.contains(MISTUNED) && !left.contains(TUNED),
        "the guests were undefined: {left}"
    );
}
