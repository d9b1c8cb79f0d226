//! `mcdrop bench`: speed comparisons made side by side in one run on one machine, so that
//! only ratios are compared.

mod gp;
mod gp_peer;
mod peer;
mod rl;
mod sparse_gp;
mod uci;
mod vi;

use crate::cli::{BenchArgs, BenchTarget, Cli};
use crate::data::uci::UciData;
use crate::data::DataDirs;
use crate::error::Error;
use crate::models::{Program, RegressionFamily};
use crate::protocol::program::{build_program, Phase};
use crate::protocol::splits::grid_rows;
use crate::spec::{Experiment, UciPlan, UciSetPlan};

pub fn bench(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Uci => uci::bench_uci(cli, args),
        BenchTarget::SparseGp => sparse_gp::bench_sparse_gp(cli, args),
        BenchTarget::Gp => gp::bench_gp(cli, args),
        BenchTarget::Vi => vi::bench_vi(cli, args),
        BenchTarget::Rl => rl::bench_rl(args),
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
    let spec = crate::spec::load(&args.spec)?;
    let Experiment::UciRegression(plan) = spec.experiment else {
        return Err(Error::Usage(format!(
            "{}: `{command}` times a UCI spec; this one is not (task.uci)",
            args.spec.display()
        ))
        .into());
    };
    let set = plan
        .set_named(&args.set)
        .ok_or_else(|| Error::Usage(format!("{} has no settings for {}", args.spec.display(), args.set)))?;
    let set_plan = plan.sets.iter().find(|s| &s.set == set).cloned().expect("set_named names one of the sets");
    let device = crate::device::resolve(args.device)?;
    let data = set_plan.source.load(&DataDirs::new(cli.data_dir.as_deref())?)?;
    Ok(UciBench { seed: spec.seed, plan, set_plan, data, device })
}

impl UciBench {
    /// The grid-search program of the first `splits` splits, as the protocol builds it for
    /// `family`, and the header line a bench prints about it (`name`, `epochs`, `widths`).
    fn grid_program(
        &self,
        family: &dyn RegressionFamily,
        splits: usize,
        name: &str,
        epochs: usize,
        widths: &[usize],
    ) -> anyhow::Result<Program> {
        let splits: Vec<usize> = (0..splits.min(self.data.splits.len())).collect();
        let points = family.grid(&self.set_plan);
        let rows = grid_rows(&self.data, &splits, self.plan.validation_fraction);
        let configs: Vec<_> = rows.iter().map(|_| points.clone()).collect();
        let program = build_program(self.seed, &self.set_plan, &self.data, &rows, &configs, Phase::Grid, self.device)?;
        println!(
            "{name}: set={} members={} ({} splits x {} grid points) epochs={epochs} rows/member={} widths={widths:?} device={}",
            self.set_plan.set,
            program.members.len(),
            splits.len(),
            points.len(),
            program.n(),
            crate::device::describe(self.device)
        );
        Ok(program)
    }
}

/// VmHWM of this process, in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}
