//! `virt-doctor plan`: the script's shape, and host fixes checked as far
//! as they can be without changing this machine. Domain fixes are applied
//! for real in tests/plan_apply.rs.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{copy_tree, fixture, run, scenario_hosts, stderr, stdout};

fn plan_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["plan"];
    all.extend(args);
    all.extend(["--format", "json"]);
    let out = run(&all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// Every step of a host plan's host part: (rule, subject, step).
fn host_steps(plan: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for h in plan["hosts"].as_array().unwrap() {
        for p in h["host_changes"].as_array().unwrap() {
            for s in p["steps"].as_array().unwrap() {
                out.push((
                    p["finding"]["rule"].as_str().unwrap().to_owned(),
                    p["finding"]["subject"].as_str().unwrap().to_owned(),
                    s.clone(),
                ));
            }
        }
    }
    out
}

fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn every_mistuned_fixture_gets_a_script_sh_and_bash_accept() {
    for host in scenario_hosts() {
        let out = run(&["plan", host.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            host.display(),
            stderr(&out)
        );
        let script = stdout(&out);
        assert!(script.starts_with("#!/bin/sh\n"), "{script}");
        assert!(script.contains("\nset -eu\n"));
        assert!(script.contains("virt-doctor never runs this script"));
        for shell in ["sh", "bash"] {
            let mut child = Command::new(shell)
                .arg("-n")
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            let checked = child.wait_with_output().unwrap();
            assert!(
                checked.status.success(),
                "{shell} -n rejects the plan of {}: {}",
                host.display(),
                String::from_utf8_lossy(&checked.stderr)
            );
        }
        // Nothing destructive, ever.
        for word in [
            "destroy",
            "undefine",
            "snapshot-delete",
            "blockcommit",
            "rm ",
        ] {
            let hit = script
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .find(|l| l.contains(word));
            assert!(hit.is_none(), "{}: `{word}` in {hit:?}", host.display());
        }
    }
}

/// Each command follows a comment naming its finding's code and title,
/// host changes come before domains, and a plan runs only on its host.
#[test]
fn the_script_names_each_finding_and_puts_the_host_first() {
    let out = run(&["plan", fixture("hosts/network").to_str().unwrap()]);
    let script = stdout(&out);
    let host_at = script.find("# ---- the host ----").expect("a host part");
    let domain_at = script.find("# ---- domain ").expect("domain parts");
    assert!(host_at < domain_at);
    assert!(script.contains(
        "    # NET001 [warning] Emulated NIC model (win01 interface 52:54:00:8e:00:01)\n\
         \x20   # needs: virtio drivers in win01's guest before it boots with this change (Linux has them; Windows needs virtio-win)\n\
         \x20   # needs: a cold boot of win01 to take effect (virsh shutdown, then virsh start; a reboot inside the guest is not enough)\n\
         \x20   virt-xml win01 --edit mac=52:54:00:8e:00:01 --network model.type=virtio,driver.queues=2 --define\n"
    ), "{script}");
    assert!(
        script.contains(
            "    # NET006 [critical] /dev/net/tun is missing (kvm-net-08)\n\
         \x20   modprobe tun\n\
         \x20   echo tun > /etc/modules-load.d/tun.conf\n"
        ),
        "{script}"
    );
    assert!(script.contains("case \"${host%%.*}\" in\n    kvm-net-08) plan_1; ran=1 ;;\nesac\n"));
    // Each block of a part starts with the comment naming its finding
    // (or the part's heading), so no command stands unexplained.
    let named =
        regex::Regex::new(r"^    # ([A-Z]+[0-9]{3} \[(info|warning|critical)\] |---- )").unwrap();
    let body = &script[script.find("plan_1() {\n").unwrap()..script.find("\n}\n").unwrap()];
    for block in body.split("\n\n").skip(1) {
        let first = block.lines().next().unwrap();
        assert!(
            named.is_match(first),
            "a block starts with {first:?}:\n{block}"
        );
    }
}

#[test]
fn selection_flags_choose_the_findings_as_for_analyze() {
    let plan = plan_json(&[
        fixture("hosts/storage").to_str().unwrap(),
        "--select",
        "DISK007",
    ]);
    let h = &plan["hosts"][0];
    assert_eq!(h["host"], "kvm-disk-07");
    assert_eq!(h["domains"].as_array().unwrap().len(), 0);
    let rules: Vec<&str> = h["host_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["finding"]["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["DISK007", "DISK007"]);
    let first = &h["host_changes"][0]["steps"];
    assert_eq!(first[0]["kind"], "sysfs");
    assert_eq!(first[0]["path"], "/sys/block/nvme0n1/queue/scheduler");
    assert_eq!(first[0]["value"], "none");
    assert_eq!(first[1]["kind"], "file");
    assert_eq!(
        first[1]["content"],
        "ACTION==\"add|change\", KERNEL==\"nvme0n1\", ATTR{queue/scheduler}=\"none\""
    );
}

#[test]
fn domain_files_plan_without_a_host_and_run_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let xml = std::fs::read_to_string(fixture("hosts/network/etc/libvirt/qemu/win01.xml")).unwrap();
    let file = dir.path().join("win01.xml");
    std::fs::write(&file, xml).unwrap();
    let out = run(&["plan", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(
        script.contains("virt-xml win01 --edit mac=52:54:00:8e:00:01 --network model.type=virtio")
    );
    // As lint says: without a host, the rules that need one do not run.
    assert!(
        stderr(&out).contains("rules need host facts and were skipped, so their fixes are not planned; give --host SNAPSHOT to run them"),
        "{}",
        stderr(&out)
    );
    assert!(
        !script.contains("host=$(uname -n)"),
        "no host to check: {script}"
    );
    assert!(script.trim_end().ends_with("plan_1"));
    // Not both kinds at once.
    let out = run(&[
        "plan",
        file.to_str().unwrap(),
        fixture("hosts/network").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("give domain XML files or host snapshots, not both"),
        "{}",
        stderr(&out)
    );
    // A host snapshot takes no --host.
    let out = run(&[
        "plan",
        fixture("hosts/network").to_str().unwrap(),
        "--host",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--host is for domain XML files"),
        "{}",
        stderr(&out)
    );
}

/// The sysctl.d(5) syntax of one line: `key = value`, the key dotted or
/// slashed, and a setting this kernel has.
fn check_sysctl_line(line: &str) {
    let (key, value) = line.split_once(" = ").expect("key = value");
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b)),
        "{line}"
    );
    assert!(!value.trim().is_empty() && !value.contains('\n'), "{line}");
    let proc_path = Path::new("/proc/sys").join(key.replace('.', "/"));
    assert!(
        proc_path.exists(),
        "{key}: no {} on this kernel",
        proc_path.display()
    );
}

#[test]
fn sysctl_fixes_are_drop_ins_of_their_own_that_sysctl_d_reads() {
    let (mut seen, mut named) = (0, 0);
    for host in scenario_hosts() {
        let plan = plan_json(&[host.to_str().unwrap()]);
        let report = common::analyze_selected(&host, "MEM,NET");
        for (rule, subject, s) in host_steps(&plan) {
            if s["kind"] != "sysctl" {
                continue;
            }
            seen += 1;
            let (key, value) = (str_of(&s, "key"), str_of(&s, "value"));
            // The fix people read names the same file and value.
            let fix = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule"] == rule.as_str() && f["subject"] == subject.as_str())
                .map(|f| f["fix"].as_str().unwrap().to_owned());
            // Where the printed fix names a drop-in for the key, it is the
            // plan's, with the plan's value.
            let names_file = regex::Regex::new(&format!(
                r"'{} = [^']*' > /etc/sysctl\.d/[\w.-]+\.conf",
                regex::escape(key)
            ))
            .unwrap();
            if let Some(fix) = fix.filter(|f| names_file.is_match(f)) {
                assert!(
                    fix.contains(&format!(
                        "'{key} = {value}' > /etc/sysctl.d/99-virt-doctor-{key}.conf"
                    )),
                    "{rule}: the printed fix and the plan differ: {fix}"
                );
                named += 1;
            }
            let commands: Vec<&str> = s["commands"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            assert_eq!(commands[0], format!("sysctl -w {key}={value}"), "{rule}");
            let file = format!("/etc/sysctl.d/99-virt-doctor-{key}.conf");
            assert_eq!(
                commands[1],
                format!("printf '%s\\n' '{key} = {value}' > {file}"),
                "{rule}"
            );
            // What the drop-in holds, written by the shell itself.
            let out = Command::new("sh")
                .arg("-c")
                .arg(commands[1].replace(&file, "/dev/stdout"))
                .output()
                .unwrap();
            let text = String::from_utf8(out.stdout).unwrap();
            assert_eq!(text.lines().count(), 1, "{text}");
            check_sysctl_line(text.trim_end());
        }
    }
    assert!(seen >= 5, "only {seen} sysctl steps in the fixtures");
    assert!(named >= 3, "only {named} printed fixes name their drop-in");
}

/// The kernel's way of showing a choice (`always [madvise] never`): the
/// file's options with the written one bracketed; other files just hold
/// the value.
fn written_as_the_kernel_shows_it(old: &str, value: &str) -> String {
    if old.contains('[') {
        let options: Vec<String> = old
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '[' || c == ']'))
            .map(|w| {
                if w == value {
                    format!("[{w}]")
                } else {
                    w.to_owned()
                }
            })
            .collect();
        options.join(" ") + "\n"
    } else {
        format!("{value}\n")
    }
}

/// `value` written to `rel` below `root` as the kernel would show it
/// afterwards; a hugepage pool the kernel grows has its new pages free.
fn write_as_the_kernel(root: &Path, rel: &str, value: &str) {
    let file = root.join(rel);
    let old = std::fs::read_to_string(&file).unwrap_or_default();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, written_as_the_kernel_shows_it(&old, value)).unwrap();
    if rel.ends_with("/nr_hugepages") {
        let free = file.with_file_name("free_hugepages");
        let was = |t: &str| t.trim().parse::<i64>().unwrap_or(0);
        let f = std::fs::read_to_string(&free).map(|t| was(&t)).unwrap_or(0);
        let grown = was(value) - was(&old);
        std::fs::write(&free, format!("{}\n", (f + grown).max(0))).unwrap();
    }
}

/// Each host fix, written where it puts its value in a copy of the
/// fixture host (a sysctl under proc/sys, a sysfs file under sys/),
/// analyzes clean for its rule: the fix and the rule agree on the value.
#[test]
fn a_host_with_its_fixes_written_in_analyzes_clean_for_those_rules() {
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    for host in scenario_hosts() {
        let plan = plan_json(&[host.to_str().unwrap()]);
        let steps = host_steps(&plan);
        let mut by_rule: BTreeMap<(String, String), Vec<serde_json::Value>> = BTreeMap::new();
        for (rule, subject, s) in steps {
            if matches!(s["kind"].as_str(), Some("sysctl" | "sysfs")) {
                by_rule.entry((rule, subject)).or_default().push(s);
            }
        }
        for ((rule, subject), steps) in by_rule {
            let dir = tempfile::tempdir().unwrap();
            copy_tree(&host, dir.path());
            for s in &steps {
                let value = str_of(s, "value");
                if str_of(s, "kind") == "sysctl" {
                    let key = str_of(s, "key");
                    write_as_the_kernel(
                        dir.path(),
                        &format!("proc/sys/{}", key.replace('.', "/")),
                        value,
                    );
                    // vm.nr_hugepages is the pool of the default size.
                    if key == "vm.nr_hugepages" {
                        let meminfo = std::fs::read_to_string(dir.path().join("proc/meminfo"))
                            .unwrap_or_default();
                        let size = meminfo
                            .lines()
                            .find_map(|l| l.strip_prefix("Hugepagesize:"))
                            .and_then(|v| {
                                v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
                            })
                            .unwrap_or(2048);
                        write_as_the_kernel(
                            dir.path(),
                            &format!("sys/kernel/mm/hugepages/hugepages-{size}kB/nr_hugepages"),
                            value,
                        );
                    }
                } else {
                    write_as_the_kernel(
                        dir.path(),
                        str_of(s, "path").trim_start_matches('/'),
                        value,
                    );
                }
            }
            let report = common::analyze_selected(dir.path(), &rule);
            let left: Vec<(String, String)> = common::rules_and_subjects(&report)
                .into_iter()
                .filter(|(r, s)| *r == rule && *s == subject)
                .collect();
            assert!(
                left.is_empty(),
                "{} with {rule}'s fix written in still has {left:?}; steps {steps:?}",
                host.display()
            );
            *checked.entry(rule).or_default() += 1;
        }
    }
    let rules: Vec<&str> = checked.keys().map(String::as_str).collect();
    for expected in [
        "DISK007", "MEM006", "MEM009", "MEM010", "MEM011", "MEM012", "MEM015", "NET007", "NUMA007",
    ] {
        assert!(
            rules.contains(&expected),
            "{expected} not checked: {checked:?}"
        );
    }
}

/// The files a host's fixes write, applied in every rotation and in
/// reverse: each ends with its own step's content, so no fix overwrites
/// another's file, whatever the order.
#[test]
fn host_fixes_leave_every_setting_in_place_in_any_order() {
    for host in scenario_hosts() {
        let plan = plan_json(&[host.to_str().unwrap()]);
        let writes: Vec<(String, String)> = host_steps(&plan)
            .into_iter()
            .filter_map(|(_, _, s)| match str_of(&s, "kind") {
                "sysctl" => Some((
                    format!("/etc/sysctl.d/99-virt-doctor-{}.conf", str_of(&s, "key")),
                    format!("{} = {}\n", str_of(&s, "key"), str_of(&s, "value")),
                )),
                "file" => Some((
                    str_of(&s, "path").to_owned(),
                    str_of(&s, "content").to_owned() + "\n",
                )),
                "module" => Some((
                    format!("/etc/modules-load.d/{}.conf", str_of(&s, "name")),
                    format!("{}\n", str_of(&s, "name")),
                )),
                _ => None,
            })
            .collect();
        let mut orders: Vec<Vec<usize>> = (0..writes.len())
            .map(|k| (0..writes.len()).map(|i| (i + k) % writes.len()).collect())
            .collect();
        orders.push((0..writes.len()).rev().collect());
        for order in orders {
            let root = tempfile::tempdir().unwrap();
            for &i in &order {
                let (path, content) = &writes[i];
                let file = root.path().join(path.trim_start_matches('/'));
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, content).unwrap();
            }
            for (path, content) in &writes {
                let file = root.path().join(path.trim_start_matches('/'));
                assert_eq!(
                    &std::fs::read_to_string(&file).unwrap(),
                    content,
                    "{}: {path} after the order {order:?}",
                    host.display()
                );
            }
        }
    }
}

/// The commands the script has for each step are the ones the JSON
/// gives, and each module and file step writes what the JSON says.
#[test]
fn the_script_holds_exactly_the_json_commands() {
    for host in scenario_hosts() {
        let path = host.to_str().unwrap();
        let plan = plan_json(&[path]);
        let script = stdout(&run(&["plan", path]));
        for h in plan["hosts"].as_array().unwrap() {
            let parts = h["host_changes"].as_array().unwrap().iter().chain(
                h["domains"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|d| d["changes"].as_array().unwrap()),
            );
            for p in parts {
                for s in p["steps"].as_array().unwrap() {
                    for c in s["commands"].as_array().unwrap() {
                        let c = c.as_str().unwrap();
                        let live = script.lines().any(|l| l.trim_start() == c);
                        let said = script.lines().any(|l| l.trim_start() == format!("#   {c}"));
                        // Run once; said in a comment where an earlier
                        // finding ran it already or another conflicts.
                        if s.get("same_as").is_none() && s.get("conflict").is_none() {
                            assert!(live, "{}: {c} is not run by the script", host.display());
                        } else {
                            assert!(said, "{}: {c} is not said in the script", host.display());
                        }
                    }
                }
            }
        }
    }
}

/// Several hosts: one part each, and each runs only on its own host; a
/// well-tuned host's part changes nothing.
#[test]
fn a_plan_of_several_hosts_runs_each_part_on_its_host() {
    let network = fixture("hosts/network");
    let healthy = fixture("hosts/healthy-2node");
    let out = run(&["plan", network.to_str().unwrap(), healthy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(script.contains(&format!(
        "# ==== host kvm-net-08, from {} ====\nplan_1() {{",
        network.display()
    )));
    assert!(script.contains(&format!(
        "# ==== host kvm-tuned-01, from {} ====\nplan_2() {{\n    :\n    # Nothing to change: no finding has a fix to apply.\n",
        healthy.display()
    )), "{script}");
    assert!(script.contains(
        "case \"${host%%.*}\" in\n    kvm-net-08) plan_1; ran=1 ;;\n    kvm-tuned-01) plan_2; ran=1 ;;\nesac\n\
         if [ \"$ran\" = 0 ]; then\n    echo 'this plan is for kvm-net-08, kvm-tuned-01, not '\"$host\" >&2\n    exit 1\nfi\n"
    ), "{script}");
    // Run on this machine (neither host), the script refuses.
    let ran = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert_eq!(ran.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&ran.stderr)
        .contains("this plan is for kvm-net-08, kvm-tuned-01, not "));
}

/// A site rule whose check reads only the domain still runs in `lint`
/// of a lone file; a fix step of it that reads host facts is not made from
/// the empty facts there, but named as needing `--host`.
#[test]
fn steps_that_read_host_facts_wait_for_a_host() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("site.toml"),
        r#"[[rule]]
code = "SITE001"
name = "site-emulator-float"
category = "cpu"
severity = "warning"
scope = "domain"
title = "Emulator threads float"
when = "domain.emulatorpin == null"
message = "{domain.name}'s emulator threads float."
fix = "Pin them to the CPUs nobody is pinned to."
[[rule.apply]]
virt_xml = ['--edit', '--cputune', 'emulatorpin.cpuset={cpus(derived.cpus_unpinned)}']
needs = ['cold-boot']
"#,
    )
    .unwrap();
    let xml = fixture("hosts/pinning-contention/etc/libvirt/qemu/rt-a.xml");
    let plan = |host: Option<&Path>| {
        let mut args = vec![
            xml.to_str().unwrap(),
            "--rules-dir",
            rules.path().to_str().unwrap(),
            "--select",
            "SITE001",
        ];
        if let Some(h) = host {
            args.extend(["--host", h.to_str().unwrap()]);
        }
        let plan = plan_json(&args);
        plan["hosts"][0]["domains"][0]["changes"][0]["steps"].clone()
    };
    let alone = plan(None);
    assert_eq!(alone.as_array().unwrap().len(), 1, "{alone}");
    assert_eq!(alone[0]["kind"], "manual");
    assert_eq!(
        alone[0]["text"],
        "this fix depends on the host's CPUs or memory: plan with --host SNAPSHOT for its commands"
    );
    let host = fixture("hosts/pinning-contention");
    let with_host = plan(Some(&host));
    assert_eq!(with_host[0]["kind"], "virt_xml", "{with_host}");
    assert_eq!(
        with_host[0]["args"],
        serde_json::json!(["--edit", "--cputune", "emulatorpin.cpuset=0-1,4-31"])
    );
}

/// CPU001 on a guest with NUMA cells: cutting the vCPU count alone would
/// leave cells naming vCPUs that no longer exist, which libvirt refuses,
/// so the plan says what to do by hand instead.
#[test]
fn fewer_vcpus_on_a_numa_guest_is_done_by_hand() {
    let plan = plan_json(&[
        fixture("plan/custom-cpu-numa.xml").to_str().unwrap(),
        "--host",
        fixture("hosts/no-kvm").to_str().unwrap(),
        "--select",
        "CPU001",
    ]);
    let steps = &plan["hosts"][0]["domains"][0]["changes"][0]["steps"];
    assert_eq!(steps.as_array().unwrap().len(), 1, "{steps}");
    assert_eq!(steps[0]["kind"], "manual");
    assert_eq!(
        steps[0]["text"],
        "The guest's NUMA cells name every vCPU: give it at most 2 vCPUs and split them over the cells again (virsh edit custom-numa01: <vcpu>, <topology> and each <cell cpus=...>), or libvirt refuses the definition."
    );
}
