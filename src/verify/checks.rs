//! What a verification found: each rerun metric against its committed value, each rerun unit,
//! and the whole report, as the UCI and the rl reruns both write them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::verdict::Verdict;

/// One rerun metric against its committed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCheck {
    pub metric: String,
    pub committed: f64,
    pub rerun: f64,
    pub tolerance: f64,
    /// The unit's seed-to-seed deviation the tolerance came from, estimated by the program's
    /// rerun with a second seed; absent when every metric was identical, or when the budget
    /// had no room for the second seed and the tolerance came from the other splits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_spread: Option<f64>,
    pub verdict: Verdict,
}

/// One rerun unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitCheck {
    pub experiment: String,
    pub dataset: String,
    pub split: usize,
    /// The commit the committed record says it came from.
    pub record_commit: String,
    /// CPU and numerics the record was made with (`Provenance::machine`).
    #[serde(default)]
    pub record_machine: String,
    /// The seed of the program's second rerun, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_seed: Option<u64>,
    /// Whether the record was made from another version of the spec than the saved one.
    pub spec_changed: bool,
    /// The splits rerun together with it (its recorded final program).
    pub program: Vec<usize>,
    /// Whether the rerun grouped the grid search as the record's run did; when it did not,
    /// expect `consistent` rather than `identical`.
    pub same_grid_grouping: bool,
    pub committed_hyper: BTreeMap<String, f64>,
    pub rerun_hyper: BTreeMap<String, f64>,
    pub metrics: Vec<MetricCheck>,
    /// The worst verdict over the metrics (and `inconsistent` when the rerun chose other
    /// hyper-parameters and a metric left the tolerance).
    pub verdict: Verdict,
    /// Recorded cost and measured time of its program's rerun.
    pub estimated_seconds: f64,
    pub seconds: f64,
}

/// Everything a verification did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub started: String,
    /// The commit this binary was built from.
    pub head_commit: String,
    pub device: String,
    /// This machine's CPU and numerics mode (`Provenance::machine`).
    #[serde(default)]
    pub machine: String,
    pub budget_seconds: f64,
    pub experiments: Vec<String>,
    pub units: Vec<UnitCheck>,
    /// Programs of the sample left out because the budget ran out, as `experiment set:splits`.
    pub not_run: Vec<String>,
    /// Experiments that cannot be verified by rerunning units, with why.
    pub skipped: Vec<String>,
    /// Recorded seconds scaled to this machine: measured time / recorded time of the reruns.
    pub machine_factor: f64,
}

impl VerifyReport {
    /// The worst verdict of any unit (`identical` when none ran).
    pub fn verdict(&self) -> Verdict {
        self.units.iter().map(|u| u.verdict).max().unwrap_or(Verdict::Identical)
    }
}
