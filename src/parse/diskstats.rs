//! `/proc/diskstats` (Documentation/admin-guide/iostats.rst).

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiskStat {
    pub name: String,
    pub reads: u64,
    pub read_sectors: u64,
    pub read_ms: u64,
    pub writes: u64,
    pub write_sectors: u64,
    pub write_ms: u64,
    pub in_flight: u64,
    pub io_ms: u64,
    pub weighted_io_ms: u64,
}

pub fn parse(text: &str) -> Parsed<Vec<DiskStat>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.is_empty() {
            continue;
        }
        let n = |k: usize| w.get(k).and_then(|v| v.parse::<u64>().ok());
        if w.len() < 14 {
            problems.push(Problem::at(
                i + 1,
                format!("expected at least 14 columns, found {}", shape(line)),
            ));
            continue;
        }
        let fields: Option<Vec<u64>> = (3..14).map(n).collect();
        let Some(f) = fields else {
            problems.push(Problem::at(
                i + 1,
                format!("expected numeric counters, found {}", shape(line)),
            ));
            continue;
        };
        out.push(DiskStat {
            name: w[2].to_owned(),
            reads: f[0],
            read_sectors: f[2],
            read_ms: f[3],
            writes: f[4],
            write_sectors: f[6],
            write_ms: f[7],
            in_flight: f[8],
            io_ms: f[9],
            weighted_io_ms: f[10],
        });
    }
    Parsed {
        value: out,
        problems,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_device_line() {
        let p = super::parse("   8       0 sda 25354637 34367663 1003346126 18492372 28444756 11134226 505697032 63877960 0 9653880 82621804\n");
        assert!(p.problems.is_empty());
        let d = &p.value[0];
        assert_eq!(d.name, "sda");
        assert_eq!(d.reads, 25354637);
        assert_eq!(d.io_ms, 9653880);
    }
}
