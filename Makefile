# Builds, the demo and the test suites across languages. `make help` lists them.
CARGO ?= cargo

.PHONY: help build release demo test test-rust test-c test-python test-csharp test-sdk \
        bench lint header clean

help:
	@echo "make demo      build, start the emulator, send through the C API (README)"
	@echo "make test      every suite: Rust, C under valgrind, Python, C#, official SDK"
	@echo "make test-rust | test-c | test-python | test-csharp | test-sdk"
	@echo "make bench     benchmarks against libcurl and the official Python SDK (benches/README.md)"
	@echo "make lint      rustfmt --check and clippy -D warnings"
	@echo "make header    regenerate include/acs_chat.h with the pinned cbindgen"
	@echo "make release   optimized build: target/release/libacs_chat.{so,a}"

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
