//! `virt-doctor/iommu-groups` ([`super::paths::IOMMU_GROUPS`]): how many
//! entries `sys/kernel/iommu_groups` had at capture time, the only way to
//! say "the directory exists and is empty" (the IOMMU is off), which no
//! copied file can.

use crate::parse::{single_u64, Parsed};

pub fn parse(text: &str) -> Parsed<Option<usize>> {
    let p = single_u64(text);
    Parsed {
        value: p.value.and_then(|n| usize::try_from(n).ok()),
        problems: p.problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_count() {
        assert_eq!(parse("0\n").value, Some(0));
        assert_eq!(parse("27").value, Some(27));
        assert_eq!(parse("many\n").problems[0].line, Some(1));
    }
}
