//! One reader, three sources: a directory and the same tree as .tar,
//! .tar.gz and .tar.xz give identical facts; hostile trees are refused
//! with the offending path named, and the rest of the analysis goes on.

mod common;

use std::fs;
use std::os::unix::fs::symlink;

use common::{facts_of, fixture, pack, source};
use virt_doctor::snapshot::{ReadError, Snapshot};
use virt_doctor::sources::Status;

fn without_target(f: &virt_doctor::facts::Facts) -> serde_json::Value {
    let mut v = serde_json::to_value(f).unwrap();
    v.as_object_mut().unwrap().remove("target");
    v
}

#[test]
fn archives_read_like_the_directory() {
    let dir = fixture("hosts/hotsos-compute");
    let expected = without_target(&facts_of(&dir));
    let tmp = tempfile::tempdir().unwrap();
    for kind in ["tar", "gz", "xz"] {
        let out = tmp.path().join(format!("sosreport-compute4.{kind}"));
        pack(&dir, "sosreport-compute4-2022-02-10", kind, &out);
        let f = facts_of(&out);
        assert_eq!(serde_json::to_value(&f.target).unwrap()["kind"], "archive");
        assert_eq!(
            without_target(&f),
            expected,
            "{kind} archive differs from the directory"
        );
    }
}

#[test]
fn archive_without_wrapper_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    fs::create_dir_all(tree.join("proc")).unwrap();
    fs::write(tree.join("proc/meminfo"), "MemTotal: 1024 kB\n").unwrap();
    let out = tmp.path().join("bare.tar");
    let file = fs::File::create(&out).unwrap();
    let mut b = tar::Builder::new(file);
    b.append_dir_all(".", &tree).unwrap();
    b.finish().unwrap();
    let f = facts_of(&out);
    assert_eq!(f.host.memory.total_kib, Some(1024));
}

#[test]
fn symlink_out_of_the_snapshot_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snap");
    fs::create_dir_all(root.join("proc")).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(tmp.path().join("secret"), "MemTotal: 1 kB\n").unwrap();
    symlink("../../secret", root.join("proc/meminfo")).unwrap();
    symlink("/etc/hostname", root.join("etc/hostname")).unwrap();
    let snap = Snapshot::open(&root).unwrap();
    assert_eq!(
        snap.read("proc/meminfo", 1024).unwrap_err(),
        ReadError::Refused(
            "symlink `proc/meminfo` -> `../../secret` points outside the snapshot".into()
        )
    );
    let f = virt_doctor::facts::gather(&snap);
    let mem = source(&f, "meminfo");
    assert_eq!(mem.status, Status::Unreadable);
    assert!(
        mem.detail
            .as_deref()
            .unwrap()
            .contains("points outside the snapshot"),
        "{mem:?}"
    );
    assert_eq!(
        f.host.memory.total_kib, None,
        "nothing outside the root was read"
    );
    let host = source(&f, "hostname");
    assert_eq!(host.status, Status::Unreadable);
    assert!(host.detail.as_deref().unwrap().contains("`/etc/hostname`"));
}

#[test]
fn unreadable_sources_do_not_stop_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // A directory where a file belongs, and a FIFO (which must not hang).
    fs::create_dir_all(root.join("proc/meminfo")).unwrap();
    let fifo = root.join("proc/loadavg");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    fs::write(root.join("proc/uptime"), "350735.47 234388.90\n").unwrap();
    let f = facts_of(root);
    assert_eq!(source(&f, "meminfo").status, Status::Unreadable);
    let la = source(&f, "loadavg");
    assert_eq!(la.status, Status::Unreadable);
    assert!(la.detail.as_deref().unwrap().contains("FIFO"), "{la:?}");
    assert_eq!(f.host.uptime_seconds, Some(350735.47));
}

#[test]
fn truncated_xml_is_malformed_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("etc/libvirt/qemu")).unwrap();
    let good = fs::read_to_string(fixture(
        "hosts/hotsos-compute/etc/libvirt/qemu/instance-00000001.xml",
    ))
    .unwrap();
    fs::write(root.join("etc/libvirt/qemu/good.xml"), &good).unwrap();
    let cut: String = good.lines().take(40).collect::<Vec<_>>().join("\n");
    fs::write(root.join("etc/libvirt/qemu/cut.xml"), cut).unwrap();
    let f = facts_of(root);
    assert_eq!(f.domains.len(), 1, "the good domain is still analysed");
    let s = source(&f, "domains");
    assert_eq!(s.status, Status::Malformed);
    let detail = s.detail.as_deref().unwrap();
    assert!(
        detail.starts_with("etc/libvirt/qemu/cut.xml:40: not well-formed XML"),
        "{detail}"
    );
}

#[test]
fn binary_junk_and_huge_files_are_contained() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("proc")).unwrap();
    // A 2 GiB /proc/meminfo stand-in (sparse: NUL bytes), read only up to
    // the source's cap and reported as cut.
    let big = fs::File::create(root.join("proc/meminfo")).unwrap();
    big.set_len(2 << 30).unwrap();
    fs::write(
        root.join("proc/cpuinfo"),
        b"\xff\xfe\x00junk\x01\x02\nprocessor\t: 0\n",
    )
    .unwrap();
    let f = facts_of(root);
    let mem = source(&f, "meminfo");
    assert_eq!(mem.status, Status::Malformed);
    let detail = mem.detail.as_deref().unwrap();
    assert!(detail.contains("proc/meminfo:1:"), "{detail}");
    assert!(
        detail.contains("only the first 16 MiB were read"),
        "{detail}"
    );
    let cpu = source(&f, "cpuinfo");
    assert_eq!(cpu.status, Status::Malformed);
    assert_eq!(f.host.cpu.logical, Some(1));
}

#[test]
fn hostile_archive_entries_are_refused_and_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("evil.tar");
    let mut b = tar::Builder::new(fs::File::create(&out).unwrap());
    let mut add = |name: &[u8], data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        // Write the raw name so the builder cannot sanitise it for us.
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, data).unwrap();
    };
    add(b"../../etc/evil", b"x");
    add(b"/etc/abs", b"x");
    add(b"proc/meminfo", b"MemTotal: 2048 kB\n");
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    b.append_link(&mut link, "proc/loadavg", "/etc/passwd")
        .unwrap();
    b.finish().unwrap();
    drop(b);
    let snap = Snapshot::open(&out).unwrap();
    let notices = snap.notices().join("\n");
    assert!(
        notices.contains("entry `../../etc/evil` refused"),
        "{notices}"
    );
    assert!(notices.contains("entry `/etc/abs` refused"), "{notices}");
    let f = virt_doctor::facts::gather(&snap);
    assert_eq!(f.host.memory.total_kib, Some(2048));
    assert_eq!(source(&f, "snapshot").status, Status::Malformed);
    let la = source(&f, "loadavg");
    assert_eq!(la.status, Status::Unreadable);
    assert!(la.detail.as_deref().unwrap().contains("`/etc/passwd`"));
}

#[test]
fn not_an_archive_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("notes.txt");
    fs::write(&p, "hello").unwrap();
    let err = Snapshot::open(&p).err().unwrap().to_string();
    assert!(
        err.contains("notes.txt") && err.contains("neither a directory nor"),
        "{err}"
    );
    let err = Snapshot::open(&tmp.path().join("absent"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot open snapshot") && err.contains("absent"),
        "{err}"
    );
}

#[test]
fn truncated_gzip_keeps_what_was_read() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full.tar.gz");
    pack(&fixture("hosts/hotsos-compute"), "sos", "gz", &full);
    let bytes = fs::read(&full).unwrap();
    let cut = tmp.path().join("cut.tar.gz");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let snap = Snapshot::open(&cut).unwrap();
    let notices = snap.notices().join("\n");
    assert!(
        notices.contains("archive ends early") || notices.contains("could not be read completely"),
        "{notices}"
    );
}

/// One tar entry with a raw name, any type, declared size and data.
fn raw_entry(
    b: &mut tar::Builder<impl std::io::Write>,
    name: &[u8],
    kind: tar::EntryType,
    link: Option<&str>,
    data: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    if let Some(l) = link {
        h.set_link_name(l).unwrap();
    }
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data).unwrap();
}

#[test]
fn hardlinks_devices_fifos_duplicates_and_bad_names_are_contained() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hostile.tar");
    {
        let mut b = tar::Builder::new(fs::File::create(&out).unwrap());
        use tar::EntryType as T;
        raw_entry(
            &mut b,
            b"sos/proc/meminfo",
            T::Regular,
            None,
            b"MemTotal: 1024 kB\n",
        );
        // Duplicate: the later entry wins, as when tar extracts.
        raw_entry(
            &mut b,
            b"sos/proc/meminfo",
            T::Regular,
            None,
            b"MemTotal: 4096 kB\n",
        );
        raw_entry(
            &mut b,
            b"sos/proc/loadavg",
            T::Link,
            Some("../../etc/shadow"),
            b"",
        );
        raw_entry(
            &mut b,
            b"sos/proc/uptime",
            T::Link,
            Some("sos/proc/not-there"),
            b"",
        );
        raw_entry(&mut b, b"sos/proc/cpuinfo", T::Char, None, b"");
        raw_entry(&mut b, b"sos/proc/stat", T::Fifo, None, b"");
        raw_entry(&mut b, b"sos/proc/\xff\xfeversion", T::Regular, None, b"x");
        // A nested archive is a file like any other: never opened.
        raw_entry(
            &mut b,
            b"sos/sos_commands/inner.tar.gz",
            T::Regular,
            None,
            b"\x1f\x8b\x08\x00junk",
        );
        b.finish().unwrap();
    }
    let snap = Snapshot::open(&out).unwrap();
    let notices = snap.notices().join("\n");
    assert!(
        notices.contains("hard link `sos/proc/loadavg` -> `../../etc/shadow` refused: target outside the snapshot"),
        "{notices}"
    );
    assert!(
        notices.contains("hard link `proc/uptime` -> `proc/not-there` skipped: no such file earlier in the archive"),
        "{notices}"
    );
    assert!(notices.contains(") is not UTF-8"), "{notices}");
    assert!(
        !notices.contains('\u{fffd}'),
        "no raw name bytes: {notices}"
    );
    let f = virt_doctor::facts::gather(&snap);
    assert_eq!(f.host.memory.total_kib, Some(4096));
    for id in ["cpuinfo", "stat"] {
        let s = source(&f, id);
        assert_eq!(s.status, Status::Unreadable, "{id}: {s:?}");
        assert!(
            s.detail
                .as_deref()
                .unwrap()
                .contains("device, FIFO or socket"),
            "{id}: {s:?}"
        );
    }
    assert_eq!(source(&f, "loadavg").status, Status::Missing);
}

#[test]
fn compression_bombs_and_lying_sizes_stop_at_the_caps_and_say_so() {
    use std::io::Write;
    // 64 MiB of zeros in one entry compresses to ~64 KiB: a small bomb
    // against caps scaled down to match (the default caps are 64 GiB in
    // all, 32 GiB per file, on disk past the first 128 MiB in memory; the
    // logic is the same).
    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        let zeros = vec![0u8; 64 << 20];
        raw_entry(
            &mut b,
            b"sos/var/log/messages",
            tar::EntryType::Regular,
            None,
            &zeros,
        );
        raw_entry(
            &mut b,
            b"sos/proc/meminfo",
            tar::EntryType::Regular,
            None,
            b"MemTotal: 2048 kB\n",
        );
        b.finish().unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar_bytes).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let limits = virt_doctor::snapshot::Limits {
        max_total_bytes: 16 << 20,
        max_file_bytes: 8 << 20,
        max_entries: 100,
        ..Default::default()
    };
    let name = std::path::Path::new("bomb.tar.gz");
    let snap = Snapshot::from_archive_reader(&bomb[..], limits, name).unwrap();
    let notices = snap.notices().join("\n");
    assert!(
        notices.contains("entry `sos/var/log/messages` was cut at 8388608 of 67108864 bytes (per-file cap 8 MiB, total cap 16 MiB)"),
        "{notices}"
    );
    assert_eq!(
        virt_doctor::facts::gather(&snap).host.memory.total_kib,
        Some(2048)
    );

    // More entries than the cap: the rest are not read, and that is said.
    let mut many = Vec::new();
    {
        let mut b = tar::Builder::new(&mut many);
        for i in 0..150 {
            raw_entry(
                &mut b,
                format!("sos/f{i}").as_bytes(),
                tar::EntryType::Regular,
                None,
                b"x",
            );
        }
        b.finish().unwrap();
    }
    let snap = Snapshot::from_archive_reader(&many[..], limits, name).unwrap();
    assert!(
        snap.notices()
            .join("\n")
            .contains("more than 100 entries; the rest were not read"),
        "{:?}",
        snap.notices()
    );

    // A header declaring 1 TiB with a few bytes behind it.
    let mut liar = Vec::new();
    {
        let mut b = tar::Builder::new(&mut liar);
        raw_entry(
            &mut b,
            b"sos/proc/meminfo",
            tar::EntryType::Regular,
            None,
            b"MemTotal: 512 kB\n",
        );
        b.finish().unwrap();
    }
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..12].copy_from_slice(b"sos/var/huge");
    h.set_size(1 << 40);
    h.set_mode(0o644);
    h.set_cksum();
    let end = liar.len() - 1024; // before the two zero blocks that end a tar
    liar.truncate(end);
    liar.extend_from_slice(h.as_bytes());
    liar.extend_from_slice(&[b'y'; 700]);
    let snap = Snapshot::from_archive_reader(&liar[..], limits, name).unwrap();
    let notices = snap.notices().join("\n");
    assert!(
        notices.contains("sos/var/huge"),
        "the lying entry is named: {notices}"
    );
    assert_eq!(
        virt_doctor::facts::gather(&snap).host.memory.total_kib,
        Some(512)
    );
}
