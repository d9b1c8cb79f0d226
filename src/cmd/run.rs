//! `mcdrop run SPEC`: run an experiment, resuming where an earlier run stopped.

use std::io::IsTerminal;
use std::ops::Range;

use anyhow::Context;

use super::BadInput;
use crate::cli::{Cli, RunArgs};
use crate::data::uci::UciSet;
use crate::data::DataDirs;
use tch::Device;

use crate::protocol::{self, RunContext, RunSummary};
use crate::results::{ExperimentStore, Provenance};
use crate::spec::{Experiment, Spec};

pub fn run(cli: &Cli, args: &RunArgs) -> anyhow::Result<()> {
    let mut spec = crate::spec::load(&args.spec)?;
    if let Some(group) = args.splits_per_program {
        let Experiment::UciRegression(plan) = &mut spec.experiment else {
            return Err(BadInput(format!(
                "--splits-per-program: {} is not a UCI spec (task.uci)",
                args.spec.display()
            ))
            .into());
        };
        plan.splits_per_program = Some(group as usize);
    }
    let device = crate::device::resolve(args.device.unwrap_or(spec.device))?;
    let only = args
        .only
        .iter()
        .map(|s| s.parse::<UciSet>().map_err(|e| BadInput(format!("--only: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let splits = args.splits.as_deref().map(parse_range).transpose()?;
    let store = ExperimentStore::new(&cli.results_dir, &spec.name);
    let data = DataDirs::new(cli.data_dir.as_deref());
    let options = ExecuteOptions {
        force: args.force,
        only,
        splits,
        mc_budget: args.mc_budget,
        progress: std::io::stderr().is_terminal(),
    };
    let started = std::time::Instant::now();
    let summary =
        execute(&spec, &store, &data, device, options).with_context(|| format!("running {}", args.spec.display()))?;
    println!(
        "{}: {} unit(s) written, {} already recorded, {:.1} s -> {}",
        spec.name,
        summary.units_written,
        summary.units_skipped,
        started.elapsed().as_secs_f64(),
        store.dir().display()
    );
    Ok(())
}

/// How `execute` restricts and shows a run.
pub struct ExecuteOptions {
    pub force: bool,
    pub only: Vec<UciSet>,
    pub splits: Option<Range<usize>>,
    pub mc_budget: usize,
    pub progress: bool,
}

/// Runs `spec` into `store`: claims the directory, records the run in the manifest, runs the
/// protocol (skipping recorded units unless forced) and closes the manifest entry.
pub fn execute(
    spec: &Spec,
    store: &ExperimentStore,
    data: &DataDirs,
    device: Device,
    options: ExecuteOptions,
) -> anyhow::Result<RunSummary> {
    store.prepare(spec, options.force)?;
    crate::logging::attach_run_log(&store.dir().join("run.log"))?;
    let provenance = Provenance::new(&spec.sha256, spec.seed, &crate::device::describe(device));
    let run_index = store.start_run(spec, &provenance)?;
    tracing::info!("experiment `{}` on {} -> {}", spec.name, provenance.device, store.dir().display());
    let ctx = RunContext {
        spec,
        store,
        data,
        device,
        provenance,
        force: options.force,
        only: options.only,
        splits: options.splits,
        mc_budget: options.mc_budget,
        progress: options.progress,
        run_index,
        written: Default::default(),
    };
    let result = match &spec.experiment {
        Experiment::UciRegression(plan) => protocol::uci::run(&ctx, plan),
        Experiment::Mnist(plan) => protocol::mnist::run(&ctx, plan),
        Experiment::Co2(plan) => protocol::co2::run(&ctx, plan),
    };
    let written = ctx.written.load(std::sync::atomic::Ordering::SeqCst);
    match result {
        Ok(summary) => {
            store.finish_run(run_index, "complete", written)?;
            Ok(summary)
        }
        Err(e) => {
            store.finish_run(run_index, &format!("failed: {e}"), written)?;
            Err(e.into())
        }
    }
}

/// `A..B` -> A..B (half-open).
fn parse_range(text: &str) -> Result<Range<usize>, BadInput> {
    let bad = || BadInput(format!("--splits: expected a range like 0..5, got {text:?}"));
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b) = (a.trim().parse::<usize>().map_err(|_| bad())?, b.trim().parse::<usize>().map_err(|_| bad())?);
    if a >= b {
        return Err(BadInput(format!("--splits: range {text} is empty")));
    }
    Ok(a..b)
}
