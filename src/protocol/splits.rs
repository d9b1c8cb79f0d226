//! Which splits a UCI run trains and which rows of a split each phase fits and scores: the
//! protocol's row arithmetic, shared by the run, its shards, its plan and its cost estimate.

use crate::data::uci::UciData;
use crate::spec::raw::Splits;

/// Rows one model trains on and the rows it is scored on, both from one split.
pub struct SplitRows {
    pub split: usize,
    pub fit: Vec<usize>,
    pub held_out: Vec<usize>,
}

/// The split indices a spec's `splits:` selects from a set of `available` splits.
pub fn selected_splits(selection: &Splits, available: usize) -> Vec<usize> {
    match selection {
        Splits::All => (0..available).collect(),
        Splits::First(n) => (0..n.get().min(available)).collect(),
        Splits::List(list) => list.clone(),
    }
}

/// Training rows kept for fitting when `fraction` is held out: floor((1 - f) n), as the
/// reference code's `int(0.8 * N)` (the epsilon keeps 0.8 * 455 = 364 from flooring to 363).
pub fn fit_rows(n: usize, fraction: f64) -> usize {
    ((1.0 - fraction) * n as f64 + 1e-9).floor() as usize
}

/// Rows of the grid phase of `splits`: the first (1 - fraction) of each training split to fit,
/// the rest to validate.
pub fn grid_rows(data: &UciData, splits: &[usize], fraction: f64) -> Vec<SplitRows> {
    splits
        .iter()
        .map(|&k| {
            let train = &data.splits[k].train;
            let n_fit = fit_rows(train.len(), fraction);
            SplitRows { split: k, fit: train[..n_fit].to_vec(), held_out: train[n_fit..].to_vec() }
        })
        .collect()
}

/// Rows of the final phase of `splits`: each whole training split to fit, its test rows to score.
pub fn final_rows(data: &UciData, splits: &[usize]) -> Vec<SplitRows> {
    splits
        .iter()
        .map(|&k| SplitRows { split: k, fit: data.splits[k].train.clone(), held_out: data.splits[k].test.clone() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_rows_matches_the_reference_int_of_0_8_n() {
        for n in [455usize, 927, 691, 7373, 10741, 8611, 41157, 1439, 277] {
            assert_eq!(fit_rows(n, 0.2), (0.8 * n as f64) as usize, "n = {n}");
        }
    }
}
