# The two commands a newcomer needs (see README.md). Both install what
# this machine lacks first, so they work on a fresh Debian machine.

CARGO ?= cargo
DEB_PACKAGES := pkg-config libvirt-dev libxml2-utils virtinst strace ripgrep qemu-system-x86 libvirt-daemon-system libvirt-daemon-driver-qemu prometheus prometheus-node-exporter ansible-core python3-yaml

.PHONY: demo test test-analyze-only deps lint libvirtd fuzz-smoke

# Analyze a real sosreport shipped in fixtures/ (exit code 0 even with
# findings: this is a demonstration, not a gate).
demo: deps
	$(CARGO) run --release --quiet -- analyze fixtures/hosts/hotsos-compute --fail-on never

# Formatting, lints, a subset in the analyze-only build (below), and the
# whole test suite (the end-to-end test with real QEMU guests runs when
# libvirtd answers; see tests/libvirt_e2e.rs).
# The benchmarks run too, at a small size, so their assertions execute
# (bench/common.rs).
test: deps lint libvirtd test-analyze-only
	$(CARGO) test

# The analyze-only build (`--no-default-features`: no `live` feature, so
# no libvirt at build or run time). It must not need libvirt-dev (virt-sys,
# the only crate that looks for it, is not in its dependency graph), must
# not link libvirt, and must analyze, lint and diff as the default build
# does. Only a subset of the suite runs here: the unit tests, the command
# line (analyze, lint, diff, facts, rules, scan and collect without
# libvirt), scenarios, reports, fleets, plan, and tests/build_features.rs. The
# rest runs the same code in both builds, and running the whole suite a
# second time would double CI's ~17 minutes for nothing new.
test-analyze-only:
	@if $(CARGO) tree --no-default-features -e normal,build --prefix none | grep -q '^virt-sys '; then \
	    echo "the analyze-only build depends on virt-sys (libvirt-dev)"; exit 1; fi
	$(CARGO) build --no-default-features
	@n=$$(ldd "$${CARGO_TARGET_DIR:-target}/debug/virt-doctor" | grep -c libvirt); \
	if [ "$$n" != 0 ]; then echo "the analyze-only build links libvirt"; exit 1; fi; \
	echo "analyze-only build: libvirt not linked"
	$(CARGO) test --no-default-features --lib --test cli --test scenarios --test reports --test fleet --test plan --test build_features

# Every fuzz target for a few seconds over its seeds: the harnesses still
# build and run (fuzz/README.md; a real fuzzing run is `fuzz/run.sh 600`).
fuzz-smoke:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	fuzz/run.sh 5

# Clippy both ways: code behind `cfg(feature = "live")` and its
# replacement in the analyze-only build.
lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --no-default-features -- -D warnings

# System packages the build and tests need: libvirt's C library for the
# `virt` binding, virt-xml (virtinst) for the test that applies every
# domain fix of `plan` to real domains, strace for the test that proves
# `scan` writes nothing,
# ripgrep for the log benchmark's comparison, xmllint (libxml2-utils) to
# check domain XML against libvirt's own schema, and libvirtd, QEMU and
# qemu-img for the end-to-end test; promtool (prometheus),
# prometheus-node-exporter, ansible-core and PyYAML for the tests of
# deploy/, and DuckDB and PyYAML from PyPI for the `python3` on PATH (the
# fleet records test, the Kubernetes manifests test). Installed only
# when missing, so a second run costs nothing. qemu-utils comes last and
# alone: Debian's qemu-system-x86 replaces a backported qemu-utils, which
# is then installed again at the matching version.
deps:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	for group in "$(DEB_PACKAGES)" qemu-utils; do \
	    missing=""; for p in $$group; do \
	        dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	    done; \
	    if [ -n "$$missing" ]; then \
	        echo "installing:$$missing"; \
	        [ -n "$$updated" ] || { $$SUDO apt-get update -qq && updated=1; }; \
	        DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing || exit 1; \
	    fi; \
	done; \
	python3 -c 'import duckdb, yaml' 2>/dev/null || python3 -m pip install --quiet duckdb pyyaml || exit 1

# Start libvirtd for the end-to-end test when it is not answering (there
# is no systemd on CI machines), and let QEMU use /dev/kvm. Root only;
# otherwise the test says it was skipped.
libvirtd:
	@if [ "$$(id -u)" != 0 ]; then echo "libvirtd: not root, the end-to-end test will be skipped"; exit 0; fi; \
	if ! virsh -c qemu:///system version >/dev/null 2>&1; then \
	    pgrep -x virtlogd >/dev/null || virtlogd -d; \
	    pgrep -x libvirtd >/dev/null || libvirtd -d; \
	    for i in $$(seq 1 30); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 1; done; \
	fi; \
	if [ -e /dev/kvm ]; then chmod 666 /dev/kvm; fi; \
	virsh -c qemu:///system version >/dev/null 2>&1 && echo "libvirtd: answering at qemu:///system" || echo "libvirtd: not answering"
