//! The integration tests, one module per area, in one binary: the suite links libtorch and
//! polars once instead of once per file (ripgrep's `tests/tests.rs` is the pattern).

mod common;

mod batching;
mod check;
mod cli_run;
mod co2;
mod concrete;
mod ensemble;
mod gp;
mod mfvi;
mod mnist;
mod pbp;
mod plan;
mod report;
mod rl;
mod shards;
mod slurm;
mod spec_errors;
mod speculative;
mod table;
mod uci_loader;
mod verify;
