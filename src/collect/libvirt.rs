//! What only libvirt knows, asked through a read-only connection.
//!
//! The answers are written where a sosreport's virsh plugin puts the same
//! data (`sos_commands/virsh/virsh_-r_*`), so the source table reads a
//! capture and a sosreport alike. The connection is always opened with
//! `virConnectOpenReadOnly`: libvirt itself then refuses every call that
//! would change a domain, which is the guarantee, not our good behaviour.
//! Secure XML (`VIR_DOMAIN_XML_SECURE`, graphics passwords) is never
//! asked for; a read-only connection could not get it anyway.

use std::ffi::CStr;
use std::time::Duration;

use virt::connect::Connect;
use virt::domain::{Domain, DomainState};
use virt::sys;

use super::virsh::{domstats_text, list_text, version_text, ListEntry};
use crate::parse::capture::paths::{self, fill};

pub struct Answers {
    /// (path in the capture, contents).
    pub files: Vec<(String, Vec<u8>)>,
    pub domains: usize,
    /// Calls that failed for one domain (the rest went on).
    pub errors: Vec<String>,
}

/// Open `uri` read-only. Errors carry libvirt's own message.
pub fn open(uri: &str) -> Result<Connect, String> {
    // libvirt prints every error to stderr by default; ours are reported
    // once, as a finding, instead.
    virt::error::clear_error_callback();
    Connect::open_read_only(Some(uri)).map_err(|e| e.message().to_owned())
}

/// Why libvirt could not be asked.
#[derive(Debug)]
pub enum AskError {
    /// The connection failed; libvirt's message.
    Unreachable(String),
    /// Connected, or connecting, but no answer in time.
    Timeout(String),
}

impl std::fmt::Display for AskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AskError::Unreachable(m) | AskError::Timeout(m) => f.write_str(m),
        }
    }
}

/// Everything the analysis uses from libvirt, or why libvirt could not be
/// asked. Bounded by `timeout`: libvirt calls have no timeout of their own
/// and a wedged libvirtd would otherwise hang the scan, so the calls run on
/// a thread that is abandoned if it does not answer in time.
pub fn ask(uri: &str, timeout: Duration) -> Result<Answers, AskError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let uri_owned = uri.to_owned();
    std::thread::Builder::new()
        .name("libvirt".into())
        .spawn(move || {
            let _ = tx.send(ask_now(&uri_owned));
        })
        .map_err(|e| AskError::Unreachable(format!("cannot start the libvirt thread: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(answer) => answer.map_err(AskError::Unreachable),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(AskError::Timeout(format!(
            "libvirt at {uri} did not answer within {}s",
            timeout.as_secs()
        ))),
        // The binding panics when closing a connection fails.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(AskError::Unreachable(
            format!("the libvirt client failed while talking to {uri}"),
        )),
    }
}

fn ask_now(uri: &str) -> Result<Answers, String> {
    let conn = open(uri)?;
    let mut out = Answers {
        files: Vec::new(),
        domains: 0,
        errors: Vec::new(),
    };
    gather(&conn, &mut out).map(|()| out)
}

fn gather(conn: &Connect, out: &mut Answers) -> Result<(), String> {
    let caps = conn.capabilities().map_err(|e| e.to_string())?;
    out.files
        .push((paths::VIRSH_CAPABILITIES.into(), caps.into_bytes()));

    match (conn.lib_version(), conn.hyp_version()) {
        (Ok(lib), Ok(hyper)) => out.files.push((
            paths::VIRSH_VERSION.into(),
            version_text(lib, hyper).into_bytes(),
        )),
        (l, h) => out.errors.push(format!(
            "versions: {}",
            l.err()
                .or(h.err())
                .map_or_else(String::new, |e| e.to_string())
        )),
    }

    // Flags 0: active and inactive, persistent and transient.
    let domains = conn.list_all_domains(0).map_err(|e| e.to_string())?;
    out.domains = domains.len();
    let mut list = Vec::new();
    for dom in &domains {
        let name = match dom.name() {
            Ok(n) => n,
            Err(e) => {
                out.errors.push(format!("a domain's name: {e}"));
                continue;
            }
        };
        let state = dom
            .state()
            .map(|(s, _)| state_name(s.known()))
            .unwrap_or("unknown");
        domain_files(dom, &name, dom.id().is_some(), out);
        list.push(ListEntry {
            id: dom.id(),
            name,
            state: state.to_owned(),
        });
    }
    out.files
        .push((paths::VIRSH_LIST.into(), list_text(&list).into_bytes()));

    // Statistics of the running domains, in `virsh domstats` text form.
    let stats = conn
        .all_domain_stats(0, sys::VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
        .map_err(|e| e.to_string());
    match stats {
        Ok(records) => {
            let mut text = String::new();
            for r in &records {
                text.push_str(&stats_text(r.ptr));
            }
            free_records(records.iter().map(|r| r.ptr).collect());
            out.files
                .push((paths::VIRSH_DOMSTATS.into(), text.into_bytes()));
        }
        Err(e) => out.errors.push(format!("domain statistics: {e}")),
    }
    Ok(())
}

fn domain_files(dom: &Domain, name: &str, active: bool, out: &mut Answers) {
    // The live XML of a running domain is what QEMU runs; the inactive one
    // is the persistent definition (what the next start will use).
    match dom.xml_desc(0) {
        Ok(xml) => out
            .files
            .push((fill(paths::VIRSH_DUMPXML, &[&name]), xml.into_bytes())),
        Err(e) => out.errors.push(format!("{name}: dumpxml: {e}")),
    }
    if active && dom.is_persistent().unwrap_or(false) {
        match dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE) {
            Ok(xml) => out.files.push((
                fill(paths::VIRSH_DUMPXML_INACTIVE, &[&name]),
                xml.into_bytes(),
            )),
            Err(e) => out.errors.push(format!("{name}: dumpxml --inactive: {e}")),
        }
    }
    match dom.list_all_snapshots(0) {
        Ok(snaps) => {
            for snap in snaps {
                let (Ok(sname), Ok(xml)) = (snap.name(), snap.xml_desc(0)) else {
                    out.errors.push(format!("{name}: a snapshot's XML"));
                    continue;
                };
                out.files.push((
                    fill(paths::VIRSH_SNAPSHOT, &[&name, &sname]),
                    xml.into_bytes(),
                ));
            }
        }
        Err(e) => out.errors.push(format!("{name}: snapshot list: {e}")),
    }
}

/// The binding frees the array `virConnectGetAllDomainStats` returned but
/// not the records in it. `virDomainStatsRecordListFree` frees records and
/// array, so it gets a NULL-terminated array from C's allocator.
fn free_records(ptrs: Vec<sys::virDomainStatsRecordPtr>) {
    if ptrs.is_empty() {
        return;
    }
    let size = std::mem::size_of::<sys::virDomainStatsRecordPtr>();
    // SAFETY: calloc'd room for every record plus the NULL terminator;
    // each record came from libvirt and is referenced nowhere after this.
    unsafe {
        let array = libc::calloc(ptrs.len() + 1, size) as *mut sys::virDomainStatsRecordPtr;
        if array.is_null() {
            return;
        }
        for (i, p) in ptrs.iter().enumerate() {
            *array.add(i) = *p;
        }
        sys::virDomainStatsRecordListFree(array);
    }
}

/// As `virsh list` words it.
fn state_name(s: Option<DomainState>) -> &'static str {
    match s {
        Some(DomainState::Running) => "running",
        Some(DomainState::Blocked) => "idle",
        Some(DomainState::Paused) => "paused",
        Some(DomainState::Shutdown) => "in shutdown",
        Some(DomainState::Shutoff) => "shut off",
        Some(DomainState::Crashed) => "crashed",
        Some(DomainState::PMSuspended) => "pmsuspended",
        Some(DomainState::NoState) | None => "no state",
    }
}

/// One record as `virsh domstats` prints it.
fn stats_text(record: sys::virDomainStatsRecordPtr) -> String {
    // SAFETY: libvirt filled the record; `dom` and `params[..nparams]`
    // stay valid until the record list is freed, after this returns.
    unsafe {
        let r = &*record;
        let name_ptr = sys::virDomainGetName(r.dom);
        let name = if name_ptr.is_null() {
            String::from("?")
        } else {
            CStr::from_ptr(name_ptr).to_string_lossy().into_owned()
        };
        let mut fields = Vec::new();
        for i in 0..r.nparams.max(0) as usize {
            let p = &*r.params.add(i);
            let field = CStr::from_ptr(p.field.as_ptr()).to_string_lossy();
            let value = match p.type_ as u32 {
                sys::VIR_TYPED_PARAM_INT => p.value.i.to_string(),
                sys::VIR_TYPED_PARAM_UINT => p.value.ui.to_string(),
                sys::VIR_TYPED_PARAM_LLONG => p.value.l.to_string(),
                sys::VIR_TYPED_PARAM_ULLONG => p.value.ul.to_string(),
                sys::VIR_TYPED_PARAM_DOUBLE => p.value.d.to_string(),
                sys::VIR_TYPED_PARAM_BOOLEAN => (p.value.b != 0).to_string(),
                sys::VIR_TYPED_PARAM_STRING if !p.value.s.is_null() => {
                    CStr::from_ptr(p.value.s).to_string_lossy().into_owned()
                }
                _ => continue,
            };
            fields.push((field.into_owned(), value));
        }
        domstats_text(&name, &fields)
    }
}
