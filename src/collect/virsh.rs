//! libvirt's answers as `virsh` prints them, the text a sosreport's virsh
//! plugin keeps (read by `crate::parse::virsh` and
//! `crate::parse::virt_versions`). Pure formatting, apart from the libvirt
//! calls in [`super::libvirt`], so the capture's text is tested to read
//! back as written.

/// One `virsh list --all` row: the domain's id (running domains have
/// one), name and state as virsh words it (`running`, `shut off`).
pub struct ListEntry {
    pub id: Option<u32>,
    pub name: String,
    pub state: String,
}

/// `virsh version`'s two lines that matter, as virsh prints them (hosts
/// of a cluster are compared on them), from libvirt's numeric versions
/// (`9000000` is 9.0.0).
pub fn version_text(library: u32, hypervisor: u32) -> String {
    let dotted = |v: u32| format!("{}.{}.{}", v / 1_000_000, v / 1_000 % 1_000, v % 1_000);
    format!(
        "Using library: libvirt {}\nRunning hypervisor: QEMU {}\n",
        dotted(library),
        dotted(hypervisor)
    )
}

/// `virsh list --all`.
pub fn list_text(entries: &[ListEntry]) -> String {
    let mut list = String::from(" Id   Name   State\n--------------------\n");
    for e in entries {
        let id = e.id.map_or("-".to_owned(), |i| i.to_string());
        list.push_str(&format!(" {id}   {}   {}\n", e.name, e.state));
    }
    list
}

/// One domain's record of `virsh domstats`: its name and each statistic.
pub fn domstats_text(name: &str, fields: &[(String, String)]) -> String {
    let mut text = format!("Domain: '{name}'\n");
    for (field, value) in fields {
        text.push_str(&format!("  {field}={value}\n"));
    }
    text.push('\n');
    text
}
