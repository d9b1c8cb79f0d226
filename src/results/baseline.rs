//! Regression baselines: the metrics a small spec produced when its baseline was recorded,
//! with a tolerance per metric taken from how much the metric moves when only the seed
//! changes. `mcdrop check` reruns the spec and fails when a metric moved further than that.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UnitRecord;

/// How tolerances are derived, written into every baseline file next to the numbers.
pub const TOLERANCE_RULE: &str = "tolerance = 4 x the standard deviation, across the recorded seeds, of the metric's mean over splits \
(a code change that moves a metric further than four seed-to-seed deviations fails); never below 1e-4 x |value| (so a metric that does not move with the seed, like a GP's, still allows float drift between machines)";

/// `results/baselines/<experiment>.json`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub experiment: String,
    /// The spec file, relative to the repository root.
    pub spec: String,
    pub spec_sha256: String,
    /// Seeds whose spread set the tolerances; the first is the spec's own (the values).
    pub seeds: Vec<u64>,
    pub tolerance_rule: String,
    pub metrics: Vec<BaselineMetric>,
    pub git_commit: String,
    pub written_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineMetric {
    pub dataset: String,
    pub metric: String,
    /// Mean over splits with the spec's seed.
    pub value: f64,
    /// Standard deviation of that mean across `seeds`.
    pub seed_spread: f64,
    pub tolerance: f64,
}

/// (dataset, metric) -> mean over the records' splits.
pub fn means(records: &[UnitRecord]) -> BTreeMap<(String, String), f64> {
    let mut sums: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    for r in records {
        for (metric, value) in &r.metrics {
            let entry = sums.entry((r.dataset.clone(), metric.clone())).or_insert((0.0, 0));
            entry.0 += value;
            entry.1 += 1;
        }
    }
    sums.into_iter().map(|(key, (sum, n))| (key, sum / n as f64)).collect()
}

/// (`mnist`, metric) for the test-set scores of both predictions: `standard_accuracy`,
/// `mc_nll`, ... (what `check` compares for an MNIST spec).
pub fn mnist_means(e: &super::outcome::MnistEvaluation) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    for (method, s) in [("standard", &e.standard.scores), ("mc", &e.mc.scores)] {
        for (name, value) in [("accuracy", s.accuracy), ("nll", s.nll), ("brier", s.brier), ("ece", s.ece)] {
            out.insert(("mnist".to_string(), format!("{method}_{name}")), value);
        }
    }
    out
}

/// (model, metric) for every CO2 model's held-out scores.
pub fn co2_means(r: &super::outcome::Co2Record) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    for m in &r.models {
        let key = m.name.to_string().replace(' ', "_").replace(['(', ')'], "");
        out.insert((key.clone(), "heldout_rmse".to_string()), m.heldout_rmse);
        if let Some(ll) = m.heldout_ll {
            out.insert((key.clone(), "heldout_ll".to_string()), ll);
        }
        if let Some(c) = m.heldout_coverage95 {
            out.insert((key, "heldout_coverage95".to_string()), c);
        }
    }
    out
}

/// Baseline metrics from the per-seed means; `per_seed[0]` is the spec's own seed.
pub fn metrics_from_seeds(per_seed: &[BTreeMap<(String, String), f64>]) -> Vec<BaselineMetric> {
    per_seed[0]
        .iter()
        .map(|((dataset, metric), &value)| {
            let values: Vec<f64> =
                per_seed.iter().filter_map(|m| m.get(&(dataset.clone(), metric.clone())).copied()).collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let spread = if values.len() > 1 {
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
            } else {
                0.0
            };
            BaselineMetric {
                dataset: dataset.clone(),
                metric: metric.clone(),
                value,
                seed_spread: spread,
                tolerance: (4.0 * spread).max(1e-4 * value.abs()),
            }
        })
        .collect()
}

/// One line of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    pub dataset: String,
    pub metric: String,
    pub baseline: f64,
    /// `None` when the rerun no longer produces the metric.
    pub now: Option<f64>,
    pub tolerance: f64,
    pub pass: bool,
}

/// Compares a rerun's means with the baseline; a missing or non-finite metric fails.
pub fn compare(baseline: &Baseline, now: &BTreeMap<(String, String), f64>) -> Vec<CheckRow> {
    baseline
        .metrics
        .iter()
        .map(|m| {
            let value = now.get(&(m.dataset.clone(), m.metric.clone())).copied();
            let pass = value.is_some_and(|v| v.is_finite() && (v - m.value).abs() <= m.tolerance);
            CheckRow {
                dataset: m.dataset.clone(),
                metric: m.metric.clone(),
                baseline: m.value,
                now: value,
                tolerance: m.tolerance,
                pass,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(d: &str, m: &str) -> (String, String) {
        (d.to_string(), m.to_string())
    }

    #[test]
    fn tolerance_is_four_seed_deviations_and_compare_flags_drift() {
        let seeds = vec![
            BTreeMap::from([(key("yacht", "rmse"), 1.0)]),
            BTreeMap::from([(key("yacht", "rmse"), 1.2)]),
            BTreeMap::from([(key("yacht", "rmse"), 0.8)]),
        ];
        let metrics = metrics_from_seeds(&seeds);
        assert_eq!(metrics[0].value, 1.0);
        assert!((metrics[0].seed_spread - 0.2).abs() < 1e-12);
        assert!((metrics[0].tolerance - 0.8).abs() < 1e-12);
        let baseline = Baseline {
            experiment: "e".into(),
            spec: "s".into(),
            spec_sha256: "h".into(),
            seeds: vec![1, 2, 3],
            tolerance_rule: TOLERANCE_RULE.into(),
            metrics,
            git_commit: "c".into(),
            written_at: "t".into(),
        };
        assert!(compare(&baseline, &BTreeMap::from([(key("yacht", "rmse"), 1.7)]))[0].pass);
        assert!(!compare(&baseline, &BTreeMap::from([(key("yacht", "rmse"), 1.9)]))[0].pass);
        assert!(!compare(&baseline, &BTreeMap::from([(key("yacht", "rmse"), f64::NAN)]))[0].pass);
        assert!(!compare(&baseline, &BTreeMap::new())[0].pass, "a metric that disappears fails");
    }
}
