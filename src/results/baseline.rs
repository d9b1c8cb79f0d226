//! Regression baselines and the statistical test `mcdrop check` applies to them.
//!
//! A check runs each small spec with `SEEDS_PER_CHECK` seeds none of the baseline's used and
//! takes, per (dataset, metric), the median over those runs of the metric's mean over splits.
//! A baseline holds the mean and standard deviation of that same statistic over `groups`
//! groups of as many seeds. Under "the code did not move results beyond seed noise" the
//! check's median is one more draw of it, so `(x - mean) / (sd * sqrt(1 + 1/groups))` follows
//! Student's t with groups - 1 degrees of freedom for a roughly normal statistic. The median is
//! why it is: single runs of these metrics have heavy tails (a GP restart that lands in another
//! optimum, a CO2 coverage one point short), which tripped a one-seed check in 6 of 15
//! seed-shifted runs; the median of three ignores one such run and shrinks the rest. A metric
//! fails beyond the t quantile at `1 - alpha / (2 M)`, M the metrics of every committed
//! baseline: by Bonferroni the chance that a harmless change fails any metric of the whole
//! check is at most `alpha`, however the metrics are correlated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::UnitRecord;

/// The family-wise false-alarm level of one whole `mcdrop check`.
pub const FAMILYWISE_ALPHA: f64 = 0.05;

/// Baseline seeds are `spec.seed + BASELINE_SEED_OFFSET + i`: far from the seeds a check runs,
/// so the runs judged are never ones the baseline averaged.
pub const BASELINE_SEED_OFFSET: u64 = 1000;

/// Runs per check whose median is compared.
pub const SEEDS_PER_CHECK: usize = 3;

/// A check with `--seed-offset K` runs seeds `spec.seed + K + j * CHECK_SEED_STRIDE`,
/// j < SEEDS_PER_CHECK: offsets 0..99 give disjoint sets of seeds.
pub const CHECK_SEED_STRIDE: u64 = 100;

/// A spread below this share of the metric's size counts as no spread: the metric does not
/// depend on the seed (a GP's deterministic fit), and only float drift may move it.
pub const RELATIVE_FLOOR: f64 = 1e-6;

/// How thresholds are derived, written into every baseline file next to the numbers.
pub const TOLERANCE_RULE: &str = "per metric, the median over 3 seeds of its mean over splits; mean and sd of that median \
over the baseline's groups of 3 seeds; a check (3 other seeds) passes when |median - mean| <= q * sd * sqrt(1 + 1/groups), \
q the Student t (groups - 1 df) quantile at 1 - 0.05 / (2 M), M the metrics of all committed baselines (Bonferroni: a \
harmless change fails any metric of the whole check with chance <= 5 %); sd never below the smallest step between two \
seeds' values (discrete metrics) nor 1e-6 x |mean| (a metric that does not move with the seed still allows float drift)";

/// `results/baselines/<experiment>.json`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub experiment: String,
    /// The spec file, relative to the repository root.
    pub spec: String,
    pub spec_sha256: String,
    /// The seeds of the runs the means and spreads come from, `seeds_per_check` to a group.
    pub seeds: Vec<u64>,
    pub seeds_per_check: usize,
    pub tolerance_rule: String,
    pub metrics: Vec<BaselineMetric>,
    pub git_commit: String,
    pub written_at: String,
    /// Numerics mode, CPU and thread count of the runs (`Provenance::machine`).
    pub machine: String,
    pub threads: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineMetric {
    pub dataset: String,
    pub metric: String,
    /// Mean over the groups of the median over a group's seeds of the metric's mean over splits.
    pub mean: f64,
    /// Standard deviation (n - 1) of that median over the groups.
    pub seed_spread: f64,
    /// The smallest non-zero difference between two seeds' values (a discrete metric's step).
    pub step: f64,
    /// Smallest and largest value a single seed gave.
    pub min: f64,
    pub max: f64,
}

/// Record metrics the check leaves out: PBP's learned prior scale is a fitted diagnostic whose
/// seed distribution has a long tail (docs/verifying.md, "False alarms"); a regression in it
/// shows in the RMSE and test LL, which are checked.
pub const UNCHECKED_METRICS: &[&str] = &["prior_std"];

/// (dataset, metric) -> mean over the records' splits, for every checked metric.
pub fn means(records: &[UnitRecord]) -> BTreeMap<(String, String), f64> {
    let mut sums: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    for r in records {
        for (metric, value) in r.metrics.iter().filter(|(m, _)| !UNCHECKED_METRICS.contains(&m.as_str())) {
            let entry = sums.entry((r.dataset.to_string(), metric.clone())).or_insert((0.0, 0));
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

/// (policy, metric) for the rl experiment, each a mean over seeds: the curve's last point
/// (`final_reward`) and its mean after burn-in (`reward_after_burnin`, the area under the
/// learning curve, which moves with how fast a policy learns).
pub fn rl_means(r: &super::outcome::RlRecord) -> BTreeMap<(String, String), f64> {
    let mut sums: BTreeMap<(String, String), (f64, usize)> = BTreeMap::new();
    for run in &r.runs {
        for (metric, value) in
            [("final_reward", run.final_average_reward), ("reward_after_burnin", run.reward_after_burnin())]
        {
            let slot = sums.entry((run.policy.clone(), metric.to_string())).or_insert((0.0, 0));
            slot.0 += value;
            slot.1 += 1;
        }
    }
    sums.into_iter().map(|(key, (sum, n))| (key, sum / n as f64)).collect()
}

/// Median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Per (dataset, metric), the median over runs of one check's seeds; metrics every run gave.
pub fn medians(runs: &[BTreeMap<(String, String), f64>]) -> BTreeMap<(String, String), f64> {
    runs[0]
        .keys()
        .filter_map(|key| {
            let values: Vec<f64> = runs.iter().filter_map(|r| r.get(key).copied()).collect();
            (values.len() == runs.len()).then(|| (key.clone(), median(&values)))
        })
        .collect()
}

/// Baseline metrics from per-seed means, `per_group` consecutive seeds to a group: every
/// metric the first seed produced.
pub fn metrics_from_seeds(per_seed: &[BTreeMap<(String, String), f64>], per_group: usize) -> Vec<BaselineMetric> {
    let groups: Vec<BTreeMap<(String, String), f64>> = per_seed.chunks(per_group.max(1)).map(medians).collect();
    per_seed[0]
        .keys()
        .map(|key| {
            let (dataset, metric) = key;
            let raw: Vec<f64> = per_seed.iter().filter_map(|m| m.get(key).copied()).collect();
            let values: Vec<f64> = groups.iter().filter_map(|m| m.get(key).copied()).collect();
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let spread = if values.len() > 1 {
                (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                0.0
            };
            let mut sorted = raw;
            sorted.sort_by(f64::total_cmp);
            let step = sorted.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0.0).reduce(f64::min).unwrap_or(0.0);
            BaselineMetric {
                dataset: dataset.clone(),
                metric: metric.clone(),
                mean,
                seed_spread: spread,
                step,
                min: sorted.first().copied().unwrap_or(f64::NAN),
                max: sorted.last().copied().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

/// The multiple of a metric's predictive spread beyond which one run of `m` metrics checked
/// together, each against a baseline of `seeds` runs, fails.
pub fn threshold(seeds: usize, metrics: usize) -> f64 {
    let df = seeds.saturating_sub(1).max(1) as f64;
    let level = 1.0 - FAMILYWISE_ALPHA / (2.0 * metrics.max(1) as f64);
    StudentsT::new(0.0, 1.0, df).expect("df >= 1 is a valid t distribution").inverse_cdf(level)
}

impl Baseline {
    /// Groups of `seeds_per_check` seeds the means and spreads are over.
    pub fn groups(&self) -> usize {
        self.seeds.len() / self.seeds_per_check.max(1)
    }
}

/// One line of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    pub dataset: String,
    pub metric: String,
    pub mean: f64,
    /// `None` when the rerun no longer produces the metric.
    pub now: Option<f64>,
    /// The largest |now - mean| that passes.
    pub tolerance: f64,
    /// (now - mean) over the predictive spread sd * sqrt(1 + 1/n).
    pub deviations: Option<f64>,
    pub pass: bool,
}

/// Compares a check's medians with the baseline, each metric against `q` predictive spreads
/// (`threshold`); a missing or non-finite metric fails.
pub fn compare(baseline: &Baseline, now: &BTreeMap<(String, String), f64>, q: f64) -> Vec<CheckRow> {
    let n = baseline.groups().max(1) as f64;
    baseline
        .metrics
        .iter()
        .map(|m| {
            let value = now.get(&(m.dataset.clone(), m.metric.clone())).copied();
            let spread = m.seed_spread.max(m.step).max(RELATIVE_FLOOR * m.mean.abs()).max(f64::MIN_POSITIVE);
            let predictive = spread * (1.0 + 1.0 / n).sqrt();
            let deviations = value.map(|v| (v - m.mean) / predictive);
            let pass = deviations.is_some_and(|d| d.is_finite() && d.abs() <= q);
            CheckRow {
                dataset: m.dataset.clone(),
                metric: m.metric.clone(),
                mean: m.mean,
                now: value,
                tolerance: q * predictive,
                deviations,
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

    fn baseline(metrics: Vec<BaselineMetric>, seeds: usize) -> Baseline {
        Baseline {
            experiment: "e".into(),
            spec: "s".into(),
            spec_sha256: "h".into(),
            seeds: (0..seeds as u64).collect(),
            seeds_per_check: 1,
            tolerance_rule: TOLERANCE_RULE.into(),
            metrics,
            git_commit: "c".into(),
            written_at: "t".into(),
            machine: "m".into(),
            threads: 1,
        }
    }

    #[test]
    fn metrics_are_the_seeds_mean_and_spread() {
        let seeds = vec![
            BTreeMap::from([(key("yacht", "rmse"), 1.0)]),
            BTreeMap::from([(key("yacht", "rmse"), 1.2)]),
            BTreeMap::from([(key("yacht", "rmse"), 0.8)]),
        ];
        let m = &metrics_from_seeds(&seeds, 1)[0];
        assert!((m.mean - 1.0).abs() < 1e-12);
        assert!((m.seed_spread - 0.2).abs() < 1e-12);
        assert_eq!((m.min, m.max), (0.8, 1.2));
        assert!((m.step - 0.2).abs() < 1e-12);
    }

    #[test]
    fn groups_are_summarized_by_their_median() {
        let runs: Vec<_> =
            [1.0, 9.0, 2.0, 3.0, 4.0, 100.0].iter().map(|&v| BTreeMap::from([(key("gp", "ll"), v)])).collect();
        assert_eq!(medians(&runs[..3])[&key("gp", "ll")], 2.0, "one wild run does not move the median");
        let m = &metrics_from_seeds(&runs, 3)[0];
        assert_eq!(m.mean, 3.0, "the medians 2 and 4");
        assert!((m.seed_spread - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!((m.min, m.max, m.step), (1.0, 100.0, 1.0));
        assert_eq!(median(&[3.0, 1.0]), 2.0);
    }

    #[test]
    fn the_threshold_is_the_bonferroni_t_quantile() {
        // t with 9 df: the two-sided 5 % point is 2.262 (tables); Bonferroni over 80 metrics
        // asks for the 1 - 0.05/160 quantile, near 5.0.
        assert!((threshold(10, 1) - 2.2622).abs() < 1e-3, "{}", threshold(10, 1));
        let q80 = threshold(10, 80);
        assert!(q80 > 4.8 && q80 < 5.3, "{q80}");
        assert!(threshold(20, 80) < q80, "more seeds, a sharper test");
    }

    fn metric(dataset: &str, name: &str, mean: f64, seed_spread: f64) -> BaselineMetric {
        BaselineMetric {
            dataset: dataset.into(),
            metric: name.into(),
            mean,
            seed_spread,
            step: 0.0,
            min: mean - 2.0 * seed_spread,
            max: mean + 2.0 * seed_spread,
        }
    }

    #[test]
    fn compare_flags_a_move_beyond_the_threshold_and_missing_metrics() {
        let b = baseline(vec![metric("yacht", "rmse", 1.0, 0.1)], 10);
        let q = threshold(10, 1);
        let predictive = 0.1 * 1.1f64.sqrt();
        let at = |x: f64| compare(&b, &BTreeMap::from([(key("yacht", "rmse"), x)]), q)[0].clone();
        assert!(at(1.0 + 0.99 * q * predictive).pass);
        assert!(!at(1.0 + 1.01 * q * predictive).pass);
        assert!(!at(1.0 - 1.01 * q * predictive).pass);
        assert!(!at(f64::NAN).pass);
        assert!((at(1.0 + predictive).deviations.unwrap() - 1.0).abs() < 1e-9);
        assert!(!compare(&b, &BTreeMap::new(), q)[0].pass, "a metric that disappears fails");
    }

    #[test]
    fn a_metric_without_seed_spread_allows_only_float_drift() {
        let b = baseline(vec![metric("gp", "heldout_rmse", 18.0, 0.0)], 10);
        let q = threshold(10, 1);
        let at = |x: f64| compare(&b, &BTreeMap::from([(key("gp", "heldout_rmse"), x)]), q)[0].pass;
        assert!(at(18.0 + 1e-9));
        assert!(!at(18.001));
    }
}
