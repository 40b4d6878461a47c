//! The kernel's CPU and node list format: `0-3,8,10-11` (also used by
//! `cpuset`, libvirt's `cpuset=` attributes and `nodeset=`). libvirt also
//! allows `^N` exclusions, which we honour.

use std::collections::BTreeSet;

/// Largest CPU or node number accepted; the kernel's NR_CPUS tops out at
/// 8192, so anything far beyond is junk rather than a huge machine.
const MAX_ID: u32 = 1 << 16;

pub fn parse(text: &str) -> Result<Vec<u32>, String> {
    let mut set = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    for part in text
        .trim()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (negate, part) = match part.strip_prefix('^') {
            Some(p) => (true, p),
            None => (false, part),
        };
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        if lo > hi {
            return Err(format!("range `{part}` runs backwards"));
        }
        let target = if negate { &mut excluded } else { &mut set };
        target.extend(lo..=hi);
    }
    Ok(set.difference(&excluded).copied().collect())
}

fn number(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if n <= MAX_ID => Ok(n),
        Ok(n) => Err(format!(
            "{n} is beyond the largest CPU/node number ({MAX_ID})"
        )),
        Err(_) => Err(format!("{} is not a CPU or node number", super::quote(s))),
    }
}

/// The older hex mask format (`cpumap`): comma-separated 32-bit words, most
/// significant first, so `00000000,00000011` is CPUs 0 and 4.
pub fn parse_mask(text: &str) -> Result<Vec<u32>, String> {
    let words: Vec<&str> = text.trim().split(',').collect();
    if words.len() > (MAX_ID as usize / 32) {
        return Err(format!(
            "mask of {} words is larger than any machine",
            words.len()
        ));
    }
    let mut cpus = Vec::new();
    for (i, word) in words.iter().rev().enumerate() {
        let bits = u32::from_str_radix(word, 16)
            .map_err(|_| format!("{} is not a hex mask word", super::quote(word)))?;
        for bit in 0..32 {
            if bits & (1 << bit) != 0 {
                cpus.push(i as u32 * 32 + bit);
            }
        }
    }
    Ok(cpus)
}

/// The inverse of [`parse`], for messages and fixes: `[0,1,2,5]` -> `0-2,5`.
pub fn format(ids: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let start = ids[i];
        let mut end = start;
        while i + 1 < ids.len() && ids[i + 1] == end + 1 {
            end += 1;
            i += 1;
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_singles_and_exclusions() {
        assert_eq!(parse("0-3,8,10-11\n").unwrap(), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse("0-7,^2-3").unwrap(), vec![0, 1, 4, 5, 6, 7]);
        assert_eq!(parse("").unwrap(), Vec::<u32>::new());
        assert!(parse("3-1").is_err());
        assert!(parse("0-99999999").is_err());
        assert!(parse("a").is_err());
        assert_eq!(format(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(parse_mask("00000000,00000011\n").unwrap(), vec![0, 4]);
        assert_eq!(parse_mask("00000001,80000000").unwrap(), vec![31, 32]);
        assert!(parse_mask("zz").is_err());
    }
}
