//! libvirt snapshot metadata
//! (`/var/lib/libvirt/qemu/snapshot/<domain>/<snapshot>.xml`,
//! `<domainsnapshot>` documents).

use serde::Serialize;

use super::{Parsed, Problem};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotMeta {
    pub name: String,
    /// Seconds since the Unix epoch.
    pub creation_time: Option<i64>,
    /// Domain state when taken (`running`, `shutoff`, `disk-snapshot`).
    pub state: Option<String>,
    /// `internal` (stored inside the qcow2 images), `external` (overlay
    /// files), `mixed`, or `none` when nothing was captured.
    pub kind: String,
    /// The parent snapshot's name, for chain depth.
    pub parent: Option<String>,
}

pub fn parse(text: &str) -> Parsed<Option<SnapshotMeta>> {
    let doc = match super::xml_document(text) {
        Ok(d) => d,
        Err(p) => return Parsed::failed(p),
    };
    if let Err(p) = super::expect_root(&doc, &["domainsnapshot"]) {
        return Parsed::failed(p);
    }
    let root = doc.root_element();
    let child_text = |name: &str| {
        root.children()
            .find(|c| c.has_tag_name(name))
            .and_then(|c| c.text())
            .map(|t| t.trim().to_owned())
    };
    let mut problems = Vec::new();
    let name = child_text("name").unwrap_or_else(|| {
        problems.push(Problem::whole("<domainsnapshot> has no <name>"));
        String::new()
    });
    let creation_time = child_text("creationTime").and_then(|t| t.parse().ok());
    // A memory image and disk images can each be internal or external.
    let mut modes: Vec<&str> = Vec::new();
    if let Some(m) = root.children().find(|c| c.has_tag_name("memory")) {
        modes.extend(m.attribute("snapshot"));
    }
    if let Some(disks) = root.children().find(|c| c.has_tag_name("disks")) {
        for d in disks.children().filter(|c| c.has_tag_name("disk")) {
            modes.extend(d.attribute("snapshot"));
        }
    }
    let internal = modes.contains(&"internal");
    let external = modes.contains(&"external");
    let kind = match (internal, external) {
        (true, true) => "mixed",
        (true, false) => "internal",
        (false, true) => "external",
        // libvirt's default for a qcow2 domain without explicit modes is
        // an internal snapshot; without any <disks>/<memory> we cannot tell.
        (false, false) if modes.is_empty() => "internal",
        (false, false) => "none",
    };
    let parent = root
        .children()
        .find(|c| c.has_tag_name("parent"))
        .and_then(|p| p.children().find(|c| c.has_tag_name("name")))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned());
    Parsed {
        value: Some(SnapshotMeta {
            name,
            creation_time,
            state: child_text("state"),
            kind: kind.into(),
            parent,
        }),
        problems,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn internal_and_external() {
        let p = super::parse("<domainsnapshot><name>s1</name><state>shutoff</state><creationTime>1375905916</creationTime><memory snapshot='no'/><disks><disk name='hda' snapshot='internal'/></disks></domainsnapshot>");
        let s = p.value.unwrap();
        assert_eq!(
            (s.name.as_str(), s.kind.as_str(), s.creation_time),
            ("s1", "internal", Some(1375905916))
        );
        let e = super::parse("<domainsnapshot><name>s2</name><disks><disk name='vda' snapshot='external'/></disks></domainsnapshot>");
        assert_eq!(e.value.unwrap().kind, "external");
    }
}
