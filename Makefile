# The two commands a newcomer needs:
#   make reproduce   set up, build, run the paper's experiments, write tables and figures into results/
#                    (QUICK=1: the shortened specs of experiments/quick/, ~15 minutes on 2 cores)
#   make test        set up, build, run the whole test suite (what CI runs)
# Both install what is missing first (scripts/setup): a .venv with torch==2.11.0, the build.

BIN := target/release/mcdrop
CARGO := scripts/cargo-env cargo

.PHONY: all setup build test lint reproduce smoke check clean

all: build

setup:
	scripts/setup

build: setup

# Formatting and lints first (they fail in seconds), then every test. --no-fail-fast: CI
# shows every failing test binary in one go, not just the first.
test: setup lint
	$(CARGO) test --release --locked --no-fail-fast

# rustfmt.toml decides the layout; clippy runs on the same release profile the tests build,
# so CI compiles the dependency tree once.
lint: setup
	$(CARGO) fmt --check
	$(CARGO) clippy --release --locked --all-targets -- -D warnings

# Rerun the smoke specs and compare with results/baselines/ (also part of `make test`).
check: setup
	$(BIN) check

smoke: setup
	$(BIN) run experiments/smoke-uci.yaml
	$(BIN) table smoke-uci

# Every paper spec, then tables, figures, a summary and `mcdrop verify` (scripts/reproduce).
# FRESH=1 reruns everything from scratch into results-fresh/ and compares it with results/,
# set by set. QUICK=1 runs the shortened specs of experiments/quick/ instead (about 15
# minutes on a 2-core CPU).
reproduce: setup
	FRESH=$(FRESH) scripts/reproduce $(if $(QUICK),quick,full)

clean:
	cargo clean
