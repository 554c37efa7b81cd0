# Builds, the demo and the test suites across languages. `make help` lists them.
CARGO ?= cargo
# Where `make install` puts things; DESTDIR stages them under another root.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=

.PHONY: help build release demo test test-rust test-c test-python test-csharp test-sdk \
        bench lint header clean install uninstall wheel

help:
	@echo "make demo      build, start the emulator, send through the C API (README)"
	@echo "make test      every suite: Rust, C under valgrind, Python, C#, official SDK"
	@echo "make test-rust | test-c | test-python | test-csharp | test-sdk"
	@echo "make bench     benchmarks against libcurl and the official Python SDK (benches/README.md)"
	@echo "make lint      rustfmt --check and clippy -D warnings"
	@echo "make header    regenerate include/acs_chat.h with the pinned cbindgen"
	@echo "make release   optimized build: target/release/libacs_chat.{so,a}"
	@echo "make install   release build, then library, headers, pkg-config and CMake files"
	@echo "               into PREFIX (default /usr/local; also LIBDIR, INCLUDEDIR, DESTDIR)"
	@echo "make uninstall removes what make install put into PREFIX"
	@echo "make wheel     Python wheel carrying the library: target/wheels/"

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

bench:
	benches/run.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

header:
	ACS_UPDATE_HEADER=1 $(CARGO) test -p acs_chat --test header

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
