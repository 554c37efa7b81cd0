# Builds, the demo and the test suites across languages. `make help` lists them.
CARGO ?= cargo
# Where `make install` puts things; DESTDIR stages them under another root.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=

.PHONY: help build release demo test test-rust test-c test-python test-csharp test-sdk test-browser \
        test-sanitize fuzz soak fault-matrix bench lint header clean install uninstall wheel \
        sdist test-sdist test-python-versions test-python-all test-wheel test-package

help:
	@echo "make demo      build, start the emulator, send through the C API (README)"
	@echo "make test      every suite: Rust, C under valgrind and ASan/UBSan, Python, C#,"
	@echo "               official SDK, web inbox in Chromium, examples, install, wheel,"
	@echo "               short fuzz and soak runs"
	@echo "make test-rust | test-c | test-python | test-csharp | test-sdk | test-sanitize"
	@echo "make test-browser          the emulator's web inbox in headless Chromium"
	@echo "make test-python-versions  the Python suite on 3.8 and 3.13 (pyenv's; part of make test)"
	@echo "make test-python-all       the Python suite on each of 3.8 to 3.13"
	@echo "make test-wheel | test-package  the manylinux wheel on 3 Pythons; cargo package + doc"
	@echo "make test-sdist            pip install of the sdist (builds with cargo), then a send"
	@echo "make fuzz      every fuzz target for FUZZ_SECONDS (default 600) each"
	@echo "make soak      16 threads for SOAK_SECONDS (default 600) with random faults"
	@echo "make fault-matrix  rewrite the README's fault matrix table from its test"
	@echo "make bench     benchmarks against libcurl and the official Python SDK (benches/README.md)"
	@echo "make lint      rustfmt --check (also fuzz/, soak/), clippy -D warnings (also soak/)"
	@echo "make header    regenerate include/acs_chat.h with the pinned cbindgen, and the bindings' constants"
	@echo "make release   optimized build: target/release/libacs_chat.{so,a}"
	@echo "make install   release build, then library, headers, pkg-config and CMake files"
	@echo "               into PREFIX (default /usr/local; also LIBDIR, INCLUDEDIR, DESTDIR)"
	@echo "make uninstall removes what make install put into PREFIX"
	@echo "make wheel     manylinux_2_17 Python wheel carrying the library: target/wheels/"
	@echo "make sdist     Python sdist with the crate inside (pip builds it with cargo): target/wheels/"

build:
	$(CARGO) build -p acs_chat -p acs-chat-emulator

release:
	$(CARGO) build --release -p acs_chat -p acs-chat-emulator

demo:
	scripts/demo.sh

test:
	scripts/test.sh

test-rust:
	scripts/test.sh rust
test-c:
	scripts/test.sh c
test-python:
	scripts/test.sh python
test-csharp:
	scripts/test.sh csharp
test-sdk:
	scripts/test.sh sdk
test-browser:
	scripts/test.sh browser
test-sanitize:
	scripts/test.sh sanitize

FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

SOAK_SECONDS ?= 600
soak:
	SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh

fault-matrix:
	ACS_UPDATE_FAULT_MATRIX=1 $(CARGO) test -p acs_chat --test fault_matrix

bench:
	benches/run.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd fuzz && $(CARGO) fmt -- --check
	cd soak && $(CARGO) fmt -- --check && \
	  $(CARGO) clippy --target-dir ../target/soak --all-targets -- -D warnings

header:
	ACS_UPDATE_HEADER=1 $(CARGO) test -p acs_chat --test header
	python3 bindings/gen_constants.py

clean:
	$(CARGO) clean

install:
	$(CARGO) build --release -p acs_chat
	PREFIX="$(PREFIX)" LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" DESTDIR="$(DESTDIR)" \
	  packaging/install.sh install

uninstall:
	PREFIX="$(PREFIX)" LIBDIR="$(LIBDIR)" INCLUDEDIR="$(INCLUDEDIR)" DESTDIR="$(DESTDIR)" \
	  packaging/install.sh uninstall

wheel:
	packaging/build-wheel.sh

sdist:
	packaging/build-sdist.sh

# Installs the sdist (which builds the library with cargo) and sends: ~3 min the first time.
test-sdist:
	scripts/test.sh sdist

# The Python suite on 3.8 and 3.13 (part of `make test`), or on every supported version.
test-python-versions:
	scripts/test.sh python-versions
test-python-all:
	scripts/test.sh python-all

test-wheel:
	scripts/test.sh wheel
test-package:
	scripts/test.sh package
