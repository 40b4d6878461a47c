//! Timestamps of log lines, as UTC Unix seconds where they can be known.
//!
//! * dmesg: `[ 4301.999258] msg` (seconds since boot: needs the boot time
//!   from `/proc/stat` btime), `[Tue Nov 24 01:08:01 2026] msg` (`-T`).
//! * syslog and journal text: RFC 3164 `Nov 24 01:08:01 host prog[pid]: msg`
//!   (the year is inferred: the file's modification time or the capture
//!   time, a year earlier when that would put the line in the future, which
//!   handles the new-year wrap), `short-precise` fractions, and RFC 3339
//!   `2026-11-24T01:08:01.123456+00:00 host prog: msg` (`short-iso`,
//!   rsyslog's high-precision format).
//! * libvirt's own lines in QEMU domain logs and libvirtd.log:
//!   `2026-11-24 01:08:01.123+0000: msg`; QEMU's `2026-11-24T01:08:01.123456Z
//!   qemu-system-x86_64: msg`.
//!
//! [`split`] returns the time and the message body with the stamp (and,
//! for syslog, `host prog[pid]: `) removed, so rule patterns match the same
//! text whichever file a kernel line came from.

use crate::lang::Lang;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dmesg,
    Syslog,
    Libvirt,
}

/// What the lines of one file are measured against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// Boot time (Unix seconds), for dmesg's relative stamps.
    pub boot_time: Option<i64>,
    /// When the file was last written (or the snapshot taken), for
    /// year-less syslog stamps.
    pub reference: Option<i64>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The line's time (if known) and its body.
pub fn split(line: &str, format: Format, clock: Clock) -> (Option<i64>, &str) {
    match format {
        Format::Dmesg => dmesg(line, clock),
        Format::Syslog => syslog(line, clock),
        Format::Libvirt => libvirt(line),
    }
}

fn dmesg(line: &str, clock: Clock) -> (Option<i64>, &str) {
    let Some(rest) = line.strip_prefix('[') else {
        return (None, line);
    };
    let Some((stamp, body)) = rest.split_once(']') else {
        return (None, line);
    };
    let body = body.strip_prefix(' ').unwrap_or(body);
    let stamp = stamp.trim();
    if let Ok(secs) = stamp.parse::<f64>() {
        let t = clock.boot_time.map(|b| b + secs as i64);
        return (t, body);
    }
    // `dmesg -T`: `Tue Nov 24 01:08:01 2026`
    let t = NaiveDateTime::parse_from_str(stamp, "%a %b %e %H:%M:%S %Y")
        .ok()
        .map(|n| Utc.from_utc_datetime(&n).timestamp());
    (t, body)
}

/// Strip `host prog[pid]: ` from a syslog line's remainder, and the
/// `[ 725.995102] ` kernel stamp rsyslog keeps in kernel messages, so the
/// body is the same text dmesg shows.
fn after_header(rest: &str) -> &str {
    let rest = rest.trim_start();
    let Some((_host, after_host)) = rest.split_once(' ') else {
        return rest;
    };
    let body = match after_host.find(": ") {
        // The program tag has no spaces (`kernel`, `libvirtd[1234]`).
        Some(i) if !after_host[..i].contains(' ') => &after_host[i + 2..],
        _ => after_host,
    };
    strip_kernel_stamp(body)
}

fn strip_kernel_stamp(body: &str) -> &str {
    if let Some(inner) = body.strip_prefix('[') {
        if let Some((stamp, rest)) = inner.split_once(']') {
            if stamp.trim().parse::<f64>().is_ok() {
                return rest.strip_prefix(' ').unwrap_or(rest);
            }
        }
    }
    body
}

fn syslog(line: &str, clock: Clock) -> (Option<i64>, &str) {
    let b = line.as_bytes();
    // RFC 3339: 2026-11-24T01:08:01[.frac](Z|±hh:mm) host prog: msg
    if b.len() > 20 && b[4] == b'-' && b[10] == b'T' {
        if let Some((stamp, rest)) = line.split_once(' ') {
            let t = DateTime::parse_from_rfc3339(stamp)
                .ok()
                .map(|d| d.timestamp());
            return (t, after_header(rest));
        }
    }
    // RFC 3164: Nov 24 01:08:01[.frac] host prog: msg
    // The stamp is ASCII; `is_ascii` on its 15 bytes keeps the slicing on
    // character boundaries whatever follows.
    if b.len() > 16 && b[..15].is_ascii() && b[3] == b' ' && b[9] == b':' {
        if let Some(month) = MONTHS.iter().position(|m| line.starts_with(m)) {
            let day: Option<u32> = line[4..6].trim().parse().ok();
            let clock_end = line[7..].find(' ').map_or(line.len(), |i| 7 + i);
            let hms = line.get(7..clock_end.min(15)).unwrap_or("");
            let rest = &line[clock_end..];
            let t = day.and_then(|d| guess_year(month as u32 + 1, d, hms, clock.reference));
            return (t, after_header(rest));
        }
    }
    (None, line)
}

/// The year for a year-less stamp: the reference's year, or the one before
/// when the stamp would otherwise be more than a day after the reference
/// (a December line in a log written in January).
fn guess_year(month: u32, day: u32, hms: &str, reference: Option<i64>) -> Option<i64> {
    let reference = reference?;
    let year = Utc.timestamp_opt(reference, 0).single()?.year();
    let at = |y: i32| {
        let date = NaiveDate::from_ymd_opt(y, month, day)?;
        let time = chrono::NaiveTime::parse_from_str(hms, "%H:%M:%S").ok()?;
        Some(Utc.from_utc_datetime(&date.and_time(time)).timestamp())
    };
    let t = at(year)?;
    if t > reference + 86_400 {
        at(year - 1)
    } else {
        Some(t)
    }
}

fn libvirt(line: &str) -> (Option<i64>, &str) {
    let b = line.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' {
        return (None, line);
    }
    // QEMU: 2026-11-24T01:08:01.123456Z qemu-system-x86_64: msg
    if b[10] == b'T' {
        if let Some((stamp, rest)) = line.split_once(' ') {
            let t = DateTime::parse_from_rfc3339(stamp)
                .ok()
                .map(|d| d.timestamp());
            return (t, rest);
        }
    }
    // libvirt: 2026-11-24 01:08:01.123+0000: msg
    if b[10] == b' ' {
        if let Some((stamp, rest)) = line.split_once(": ") {
            let t = DateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f%z")
                .ok()
                .map(|d| d.timestamp());
            return (t, rest);
        }
    }
    (None, line)
}

/// A bound of `--since`/`--until`: a time, or a span before the moment
/// the snapshot was taken (not before now: a sosreport from last month
/// asked for its last day means that month's last day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(i64),
    Before(i64),
}

impl When {
    /// The time this stands for, given when the snapshot was taken.
    pub fn resolve(self, taken: i64) -> i64 {
        match self {
            When::At(t) => t,
            When::Before(secs) => taken - secs,
        }
    }
}

/// `24h`, `7d`, `30m`, `90s`, `2w`; an RFC 3339 time; a date
/// (`2020-01-29`, midnight UTC); or a date and time (`2020-01-29 08:00`,
/// `2020-01-29T08:00:00`, UTC).
pub fn parse_when(text: &str) -> Result<When, String> {
    let units = [
        ('s', 1),
        ('m', 60),
        ('h', 3600),
        ('d', 86400),
        ('w', 604800),
    ];
    for (u, secs) in units {
        if let Some(n) = text.strip_suffix(u).and_then(|n| n.parse::<i64>().ok()) {
            return Ok(When::Before(n * secs));
        }
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Ok(When::At(d.timestamp()));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(When::At(Utc.from_utc_datetime(&n).timestamp()));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(When::At(
            Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN))
                .timestamp(),
        ));
    }
    Err(format!(
        "`{text}` is neither a duration (24h, 7d) nor a time (2020-01-29, 2020-01-29 08:00, RFC 3339)"
    ))
}

/// The end of a journal export from its header line: `-- Logs begin at
/// Wed 2017-02-08 15:18:00 CET, end at Tue 2017-09-19 09:12:59 CEST. --`
/// (systemd before 246) or `-- Journal begins at …, ends at … --`. The
/// zone is read as UTC: a zone name does not say its offset, and the
/// year, which is what the header is for, does not depend on it.
pub fn journal_header_end(line: &[u8]) -> Option<i64> {
    let line = std::str::from_utf8(line).ok()?;
    let rest = line.strip_prefix("-- ")?;
    let at = rest
        .find(" end at ")
        .map(|i| i + 8)
        .or(rest.find(" ends at ").map(|i| i + 9))?;
    let stamp = rest
        .get(at..)?
        .split_whitespace()
        .skip(1)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    NaiveDateTime::parse_from_str(&stamp, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|n| Utc.from_utc_datetime(&n).timestamp())
}

/// `date` or `date --utc` as a sosreport keeps it: `Thu Feb 10 16:19:17
/// UTC 2022`. Only UTC (or GMT) is read: a local zone's name does not say
/// its offset.
pub fn parse_date_output(text: &str) -> Option<i64> {
    let t = text.trim();
    for zone in ["UTC", "GMT"] {
        let spaced = format!(" {zone} ");
        if let Some(i) = t.find(&spaced) {
            let joined = format!("{} {}", &t[..i], &t[i + spaced.len()..]);
            let compact = joined.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Ok(n) = NaiveDateTime::parse_from_str(&compact, "%a %b %e %H:%M:%S %Y") {
                return Some(Utc.from_utc_datetime(&n).timestamp());
            }
        }
    }
    None
}

/// A time as findings print it.
pub fn show(t: Option<i64>, lang: Lang) -> String {
    t.and_then(|t| Utc.timestamp_opt(t, 0).single())
        .map_or_else(
            || lang.pick("unknown time", "时间未知").into(),
            |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// When a group of events happened, for messages: `at T` for one moment,
/// `from T1 to T2` for a stretch (`于 T`, `从 T1 到 T2`).
pub fn span(first: Option<i64>, last: Option<i64>, lang: Lang) -> String {
    let show = |t| show(Some(t), lang);
    match (lang, first, last) {
        (Lang::En, Some(a), Some(b)) if a != b => format!("from {} to {}", show(a), show(b)),
        (Lang::ZhCn, Some(a), Some(b)) if a != b => format!("从 {} 到 {}", show(a), show(b)),
        (_, Some(t), _) | (_, None, Some(t)) => format!("{} {}", lang.pick("at", "于"), show(t)),
        (_, None, None) => lang.pick("at an unknown time", "时间未知").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmesg_relative_and_human() {
        let c = Clock {
            boot_time: Some(1_644_446_288),
            reference: None,
        };
        assert_eq!(
            split("[ 4301.999258] audit: type=1400", Format::Dmesg, c),
            (Some(1_644_450_589), "audit: type=1400")
        );
        assert_eq!(
            split("[Tue Nov 24 01:08:01 2026] oom", Format::Dmesg, c).0,
            Some(1_795_482_481)
        );
        assert_eq!(
            split("no stamp here", Format::Dmesg, c),
            (None, "no stamp here")
        );
    }

    #[test]
    fn syslog_years_wrap_at_new_year() {
        let jan_2027 = Utc
            .with_ymd_and_hms(2027, 1, 2, 0, 0, 0)
            .unwrap()
            .timestamp();
        let c = Clock {
            boot_time: None,
            reference: Some(jan_2027),
        };
        let (t, body) = split(
            "Dec 31 23:59:01 kvm01 kernel: [12.3] Out of memory",
            Format::Syslog,
            c,
        );
        assert_eq!(
            t,
            Some(
                Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 1)
                    .unwrap()
                    .timestamp()
            )
        );
        assert_eq!(body, "Out of memory", "the kernel stamp goes too");
        let (t, body) = split(
            "Jan  1 00:00:05 kvm01 libvirtd[123]: error : x",
            Format::Syslog,
            c,
        );
        assert_eq!(
            t,
            Some(
                Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 5)
                    .unwrap()
                    .timestamp()
            )
        );
        assert_eq!(body, "error : x");
        let (t, _) = split(
            "2026-11-24T01:08:01.123456+01:00 kvm01 kernel: x",
            Format::Syslog,
            c,
        );
        assert_eq!(
            t,
            Some(
                Utc.with_ymd_and_hms(2026, 11, 24, 0, 8, 1)
                    .unwrap()
                    .timestamp()
            )
        );
    }

    #[test]
    fn non_ascii_where_a_stamp_would_be_is_not_a_stamp() {
        for line in [
            "Nov 1€x:01:02 host kernel: x",
            "Nov 24 01:0€:01 h k: x",
            "2026-11-2€T01:08:01Z x",
            "[€] x",
        ] {
            for f in [Format::Syslog, Format::Dmesg, Format::Libvirt] {
                let _ = split(line, f, Clock::default());
            }
        }
    }

    #[test]
    fn libvirt_and_qemu_stamps() {
        let (t, body) = split(
            "2020-02-10 16:40:14.321+0000: shutting down, reason=crashed",
            Format::Libvirt,
            Clock::default(),
        );
        assert_eq!(
            t,
            Some(
                Utc.with_ymd_and_hms(2020, 2, 10, 16, 40, 14)
                    .unwrap()
                    .timestamp()
            )
        );
        assert_eq!(body, "shutting down, reason=crashed");
        let (t, body) = split(
            "2022-02-10T16:18:03.466386Z qemu-system-x86_64: terminating on signal 15",
            Format::Libvirt,
            Clock::default(),
        );
        assert!(t.is_some());
        assert_eq!(body, "qemu-system-x86_64: terminating on signal 15");
    }

    #[test]
    fn windows() {
        assert_eq!(
            parse_when("24h").map(|w| w.resolve(100_000)),
            Ok(100_000 - 86_400)
        );
        assert_eq!(parse_when("7d"), Ok(When::Before(604_800)));
        assert_eq!(
            parse_when("2026-11-24T00:00:00Z"),
            Ok(When::At(1_795_478_400))
        );
        assert_eq!(parse_when("2020-01-29"), Ok(When::At(1_580_256_000)));
        assert_eq!(
            parse_when("2020-01-29 08:00"),
            Ok(When::At(1_580_256_000 + 8 * 3600))
        );
        assert!(parse_when("yesterday").is_err());
        assert_eq!(
            parse_date_output("Thu Feb 10 16:19:17 UTC 2022\n"),
            Some(1_644_509_957)
        );
        assert_eq!(parse_date_output("Thu Feb 10 16:19:17 CET 2022"), None);
        // insights-core's real journal export header (test_journalctl.py).
        assert_eq!(
            journal_header_end(b"-- Logs begin at Wed 2017-02-08 15:18:00 CET, end at Tue 2017-09-19 09:12:59 CEST. --"),
            Some(1_505_812_379)
        );
        assert_eq!(
            journal_header_end(b"-- Journal begins at Mon 2021-03-01 10:00:00 UTC, ends at Tue 2021-03-02 11:00:00 UTC. --"),
            Some(1_614_682_800)
        );
        assert_eq!(journal_header_end(b"May 18 15:13:34 host prog: x"), None);
    }
}
