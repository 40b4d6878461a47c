//! Every input a fuzzer crashed on, replayed through the same entry point
//! (`virt_doctor::fuzz_entry::run`) on every `cargo test`: a fixed crash
//! stays fixed. Inputs live in `fuzz/regressions/<target>/`.

use std::collections::BTreeSet;
use std::path::Path;

use virt_doctor::fuzz_entry::{run, TARGETS};

fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz"))
}

#[test]
fn every_fuzz_target_is_an_entry_point_and_back() {
    let files: BTreeSet<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let entries: BTreeSet<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    assert_eq!(files, entries);
}

#[test]
fn crashing_inputs_stay_fixed() {
    let mut replayed = 0;
    for target in TARGETS {
        let dir = fuzz_dir().join("regressions").join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            // A panic here names the input through the test's output.
            eprintln!("replaying {}", path.display());
            run(target, &data);
            replayed += 1;
        }
    }
    eprintln!("{replayed} crashing inputs replayed");
}

#[test]
fn every_target_takes_empty_and_junk_input() {
    for target in TARGETS {
        run(target, b"");
        run(target, b"\0\xff\xfe<domain>\n\n\x1f\x8b junk");
    }
}
