//! `mcdrop run SPEC`: run an experiment, resuming where an earlier run stopped.

use std::io::IsTerminal;
use std::ops::Range;

use anyhow::Context;

use crate::cli::{Cli, RunArgs};
use crate::data::DataDirs;
use crate::error::Error;
use crate::protocol::execute::{execute, ExecuteOptions};
use crate::protocol::shard::{ClaimQueue, Share};
use crate::results::ExperimentStore;
use crate::spec::Experiment;

/// The programs this process runs: a shard, a worker's queue, or all.
fn share(args: &RunArgs) -> anyhow::Result<Share> {
    Ok(match (&args.shard, &args.queue) {
        (Some(text), _) => Share::Shard(crate::protocol::shard::parse(text)?),
        (None, Some(dir)) => Share::Queue(ClaimQueue { dir: dir.clone() }),
        (None, None) => Share::Whole,
    })
}

pub fn run(cli: &Cli, args: &RunArgs) -> anyhow::Result<()> {
    let mut spec = crate::spec::load_with(&args.spec, &args.set)?;
    if let Some(group) = args.splits_per_program {
        let Experiment::UciRegression(plan) = &mut spec.experiment else {
            return Err(Error::Usage(format!(
                "--splits-per-program: {} is not a UCI spec (task.uci)",
                args.spec.display()
            ))
            .into());
        };
        plan.splits_per_program = Some(group as usize);
    }
    if let Some(jobs) = args.jobs.filter(|&j| j > 1) {
        if args.shard.is_some() {
            return Err(Error::Usage("--jobs runs every shard itself; give either --jobs or --shard".into()).into());
        }
        return super::workers::run_workers(cli, args, &spec.name, jobs as usize);
    }
    let device = crate::device::resolve(args.device.unwrap_or(spec.device))?;
    let only = match &spec.experiment {
        Experiment::UciRegression(plan) => plan.resolve_only(&args.only)?,
        _ if !args.only.is_empty() => {
            return Err(Error::Usage(format!(
                "--only: {} is not a regression spec (task.uci or task.table)",
                args.spec.display()
            ))
            .into())
        }
        _ => Vec::new(),
    };
    let splits = args.splits.as_deref().map(parse_range).transpose()?.map(|r| r.collect());
    let store = ExperimentStore::new(&cli.results_dir, &spec.name);
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    let options = ExecuteOptions {
        force: args.force,
        only,
        splits,
        mc_budget: args.mc_budget,
        progress: std::io::stderr().is_terminal(),
        checkpoint_every: args.checkpoint_every,
        share: share(args)?,
        speculative_retrain: args.speculative_retrain.enabled(device),
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

/// `A..B` -> A..B (half-open).
fn parse_range(text: &str) -> Result<Range<usize>, Error> {
    let bad = || Error::Usage(format!("--splits: expected a range like 0..5, got {text:?}"));
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b) = (a.trim().parse::<usize>().map_err(|_| bad())?, b.trim().parse::<usize>().map_err(|_| bad())?);
    if a >= b {
        return Err(Error::Usage(format!("--splits: range {text} is empty")));
    }
    Ok(a..b)
}
