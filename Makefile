# The two commands a newcomer needs:
#   make reproduce   set up, build, run the paper's experiments, write tables into results/
#   make test        set up, build, run the whole test suite (what CI runs)
# Both install what is missing first (scripts/setup): a .venv with torch==2.11.0, the build.

BIN := target/release/mcdrop
CARGO := scripts/cargo-env cargo

.PHONY: all setup build test reproduce smoke check clean

all: build

setup:
	scripts/setup

build: setup

test: setup
	$(CARGO) test --release --locked

# Rerun the smoke specs and compare with results/baselines/ (also part of `make test`).
check: setup
	$(BIN) check

smoke: setup
	$(BIN) run experiments/smoke-uci.yaml
	$(BIN) table smoke-uci

reproduce: setup
	$(BIN) run experiments/uci-dropout.yaml
	$(BIN) table uci-dropout --output results/uci-dropout/table.md

clean:
	cargo clean
