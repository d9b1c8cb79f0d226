//! Running one experiment end to end, as `mcdrop run`, `mcdrop check` and the tests do: claim
//! the results directory, record the run in the manifest, run the spec's protocol (skipping
//! recorded units unless forced) and close the manifest entry with how it ended.

use tch::Device;

use super::{RunContext, RunSummary};
use crate::data::DataDirs;
use crate::data::SetName;
use crate::error::Result;
use crate::results::run_entry::RunOutcome;
use crate::results::{ExperimentStore, Provenance};
use crate::spec::{Experiment, Spec};

/// How `execute` restricts and shows a run.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Redo units that already have records.
    pub force: bool,
    /// Only these regression sets (empty: all of the spec's).
    pub only: Vec<SetName>,
    /// Only these split indices.
    pub splits: Option<Vec<usize>>,
    /// Largest activation tensor (elements) one MC chunk may create.
    pub mc_budget: usize,
    /// Show progress bars (a terminal is attached).
    pub progress: bool,
    /// How often a long training writes its checkpoint.
    pub checkpoint_every: std::time::Duration,
    /// Which programs this process runs.
    pub share: super::shard::Share,
    /// UCI: train every grid point's retrain network beside the grid search and keep the
    /// chosen one (shorter critical path, the grid's size in extra training).
    pub speculative_retrain: bool,
}

/// Largest activation tensor (elements) one MC chunk may create, unless told otherwise.
pub const DEFAULT_MC_BUDGET: usize = 1 << 25;

/// Checkpoints every five minutes: a killed run loses at most that much training.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// Runs `spec` into `store` on `device`.
pub fn execute(
    spec: &Spec,
    store: &ExperimentStore,
    data: &DataDirs,
    device: Device,
    options: ExecuteOptions,
) -> Result<RunSummary> {
    store.prepare(spec, options.force)?;
    crate::logging::attach_run_log(&store.dir().join("run.log"))?;
    let provenance = Provenance::new(&spec.sha256, spec.seed, &crate::device::describe(device));
    let run = store.start_run(spec, &provenance)?;
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
        checkpoint_every: options.checkpoint_every,
        share: options.share,
        progress: options.progress,
        speculative_retrain: options.speculative_retrain,
        run: run.clone(),
        written: Default::default(),
    };
    let result = match &spec.experiment {
        Experiment::UciRegression(plan) => super::uci::run(&ctx, plan),
        Experiment::Mnist(plan) => super::mnist::run(&ctx, plan),
        Experiment::Co2(plan) => super::co2::run(&ctx, plan),
        Experiment::Rl(plan) => super::rl::run(&ctx, plan),
    };
    let written = ctx.written.load(std::sync::atomic::Ordering::SeqCst);
    match result {
        Ok(summary) => {
            store.finish_run(&run, RunOutcome::Complete, written)?;
            Ok(summary)
        }
        Err(e) => {
            store.finish_run(&run, RunOutcome::Failed(e.to_string()), written)?;
            Err(e)
        }
    }
}
