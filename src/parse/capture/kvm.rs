//! `virt-doctor/kvm` ([`super::paths::KVM`]): what `KVM_GET_API_VERSION`
//! on `/dev/kvm` answered at capture time, one line: `api_version=12`,
//! `error=EACCES: Permission denied (os error 13)` or `absent`.

use crate::parse::{shape, Parsed, Problem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvmProbe {
    /// `/dev/kvm` does not exist.
    Absent,
    ApiVersion(i64),
    /// errno name (`EACCES`) and message.
    Error(String, String),
}

pub fn parse(text: &str) -> Parsed<Option<KvmProbe>> {
    let t = text.trim();
    let probe = if t == "absent" {
        KvmProbe::Absent
    } else if let Some(v) = t.strip_prefix("api_version=").and_then(|v| v.parse().ok()) {
        KvmProbe::ApiVersion(v)
    } else if let Some(e) = t.strip_prefix("error=") {
        let (name, message) = e.split_once(": ").unwrap_or((e, ""));
        KvmProbe::Error(name.to_owned(), message.to_owned())
    } else {
        return Parsed::failed(Problem::at(
            1,
            format!(
                "expected `api_version=N`, `error=...` or `absent`, found {}",
                shape(t)
            ),
        ));
    };
    Parsed::ok(Some(probe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_answers_and_anything_else() {
        assert_eq!(parse("absent\n").value, Some(KvmProbe::Absent));
        assert_eq!(
            parse("api_version=12\n").value,
            Some(KvmProbe::ApiVersion(12))
        );
        assert_eq!(
            parse("error=EACCES: Permission denied (os error 13)\n").value,
            Some(KvmProbe::Error(
                "EACCES".into(),
                "Permission denied (os error 13)".into()
            ))
        );
        assert_eq!(
            parse("error=ENXIO").value,
            Some(KvmProbe::Error("ENXIO".into(), String::new()))
        );
        let bad = parse("api_version=twelve\n");
        assert_eq!(bad.value, None);
        assert_eq!(bad.problems[0].line, Some(1));
    }
}
