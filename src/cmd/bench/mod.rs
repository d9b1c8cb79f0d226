//! `mcdrop bench`: speed comparisons made side by side in one run on one machine, so that
//! only ratios are compared.

mod sparse_gp;
mod uci;

use crate::cli::{BenchArgs, BenchTarget, Cli};

pub fn bench(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Uci => uci::bench_uci(cli, args),
        BenchTarget::SparseGp => sparse_gp::bench_sparse_gp(cli, args),
    }
}

/// VmHWM of this process, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}
