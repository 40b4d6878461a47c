//! `/proc/pressure/{cpu,memory,io}` (PSI): the share of time tasks were
//! stalled waiting for the resource.

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Line {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    /// Total stall time in microseconds.
    pub total_us: u64,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Pressure {
    pub some: Option<Line>,
    /// Absent for `cpu` on kernels before 5.13.
    pub full: Option<Line>,
}

pub fn parse(text: &str) -> Parsed<Pressure> {
    let mut out = Pressure::default();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let Some(kind) = words.next() else { continue };
        let mut l = Line::default();
        let mut seen = 0;
        for w in words {
            let Some((k, v)) = w.split_once('=') else {
                continue;
            };
            let ok = match k {
                "avg10" => v.parse().map(|x| l.avg10 = x).is_ok(),
                "avg60" => v.parse().map(|x| l.avg60 = x).is_ok(),
                "avg300" => v.parse().map(|x| l.avg300 = x).is_ok(),
                "total" => v.parse().map(|x| l.total_us = x).is_ok(),
                _ => false,
            };
            seen += ok as u32;
        }
        match kind {
            "some" if seen == 4 => out.some = Some(l),
            "full" if seen == 4 => out.full = Some(l),
            _ => problems.push(Problem::at(
                i + 1,
                format!(
                    "expected `some|full avg10=… avg60=… avg300=… total=…`, found {}",
                    shape(line)
                ),
            )),
        }
    }
    Parsed {
        value: out,
        problems,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_some_and_full() {
        let p = super::parse("some avg10=1.50 avg60=2.00 avg300=0.10 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        assert!(p.problems.is_empty());
        assert_eq!(p.value.some.unwrap().avg60, 2.0);
        assert_eq!(p.value.full.unwrap().total_us, 0);
    }
}
