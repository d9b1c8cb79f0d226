//! The rl experiment (section 5.4): smoke-rl end to end through the CLI (records, table,
//! figure, export, summary), the same seed giving the same curve, and a program killed after a
//! checkpoint continuing to exactly the numbers of an uninterrupted one.

use std::sync::Mutex;

use crate::common;

use mcdrop::error::{Error, Result};
use mcdrop::models::checkpoint::{Checkpoints, NoCheckpoints};
use mcdrop::protocol::rl_program::run_program;
use mcdrop::results::outcome::RlRecord;
use mcdrop::spec::raw::RlPolicy;
use mcdrop::spec::{Experiment, RlPlan};
use predicates::prelude::*;
use tch::Device;

fn smoke_plan() -> RlPlan {
    let spec = mcdrop::spec::load(&common::repo_file("experiments/smoke-rl.yaml")).unwrap();
    match spec.experiment {
        Experiment::Rl(plan) => plan,
        _ => panic!("smoke-rl is an rl spec"),
    }
}

fn run_smoke(dir: &std::path::Path) -> RlRecord {
    common::mcdrop(dir)
        .args(["run", "--results-dir", "results"])
        .arg(common::repo_file("experiments/smoke-rl.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-rl: 8 unit(s) written"));
    let text = std::fs::read_to_string(dir.join("results/smoke-rl/outcomes/rl.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn smoke_rl_records_every_run_and_draws_the_table_and_figure() {
    let dir = tempfile::tempdir().unwrap();
    let record = run_smoke(dir.path());
    assert_eq!(record.runs.len(), 8);
    for run in &record.runs {
        assert_eq!(run.curve.len(), 12, "one point per 500 ticks");
        assert!(run.curve.iter().all(|r| r.is_finite() && *r > -7.0 && *r < 6.0), "{:?}", run.curve);
        assert_eq!(run.final_average_reward, *run.curve.last().unwrap());
        assert_eq!(run.dropout, if run.policy == "thompson" { "every_layer p=0.1" } else { "none" });
        assert_eq!(run.first_above_threshold_batch.map(|b| b * 500), run.first_above_threshold_tick);
    }
    // Each per-run record is on disk too.
    assert!(dir.path().join("results/smoke-rl/outcomes/rl/thompson-3.json").is_file());
    common::mcdrop(dir.path())
        .args(["table", "--results-dir", "results", "smoke-rl"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| thompson | every_layer p=0.1 | 4 |"))
        .stdout(predicate::str::contains("| epsilon-greedy | none | 4 |"))
        .stdout(predicate::str::contains("paired seeds"));
    common::mcdrop(dir.path()).args(["plot", "--results-dir", "results", "smoke-rl"]).assert().success();
    for ext in ["png", "svg"] {
        let figure = dir.path().join(format!("results/smoke-rl/figures/rl-reward.{ext}"));
        assert!(std::fs::metadata(&figure).unwrap().len() > 1000, "{}", figure.display());
    }
    let export = common::mcdrop(dir.path()).args(["export", "--results-dir", "results", "smoke-rl"]).output().unwrap();
    let rows = common::csv_rows(&String::from_utf8_lossy(&export.stdout));
    assert_eq!(rows.len(), 8);
    assert!(rows
        .iter()
        .all(|r| r["dataset"] == "rl" && ["thompson", "epsilon_greedy"].contains(&r["policy"].as_str())));
    common::mcdrop(dir.path())
        .args(["summary", "--results-dir", "results", "smoke-rl"])
        .assert()
        .success()
        .stdout(predicate::str::contains("thompson").and(predicate::str::contains("paired seeds")));
    // verify reruns single seeds alone: the same bits as the batched program's. The runs are
    // named (policy:seed), not sampled by a time budget, which a loaded machine would shrink.
    common::mcdrop(dir.path())
        .args(["verify", "--results-dir", "results", "smoke-rl", "--units", "thompson:0,epsilon_greedy:1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| smoke-rl | rl thompson | 0 | final_average_reward |"))
        .stdout(predicate::str::contains("| smoke-rl | rl epsilon_greedy | 1 | final_average_reward |"))
        .stdout(predicate::str::contains("| smoke-rl | rl epsilon_greedy | 0 |").not())
        .stdout(predicate::str::contains("| smoke-rl | rl thompson | 1 |").not())
        .stdout(predicate::str::contains("Overall verdict: **identical**"));
    common::mcdrop(dir.path())
        .args(["verify", "--results-dir", "results", "smoke-rl", "--units", "thompson:9"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--units thompson:9: no committed record of that unit in smoke-rl"));
    // A rerun finds every unit recorded.
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results"])
        .arg(common::repo_file("experiments/smoke-rl.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("0 unit(s) written"));
}

#[test]
fn the_same_seed_gives_the_same_curve_and_seeds_differ() {
    let mut plan = smoke_plan();
    plan.ticks = 2000;
    let progress = indicatif::ProgressBar::hidden();
    let run = |seeds: &[usize]| {
        run_program(&plan, RlPolicy::Thompson, 11, seeds, Device::Cpu, &NoCheckpoints, &progress).unwrap().0
    };
    let (a, b) = (run(&[0, 1]), run(&[0, 1]));
    assert_eq!(a, b);
    assert_ne!(a[0].curve, a[1].curve);
}

/// A store that keeps the last checkpoint in memory, takes one whenever asked, and fails
/// the run right after its first save (a process killed just after writing a checkpoint).
struct KilledAfterCheckpoint {
    saved: Mutex<Option<Vec<u8>>>,
    kill: bool,
}

impl Checkpoints for KilledAfterCheckpoint {
    fn load(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.saved.lock().unwrap().clone())
    }
    fn due(&self) -> bool {
        self.kill
    }
    fn save(&self, bytes: &[u8]) -> Result<()> {
        *self.saved.lock().unwrap() = Some(bytes.to_vec());
        Err(Error::Report("killed".into()))
    }
}

#[test]
fn a_program_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one() {
    let mut plan = smoke_plan();
    plan.ticks = 2500;
    let progress = indicatif::ProgressBar::hidden();
    for policy in [RlPolicy::Thompson, RlPolicy::EpsilonGreedy] {
        let whole = run_program(&plan, policy, 11, &[0, 2], Device::Cpu, &NoCheckpoints, &progress).unwrap().0;
        let mut store = KilledAfterCheckpoint { saved: Mutex::new(None), kill: true };
        // Killed at the first batch boundary (tick 500); the learning from tick 503 on runs after the resume.
        assert!(run_program(&plan, policy, 11, &[0, 2], Device::Cpu, &store, &progress).is_err());
        assert!(store.saved.lock().unwrap().is_some());
        store.kill = false;
        let resumed = run_program(&plan, policy, 11, &[0, 2], Device::Cpu, &store, &progress).unwrap().0;
        assert_eq!(resumed, whole, "{policy:?}");
    }
}
