//! How fast domain XML parses: every domain XML in ../shared/corpus, read
//! into memory first so only parsing is timed, several rounds, best round
//! reported; then `facts` on the hotsos sosreport fixture. Run with
//! `cargo bench --bench parse_domains`; under `cargo test`, one round that
//! checks the counts. Without the corpus the XML part says SKIPPED, or
//! fails under `VIRT_DOCTOR_CORPUS=require`.

#[path = "common.rs"]
mod common;

use std::path::Path;
use std::time::Instant;

fn xml_files(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "xml") {
            if let Ok(t) = std::fs::read_to_string(&p) {
                out.push(t);
            }
        }
    }
}

fn main() {
    if common::filtered_out("parse_domains") {
        return;
    }
    let rounds = if common::measuring() { 10 } else { 1 };
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/libvirt-xml");
    let mut docs = Vec::new();
    xml_files(&corpus, &mut docs);
    if docs.is_empty() {
        assert!(
            !common::required("VIRT_DOCTOR_CORPUS"),
            "VIRT_DOCTOR_CORPUS=require but {} is not there",
            corpus.display()
        );
        println!("SKIPPED domain XML parsing: {} not found", corpus.display());
    } else {
        parse_all(&docs, rounds);
    }
    facts_on_a_sosreport(rounds);
}

fn parse_all(docs: &[String], rounds: usize) {
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut best = f64::MAX;
    let mut parsed = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        parsed = 0;
        for d in docs {
            if virt_doctor::parse::domain::parse(d).value.is_some() {
                parsed += 1;
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "domain XML: {} documents ({:.1} MiB), {} parsed as domains; best of {rounds} {:.1} ms = {:.1} ms per 1,000 documents",
        docs.len(),
        bytes as f64 / 1048576.0,
        parsed,
        best * 1e3,
        best * 1e3 * 1000.0 / docs.len() as f64
    );
    // The corpus README's counts: 2,081 XML files of which 2,000 are
    // <domain> and 16 <domstatus> (the rest are nodes, snapshots and the
    // deliberately broken or concatenated files).
    assert_eq!((docs.len(), parsed), (2081, 2016));
}

fn facts_on_a_sosreport(rounds: usize) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hosts/hotsos-compute");
    let snap = virt_doctor::snapshot::Snapshot::open(&fixture).unwrap();
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        let f = virt_doctor::facts::gather(&snap);
        assert_eq!(
            f.domains.len(),
            1,
            "the hotsos compute node defines one instance"
        );
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "facts on fixtures/hosts/hotsos-compute (directory): best of {rounds} {:.1} ms",
        best * 1e3
    );
}
