//! `lscpu` output (`sos_commands/processor/lscpu`): the fallback CPU
//! topology when neither sysfs nor a full `/proc/cpuinfo` was captured.

use super::{kv, Parsed};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Lscpu {
    pub cpus: Option<u32>,
    pub sockets: Option<u32>,
    pub cores_per_socket: Option<u32>,
    pub threads_per_core: Option<u32>,
    pub numa_nodes: Option<u32>,
    pub model: Option<String>,
    /// `VT-x`, `AMD-V`, ...
    pub virtualization: Option<String>,
    pub hypervisor_vendor: Option<String>,
}

pub fn parse(text: &str) -> Parsed<Lscpu> {
    let kv = kv::parse(text, ':');
    let m = &kv.value;
    let num = |k: &str| m.get(k).and_then(|v| v.parse::<u32>().ok());
    Parsed {
        value: Lscpu {
            cpus: num("CPU(s)"),
            sockets: num("Socket(s)"),
            cores_per_socket: num("Core(s) per socket").or_else(|| num("Core(s) per cluster")),
            threads_per_core: num("Thread(s) per core"),
            numa_nodes: num("NUMA node(s)"),
            model: m.get("Model name").cloned(),
            virtualization: m.get("Virtualization").cloned(),
            hypervisor_vendor: m.get("Hypervisor vendor").cloned(),
        },
        problems: kv.problems,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_topology_lines() {
        let p = super::parse("CPU(s):  2\nThread(s) per core: 1\nCore(s) per socket: 1\nSocket(s): 2\nModel name: Intel Core Processor (Skylake, IBRS)\nVirtualization: VT-x\n");
        assert_eq!(p.value.cpus, Some(2));
        assert_eq!(p.value.sockets, Some(2));
        assert_eq!(p.value.virtualization.as_deref(), Some("VT-x"));
        assert_eq!(
            p.value.model.as_deref(),
            Some("Intel Core Processor (Skylake, IBRS)")
        );
    }
}
