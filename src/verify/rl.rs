//! Verifying the rl experiment: rerun a committed (policy, seed) run from scratch, alone,
//! with the saved spec and the record's thread count, and judge its scores against the
//! record. A run's streams are its seed's own, so alone it computes what it computed batched
//! with the other seeds (the bits too, where the batched matmuls round as the single ones do).
//! The tolerance of a score that is not identical is two standard deviations of that score
//! over the policy's other committed seeds.

use crate::results::outcome::OutcomeFile;
use std::sync::Arc;

use tch::Device;

use super::checks::{MetricCheck, UnitCheck};
use super::threads::{threads_of, with_threads};
use super::verdict::{judge, spread, tolerance, Verdict};
use crate::data::SetName;
use crate::error::{Error, Result};
use crate::models::checkpoint::NoCheckpoints;
use crate::protocol::rl::{record, ProgramInfo};
use crate::protocol::rl_program::run_program;
use crate::results::outcome::{RlRecord, RlRun};
use crate::results::ExperimentStore;
use crate::spec::raw::RlPolicy;
use crate::spec::{Experiment, RlPlan, Spec};

/// A committed rl experiment.
pub struct RlCommitted {
    pub experiment: String,
    pub spec: Arc<Spec>,
    pub plan: RlPlan,
    pub runs: Vec<RlRun>,
}

impl RlCommitted {
    /// The experiment's record, if it is an rl one and has its `outcomes/rl.json`.
    pub fn read(store: &ExperimentStore, name: &str, spec: &Arc<Spec>) -> Result<Option<RlCommitted>> {
        let Experiment::Rl(plan) = &spec.experiment else { return Ok(None) };
        let record = store.read_json::<RlRecord>(&store.outcome(OutcomeFile::Rl))?.ok_or_else(|| Error::Results {
            path: store.outcome(OutcomeFile::Rl),
            message: format!("experiment `{name}` has no rl.json yet: run it first"),
        })?;
        Ok(Some(RlCommitted {
            experiment: name.to_string(),
            spec: spec.clone(),
            plan: plan.clone(),
            runs: record.runs,
        }))
    }

    /// The runs to rerun, in order: seed 0 of each policy, then seed 1 of each, ...
    pub fn sample(&self) -> Vec<&RlRun> {
        let mut runs: Vec<&RlRun> = self.runs.iter().collect();
        runs.sort_by(|a, b| (a.seed, &a.policy).cmp(&(b.seed, &b.policy)));
        runs
    }

    /// Whether `--units` names `run`: the policy in the set's place, the seed in the split's
    /// (`thompson:0`).
    pub fn named_by(run: &RlRun, set: &SetName, split: usize) -> bool {
        run.policy == set.folder() && run.seed == split
    }

    /// Keeps only the runs `units` name.
    pub fn keep_named(&mut self, units: &[(SetName, usize)]) {
        self.runs.retain(|run| units.iter().any(|(set, split)| Self::named_by(run, set, *split)));
    }

    /// A rerun's cost: at most its program's (a program of one run does less work).
    pub fn cost(run: &RlRun) -> f64 {
        run.program_wall_seconds
    }

    pub fn label(&self, run: &RlRun) -> String {
        format!("{} rl {}:{}", self.experiment, run.policy, run.seed)
    }

    /// Reruns `run` and judges it.
    pub fn rerun(&self, run: &RlRun, device: Device) -> Result<UnitCheck> {
        let policy = match run.policy.as_str() {
            "thompson" => RlPolicy::Thompson,
            "epsilon_greedy" => RlPolicy::EpsilonGreedy,
            other => {
                return Err(Error::Results {
                    path: format!("results/{}/outcomes/rl.json", self.experiment).into(),
                    message: format!("unknown policy `{other}` in the record of seed {}", run.seed),
                })
            }
        };
        let began = std::time::Instant::now();
        let progress = indicatif::ProgressBar::hidden();
        let (outcomes, _, times) = with_threads(device, threads_of(&run.provenance.device), || {
            run_program(&self.plan, policy, self.spec.seed, &[run.seed], device, &NoCheckpoints, &progress)
        })?;
        let seconds = began.elapsed().as_secs_f64();
        let program = ProgramInfo { seconds, times, runs: 1, provenance: run.provenance.clone() };
        let rerun = scores(&record(&self.experiment, &self.plan, policy, outcomes[0].clone(), &program));
        let committed = scores(run);
        let others: Vec<&RlRun> = self.runs.iter().filter(|r| r.policy == run.policy && r.seed != run.seed).collect();
        let metrics: Vec<MetricCheck> = committed
            .iter()
            .zip(&rerun)
            .map(|((metric, value), (_, new))| {
                let spread_of: Vec<f64> = others
                    .iter()
                    .filter_map(|r| scores(r).into_iter().find(|(m, _)| m == metric).map(|(_, v)| v))
                    .filter(|v| v.is_finite())
                    .collect();
                let tol = tolerance(spread(&spread_of));
                MetricCheck {
                    metric: metric.to_string(),
                    committed: *value,
                    rerun: *new,
                    tolerance: tol,
                    seed_spread: None,
                    verdict: judge(*value, *new, tol),
                }
            })
            .collect();
        let verdict = metrics.iter().map(|m| m.verdict).max().unwrap_or(Verdict::Identical);
        Ok(UnitCheck {
            experiment: self.experiment.clone(),
            dataset: format!("rl {}", run.policy),
            split: run.seed,
            record_commit: run.provenance.git_commit.clone(),
            record_machine: run.provenance.machine(),
            second_seed: None,
            spec_changed: run.provenance.spec_sha256 != self.spec.sha256,
            program: vec![run.seed],
            same_grid_grouping: true,
            committed_hyper: Default::default(),
            rerun_hyper: Default::default(),
            metrics,
            verdict,
            estimated_seconds: Self::cost(run),
            seconds,
        })
    }
}

/// The scores verify compares: final reward, mean reward after burn-in, batches to the
/// threshold (NaN for never), total reward.
pub fn scores(run: &RlRun) -> Vec<(&'static str, f64)> {
    vec![
        ("final_average_reward", run.final_average_reward),
        ("reward_after_burnin", run.reward_after_burnin()),
        ("first_above_threshold_batch", run.first_above_threshold_batch.map_or(f64::NAN, |b| b as f64)),
        ("total_reward", run.total_reward),
    ]
}
