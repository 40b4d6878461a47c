//! `/proc/loadavg`: `0.20 0.18 0.12 1/80 11206`.

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Loadavg {
    pub one: f64,
    pub five: f64,
    pub fifteen: f64,
    pub running: Option<u64>,
    pub total: Option<u64>,
}

pub fn parse(text: &str) -> Parsed<Option<Loadavg>> {
    let w: Vec<&str> = text.split_whitespace().collect();
    let f = |i: usize| {
        w.get(i)
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    match (f(0), f(1), f(2)) {
        (Some(one), Some(five), Some(fifteen)) => {
            let (running, total) = w
                .get(3)
                .and_then(|s| s.split_once('/'))
                .map(|(r, t)| (r.parse().ok(), t.parse().ok()))
                .unwrap_or((None, None));
            Parsed::ok(Some(Loadavg {
                one,
                five,
                fifteen,
                running,
                total,
            }))
        }
        _ => Parsed {
            value: None,
            problems: vec![Problem::at(
                1,
                format!("expected three load averages, found {}", shape(text.trim())),
            )],
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_all_fields() {
        let l = super::parse("0.20 0.18 0.12 1/80 11206\n").value.unwrap();
        assert_eq!((l.one, l.five, l.fifteen), (0.20, 0.18, 0.12));
        assert_eq!((l.running, l.total), (Some(1), Some(80)));
        assert!(super::parse("x").value.is_none());
    }
}
