//! Two results directories side by side, set by set: whether a fresh rerun of an experiment
//! reproduces the committed one. Per UCI set and metric, the means over splits are
//! `identical`, `consistent` (within two standard errors of their difference) or
//! `inconsistent`; a set only one side has is `missing`.

use super::aggregate::SetSummary;
use super::render::{Cell, Column, Table};
use super::stat::{format_stat, Stat};

/// The verdict on two means over splits.
pub fn judge(ours: Stat, other: Stat) -> &'static str {
    if ours.0.to_bits() == other.0.to_bits() {
        "identical"
    } else if (ours.0 - other.0).abs() <= 2.0 * (ours.1 * ours.1 + other.1 * other.1).sqrt() {
        "consistent"
    } else {
        "inconsistent"
    }
}

/// One experiment's sets, committed against fresh; also whether any is inconsistent.
pub fn agreement_table(experiment: &str, committed: &[SetSummary], fresh: &[SetSummary]) -> (Table, bool) {
    let columns = vec![
        Column::plain("Experiment"),
        Column::plain("Set"),
        Column::plain("Splits"),
        Column::plain("RMSE (committed)"),
        Column::plain("RMSE (fresh)"),
        Column::plain("RMSE"),
        Column::plain("Test LL (committed)"),
        Column::plain("Test LL (fresh)"),
        Column::plain("Test LL"),
    ];
    let mut bad = false;
    let mut rows = Vec::new();
    let mut sets: Vec<&str> = committed.iter().chain(fresh).map(|s| s.dataset.as_str()).collect();
    sets.sort_by_key(|d| d.parse::<crate::data::uci::UciSet>().map(|u| u as usize).unwrap_or(usize::MAX));
    sets.dedup();
    for set in sets {
        let a = committed.iter().find(|s| s.dataset == set);
        let b = fresh.iter().find(|s| s.dataset == set);
        let shown = |s: Option<&SetSummary>, pick: fn(&SetSummary) -> Stat| {
            s.map_or("-".to_string(), |s| format_stat(pick(s), " ± ", false))
        };
        let verdict = |pick: fn(&SetSummary) -> Stat| match (a, b) {
            (Some(a), Some(b)) => judge(pick(a), pick(b)),
            _ => "missing",
        };
        let (rmse, ll) = (verdict(|s| s.rmse), verdict(|s| s.ll));
        bad |= [rmse, ll].iter().any(|v| *v == "inconsistent" || *v == "missing");
        let splits = format!("{} / {}", a.map_or(0, |s| s.splits), b.map_or(0, |s| s.splits));
        rows.push(
            [
                experiment.to_string(),
                set.to_string(),
                splits,
                shown(a, |s| s.rmse),
                shown(b, |s| s.rmse),
                rmse.to_string(),
                shown(a, |s| s.ll),
                shown(b, |s| s.ll),
                ll.to_string(),
            ]
            .map(Cell::Text)
            .to_vec(),
        );
    }
    let title = format!("`{experiment}`: committed against fresh, mean ± standard error over splits per set");
    (Table { title, columns, rows }, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_mean_is_identical_a_close_one_consistent_a_far_one_not() {
        assert_eq!(judge((1.0, 0.1), (1.0, 0.2)), "identical");
        assert_eq!(judge((1.0, 0.1), (1.2, 0.1)), "consistent");
        assert_eq!(judge((1.0, 0.1), (1.5, 0.1)), "inconsistent");
    }
}
