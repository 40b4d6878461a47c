//! `/proc/uptime`: seconds since boot and idle seconds summed over CPUs.

use super::{shape, Parsed, Problem};

pub fn parse(text: &str) -> Parsed<Option<f64>> {
    match text.split_whitespace().next().map(str::parse::<f64>) {
        Some(Ok(v)) if v.is_finite() && v >= 0.0 => Parsed::ok(Some(v)),
        _ => Parsed {
            value: None,
            problems: vec![Problem::at(
                1,
                format!("expected seconds since boot, found {}", shape(text.trim())),
            )],
        },
    }
}
