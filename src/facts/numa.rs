//! Host NUMA topology: sysfs node tree first, then `numactl --hardware`,
//! then the cells in `virsh capabilities`.

use serde::Serialize;

use super::HugepageFacts;
use crate::sources::HostData;

#[derive(Debug, Clone, Default, Serialize)]
pub struct NumaFacts {
    /// `sysfs`, `numactl`, `capabilities`, or `null` when none was captured.
    pub source: Option<String>,
    pub nodes: Vec<NumaNodeFacts>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NumaNodeFacts {
    pub id: u32,
    pub cpus: Vec<u32>,
    pub memory_total_kib: Option<u64>,
    pub memory_free_kib: Option<u64>,
    pub distances: Option<Vec<u32>>,
    pub hugepages: Vec<HugepageFacts>,
}

pub fn build(d: &HostData) -> NumaFacts {
    if !d.numa.is_empty() {
        return NumaFacts {
            source: Some("sysfs".into()),
            nodes: d
                .numa
                .iter()
                .map(|(id, n)| NumaNodeFacts {
                    id: *id,
                    cpus: n.cpus.clone().unwrap_or_default(),
                    memory_total_kib: n.meminfo.as_ref().and_then(|m| m.get("MemTotal")),
                    memory_free_kib: n.meminfo.as_ref().and_then(|m| m.get("MemFree")),
                    distances: n.distances.clone(),
                    hugepages: HugepageFacts::from_pools(&n.hugepages),
                })
                .collect(),
        };
    }
    if let Some(nodes) = &d.numactl {
        return NumaFacts {
            source: Some("numactl".into()),
            nodes: nodes
                .iter()
                .map(|(id, n)| NumaNodeFacts {
                    id: *id,
                    cpus: n.cpus.clone(),
                    memory_total_kib: n.size_kib,
                    memory_free_kib: n.free_kib,
                    distances: (!n.distances.is_empty()).then(|| n.distances.clone()),
                    hugepages: Vec::new(),
                })
                .collect(),
        };
    }
    if let Some(caps) = d.capabilities.as_ref().filter(|c| !c.cells.is_empty()) {
        return NumaFacts {
            source: Some("capabilities".into()),
            nodes: caps
                .cells
                .iter()
                .map(|c| NumaNodeFacts {
                    id: c.id,
                    cpus: c.cpus.clone(),
                    memory_total_kib: c.memory_kib,
                    memory_free_kib: None,
                    distances: None,
                    hugepages: c
                        .pages
                        .iter()
                        .filter(|(size, _)| *size > 4)
                        .map(|(size, count)| HugepageFacts {
                            size_kib: *size,
                            total: Some(*count),
                            free: None,
                            reserved: None,
                            surplus: None,
                        })
                        .collect(),
                })
                .collect(),
        };
    }
    NumaFacts::default()
}
