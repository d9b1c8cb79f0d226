//! The table of one UCI experiment: per data set, our mean ± standard error over splits
//! beside the two published columns the family is compared with, and a verdict against the
//! one it is held to.

use super::aggregate::SetSummary;
use super::columns::TableFacts;
use super::published;
use super::render::{Cell, Column, Table};
use super::stat::verdict;
use crate::data::uci::UciSet;
use crate::models::ModelKind;

/// The table of `summaries` (one experiment, one family) under `title`.
pub fn uci_table(summaries: &[SetSummary], title: &str) -> Table {
    let model = summaries.first().map_or(ModelKind::McDropout, |s| s.model);
    let ([first, second], held_to) = model.published_columns();
    let (a, b) = (first.label(), second.label());
    let secondary = model.secondary_metric();
    let mut columns = vec![
        Column::text("Data set", "dataset"),
        Column::text("Splits", "splits"),
        Column::stats("RMSE (ours)"),
        Column::stats(format!("RMSE ({a})")),
        Column::stats(format!("RMSE ({b})")),
    ];
    // A family without a second metric (the GP) has no column for it.
    let secondary_rmse = secondary.filter(|m| !m.is_log_likelihood);
    let secondary_ll = secondary.filter(|m| m.is_log_likelihood);
    columns.extend(secondary_rmse.map(|m| Column::stats(m.label)));
    columns.push(Column::stats("Test LL (ours)"));
    columns.extend(secondary_ll.map(|m| Column::stats(m.label)));
    columns.extend([
        Column::stats(format!("Test LL ({a})")),
        Column::stats(format!("Test LL ({b})")),
        Column::text(format!("RMSE, LL vs {}", held_to.label()), "verdict"),
    ]);
    let rows = summaries
        .iter()
        .map(|s| {
            let set = s.dataset.parse::<UciSet>().ok();
            let name = set.map(|u| u.display_name().to_string()).unwrap_or_else(|| s.dataset.clone());
            let [pa, pb] = [first, second].map(|c| set.and_then(|u| published::column(u, c)));
            let target = set.and_then(|u| published::column(u, held_to));
            let judged = target.map_or(Cell::Missing, |(rmse, ll)| {
                Cell::text(format!("{}, {}", verdict(s.rmse, rmse, true), verdict(s.ll, ll, false)))
            });
            let marks = target.map(|(rmse, ll)| (verdict(s.rmse, rmse, true), verdict(s.ll, ll, false)));
            let mut row = vec![
                Cell::text(name),
                Cell::text(s.splits.to_string()),
                Cell::stat(Some(s.rmse), false).marked(marks.map(|m| m.0)),
                Cell::stat(pa.map(|p| p.0), true),
                Cell::stat(pb.map(|p| p.0), true),
            ];
            if secondary_rmse.is_some() {
                row.push(Cell::stat(s.secondary, false));
            }
            row.push(Cell::stat(Some(s.ll), false).marked(marks.map(|m| m.1)));
            if secondary_ll.is_some() {
                row.push(Cell::stat(s.secondary, false));
            }
            row.extend([Cell::stat(pa.map(|p| p.1), true), Cell::stat(pb.map(|p| p.1), true), judged]);
            row
        })
        .collect();
    Table { title: title.to_string(), columns, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::aggregate::summarize;
    use crate::report::format::TableFormat;
    use crate::results::{Provenance, UnitRecord};
    use std::collections::BTreeMap;

    fn record(dataset: &str, split: usize, rmse: f64, ll: f64) -> UnitRecord {
        UnitRecord {
            experiment: "t".into(),
            dataset: dataset.into(),
            split,
            model: ModelKind::McDropout,
            hyper: BTreeMap::new(),
            metrics: BTreeMap::from([("rmse".into(), rmse), ("test_ll".into(), ll)]),
            n_train: 1,
            n_test: 1,
            validation: vec![],
            wall_seconds: 0.0,
            program_members: 1,
            speculative_retrain: false,
            provenance: Provenance::new("0", 0, "cpu"),
        }
    }

    #[test]
    fn summarizes_mean_and_standard_error_per_set_in_paper_order() {
        let records =
            vec![record("yacht", 0, 1.0, -1.0), record("yacht", 1, 3.0, -2.0), record("bostonHousing", 0, 2.0, -2.5)];
        let s = summarize(&records).unwrap();
        assert_eq!(s[0].dataset, "bostonHousing");
        assert_eq!(s[1].splits, 2);
        assert_eq!(s[1].rmse.0, 2.0);
        // population std of {1, 3} is 1; standard error 1 / sqrt 2
        assert!((s[1].rmse.1 - 0.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(s[1].ll.0, -1.5);
        assert!(s[1].secondary.is_none());
        let md = uci_table(&s, "t").render(TableFormat::Markdown);
        assert!(md.contains("| Yacht | 2 | 2.00 ± 0.71 | 1.11 ± 0.09 | 0.67 ± 0.05 | - | -1.50 ± 0.35 | -1.55 ± 0.03 | -1.25 ± 0.01 | within 2 SE, within 2 SE |"), "{md}");
    }
}
