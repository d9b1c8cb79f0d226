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

UCI := uci-dropout uci-vi uci-gp

reproduce: setup
	for e in $(UCI); do $(BIN) run experiments/$$e.yaml || exit 1; done
	for e in $(UCI); do $(BIN) table $$e --output results/$$e/table.md > /dev/null || exit 1; done
	mkdir -p results/tables
	for f in markdown:md csv:csv latex:tex; do \
	  $(BIN) table $(UCI) --metric rmse --format $${f%%:*} --output results/tables/uci-rmse.$${f##*:} > /dev/null && \
	  $(BIN) table $(UCI) --metric ll --format $${f%%:*} --output results/tables/uci-ll.$${f##*:} > /dev/null || exit 1; \
	done
	cat results/tables/uci-rmse.md results/tables/uci-ll.md

clean:
	cargo clean
