//! libvirt domain XML: persistent definitions (`/etc/libvirt/qemu/*.xml`,
//! with libvirt's "AUTO-GENERATED FILE" comment), live status files
//! (`/run/libvirt/qemu/*.xml`, wrapped in `<domstatus>`), and
//! `virsh dumpxml` output.
//!
//! Parsed with roxmltree (a real XML parser; it refuses DTDs, so entity
//! expansion attacks cannot work). Besides well-formedness we check what
//! libvirt itself would reject and what a rule would otherwise misread:
//! unknown memory units, non-numeric counts, malformed CPU sets, enumerated
//! attributes (cache, io, ...) with values libvirt does not accept. Each
//! problem names its line.
//!
//! Graphics passwords are never stored: the model only records that one
//! was set.

use roxmltree::{Document, Node};
use serde::Serialize;

use super::{attr_value, cpulist, quote, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Domain {
    pub name: String,
    pub uuid: Option<String>,
    /// `kvm` or `qemu` (TCG) and the other hypervisor types.
    #[serde(rename = "type")]
    pub domain_type: Option<String>,
    /// Maximum vCPUs (the `<vcpu>` value).
    pub vcpus: Option<u32>,
    /// Online vCPUs (`current=`), when fewer than the maximum.
    pub vcpus_current: Option<u32>,
    pub vcpu_placement: Option<String>,
    /// `<vcpu cpuset=>`: host CPUs all vCPUs may run on by default.
    pub vcpu_cpuset: Option<Vec<u32>>,
    pub memory_kib: Option<u64>,
    pub current_memory_kib: Option<u64>,
    pub max_memory_kib: Option<u64>,
    /// `None` without `<memoryBacking><hugepages>`; otherwise one entry per
    /// `<page>` (a bare `<hugepages/>` is one entry with no size: the host's
    /// default hugepage size).
    pub hugepages: Option<Vec<HugepageRequest>>,
    pub memory_locked: bool,
    pub memory_nosharepages: bool,
    pub memory_source: Option<String>,
    pub memory_access: Option<String>,
    pub memtune: Memtune,
    pub cputune: Cputune,
    /// `vcpupin` entries, in document order (also under `cputune`; kept here
    /// under the name the facts contract promises).
    pub vcpupin: Vec<VcpuPin>,
    pub emulatorpin: Option<Vec<u32>>,
    pub numatune: Option<Numatune>,
    pub cpu_mode: Option<String>,
    pub cpu: Option<Cpu>,
    pub iothreads: u32,
    pub os: Os,
    pub features: Vec<String>,
    pub hyperv: Vec<String>,
    pub disks: Vec<Disk>,
    pub controllers: Vec<Controller>,
    pub interfaces: Vec<Interface>,
    /// `None` when the domain has no `<memballoon>` element at all (libvirt
    /// then adds a virtio balloon for x86 QEMU guests on define; `model='none'`
    /// is how a domain says it has none).
    pub memballoon: Option<Memballoon>,
    pub memballoon_model: Option<String>,
    pub graphics: Vec<Graphics>,
    pub hostdevs: Vec<Hostdev>,
    pub on_crash: Option<String>,
    /// Present when this document came from a `<domstatus>` wrapper.
    pub status: Option<Status>,
    /// Exceptions the domain carries in its own `<metadata>` (see
    /// [`SUPPRESS_NS`]), so they travel with the domain.
    pub suppressions: Vec<XmlSuppression>,
    /// Line of the `<domain>` start tag, for evidence.
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HugepageRequest {
    pub size_kib: Option<u64>,
    pub nodeset: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Memtune {
    pub hard_limit_kib: Option<u64>,
    pub soft_limit_kib: Option<u64>,
    pub swap_hard_limit_kib: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cputune {
    pub shares: Option<u64>,
    pub period: Option<u64>,
    pub quota: Option<i64>,
    pub global_period: Option<u64>,
    pub global_quota: Option<i64>,
    pub emulator_period: Option<u64>,
    pub emulator_quota: Option<i64>,
    pub iothreadpin: Vec<IothreadPin>,
    pub vcpusched: Vec<VcpuSched>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VcpuPin {
    pub vcpu: u32,
    pub cpuset: Vec<u32>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IothreadPin {
    pub iothread: u32,
    pub cpuset: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VcpuSched {
    pub vcpus: Vec<u32>,
    pub scheduler: String,
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Numatune {
    pub mode: Option<String>,
    pub nodeset: Option<Vec<u32>>,
    pub placement: Option<String>,
    pub memnodes: Vec<Memnode>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Memnode {
    pub cellid: u32,
    pub mode: Option<String>,
    pub nodeset: Option<Vec<u32>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cpu {
    pub mode: Option<String>,
    pub model: Option<String>,
    pub check: Option<String>,
    pub topology: Option<Topology>,
    pub numa_cells: Vec<NumaCell>,
    /// `<feature policy='require|force|disable|forbid|optional' name=…/>`,
    /// in document order.
    pub features: Vec<CpuFeature>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuFeature {
    pub name: String,
    /// libvirt's default is `require`.
    pub policy: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Topology {
    pub sockets: u32,
    pub dies: u32,
    pub clusters: u32,
    pub cores: u32,
    pub threads: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NumaCell {
    pub id: Option<u32>,
    pub cpus: Vec<u32>,
    pub memory_kib: Option<u64>,
    pub mem_access: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Os {
    pub arch: Option<String>,
    pub machine: Option<String>,
    #[serde(rename = "type")]
    pub os_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Disk {
    /// `file`, `block`, `network`, `volume`, ...
    #[serde(rename = "type")]
    pub disk_type: Option<String>,
    /// `disk`, `cdrom`, `floppy`, `lun`.
    pub device: String,
    pub target: Option<String>,
    pub bus: Option<String>,
    pub driver_name: Option<String>,
    /// Image format (`<driver type=>`): raw, qcow2, ...
    pub format: Option<String>,
    pub cache: Option<String>,
    pub io: Option<String>,
    pub discard: Option<String>,
    pub detect_zeroes: Option<String>,
    pub iothread: Option<u32>,
    pub queues: Option<u32>,
    pub error_policy: Option<String>,
    pub rerror_policy: Option<String>,
    /// File path, device path, `pool/volume`, or `protocol://name`.
    pub source: Option<String>,
    /// Number of images below this one (`<backingStore>` nesting);
    /// `None` when the XML does not describe the chain.
    pub backing_chain_depth: Option<u32>,
    pub readonly: bool,
    pub shareable: bool,
    /// `<iotune>` limits that are set, by element name.
    pub iotune: std::collections::BTreeMap<String, u64>,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Controller {
    #[serde(rename = "type")]
    pub controller_type: String,
    pub model: Option<String>,
    pub index: Option<u32>,
    pub queues: Option<u32>,
    pub iothread: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Interface {
    #[serde(rename = "type")]
    pub interface_type: String,
    pub model: Option<String>,
    /// `<driver name=>`: `vhost` (in-kernel) or `qemu` (userspace).
    pub driver: Option<String>,
    pub queues: Option<u32>,
    pub rx_queue_size: Option<u32>,
    pub tx_queue_size: Option<u32>,
    pub source: Option<String>,
    pub target_dev: Option<String>,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub bandwidth_inbound: Option<Bandwidth>,
    pub bandwidth_outbound: Option<Bandwidth>,
    /// Backed by a tap or macvtap device (`network`, `bridge`, `direct`,
    /// `ethernet`): the interfaces vhost-net and multiqueue apply to. A
    /// `user` (slirp/passt), `vhostuser` or `hostdev` interface is not.
    pub tap: bool,
    pub line: usize,
}

/// Interface types whose virtio datapath libvirt hands to vhost-net.
const TAP_TYPES: &[&str] = &["network", "bridge", "direct", "ethernet"];

/// libvirt bandwidth: average/peak/floor in KiB/s, burst in KiB.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Bandwidth {
    pub average: Option<u64>,
    pub peak: Option<u64>,
    pub burst: Option<u64>,
    pub floor: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Memballoon {
    pub model: String,
    pub stats_period: Option<u64>,
    pub autodeflate: Option<String>,
    pub free_page_reporting: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Graphics {
    #[serde(rename = "type")]
    pub graphics_type: String,
    pub listen: Option<String>,
    /// Whether a password is set. The password itself is never stored.
    pub has_password: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Hostdev {
    pub mode: Option<String>,
    #[serde(rename = "type")]
    pub hostdev_type: Option<String>,
    pub managed: Option<String>,
    /// The host device: a PCI address as `0000:03:00.0` (whatever way the
    /// XML writes it), a USB device as `usb VVVV:PPPP` or `usb bus B
    /// device D`; null when the XML names none.
    pub source: Option<String>,
    pub line: usize,
}

/// The XML namespace of virt-doctor's `<metadata>` element:
///
/// ```xml
/// <metadata>
///   <vd:suppressions xmlns:vd="urn:x-virt-doctor:1">
///     <vd:suppress rule="DISK003" reason="scratch disk, rebuilt nightly" expires="2027-01-31"/>
///   </vd:suppressions>
/// </metadata>
/// ```
pub const SUPPRESS_NS: &str = "urn:x-virt-doctor:1";

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct XmlSuppression {
    pub rule: String,
    pub reason: String,
    /// `YYYY-MM-DD`, as written.
    pub expires: Option<String>,
    pub line: usize,
}

/// Runtime state from a `<domstatus>` wrapper.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    pub state: Option<String>,
    pub reason: Option<String>,
    pub pid: Option<u32>,
    pub taint: Vec<String>,
}

/// Values libvirt accepts for enumerated attributes we rely on
/// (src/conf/domain_conf.c enums, libvirt 11).
const CACHE_MODES: &[&str] = &[
    "default",
    "none",
    "writethrough",
    "writeback",
    "directsync",
    "unsafe",
];
const IO_MODES: &[&str] = &["default", "native", "threads", "io_uring"];
const DISCARD_MODES: &[&str] = &["default", "unmap", "ignore"];
const ERROR_POLICIES: &[&str] = &["default", "stop", "report", "ignore", "enospace"];

pub fn parse(text: &str) -> Parsed<Option<Domain>> {
    let doc = match super::xml_document(text) {
        Ok(d) => d,
        Err(p) => return Parsed::failed(p),
    };
    let mut cx = Cx {
        doc: &doc,
        problems: Vec::new(),
    };
    let root = doc.root_element();
    let (domain_node, status) = match root.tag_name().name() {
        "domain" => (Some(root), None),
        "domstatus" => {
            let status = Status {
                state: attr(root, "state"),
                reason: attr(root, "reason"),
                pid: cx.num(root, "pid"),
                taint: root
                    .children()
                    .filter(|n| n.has_tag_name("taint"))
                    .filter_map(|n| attr(n, "flag"))
                    .collect(),
            };
            (child(root, "domain"), Some(status))
        }
        _ => (None, None),
    };
    let Some(node) = domain_node else {
        let line = cx.line(root);
        return Parsed {
            value: None,
            problems: vec![Problem::at(
                line,
                format!(
                    "root element is <{}>, not <domain> or <domstatus><domain>",
                    root.tag_name().name()
                ),
            )],
        };
    };
    let mut d = cx.domain(node);
    d.status = status;
    Parsed {
        value: Some(d),
        problems: cx.problems,
    }
}

fn attr(n: Node, name: &str) -> Option<String> {
    n.attribute(name).map(str::to_owned)
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn children<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(move |c| c.has_tag_name(name))
}

fn text(n: Node) -> Option<String> {
    n.text()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

struct Cx<'d, 'i> {
    doc: &'d Document<'i>,
    problems: Vec<Problem>,
}

impl Cx<'_, '_> {
    fn line(&self, n: Node) -> usize {
        self.doc.text_pos_at(n.range().start).row as usize
    }

    fn problem(&mut self, n: Node, message: String) {
        let line = self.line(n);
        self.problems.push(Problem::at(line, message));
    }

    /// A numeric attribute; junk is a problem, absence is not.
    fn num<T: std::str::FromStr>(&mut self, n: Node, name: &str) -> Option<T> {
        let raw = n.attribute(name)?;
        match raw.trim().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problem(
                    n,
                    format!(
                        "<{} {name}='{}'>: not a valid number",
                        n.tag_name().name(),
                        attr_value(raw)
                    ),
                );
                None
            }
        }
    }

    /// The numeric text of an element.
    fn num_text<T: std::str::FromStr>(&mut self, n: Option<Node>) -> Option<T> {
        let n = n?;
        let raw = text(n)?;
        match raw.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problem(
                    n,
                    format!(
                        "<{}>{}</…>: not a valid number",
                        n.tag_name().name(),
                        attr_value(&raw)
                    ),
                );
                None
            }
        }
    }

    fn cpuset(&mut self, n: Node, name: &str) -> Option<Vec<u32>> {
        let raw = n.attribute(name)?;
        match cpulist::parse(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(
                    n,
                    format!(
                        "<{} {name}='{}'>: {e}",
                        n.tag_name().name(),
                        attr_value(raw)
                    ),
                );
                None
            }
        }
    }

    fn enumerated(&mut self, n: Node, name: &str, allowed: &[&str]) -> Option<String> {
        let v = n.attribute(name)?;
        if !allowed.contains(&v) {
            self.problem(
                n,
                format!(
                    "<{} {name}='{}'>: libvirt accepts only {}",
                    n.tag_name().name(),
                    attr_value(v),
                    allowed.join(", ")
                ),
            );
        }
        Some(v.to_owned())
    }

    /// A memory size element (`<memory unit='GiB'>4</memory>`) in KiB.
    fn memory(&mut self, n: Option<Node>) -> Option<u64> {
        let n = n?;
        if text(n).is_none() {
            self.problem(
                n,
                format!("<{}> is empty: libvirt needs a size", n.tag_name().name()),
            );
            return None;
        }
        let value: u64 = self.num_text(Some(n))?;
        self.scaled(n, value, n.attribute("unit"))
    }

    /// A size with a `unit` attribute; libvirt's default unit is KiB.
    fn scaled(&mut self, n: Node, value: u64, unit: Option<&str>) -> Option<u64> {
        match to_kib(value, unit.unwrap_or("KiB")) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(n, format!("<{}>: {e}", n.tag_name().name()));
                None
            }
        }
    }

    fn domain(&mut self, node: Node) -> Domain {
        let mut d = Domain {
            line: self.line(node),
            domain_type: attr(node, "type"),
            ..Domain::default()
        };
        match child(node, "name") {
            Some(n) => match text(n) {
                Some(name) => d.name = name,
                None => self.problem(n, "<name> is empty: libvirt needs a name".into()),
            },
            None => self.problem(node, "<domain> has no <name>".into()),
        }
        d.uuid = child(node, "uuid").and_then(text);
        if let Some(v) = child(node, "vcpu") {
            d.vcpus = self.num_text(Some(v));
            d.vcpus_current = self.num(v, "current");
            d.vcpu_placement = attr(v, "placement");
            d.vcpu_cpuset = self.cpuset(v, "cpuset");
            if let (Some(max), Some(cur)) = (d.vcpus, d.vcpus_current) {
                if cur > max {
                    self.problem(
                        v,
                        format!("current vCPUs ({cur}) exceed the maximum ({max})"),
                    );
                }
            }
        }
        d.memory_kib = self.memory(child(node, "memory"));
        d.current_memory_kib = self.memory(child(node, "currentMemory"));
        d.max_memory_kib = self.memory(child(node, "maxMemory"));
        if let Some(mb) = child(node, "memoryBacking") {
            self.memory_backing(mb, &mut d);
        }
        if let Some(mt) = child(node, "memtune") {
            d.memtune = Memtune {
                hard_limit_kib: self.memory(child(mt, "hard_limit")),
                soft_limit_kib: self.memory(child(mt, "soft_limit")),
                swap_hard_limit_kib: self.memory(child(mt, "swap_hard_limit")),
            };
        }
        if let Some(ct) = child(node, "cputune") {
            self.cputune(ct, &mut d);
        }
        if let Some(nt) = child(node, "numatune") {
            d.numatune = Some(self.numatune(nt));
        }
        if let Some(c) = child(node, "cpu") {
            let cpu = self.cpu(c);
            // libvirt: no mode attribute means `custom`.
            d.cpu_mode = cpu.mode.clone().or_else(|| Some("custom".into()));
            d.cpu = Some(cpu);
        }
        let cell_memory = d
            .cpu
            .iter()
            .flat_map(|c| &c.numa_cells)
            .any(|c| c.memory_kib.is_some());
        // An empty <memory> was named where it stands.
        if d.memory_kib.is_none() && child(node, "memory").is_none() && !cell_memory {
            self.problem(
                node,
                "memory size must be given by <memory> or the guest <numa> cells".into(),
            );
        }
        d.iothreads = self.num_text(child(node, "iothreads")).unwrap_or(0);
        if d.iothreads == 0 {
            if let Some(ids) = child(node, "iothreadids") {
                d.iothreads = children(ids, "iothread").count() as u32;
            }
        }
        if let Some(os) = child(node, "os") {
            if let Some(t) = child(os, "type") {
                d.os = Os {
                    arch: attr(t, "arch"),
                    machine: attr(t, "machine"),
                    os_type: text(t),
                };
            }
        }
        if let Some(f) = child(node, "features") {
            d.features = f
                .children()
                .filter(|c| c.is_element())
                .map(|c| c.tag_name().name().to_owned())
                .collect();
            if let Some(hv) = child(f, "hyperv") {
                d.hyperv = hv
                    .children()
                    .filter(|c| c.is_element() && c.attribute("state") != Some("off"))
                    .map(|c| c.tag_name().name().to_owned())
                    .collect();
            }
        }
        d.on_crash = child(node, "on_crash").and_then(text);
        if let Some(meta) = child(node, "metadata") {
            for list in meta
                .children()
                .filter(|c| c.tag_name().namespace() == Some(SUPPRESS_NS))
            {
                for s in list.children().filter(|c| c.is_element()) {
                    let (rule, reason) = (attr(s, "rule"), attr(s, "reason"));
                    match (rule, reason) {
                        (Some(rule), Some(reason)) if !reason.trim().is_empty() => {
                            d.suppressions.push(XmlSuppression {
                                rule,
                                reason,
                                expires: attr(s, "expires"),
                                line: self.line(s),
                            })
                        }
                        _ => self.problem(
                            s,
                            "virt-doctor <suppress> needs rule= and a non-empty reason=".into(),
                        ),
                    }
                }
            }
        }
        if let Some(devices) = child(node, "devices") {
            self.devices(devices, &mut d);
        }
        d
    }

    fn memory_backing(&mut self, mb: Node, d: &mut Domain) {
        if let Some(hp) = child(mb, "hugepages") {
            let mut pages = Vec::new();
            for p in children(hp, "page") {
                let size = self.num::<u64>(p, "size");
                let size_kib = size.and_then(|s| self.scaled(p, s, p.attribute("unit")));
                pages.push(HugepageRequest {
                    size_kib,
                    nodeset: self.cpuset(p, "nodeset"),
                });
            }
            if pages.is_empty() {
                pages.push(HugepageRequest::default());
            }
            d.hugepages = Some(pages);
        }
        d.memory_locked = child(mb, "locked").is_some();
        d.memory_nosharepages = child(mb, "nosharepages").is_some();
        d.memory_source = child(mb, "source").and_then(|s| attr(s, "type"));
        d.memory_access = child(mb, "access").and_then(|s| attr(s, "mode"));
    }

    fn cputune(&mut self, ct: Node, d: &mut Domain) {
        let mut t = Cputune {
            shares: self.num_text(child(ct, "shares")),
            period: self.num_text(child(ct, "period")),
            quota: self.num_text(child(ct, "quota")),
            global_period: self.num_text(child(ct, "global_period")),
            global_quota: self.num_text(child(ct, "global_quota")),
            emulator_period: self.num_text(child(ct, "emulator_period")),
            emulator_quota: self.num_text(child(ct, "emulator_quota")),
            ..Cputune::default()
        };
        for p in children(ct, "vcpupin") {
            let (Some(vcpu), Some(cpuset)) = (self.num::<u32>(p, "vcpu"), self.cpuset(p, "cpuset"))
            else {
                if p.attribute("vcpu").is_none() || p.attribute("cpuset").is_none() {
                    self.problem(p, "<vcpupin> needs both vcpu= and cpuset=".into());
                }
                continue;
            };
            if let Some(max) = d.vcpus {
                if vcpu >= max {
                    self.problem(
                        p,
                        format!("<vcpupin vcpu='{vcpu}'> but the domain has only {max} vCPUs"),
                    );
                }
            }
            if d.vcpupin.iter().any(|v| v.vcpu == vcpu) {
                self.problem(p, format!("vCPU {vcpu} is pinned twice"));
            }
            let line = self.line(p);
            d.vcpupin.push(VcpuPin { vcpu, cpuset, line });
        }
        d.emulatorpin = child(ct, "emulatorpin").and_then(|e| self.cpuset(e, "cpuset"));
        for p in children(ct, "iothreadpin") {
            if let (Some(iothread), Some(cpuset)) =
                (self.num(p, "iothread"), self.cpuset(p, "cpuset"))
            {
                t.iothreadpin.push(IothreadPin { iothread, cpuset });
            }
        }
        for s in children(ct, "vcpusched") {
            let vcpus = self.cpuset(s, "vcpus").unwrap_or_default();
            t.vcpusched.push(VcpuSched {
                vcpus,
                scheduler: attr(s, "scheduler").unwrap_or_default(),
                priority: self.num(s, "priority"),
            });
        }
        d.cputune = t;
    }

    fn numatune(&mut self, nt: Node) -> Numatune {
        let mut out = Numatune {
            line: self.line(nt),
            ..Numatune::default()
        };
        if let Some(m) = child(nt, "memory") {
            out.mode = self.enumerated(
                m,
                "mode",
                &["strict", "preferred", "interleave", "restrictive"],
            );
            out.nodeset = self.cpuset(m, "nodeset");
            out.placement = attr(m, "placement");
        }
        for m in children(nt, "memnode") {
            if let Some(cellid) = self.num(m, "cellid") {
                out.memnodes.push(Memnode {
                    cellid,
                    mode: attr(m, "mode"),
                    nodeset: self.cpuset(m, "nodeset"),
                });
            }
        }
        out
    }

    fn cpu(&mut self, c: Node) -> Cpu {
        let mut cpu = Cpu {
            mode: attr(c, "mode"),
            check: attr(c, "check"),
            model: child(c, "model").and_then(text),
            line: self.line(c),
            ..Cpu::default()
        };
        if let Some(t) = child(c, "topology") {
            let mut get = |name: &str| self.num::<u32>(t, name).unwrap_or(1);
            cpu.topology = Some(Topology {
                sockets: get("sockets"),
                dies: get("dies"),
                clusters: get("clusters"),
                cores: get("cores"),
                threads: get("threads"),
            });
        }
        for f in children(c, "feature") {
            if let Some(name) = attr(f, "name") {
                cpu.features.push(CpuFeature {
                    name,
                    policy: attr(f, "policy").unwrap_or_else(|| "require".into()),
                });
            }
        }
        if let Some(numa) = child(c, "numa") {
            for cell in children(numa, "cell") {
                let memory = self.num::<u64>(cell, "memory");
                let memory_kib = memory.and_then(|m| self.scaled(cell, m, cell.attribute("unit")));
                cpu.numa_cells.push(NumaCell {
                    id: self.num(cell, "id"),
                    cpus: self.cpuset(cell, "cpus").unwrap_or_default(),
                    memory_kib,
                    mem_access: attr(cell, "memAccess"),
                });
            }
        }
        cpu
    }

    fn devices(&mut self, devices: Node, d: &mut Domain) {
        for n in devices.children().filter(|c| c.is_element()) {
            match n.tag_name().name() {
                "disk" => {
                    let disk = self.disk(n);
                    d.disks.push(disk);
                }
                "controller" => {
                    let drv = child(n, "driver");
                    d.controllers.push(Controller {
                        controller_type: attr(n, "type").unwrap_or_default(),
                        model: attr(n, "model"),
                        index: self.num(n, "index"),
                        queues: drv.and_then(|x| self.num(x, "queues")),
                        iothread: drv.and_then(|x| self.num(x, "iothread")),
                    });
                }
                "interface" => {
                    let iface = self.interface(n);
                    d.interfaces.push(iface);
                }
                "memballoon" => {
                    let stats = child(n, "stats").and_then(|s| self.num(s, "period"));
                    let model = attr(n, "model").unwrap_or_default();
                    d.memballoon_model = Some(model.clone());
                    d.memballoon = Some(Memballoon {
                        model,
                        stats_period: stats,
                        autodeflate: attr(n, "autodeflate"),
                        free_page_reporting: attr(n, "freePageReporting"),
                        line: self.line(n),
                    });
                }
                "graphics" => d.graphics.push(Graphics {
                    graphics_type: attr(n, "type").unwrap_or_default(),
                    listen: attr(n, "listen")
                        .or_else(|| child(n, "listen").and_then(|l| attr(l, "address"))),
                    has_password: n.attribute("passwd").is_some_and(|p| !p.is_empty()),
                }),
                "hostdev" => d.hostdevs.push(Hostdev {
                    mode: attr(n, "mode"),
                    hostdev_type: attr(n, "type"),
                    managed: attr(n, "managed"),
                    source: hostdev_source(n),
                    line: self.line(n),
                }),
                _ => {}
            }
        }
    }

    fn disk(&mut self, n: Node) -> Disk {
        let mut disk = Disk {
            disk_type: attr(n, "type"),
            device: attr(n, "device").unwrap_or_else(|| "disk".into()),
            line: self.line(n),
            readonly: child(n, "readonly").is_some(),
            shareable: child(n, "shareable").is_some(),
            ..Disk::default()
        };
        if let Some(t) = child(n, "target") {
            disk.target = attr(t, "dev");
            disk.bus = attr(t, "bus");
        }
        if let Some(drv) = child(n, "driver") {
            disk.driver_name = attr(drv, "name");
            disk.format = attr(drv, "type");
            disk.cache = self.enumerated(drv, "cache", CACHE_MODES);
            disk.io = self.enumerated(drv, "io", IO_MODES);
            disk.discard = self.enumerated(drv, "discard", DISCARD_MODES);
            disk.detect_zeroes = attr(drv, "detect_zeroes");
            disk.iothread = self.num(drv, "iothread");
            disk.queues = self.num(drv, "queues");
            disk.error_policy = self.enumerated(drv, "error_policy", ERROR_POLICIES);
            disk.rerror_policy = self.enumerated(drv, "rerror_policy", ERROR_POLICIES);
        }
        disk.source = child(n, "source").and_then(source_text);
        disk.backing_chain_depth = backing_depth(n);
        if let Some(io) = child(n, "iotune") {
            // Every <iotune> child is a number but <group_name>, which
            // names the throttle group the disk shares its limits with.
            for limit in io
                .children()
                .filter(|c| c.is_element() && !c.has_tag_name("group_name"))
            {
                if let Some(v) = self.num_text::<u64>(Some(limit)) {
                    if v > 0 {
                        disk.iotune.insert(limit.tag_name().name().to_owned(), v);
                    }
                }
            }
        }
        disk
    }

    fn interface(&mut self, n: Node) -> Interface {
        let interface_type = attr(n, "type").unwrap_or_default();
        let mut i = Interface {
            tap: TAP_TYPES.contains(&interface_type.as_str()),
            interface_type,
            model: child(n, "model").and_then(|m| attr(m, "type")),
            line: self.line(n),
            mac: child(n, "mac").and_then(|m| attr(m, "address")),
            target_dev: child(n, "target").and_then(|t| attr(t, "dev")),
            mtu: child(n, "mtu").and_then(|m| self.num(m, "size")),
            ..Interface::default()
        };
        if let Some(drv) = child(n, "driver") {
            i.driver = attr(drv, "name");
            i.queues = self.num(drv, "queues");
            i.rx_queue_size = self.num(drv, "rx_queue_size");
            i.tx_queue_size = self.num(drv, "tx_queue_size");
            for (name, size) in [
                ("rx_queue_size", i.rx_queue_size),
                ("tx_queue_size", i.tx_queue_size),
            ] {
                if size.is_some_and(|s| !s.is_power_of_two()) {
                    self.problem(
                        drv,
                        format!(
                            "<driver {name}='{}'>: libvirt requires a power of two",
                            size.unwrap_or(0)
                        ),
                    );
                }
            }
        }
        i.source = child(n, "source").and_then(|s| {
            ["network", "bridge", "dev", "path", "portgroup"]
                .iter()
                .find_map(|a| attr(s, a))
        });
        if let Some(bw) = child(n, "bandwidth") {
            i.bandwidth_inbound = child(bw, "inbound").map(|b| self.bandwidth(b));
            i.bandwidth_outbound = child(bw, "outbound").map(|b| self.bandwidth(b));
        }
        i
    }

    fn bandwidth(&mut self, b: Node) -> Bandwidth {
        Bandwidth {
            average: self.num(b, "average"),
            peak: self.num(b, "peak"),
            burst: self.num(b, "burst"),
            floor: self.num(b, "floor"),
        }
    }
}

fn source_text(s: Node) -> Option<String> {
    if let Some(v) = ["file", "dev", "dir"].iter().find_map(|a| attr(s, a)) {
        return Some(v);
    }
    if let (Some(pool), Some(vol)) = (attr(s, "pool"), attr(s, "volume")) {
        return Some(format!("{pool}/{vol}"));
    }
    match (attr(s, "protocol"), attr(s, "name")) {
        (Some(p), Some(name)) => Some(format!("{p}://{name}")),
        (Some(p), None) => Some(format!("{p}://")),
        _ => None,
    }
}

/// A `<hostdev>`'s host device, normalised so two domains naming the same
/// device compare equal (`0x03` and `3` are the same bus).
fn hostdev_source(n: Node) -> Option<String> {
    let source = child(n, "source")?;
    let num = |node: Node, name: &str| -> Option<u64> {
        let v = node.attribute(name)?.trim();
        match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        }
    };
    if let Some(a) = child(source, "address").filter(|a| a.attribute("slot").is_some()) {
        return Some(format!(
            "{:04x}:{:02x}:{:02x}.{:x}",
            num(a, "domain").unwrap_or(0),
            num(a, "bus")?,
            num(a, "slot")?,
            num(a, "function").unwrap_or(0)
        ));
    }
    if let (Some(v), Some(p)) = (child(source, "vendor"), child(source, "product")) {
        return Some(format!("usb {:04x}:{:04x}", num(v, "id")?, num(p, "id")?));
    }
    let a = child(source, "address")?;
    Some(format!(
        "usb bus {} device {}",
        num(a, "bus")?,
        num(a, "device")?
    ))
}

/// Count nested `<backingStore>` elements that describe an image.
/// An empty `<backingStore/>` terminates the chain explicitly (depth so far);
/// no `<backingStore>` at all means libvirt did not record the chain.
fn backing_depth(disk: Node) -> Option<u32> {
    let mut depth = 0;
    let mut at = disk;
    loop {
        match child(at, "backingStore") {
            None if depth == 0 => return None,
            None => return Some(depth),
            Some(b) if b.children().any(|c| c.is_element()) => {
                depth += 1;
                at = b;
            }
            Some(_) => return Some(depth),
        }
    }
}

/// Convert `value unit` to KiB as libvirt does (virScaleInteger):
/// `b`/`bytes`; `KB`, `MB`, … are powers of 1000; `k`/`KiB`, `M`/`MiB`, …
/// powers of 1024. Byte-level results round up to whole KiB.
pub fn to_kib(value: u64, unit: &str) -> Result<u64, String> {
    // libvirt's virScaleInteger, case-insensitive as its schema's unit
    // pattern is: `b`, `byte(s)`; a scale letter alone or with `iB` is a
    // power of 1024, with `B` a power of 1000 (`mib` and `MiB` agree).
    let lower = unit.to_ascii_lowercase();
    let exponent = |letter: char| "kmgtpe".find(letter).map(|i| i as u32 + 1);
    let bytes_per_unit: u128 = match lower.as_str() {
        "b" | "byte" | "bytes" => 1,
        _ => {
            let mut chars = lower.chars();
            let (Some(letter), rest) = (chars.next(), chars.as_str()) else {
                return Err(format!("unknown unit {}", quote(unit)));
            };
            let base: u128 = match rest {
                "" | "ib" => 1024,
                "b" => 1000,
                _ => return Err(format!("unknown unit {}", quote(unit))),
            };
            match exponent(letter) {
                Some(e) => base.pow(e),
                None => return Err(format!("unknown unit {}", quote(unit))),
            }
        }
    };
    let kib = (value as u128 * bytes_per_unit).div_ceil(1024);
    u64::try_from(kib).map_err(|_| format!("{value} {unit} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_travel_in_metadata() {
        let p = parse("<domain type='kvm'><name>db01</name><memory>1024</memory>\n<metadata>\n<vd:suppressions xmlns:vd='urn:x-virt-doctor:1'>\n<vd:suppress rule='DISK003' reason='scratch' expires='2027-01-31'/>\n<vd:suppress rule='DISK001'/>\n</vd:suppressions>\n<other:x xmlns:other='urn:other'/></metadata></domain>");
        let d = p.value.unwrap();
        assert_eq!(
            d.suppressions,
            vec![XmlSuppression {
                rule: "DISK003".into(),
                reason: "scratch".into(),
                expires: Some("2027-01-31".into()),
                line: 4
            }]
        );
        assert_eq!(
            p.problems[0].line,
            Some(5),
            "a suppression without a reason is named"
        );
    }

    #[test]
    fn units_follow_libvirt() {
        assert_eq!(to_kib(4, "GiB"), Ok(4 * 1024 * 1024));
        assert_eq!(to_kib(1, "GB"), Ok(976_563));
        assert_eq!(to_kib(1536, "b"), Ok(2));
        assert_eq!(to_kib(7, "KiB"), Ok(7));
        // libvirt's own sparc-minimal.xml writes `unit="mib"`.
        assert_eq!(to_kib(64, "mib"), Ok(64 * 1024));
        assert_eq!(to_kib(2, "m"), Ok(2048));
        assert_eq!(to_kib(1, "mb"), Ok(977));
        assert_eq!(to_kib(3, "Bytes"), Ok(1));
        assert!(to_kib(1, "parsecs").is_err());
        assert!(to_kib(1, "mibs").is_err());
        assert!(to_kib(u64::MAX, "EiB").is_err());
    }

    #[test]
    fn reports_position_of_broken_xml() {
        let p = parse("<domain type='kvm'>\n  <name>x</name>\n  <vcpu>2\n</domain>");
        assert!(p.value.is_none());
        assert_eq!(p.problems[0].line, Some(4));
        assert!(p.problems[0].message.starts_with("not well-formed XML"));
    }

    #[test]
    fn refuses_dtds_and_so_entity_expansion() {
        // roxmltree rejects any DTD by default, so neither an innocent
        // entity nor a billion-laughs bomb is ever expanded.
        let laughs = "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]><domain><name>&c;</name></domain>";
        let p = parse(laughs);
        assert!(p.value.is_none());
        assert!(p.problems[0].message.contains("DTD"), "{:?}", p.problems);
    }
}
