# Tapline — build, run and test.
#
#   make run      build (release) and start the proxy on 127.0.0.1:8080,
#                 capturing into ./captures; extra flags: make run ARGS='--quiet'
#   make test     unit tests (swift test) + integration tests (pytest)
#   make bench    throughput/latency/RSS benchmark against a local nginx (HTTP/1.1, wrk)
#                 and nghttpd (HTTP/2, h2load); gRPC unary calls, h2load and grpcio clients (bench/grpc_unary.sh);
#                 tapline mock and replay (bench/replay.sh)
#
# Everything installs what it needs first (Debian packages via apt, Python test
# packages into ./.venv), so the two commands above work on a fresh Debian box.

SHELL := /bin/bash

# Swift lives in /opt/swift on our machines; use it when it is not on PATH.
SWIFT ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)
# BUILD_DIR: SwiftPM scratch dir (e.g. BUILD_DIR=.build-mine to keep a private one).
BUILD_DIR ?= .build
SWIFT_FLAGS ?= --scratch-path $(BUILD_DIR)
VENV_PY := .venv/bin/python
RELEASE_BIN := $(BUILD_DIR)/release/tapline
ARGS ?=
PYTEST_ARGS ?= -q

# `make run` captures into ./captures unless ARGS chooses otherwise.
RUN_CAPTURE := $(if $(filter --capture --no-capture,$(ARGS)),,--capture captures)

.PHONY: all deps test-deps build debug release run test unit-test integration-test \
        bench fuzz fuzz-ci clean help

all: build

help:
	@echo "make deps        install the Debian build dependencies (apt)"
	@echo "make build       release build of .build/release/tapline"
	@echo "make debug       debug build"
	@echo "make run         build, then run the proxy (ARGS='...' for extra flags)"
	@echo "make test-deps   install test tools (apt) and the Python venv .venv"
	@echo "make test        unit tests + integration tests"
	@echo "make bench       benchmark against a local nginx (needs test-deps)"
	@echo "make fuzz        run the fuzzers (scripts/fuzz.sh), 60 s each"
	@echo "make fuzz-ci     run the fuzzers for FUZZ_CI_SECONDS (30) each, as make test does"
	@echo "make clean       remove build outputs"

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-test-deps.sh

build: deps
	$(SWIFT) build -c release --product tapline $(SWIFT_FLAGS)

release: build

debug: deps
	$(SWIFT) build $(SWIFT_FLAGS)

run: build
	$(RELEASE_BIN) proxy $(RUN_CAPTURE) $(ARGS)

# Each configuration is built once: debug with the test targets (for swift
# test), release for the binary the integration tests run (realistic speed and
# memory: one test bounds the proxy's peak RSS). Both test suites run even if
# the first fails; the target fails if either did.
test: deps test-deps
	@scripts/check-self-contained.sh
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) build -c release --product tapline $(SWIFT_FLAGS)
	@unit=0; integ=0; fuzz=0; \
	echo "==> unit tests: swift test"; \
	$(SWIFT) test --skip-build $(SWIFT_FLAGS) || unit=$$?; \
	echo "==> integration tests: pytest Tests/integration"; \
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" $(VENV_PY) -m pytest Tests/integration $(PYTEST_ARGS) || integ=$$?; \
	echo "==> fuzzing: scripts/fuzz.sh $(FUZZ_CI_SECONDS) (bounded)"; \
	$(MAKE) --no-print-directory fuzz-ci || fuzz=$$?; \
	echo "==> unit tests: $$([ $$unit -eq 0 ] && echo passed || echo "FAILED (exit $$unit)")"; \
	echo "==> integration tests: $$([ $$integ -eq 0 ] && echo passed || echo "FAILED (exit $$integ)")"; \
	echo "==> fuzzing: $$([ $$fuzz -eq 0 ] && echo passed || echo "FAILED (exit $$fuzz)")"; \
	[ $$unit -eq 0 ] && [ $$integ -eq 0 ] && [ $$fuzz -eq 0 ]

unit-test: deps
	$(SWIFT) test $(SWIFT_FLAGS)

# Integration tests only, against an existing release build.
integration-test: test-deps
	$(SWIFT) build -c release --product tapline $(SWIFT_FLAGS)
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" $(VENV_PY) -m pytest Tests/integration $(PYTEST_ARGS)

# bench/run.sh goes last: its 1 MiB cases store ~10 GB, and the host's writeback of
# that slowed whatever ran next by up to a fifth (docs/performance.md).
bench: build test-deps
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/h2.sh
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/websocket.sh
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/grpc_show.sh
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/grpc_unary.sh
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/replay.sh
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/transparent.sh
	TAPLINE_BIN="$(CURDIR)/$(RELEASE_BIN)" bench/run.sh

fuzz: deps
	@if [ -x scripts/fuzz.sh ] || [ -f scripts/fuzz.sh ]; then bash scripts/fuzz.sh; \
	else echo "scripts/fuzz.sh does not exist yet" >&2; exit 1; fi

# Bounded fuzzing for CI (make test runs it): every fuzz target for FUZZ_CI_SECONDS.
FUZZ_CI_SECONDS ?= 30
fuzz-ci: deps
	bash scripts/fuzz.sh $(FUZZ_CI_SECONDS) websocket http1 capturejson grpcframer grpcwebtext protobufraw protoparser protobufjson socks5

clean:
	rm -rf $(BUILD_DIR) .pytest_cache Tests/integration/.pytest_cache
	find Tests bench -name __pycache__ -type d -prune -exec rm -rf {} +
