//! The reinforcement-learning experiment (paper section 5.4): deep-Q agents in ConvNetJS's
//! rldemo world, exploring by Thompson sampling with dropout or by epsilon-greedy, each policy
//! on every seed. docs/rl.md has the set-up and what was decided where the paper and the
//! authors' demo differ.
//!
//! Units: one record per (policy, seed) under `outcomes/rl/`, written when its policy's
//! program finishes; `outcomes/rl.json` gathers them once every run is done (what tables and
//! figures read). A program runs only the seeds its policy still lacks.

use super::rl_program::{dropout_label, run_program, RunOutcome, TimeSplit};
use super::{RunContext, RunSummary};
use crate::error::Result;
use crate::results::outcome::OutcomeFile;
use crate::results::outcome::{RlRecord, RlRun};
use crate::results::ExperimentStore;
use crate::spec::raw::RlPolicy;
use crate::spec::RlPlan;

pub fn run(ctx: &RunContext, plan: &RlPlan) -> Result<RunSummary> {
    if !ctx.share.runs_whole(&ctx.spec.name)? {
        return Ok(RunSummary::default());
    }
    let path = ctx.store.outcome(OutcomeFile::Rl);
    if ctx.recorded::<RlRecord>(&path)?.is_some() {
        tracing::info!("rl: already recorded, skipped");
        return Ok(RunSummary { units_written: 0, units_skipped: 1 });
    }
    let mut summary = RunSummary::default();
    let mut runs = Vec::new();
    for &policy in &plan.policies {
        let mut missing = Vec::new();
        for seed in 0..plan.seeds {
            let part = run_path(ctx.store, policy, seed);
            let belongs = |r: &RlRun| r.policy == policy.name() && r.seed == seed && r.experiment == ctx.spec.name;
            match ctx.recorded_unit::<RlRun>(&part, belongs)? {
                Some(run) => {
                    summary.units_skipped += 1;
                    runs.push(run);
                }
                None => missing.push(seed),
            }
        }
        if missing.is_empty() {
            continue;
        }
        tracing::info!("rl {}: {} seeds in one program, {} ticks each", policy.name(), missing.len(), plan.ticks);
        let label = format!("rl {}", policy.name());
        let progress = ctx.progress_bar(plan.ticks as u64, &label);
        let checkpoints = ctx.checkpoints(&format!("rl-{}", policy.name()));
        let (outcomes, seconds, times) =
            run_program(plan, policy, ctx.spec.seed, &missing, ctx.device, &checkpoints, &progress)?;
        progress.finish_and_clear();
        tracing::info!(
            "rl {}: {seconds:.1} s, of which world {:.1} s, acting {:.1} s, learning {:.1} s",
            policy.name(),
            times.world,
            times.act,
            times.learn
        );
        let program = ProgramInfo { seconds, times, runs: missing.len(), provenance: ctx.provenance.clone() };
        for outcome in outcomes {
            let run = record(&ctx.spec.name, plan, policy, outcome, &program);
            tracing::info!(
                "rl {} seed {}: final average reward {:.3}, first above {} at batch {}",
                policy.name(),
                run.seed,
                run.final_average_reward,
                plan.reward_threshold,
                run.first_above_threshold_batch.map_or("never".to_string(), |b| b.to_string())
            );
            ctx.store.write_json(&run_path(ctx.store, policy, run.seed), &run)?;
            ctx.count_written();
            summary.units_written += 1;
            runs.push(run);
        }
        checkpoints.clear()?;
    }
    runs.sort_by(|a, b| (&a.policy, a.seed).cmp(&(&b.policy, b.seed)));
    let record = RlRecord { experiment: ctx.spec.name.clone(), runs, provenance: ctx.provenance.stamped() };
    ctx.store.write_json(&path, &record)?;
    Ok(summary)
}

/// Where the record of `policy`'s run on `seed` is kept.
pub fn run_path(store: &ExperimentStore, policy: RlPolicy, seed: usize) -> std::path::PathBuf {
    store.outcome_path("rl").join(format!("{}-{seed}.json", policy.name()))
}

/// How a program ran: its wall time, its number of runs, the provenance its records carry.
pub struct ProgramInfo {
    pub seconds: f64,
    pub times: TimeSplit,
    pub runs: usize,
    pub provenance: crate::results::Provenance,
}

/// The record of one run of `experiment`; a curve point is at tick (b + 1) x batch_ticks.
pub fn record(experiment: &str, plan: &RlPlan, policy: RlPolicy, outcome: RunOutcome, program: &ProgramInfo) -> RlRun {
    let first = outcome.curve.iter().position(|&r| r > plan.reward_threshold);
    RlRun {
        experiment: experiment.to_string(),
        policy: policy.name().to_string(),
        seed: outcome.seed,
        dropout: dropout_label(plan, policy),
        ticks: plan.ticks,
        burnin_ticks: plan.burnin_ticks,
        batch_ticks: plan.batch_ticks,
        reward_window: plan.reward_window,
        reward_threshold: plan.reward_threshold,
        first_above_threshold_tick: first.map(|b| (b + 1) * plan.batch_ticks),
        first_above_threshold_batch: first.map(|b| b + 1),
        final_average_reward: outcome.curve.last().copied().unwrap_or(f64::NAN),
        curve: outcome.curve,
        total_reward: outcome.total_reward,
        food_eaten: outcome.food_eaten,
        poison_eaten: outcome.poison_eaten,
        program_wall_seconds: program.seconds,
        program_times: program.times,
        program_runs: program.runs,
        provenance: program.provenance.stamped(),
    }
}
