//! How fast domain XML parses: every domain XML in ../shared/corpus, read
//! into memory first so only parsing is timed, several rounds, best round
//! reported. Run with `cargo bench --bench parse_domains`.

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
    if !std::env::args().any(|a| a == "--bench") {
        println!("parse_domains: benchmark; run it with `cargo bench --bench parse_domains`");
        return;
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/libvirt-xml");
    let mut docs = Vec::new();
    xml_files(&corpus, &mut docs);
    if docs.is_empty() {
        println!("SKIPPED: {} not found", corpus.display());
        return;
    }
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut best = f64::MAX;
    let mut parsed = 0;
    for _ in 0..10 {
        let start = Instant::now();
        parsed = 0;
        for d in &docs {
            if virt_doctor::parse::domain::parse(d).value.is_some() {
                parsed += 1;
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "domain XML: {} documents ({:.1} MiB), {} parsed as domains; best of 10 rounds {:.1} ms = {:.1} ms per 1,000 documents",
        docs.len(),
        bytes as f64 / 1048576.0,
        parsed,
        best * 1e3,
        best * 1e3 * 1000.0 / docs.len() as f64
    );

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hosts/hotsos-compute");
    let snap = virt_doctor::snapshot::Snapshot::open(&fixture).unwrap();
    let mut best = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        let f = virt_doctor::facts::gather(&snap);
        assert!(!f.domains.is_empty());
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "facts on fixtures/hosts/hotsos-compute (directory): best of 10 {:.1} ms",
        best * 1e3
    );
}
