//! The comparison tables of the paper's Table 1 layout: one row per data set, our models'
//! columns (one per experiment) beside the published VI, PBP and Dropout columns, for RMSE
//! or test log-likelihood, mean +- standard error, the best mean of each row in bold.

use super::aggregate::SetSummary;
use super::columns::TableFacts;
use super::format::Metric;
use super::published::{self, paper, PaperRow};
use super::render::{Cell, Column, Table};
use super::stat::{verdict, Stat, Verdict};
use crate::data::uci::UciSet;

/// One (RMSE, LL) pair of the paper's columns.
type PaperColumn = fn(&PaperRow) -> (Stat, Stat);

/// The comparison table; `ours` is (column label, summaries) per experiment.
pub fn comparison_table(ours: &[(String, Vec<SetSummary>)], metric: Metric, title: &str) -> Table {
    let mut sets: Vec<String> = ours.iter().flat_map(|(_, s)| s.iter().map(|r| r.dataset.clone())).collect();
    sets.sort_by_key(|d| d.parse::<UciSet>().map(|u| u as usize).unwrap_or(usize::MAX));
    sets.dedup();
    let mut columns = vec![Column::text("Data set", "dataset")];
    columns.extend(ours.iter().map(|(label, _)| Column::stats(format!("{label} (ours)"))));
    columns.extend(["VI (paper)", "PBP (paper)", "Dropout (paper)"].map(Column::stats));
    // Splits behind each of our columns, so a partial run is visible in the table.
    columns.push(Column::text("Splits (ours)", "splits_ours"));
    let pick = |s: (Stat, Stat)| if metric == Metric::Rmse { s.0 } else { s.1 };
    let rows = sets
        .iter()
        .map(|dataset| {
            let set = dataset.parse::<UciSet>().ok();
            let name = set.map(|s| s.display_name().to_string()).unwrap_or_else(|| dataset.clone());
            let of = |sums: &[SetSummary]| sums.iter().find(|s| &s.dataset == dataset).cloned();
            let mut cells = vec![Cell::text(name)];
            cells.extend(ours.iter().map(|(_, sums)| {
                let summary = of(sums);
                let mark = summary.as_ref().zip(set).and_then(|(s, set)| held_to_verdict(s, set, metric));
                Cell::stat(summary.map(|s| pick((s.rmse, s.ll))), false).marked(mark)
            }));
            let published = set.and_then(paper);
            let columns: [PaperColumn; 3] =
                [|p| (p.vi_rmse, p.vi_ll), |p| (p.pbp_rmse, p.pbp_ll), |p| (p.dropout_rmse, p.dropout_ll)];
            cells.extend(columns.map(|column| Cell::stat(published.map(|p| pick(column(p))), true)));
            bold_best(&mut cells, metric);
            let splits: Vec<String> =
                ours.iter().map(|(_, sums)| of(sums).map_or("-".to_string(), |s| s.splits.to_string())).collect();
            cells.push(Cell::text(splits.join(" / ")));
            cells
        })
        .collect();
    Table { title: title.to_string(), columns, rows }
}

/// The verdict of our `metric` on `set` against the published column its family is held to.
fn held_to_verdict(summary: &SetSummary, set: UciSet, metric: Metric) -> Option<Verdict> {
    let (_, held_to) = summary.model.published_columns();
    let (rmse, ll) = published::column(set, held_to)?;
    Some(match metric {
        Metric::Rmse => verdict(summary.rmse, rmse, true),
        Metric::Ll => verdict(summary.ll, ll, false),
    })
}

/// Marks every statistic whose mean is the row's best (the first best, and its ties) bold.
fn bold_best(cells: &mut [Cell], metric: Metric) {
    let means = || cells.iter().filter_map(|c| if let Cell::Stat { stat, .. } = c { Some(stat.0) } else { None });
    let best = means().fold(None, |b: Option<f64>, v| match b {
        Some(b) if !metric.better(v, b) => Some(b),
        _ => Some(v),
    });
    for cell in cells.iter_mut() {
        if let Cell::Stat { stat, bold, .. } = cell {
            *bold = Some(stat.0) == best;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::format::TableFormat;

    fn summary(dataset: &str, rmse: f64, ll: f64) -> SetSummary {
        SetSummary {
            dataset: dataset.into(),
            model: crate::models::ModelKind::Gp,
            splits: 20,
            rmse: (rmse, 0.1),
            ll: (ll, 0.01),
            secondary: None,
        }
    }

    #[test]
    fn best_mean_of_each_row_is_bold_across_ours_and_published() {
        let ours = vec![
            ("Dropout".to_string(), vec![summary("bostonHousing", 2.80, -2.40), summary("yacht", 0.60, -1.20)]),
            ("GP".to_string(), vec![summary("bostonHousing", 2.50, -2.30)]),
        ];
        let rmse = comparison_table(&ours, Metric::Rmse, "t").render(TableFormat::Markdown);
        assert!(
            rmse.contains(
                "| Boston | 2.80 ± 0.10 | **2.50 ± 0.10** | 4.32 ± 0.29 | 3.01 ± 0.18 | 2.97 ± 0.19 | 20 / 20 |"
            ),
            "{rmse}"
        );
        assert!(
            rmse.contains("| Yacht | **0.600 ± 0.100** | - | 6.89 ± 0.67 | 1.02 ± 0.05 | 1.11 ± 0.09 | 20 / - |"),
            "{rmse}"
        );
        let ll = comparison_table(&ours, Metric::Ll, "t").render(TableFormat::Markdown);
        assert!(ll.contains("| Boston | -2.40 ± 0.01 | **-2.30 ± 0.01** |"), "{ll}");
        // Published numbers win when they are best.
        let worse = vec![("VI".to_string(), vec![summary("yacht", 9.0, -4.0)])];
        assert!(comparison_table(&worse, Metric::Rmse, "t").render(TableFormat::Markdown).contains("**1.02 ± 0.05**"));
    }
}
