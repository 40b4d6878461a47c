//! `df -al` (sosreport's `sos_commands/filesys/df_-al_-x_autofs`) and
//! `df -h`: which filesystem holds which path, and how full it is. A guest
//! whose image sits on a full filesystem pauses on its next write.
//!
//! ```text
//! Filesystem     1K-blocks     Used Available Use% Mounted on
//! /dev/vda1       20263528 20263528         0 100% /
//! ```

use super::{shape, Parsed, Problem};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Filesystem {
    pub device: String,
    pub mount: String,
    pub size_kib: u64,
    pub used_kib: u64,
    pub avail_kib: u64,
    /// df's `Use%`: used / (used + available), rounded up.
    pub use_pct: u8,
}

/// A size column: KiB blocks (`df -k`, the default) or `df -h`'s human
/// units (`20G`, `512M`, `1.5T`, powers of 1024).
fn kib(v: &str, human: bool) -> Option<u64> {
    if human {
        super::human_size_kib(v, 1024.0)
    } else {
        v.parse().ok()
    }
}

pub fn parse(text: &str) -> Parsed<Vec<Filesystem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut human = None;
    // A long device name makes df wrap its line: the name alone, then
    // the numbers on the next line.
    let mut pending: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.first() {
            None => continue,
            Some(&"Filesystem") => {
                human = Some(w.get(1).is_some_and(|h| *h == "Size"));
                continue;
            }
            _ => {}
        }
        let Some(human) = human else {
            problems.push(Problem::at(
                i + 1,
                format!(
                    "expected df's `Filesystem …` header first, found {}",
                    shape(line)
                ),
            ));
            continue;
        };
        let w: Vec<String> = match (pending.take(), w.len()) {
            (None, 1) => {
                pending = Some(w[0].to_owned());
                continue;
            }
            (Some(device), 5) => std::iter::once(device)
                .chain(w.iter().map(|s| (*s).to_owned()))
                .collect(),
            (_, _) => w.iter().map(|s| (*s).to_owned()).collect(),
        };
        if w.len() < 6 {
            problems.push(Problem::at(
                i + 1,
                format!(
                    "expected `Filesystem Size Used Available Use% Mounted on`, found {}",
                    shape(line)
                ),
            ));
            continue;
        }
        // Pseudo filesystems print `-` for Use%.
        let (Some(size), Some(used), Some(avail)) =
            (kib(&w[1], human), kib(&w[2], human), kib(&w[3], human))
        else {
            problems.push(Problem::at(
                i + 1,
                format!("expected sizes, found {}", shape(line)),
            ));
            continue;
        };
        if size == 0 {
            continue;
        }
        let use_pct = w[4]
            .strip_suffix('%')
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        out.push(Filesystem {
            device: w[0].clone(),
            // A mount point may contain spaces: the rest of the line.
            mount: w[5..].join(" "),
            size_kib: size,
            used_kib: used,
            avail_kib: avail,
            use_pct,
        });
    }
    if human.is_none() && !text.trim().is_empty() {
        problems.push(Problem::whole("no `Filesystem …` header"));
    }
    Parsed {
        value: out,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_df_al_and_df_h() {
        let p = parse("Filesystem     1K-blocks     Used Available Use% Mounted on\nsysfs                  0        0         0    - /sys\n/dev/vda1       20263528 20263528         0 100% /\n/dev/mapper/vg_guests-images\n               103081248 51540624  46281504  53% /var/lib/libvirt/images\n");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.value.len(), 2);
        assert_eq!(p.value[0].mount, "/");
        assert_eq!(p.value[0].use_pct, 100);
        assert_eq!(p.value[1].device, "/dev/mapper/vg_guests-images");
        assert_eq!(p.value[1].mount, "/var/lib/libvirt/images");
        assert_eq!(p.value[1].avail_kib, 46281504);
        let h = parse("Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda2       457G  431G  3.1G 100% /\n");
        assert_eq!(h.value[0].avail_kib, 3250586);
        assert_eq!(h.value[0].use_pct, 100);
    }
}
