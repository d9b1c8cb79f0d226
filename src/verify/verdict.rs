//! The verdict on one rerun metric against its committed value, and the rule behind it.
//!
//! - `identical`: the same f64, bit for bit: the same code on the same kind of machine.
//! - `consistent`: within two standard deviations of that metric across the other committed
//!   splits of the same set. Rerunning a split with other seeds (or numerics that changed as
//!   much as a seed change does) moves its result by less than moving to another split does,
//!   so the split-to-split spread bounds the seed-to-seed spread from above. The split judged
//!   is left out, so a corrupt record cannot widen its own tolerance; with fewer than two
//!   other splits there is no spread, and only `identical` passes.
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
}
