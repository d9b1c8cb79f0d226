//! `mcdrop bench`: speed comparisons made side by side in one run on one machine, so that
//! only ratios are compared.

mod sparse_gp;
mod uci;
mod vi;

use crate::cli::{BenchArgs, BenchTarget, Cli};
use crate::cmd::BadInput;
use crate::data::uci::{UciData, UciSet};
use crate::data::DataDirs;
use crate::spec::{Experiment, UciPlan, UciSetPlan};

pub fn bench(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Uci => uci::bench_uci(cli, args),
        BenchTarget::SparseGp => sparse_gp::bench_sparse_gp(cli, args),
        BenchTarget::Vi => vi::bench_vi(cli, args),
    }
}

/// What a UCI bench times: the spec's plan and root seed, the `--set` settings and its data.
struct UciBench {
    seed: u64,
    plan: UciPlan,
    set_plan: UciSetPlan,
    data: UciData,
    device: tch::Device,
}

fn load_uci_bench(cli: &Cli, args: &BenchArgs, command: &str) -> anyhow::Result<UciBench> {
    let set: UciSet = args.set.parse().map_err(BadInput)?;
    let spec = crate::spec::load(&args.spec)?;
    let Experiment::UciRegression(plan) = spec.experiment else {
        return Err(BadInput(format!("{}: `{command}` times a UCI spec; this one is not (task.uci)", args.spec.display())).into());
    };
    let set_plan = plan
        .sets
        .iter()
        .find(|s| s.set == set)
        .cloned()
        .ok_or_else(|| BadInput(format!("{} has no settings for {set}", args.spec.display())))?;
    let device = crate::device::resolve(args.device)?;
    let data = UciData::find_and_load(set, &DataDirs::new(cli.data_dir.as_deref()))?;
    Ok(UciBench { seed: spec.seed, plan, set_plan, data, device })
}

/// VmHWM of this process, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}
