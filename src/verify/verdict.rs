//! The verdict on one rerun metric against its committed value, and the rule behind it.
//!
//! - `identical`: the same f64, bit for bit: the same code under the same numerics (pinned, or
//!   native on the same kind of CPU) and thread count.
//! - `consistent`: within two standard deviations of the difference between two seeds' results
//!   of the unit, `2 sqrt(2) sd`, sd the unit's seed-to-seed deviation. When a rerun is not
//!   identical, verify reruns the program once more with the next seed; the pairs of results of
//!   the program's units estimate sd (`seed_spread`). A record that moved as much as a new seed
//!   moves it passes with 95 % chance per metric; one moved by three of its seed deviations
//!   fails. Without the budget for the second seed, the tolerance is two standard deviations
//!   of the metric across the set's other committed splits, which also counts how much harder
//!   one split is than another and so is much wider (yacht's RMSE: half the metric).
//! - `inconsistent`: anything else, NaN against a number included.

use serde::{Deserialize, Serialize};

/// How a rerun metric compares with its committed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Identical,
    Consistent,
    Inconsistent,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Consistent => "consistent",
            Verdict::Inconsistent => "inconsistent",
        }
    }
}

/// Sample standard deviation (n - 1) of `values`; `None` for fewer than two.
pub fn spread(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    Some((values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// The tolerance of a metric whose committed splits spread by `spread` (see the module header).
pub fn tolerance(spread: Option<f64>) -> f64 {
    spread.map_or(0.0, |s| 2.0 * s)
}

/// A unit's seed-to-seed deviation from `differences`, each the difference between two seeds'
/// results of one unit of a program (every unit's metric equally noisy): sqrt(sum d^2 / 2m).
pub fn seed_spread(differences: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = differences.iter().copied().filter(|d| d.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    Some((finite.iter().map(|d| d * d).sum::<f64>() / (2.0 * finite.len() as f64)).sqrt())
}

/// The tolerance of a metric whose seed-to-seed deviation is `sd`: two standard deviations of
/// the difference of two independent seeds' results.
pub fn seed_tolerance(sd: f64) -> f64 {
    2.0 * std::f64::consts::SQRT_2 * sd
}

/// The verdict on `rerun` against `committed` under `tolerance`.
pub fn judge(committed: f64, rerun: f64, tolerance: f64) -> Verdict {
    if committed.to_bits() == rerun.to_bits() {
        Verdict::Identical
    } else if (committed - rerun).abs() <= tolerance {
        Verdict::Consistent
    } else {
        Verdict::Inconsistent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_consistent_inconsistent() {
        let tol = tolerance(spread(&[1.0, 2.0, 3.0]));
        assert_eq!(tol, 2.0);
        assert_eq!(judge(0.6691, 0.6691, tol), Verdict::Identical);
        assert_eq!(judge(0.6691, 0.6801, tol), Verdict::Consistent);
        assert_eq!(judge(0.6691, 2.7, tol), Verdict::Inconsistent);
        assert_eq!(judge(1.0, f64::NAN, tol), Verdict::Inconsistent);
        assert_eq!(judge(f64::NAN, f64::NAN, tol), Verdict::Identical);
        // One committed split: no spread, so only the same number passes.
        assert_eq!(judge(1.0, 1.0 + 1e-12, tolerance(spread(&[1.0]))), Verdict::Inconsistent);
        assert!(Verdict::Inconsistent > Verdict::Consistent && Verdict::Consistent > Verdict::Identical);
    }

    #[test]
    fn a_move_of_three_seed_deviations_is_inconsistent_though_within_the_split_spread() {
        // Yacht-like: splits differ far more than seeds do. Five other splits' RMSE, and two
        // seeds' reruns of a three-split program.
        let other_splits = [0.55, 0.92, 0.61, 1.21, 0.74];
        let first_seed = [0.668, 0.731, 0.902];
        let second_seed = [0.701, 0.689, 0.958];
        let differences: Vec<f64> = first_seed.iter().zip(&second_seed).map(|(a, b)| b - a).collect();
        let sd = seed_spread(&differences).unwrap();
        let expected = ((0.033f64.powi(2) + 0.042f64.powi(2) + 0.056f64.powi(2)) / 6.0).sqrt();
        assert!((sd - expected).abs() < 1e-12);
        let committed = first_seed[0];
        let moved = committed + 3.0 * sd;
        assert_eq!(judge(committed, moved, tolerance(spread(&other_splits))), Verdict::Consistent, "the old rule");
        assert_eq!(judge(committed, moved, seed_tolerance(sd)), Verdict::Inconsistent);
        assert_eq!(judge(committed, committed + 1.5 * sd, seed_tolerance(sd)), Verdict::Consistent);
        assert_eq!(seed_spread(&[]), None);
    }
}
