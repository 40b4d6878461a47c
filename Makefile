# The two commands a newcomer needs (see README.md). Both install what
# this machine lacks first, so they work on a fresh Debian machine.

CARGO ?= cargo
DEB_PACKAGES := pkg-config libvirt-dev strace

.PHONY: demo test deps lint

# Analyze a real sosreport shipped in fixtures/ (exit code 0 even with
# findings: this is a demonstration, not a gate).
demo: deps
	$(CARGO) run --release --quiet -- analyze fixtures/hosts/hotsos-compute --fail-on never

# Formatting, lints, and the whole test suite.
test: deps lint
	$(CARGO) test

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# System packages the build and tests need (libvirt's C library for the
# `virt` binding; strace for the test that proves `scan` writes nothing).
# Installed only when missing, so a second run costs nothing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
