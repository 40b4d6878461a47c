#!/usr/bin/env python3
"""Fill fuzz/corpus/<target>/ with seed inputs: real files from fixtures/
(always) and from ../shared/corpus (when it sits beside the checkout).

libFuzzer mutates these instead of starting from nothing, so the fuzzers
reach the deep branches (a whole <domain>, a real sosreport tarball) in
seconds. The corpus directory is not committed; run this first:

    python3 fuzz/seed.py
"""

import fnmatch
import hashlib
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURES = os.path.join(REPO, "fixtures")
CORPUS = os.path.normpath(os.path.join(REPO, "../shared/corpus"))
MAX_SEED = 256 * 1024  # larger files slow every execution down


def walk(root):
    for dirpath, _, files in os.walk(root):
        for f in files:
            yield os.path.join(dirpath, f)


def roots():
    yield FIXTURES
    if os.path.isdir(CORPUS):
        yield CORPUS


def add(target, data):
    if not data or len(data) > MAX_SEED:
        return
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def read(p):
    with open(p, "rb") as f:
        return f.read(MAX_SEED + 1)


def by_name(target, patterns, contains=None):
    for root in roots():
        for p in walk(root):
            rel = os.path.relpath(p, root)
            if any(fnmatch.fnmatch(rel, pat) for pat in patterns):
                data = read(p)
                if contains is None or contains in data:
                    add(target, data)


def numa_seeds():
    """Node files of real machines, NUL-joined as the target splits them."""
    for root in roots():
        for p in walk(root):
            if p.endswith("/node/node0/cpulist"):
                base = os.path.dirname(os.path.dirname(p))
                parts = []
                for node in (0, 1):
                    for f in ["cpulist", "cpumap", "meminfo", "distance", "hugepages/hugepages-2048kB/nr_hugepages"]:
                        q = os.path.join(base, f"node{node}", f)
                        parts.append(read(q) if os.path.isfile(q) else b"")
                cpu = os.path.join(os.path.dirname(base), "cpu")
                for c in (0, 1):
                    for f in ["physical_package_id", "core_id", "thread_siblings_list"]:
                        q = os.path.join(cpu, f"cpu{c}", "topology", f)
                        parts.append(read(q) if os.path.isfile(q) else b"")
                q = os.path.join(cpu, "online")
                parts.append(read(q) if os.path.isfile(q) else b"")
                add("numa_sysfs", b"\0".join(parts))


def archive_seeds():
    """Small fixture hosts packed as tar, tar.gz and tar.xz."""
    hosts = os.path.join(FIXTURES, "hosts")
    for name in ["healthy-2node", "storage", "live-io-stall"]:
        for mode in ["w", "w:gz", "w:xz"]:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode=mode) as t:
                t.add(os.path.join(hosts, name), arcname=f"sosreport-{name}")
            add("archive", buf.getvalue())


def capabilities_seeds():
    """`virsh capabilities` of libvirt's test driver and, where libvirtd
    runs, of this machine: real documents of the format."""
    import subprocess
    for uri in ["test:///default", "qemu:///system"]:
        try:
            out = subprocess.run(["virsh", "-r", "-c", uri, "capabilities"], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0:
            add("capabilities", out.stdout)


def main():
    by_name("meminfo", ["*meminfo*", "*/memory/free"])
    by_name("cpuinfo", ["*cpuinfo*", "*lscpu*"])
    numa_seeds()
    by_name("sysctl", ["*sysctl_-a", "*sysctl*"])
    by_name("block_queue", ["*/queue/scheduler", "*/queue/rotational", "*/queue/read_ahead_kb", "*/queue/nr_requests"])
    by_name("domain_xml", ["*.xml", "*dumpxml*"], contains=b"<domain")
    by_name("domstatus", ["*.xml"], contains=b"<domstatus")
    by_name("snapshot_xml", ["*.xml"], contains=b"<domainsnapshot")
    by_name("capabilities", ["*capabilities*", "*.xml"], contains=b"<capabilities")
    capabilities_seeds()
    by_name("dmesg", ["*dmesg*", "logs/kernel/*"])
    by_name("syslog", ["*messages*", "*syslog*", "*kern.log*"])
    by_name("journal", ["*journal*"])
    by_name("qemu_log", ["*libvirt/qemu/*.log*", "logs/qemu/*", "*libvirtd_log*"])
    by_name("diskstats", ["*diskstats*"])
    by_name("netdev", ["*/net/dev", "*net_dev*"])
    by_name("pressure", ["*/pressure/*"])
    by_name("capture_files", ["*virsh_-r_list*", "*domstats*", "*schedstat*", "*cgroups*", "*cgroup.controllers", "*virt-doctor.json"])
    archive_seeds()
    for t in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print(f"{t}: {len(os.listdir(os.path.join(HERE, 'corpus', t)))} seeds")


if __name__ == "__main__":
    main()
