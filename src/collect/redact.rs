//! Redaction: what a capture must never carry out of the host.
//!
//! Secrets are always removed: graphics passwords (`passwd=`), the user
//! names and secret references of network-disk `<auth>`, `<cookie>` values,
//! and the `data` of QEMU `secret` objects on QEMU command lines in logs.
//! libvirt keeps passwords in its on-disk XML (`/etc/libvirt/qemu`,
//! `/run/libvirt/qemu`), so redaction is applied to every captured file,
//! not only to libvirt's API answers (which omit them anyway).
//!
//! Matching is textual, not through an XML parser, so a file that does not
//! parse is still redacted.
//!
//! With `--redact-hosts`, host names and IP addresses are also replaced,
//! consistently: the same address becomes the same stand-in everywhere, so
//! a rule comparing two of them still sees equal or different values.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::bytes::{Captures, Regex};

pub const MARK: &str = "REDACTED";

static PASSWD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(\bpasswd\s*=\s*)(?:'[^']*'|"[^"]*")"#).unwrap());
static AUTH_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<(?:auth|secret)\b[^>]*>").unwrap());
static AUTH_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(\b(?:username|usage|uuid)\s*=\s*)(?:'[^']*'|"[^"]*")"#).unwrap()
});
static COOKIE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(<cookie\b[^>]*>)[^<]*(</cookie>)").unwrap());
/// `-object secret,id=x,data=...` and its JSON form `"data":"..."`, on a
/// line that defines a secret object.
static SECRET_DATA: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^(.*secret.*?(?:\bdata=|"data":\s*"))[A-Za-z0-9+/=]+"#).unwrap()
});

/// Remove secrets from one file; returns how many places (an attribute, a
/// tag's attributes, an element's text) were redacted.
pub fn secrets(data: &mut Vec<u8>) -> usize {
    let mut count = 0;
    let mut apply = |re: &Regex, data: &mut Vec<u8>, f: &dyn Fn(&Captures) -> Vec<u8>| {
        let mut n = 0;
        let out = re.replace_all(data, |c: &Captures| {
            n += 1;
            f(c)
        });
        if n > 0 {
            *data = out.into_owned();
            count += n;
        }
    };
    let quoted = |c: &Captures| [&c[1], format!("'{MARK}'").as_bytes()].concat();
    apply(&PASSWD, data, &quoted);
    apply(&AUTH_TAG, data, &|c: &Captures| {
        AUTH_ATTR
            .replace_all(&c[0], |a: &Captures| quoted(a))
            .into_owned()
    });
    apply(&COOKIE, data, &|c: &Captures| {
        [&c[1], MARK.as_bytes(), &c[2]].concat()
    });
    apply(&SECRET_DATA, data, &|c: &Captures| {
        [&c[1], MARK.as_bytes()].concat()
    });
    count
}

static HOST_NAME_ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<host\b[^>]*\bname\s*=\s*['"]([^'"]+)['"]"#).unwrap());
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").unwrap());
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b").unwrap());

/// Host names and addresses to replace, and what each became.
pub struct HostNames {
    /// Longest first, so `web01.example.com` goes before `web01`.
    names: Vec<(String, String)>,
    names_re: Option<Regex>,
    addresses: HashMap<String, String>,
}

impl HostNames {
    /// The host's own name (FQDN and short) and every `<host name=...>`
    /// of a network disk.
    pub fn from_capture<'a, I>(hostname: Option<&str>, files: impl Fn() -> I) -> HostNames
    where
        I: Iterator<Item = (&'a str, &'a [u8])>,
    {
        let mut found: Vec<String> = Vec::new();
        if let Some(h) = hostname {
            found.push(h.to_owned());
            if let Some((short, _)) = h.split_once('.') {
                found.push(short.to_owned());
            }
        }
        for (_, data) in files() {
            for c in HOST_NAME_ATTR.captures_iter(data) {
                found.push(String::from_utf8_lossy(&c[1]).into_owned());
            }
        }
        found.retain(|n| {
            n.len() >= 3
                && !n.starts_with("localhost")
                && n.parse::<Ipv4Addr>().is_err()
                && n.parse::<Ipv6Addr>().is_err()
                && !n.starts_with('/')
        });
        found.sort();
        found.dedup();
        found.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let names: Vec<(String, String)> = found
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, format!("host-{}", i + 1)))
            .collect();
        let names_re = (!names.is_empty()).then(|| {
            let alternatives: Vec<String> = names.iter().map(|(n, _)| regex::escape(n)).collect();
            Regex::new(&alternatives.join("|")).expect("escaped names form a valid regex")
        });
        HostNames {
            names,
            names_re,
            addresses: HashMap::new(),
        }
    }

    pub fn apply(&mut self, data: &mut Vec<u8>) {
        if let Some(re) = &self.names_re {
            // The regex crate has no look-around, so name boundaries are
            // checked here: `hv01` must not change inside `hv01x`.
            let is_name_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
            let mut out = Vec::with_capacity(data.len());
            let mut last = 0;
            for m in re.find_iter(data) {
                let before_ok = m.start() == 0 || {
                    let b = data[m.start() - 1];
                    !is_name_byte(b) && b != b'.'
                };
                let after_ok = m.end() == data.len() || !is_name_byte(data[m.end()]);
                if !(before_ok && after_ok) {
                    continue;
                }
                let name = String::from_utf8_lossy(m.as_bytes());
                let Some((_, stand_in)) = self.names.iter().find(|(n, _)| *n == name) else {
                    continue;
                };
                out.extend_from_slice(&data[last..m.start()]);
                out.extend_from_slice(stand_in.as_bytes());
                last = m.end();
            }
            if last > 0 {
                out.extend_from_slice(&data[last..]);
                *data = out;
            }
        }
        let v4 = IPV4.replace_all(data, |c: &Captures| self.address(&c[0], false));
        let v4 = v4.into_owned();
        let v6 = IPV6.replace_all(&v4, |c: &Captures| self.address(&c[0], true));
        *data = v6.into_owned();
    }

    /// The stand-in for one address, or the text unchanged when it is not
    /// an address that identifies anything (loopback, unspecified, a
    /// version number that looks like one).
    fn address(&mut self, text: &[u8], v6: bool) -> Vec<u8> {
        let s = String::from_utf8_lossy(text).into_owned();
        let keep = if v6 {
            // Clock times (12:34:56) and MACs (52:54:00:..) are not
            // addresses: an IPv6 address here must compress (::) or have
            // all eight groups.
            let colons = s.matches(':').count();
            match s.parse::<Ipv6Addr>() {
                Ok(a) => {
                    a.is_loopback() || a.is_unspecified() || (!s.contains("::") && colons != 7)
                }
                Err(_) => true,
            }
        } else {
            match s.parse::<Ipv4Addr>() {
                Ok(a) => a.is_loopback() || a.is_unspecified() || a.is_broadcast(),
                Err(_) => true,
            }
        };
        if keep {
            return text.to_vec();
        }
        let n = self.addresses.len();
        self.addresses
            .entry(s)
            .or_insert_with(|| stand_in(n, v6))
            .clone()
            .into_bytes()
    }
}

/// Documentation addresses (RFC 5737, RFC 3849), then reserved 240/4.
fn stand_in(n: usize, v6: bool) -> String {
    if v6 {
        return format!("2001:db8::{:x}", n + 1);
    }
    let nets = ["192.0.2", "198.51.100", "203.0.113"];
    match nets.get(n / 254) {
        Some(net) => format!("{net}.{}", n % 254 + 1),
        None => {
            let i = n + 1;
            format!("240.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(text: &str) -> (String, usize) {
        let mut data = text.as_bytes().to_vec();
        let n = secrets(&mut data);
        (String::from_utf8(data).unwrap(), n)
    }

    #[test]
    fn passwords_auth_and_cookies_are_removed() {
        let xml = r#"<domain><devices>
<graphics type='vnc' port='-1' passwd='s3cr3t' passwdValidTo='2030-01-01'/>
<graphics type="spice" passwd="hunter2"/>
<disk type='network'><source protocol='rbd' name='pool/img'>
<host name='mon1.example.com' port='6789'/>
<auth username='libvirt'><secret type='ceph' usage='client.libvirt secret'/></auth>
<cookies><cookie name='session'>abc123</cookie></cookies>
</source></disk></devices></domain>"#;
        let (out, n) = redacted(xml);
        assert!(!out.contains("s3cr3t") && !out.contains("hunter2"), "{out}");
        assert!(!out.contains("username='libvirt'") && !out.contains("client.libvirt"));
        assert!(!out.contains("abc123"));
        assert!(out.contains("passwd='REDACTED' passwdValidTo='2030-01-01'"));
        assert!(out.contains("<cookie name='session'>REDACTED</cookie>"));
        assert!(
            out.contains("<host name='mon1.example.com'"),
            "hosts stay without --redact-hosts"
        );
        // Two passwords, one <auth>, one <secret>, one cookie.
        assert_eq!(n, 5);
    }

    #[test]
    fn qemu_secret_objects_lose_their_data() {
        let log = "-object secret,id=masterKey0,format=raw,file=/var/lib/libvirt/qemu/domain-1-x/master-key.aes \\\n\
                   -object '{\"qom-type\":\"secret\",\"id\":\"libvirt-1-storage-auth-secret0\",\"data\":\"q8fGpX0e+Zg=\",\"keyid\":\"masterKey0\"}' \\\n";
        let (out, n) = redacted(log);
        assert!(!out.contains("q8fGpX0e+Zg="), "{out}");
        assert!(out.contains("\"data\":\"REDACTED\""));
        assert_eq!(n, 1);
    }

    #[test]
    fn hosts_and_addresses_are_replaced_consistently() {
        let files = [(
            "etc/libvirt/qemu/a.xml",
            b"<host name='mon1.example.com' port='6789'/>".as_slice(),
        )];
        let mut names = HostNames::from_capture(Some("hv01.example.com"), || files.iter().copied());
        let mut a = b"hv01.example.com hv01 talks to mon1.example.com at 10.1.2.3 and 10.1.2.4, \
                      again 10.1.2.3, fe80::5054:ff:fe12:3456; 127.0.0.1 and ::1 stay; \
                      at 12:34:56 from 52:54:00:12:34:56 hv01x"
            .to_vec();
        names.apply(&mut a);
        let a = String::from_utf8(a).unwrap();
        assert_eq!(
            a,
            "host-1 host-3 talks to host-2 at 192.0.2.1 and 192.0.2.2, \
             again 192.0.2.1, 2001:db8::3; 127.0.0.1 and ::1 stay; \
             at 12:34:56 from 52:54:00:12:34:56 hv01x"
        );
    }
}
