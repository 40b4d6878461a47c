//! `virsh capabilities` XML: the host NUMA cells as libvirt sees them,
//! with memory and the page pools of each size.

use serde::Serialize;

use super::{cpulist, domain::to_kib, Parsed, Problem};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Capabilities {
    pub cells: Vec<Cell>,
    pub host_cpu_model: Option<String>,
    /// `<guest><arch><domain type=…/>`: the kinds of guest this libvirt
    /// can run (`kvm` only when KVM works), sorted, each once.
    pub guest_domain_types: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Cell {
    pub id: u32,
    pub memory_kib: Option<u64>,
    /// Page size in KiB -> number of pages of that size in the cell.
    pub pages: Vec<(u64, u64)>,
    pub cpus: Vec<u32>,
}

pub fn parse(text: &str) -> Parsed<Option<Capabilities>> {
    let doc = match super::xml_document(text) {
        Ok(d) => d,
        Err(p) => return Parsed::failed(p),
    };
    if let Err(p) = super::expect_root(&doc, &["capabilities"]) {
        return Parsed::failed(p);
    }
    let root = doc.root_element();
    let mut out = Capabilities::default();
    let mut problems = Vec::new();
    let host = root.children().find(|c| c.has_tag_name("host"));
    out.host_cpu_model = host
        .and_then(|h| h.children().find(|c| c.has_tag_name("cpu")))
        .and_then(|c| c.children().find(|m| m.has_tag_name("model")))
        .and_then(|m| m.text())
        .map(|t| t.trim().to_owned());
    let mut types: Vec<String> = root
        .children()
        .filter(|c| c.has_tag_name("guest"))
        .flat_map(|g| g.children().filter(|a| a.has_tag_name("arch")))
        .flat_map(|a| a.children().filter(|d| d.has_tag_name("domain")))
        .filter_map(|d| d.attribute("type"))
        .map(str::to_owned)
        .collect();
    types.sort();
    types.dedup();
    out.guest_domain_types = types;
    let cells = host
        .and_then(|h| h.children().find(|c| c.has_tag_name("topology")))
        .and_then(|t| t.children().find(|c| c.has_tag_name("cells")));
    for cell in cells
        .into_iter()
        .flat_map(|c| c.children().filter(|n| n.has_tag_name("cell")))
    {
        let line = doc.text_pos_at(cell.range().start).row as usize;
        let Some(id) = cell.attribute("id").and_then(|i| i.parse().ok()) else {
            problems.push(Problem::at(line, "<cell> without a numeric id"));
            continue;
        };
        let mut c = Cell {
            id,
            ..Cell::default()
        };
        for n in cell.children().filter(|n| n.is_element()) {
            let value = n.text().and_then(|t| t.trim().parse::<u64>().ok());
            match n.tag_name().name() {
                "memory" => {
                    c.memory_kib =
                        value.and_then(|v| to_kib(v, n.attribute("unit").unwrap_or("KiB")).ok())
                }
                "pages" => {
                    let size = n.attribute("size").and_then(|s| s.parse::<u64>().ok());
                    let size =
                        size.and_then(|s| to_kib(s, n.attribute("unit").unwrap_or("KiB")).ok());
                    if let (Some(size), Some(count)) = (size, value) {
                        c.pages.push((size, count));
                    }
                }
                "cpus" => {
                    for cpu in n.children().filter(|x| x.has_tag_name("cpu")) {
                        c.cpus.extend(
                            cpu.attribute("id")
                                .and_then(|i| cpulist::parse(i).ok())
                                .unwrap_or_default(),
                        );
                    }
                }
                _ => {}
            }
        }
        out.cells.push(c);
    }
    Parsed {
        value: Some(out),
        problems,
    }
}
