//! The rl experiment's table and verdict (paper section 5.4): per policy, how many batches
//! each seed took to first exceed the reward threshold (median and quartiles over seeds,
//! beside the paper's 25 and 175), its final reward, and whether Thompson sampling got there
//! sooner than epsilon-greedy, judged over paired seeds (a seed's two runs share their room
//! and first weights) by a sign test and a bootstrap interval of the median difference.

use super::render::Table;
use crate::results::outcome::{RlRecord, RlRun};
use crate::rng::{below, member_rng};

/// Batches to average reward 1 in the paper (section 5.4).
pub const PAPER_THOMPSON_BATCHES: usize = 25;
pub const PAPER_EPSILON_GREEDY_BATCHES: usize = 175;

/// Bootstrap resamples, and the fixed seed that makes the interval reproducible.
const RESAMPLES: usize = 10_000;
const BOOTSTRAP_SEED: u64 = 54;

/// Batches to the threshold, a run that never got there counted as one batch past its end
/// (so it ranks after every run that did; medians and quartiles say `>` for such values).
pub fn batches_to_threshold(run: &RlRun) -> f64 {
    run.first_above_threshold_batch.unwrap_or(run.batch_past_end()) as f64
}

/// One policy's runs, by seed.
pub fn runs_of<'a>(record: &'a RlRecord, policy: &str) -> Vec<&'a RlRun> {
    let mut runs: Vec<&RlRun> = record.runs.iter().filter(|r| r.policy == policy).collect();
    runs.sort_by_key(|r| r.seed);
    runs
}

/// One policy's runs (by seed) and what the table and `mcdrop summary` say of them, computed
/// once for both.
pub struct PolicyRuns<'a> {
    pub runs: Vec<&'a RlRun>,
    /// Each run's batches to the threshold (`batches_to_threshold`).
    pub to_threshold: Vec<f64>,
    /// One past the runs' last batch: what a run that never crossed counts as.
    pub cap: f64,
    /// Runs that crossed the threshold.
    pub reached: usize,
    /// The mean over runs of the final average reward, and its standard error (NaN for one
    /// run).
    pub final_mean: f64,
    pub final_se: f64,
}

impl<'a> PolicyRuns<'a> {
    /// `policy`'s runs in `record`; `None` when it has none.
    pub fn of(record: &'a RlRecord, policy: &str) -> Option<Self> {
        let runs = runs_of(record, policy);
        let first = runs.first()?;
        let cap = first.batch_past_end() as f64;
        let to_threshold: Vec<f64> = runs.iter().map(|r| batches_to_threshold(r)).collect();
        let reached = runs.iter().filter(|r| r.first_above_threshold_batch.is_some()).count();
        let finals: Vec<f64> = runs.iter().map(|r| r.final_average_reward).collect();
        let final_mean = finals.iter().sum::<f64>() / finals.len() as f64;
        let final_se = if finals.len() > 1 {
            (finals.iter().map(|f| (f - final_mean).powi(2)).sum::<f64>() / (finals.len() - 1) as f64).sqrt()
                / (finals.len() as f64).sqrt()
        } else {
            f64::NAN
        };
        Some(Self { runs, to_threshold, cap, reached, final_mean, final_se })
    }

    /// The first run (every run of a policy shares its settings).
    pub fn first(&self) -> &'a RlRun {
        self.runs[0]
    }

    /// The q-quantile over runs of the batches to the threshold, as a table prints it.
    pub fn batches_at(&self, q: f64) -> String {
        batches(quantile(&self.to_threshold, q), self.cap)
    }
}

/// The q-quantile of `values` (linear between order statistics).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let at = q * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

/// Two-sided sign test: the probability, with no difference between the policies, of a split
/// of `n` untied pairs at least as lopsided as `wins` against `n - wins`.
pub fn sign_test(wins: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let k = wins.min(n - wins);
    let mut tail = 0.0;
    let mut choose = 1.0f64;
    for i in 0..=k {
        if i > 0 {
            choose *= (n - i + 1) as f64 / i as f64;
        }
        tail += choose;
    }
    (2.0 * tail / 2f64.powi(n as i32)).min(1.0)
}

/// A 95 % percentile-bootstrap interval of the median of `values`, seeds resampled.
pub fn bootstrap_median_interval(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = member_rng(BOOTSTRAP_SEED);
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let sample: Vec<f64> = (0..values.len()).map(|_| values[below(&mut rng, values.len())]).collect();
            quantile(&sample, 0.5)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    (quantile(&medians, 0.025), quantile(&medians, 0.975))
}

/// The paired comparison of the two policies over the seeds both ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub pairs: usize,
    /// Seeds where Thompson sampling crossed first, where epsilon-greedy did, and ties.
    pub thompson_sooner: usize,
    pub greedy_sooner: usize,
    pub ties: usize,
    pub sign_p: f64,
    /// Median over seeds of (epsilon-greedy's batches - Thompson's), and its 95 % interval.
    pub median_difference: f64,
    pub interval: (f64, f64),
}

impl Comparison {
    pub fn of(record: &RlRecord) -> Option<Comparison> {
        let (thompson, greedy) = (runs_of(record, "thompson"), runs_of(record, "epsilon_greedy"));
        let pairs: Vec<(f64, f64)> = thompson
            .iter()
            .filter_map(|t| {
                greedy.iter().find(|g| g.seed == t.seed).map(|g| (batches_to_threshold(t), batches_to_threshold(g)))
            })
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let differences: Vec<f64> = pairs.iter().map(|(t, g)| g - t).collect();
        let thompson_sooner = differences.iter().filter(|&&d| d > 0.0).count();
        let greedy_sooner = differences.iter().filter(|&&d| d < 0.0).count();
        Some(Comparison {
            pairs: pairs.len(),
            thompson_sooner,
            greedy_sooner,
            ties: pairs.len() - thompson_sooner - greedy_sooner,
            sign_p: sign_test(thompson_sooner, thompson_sooner + greedy_sooner),
            median_difference: quantile(&differences, 0.5),
            interval: bootstrap_median_interval(&differences),
        })
    }

    /// `Thompson sooner`, `epsilon-greedy sooner`, or `no clear difference`: sooner only when
    /// the sign test rejects at 5 % and the interval excludes 0.
    pub fn verdict(&self) -> &'static str {
        if self.sign_p < 0.05 && self.interval.0 > 0.0 {
            "Thompson sooner"
        } else if self.sign_p < 0.05 && self.interval.1 < 0.0 {
            "epsilon-greedy sooner"
        } else {
            "no clear difference"
        }
    }

    pub fn sentence(&self) -> String {
        format!(
            "{}: over {} paired seeds Thompson sampling crossed first on {}, epsilon-greedy on {}, {} tied (sign test p = {:.3}); median difference (epsilon-greedy - Thompson) {:.1} batches, 95 % bootstrap interval [{:.1}, {:.1}]",
            self.verdict(),
            self.pairs,
            self.thompson_sooner,
            self.greedy_sooner,
            self.ties,
            self.sign_p,
            self.median_difference,
            self.interval.0,
            self.interval.1
        )
    }
}

/// A batch count, `>N` for a run that never crossed (`cap` is one past the run's last batch).
pub fn batches(value: f64, cap: f64) -> String {
    if value >= cap {
        format!(">{}", cap as usize - 1)
    } else {
        format!("{value:.0}")
    }
}

/// One row per policy, the comparison in the title.
pub fn rl_table(experiment: &str, record: &RlRecord, profile: &str) -> Table {
    let header = [
        "Policy",
        "Dropout",
        "Seeds",
        "Seeds above threshold",
        "Batches to threshold: median [quartiles]",
        "After burn-in: median",
        "Paper",
        "Final average reward: mean ± se",
        "Food / poison eaten per run",
    ];
    let mut rows = Vec::new();
    let mut burnin_note = String::new();
    for policy in ["thompson", "epsilon_greedy"] {
        let Some(p) = PolicyRuns::of(record, policy) else { continue };
        let first = p.first();
        let burnin = first.burnin_points() as f64;
        burnin_note = format!(
            "a batch is {} ticks, burn-in {} batches, threshold {}, {} ticks per run",
            first.batch_ticks, burnin, first.reward_threshold, first.ticks
        );
        let per_run = |f: fn(&RlRun) -> usize| p.runs.iter().map(|r| f(r) as f64).sum::<f64>() / p.runs.len() as f64;
        let median = quantile(&p.to_threshold, 0.5);
        let after = if median >= p.cap { batches(median, p.cap) } else { format!("{:.0}", median - burnin) };
        let paper = if policy == "thompson" { PAPER_THOMPSON_BATCHES } else { PAPER_EPSILON_GREEDY_BATCHES };
        rows.push(vec![
            policy.replace('_', "-"),
            first.dropout.clone(),
            p.runs.len().to_string(),
            p.reached.to_string(),
            format!("{} [{}, {}]", p.batches_at(0.5), p.batches_at(0.25), p.batches_at(0.75)),
            after,
            paper.to_string(),
            format!("{:.3} ± {:.3}", p.final_mean, p.final_se),
            format!("{:.1} / {:.1}", per_run(|r| r.food_eaten), per_run(|r| r.poison_eaten)),
        ]);
    }
    let comparison = Comparison::of(record).map_or("one policy only: no comparison".to_string(), |c| c.sentence());
    let title = format!(
        "RL with Thompson sampling vs epsilon-greedy, experiment `{experiment}`{profile} ({burnin_note}); batches counted from tick 0, as the paper's figure does. {comparison}"
    );
    Table::of_text(&title, &header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_test_matches_binomial_tails() {
        assert_eq!(sign_test(5, 10), 1.0);
        // 9 of 10: 2 x (1 + 10) / 1024.
        assert!((sign_test(9, 10) - 22.0 / 1024.0).abs() < 1e-12);
        assert!((sign_test(1, 10) - 22.0 / 1024.0).abs() < 1e-12);
        assert!((sign_test(10, 10) - 2.0 / 1024.0).abs() < 1e-12);
        assert_eq!(sign_test(0, 0), 1.0);
    }

    #[test]
    fn quantiles_interpolate_and_the_bootstrap_interval_holds_the_median() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        let values: Vec<f64> = (0..20).map(|i| i as f64).collect();
        let (lo, hi) = bootstrap_median_interval(&values);
        assert!(lo < 9.5 && 9.5 < hi && lo >= 0.0 && hi <= 19.0, "{lo} {hi}");
        assert_eq!(bootstrap_median_interval(&[3.0; 5]), (3.0, 3.0));
    }
}
