//! The comparison tables of the paper's Table 1 layout: one row per data set, our models'
//! columns (one per experiment) beside the published VI, PBP and Dropout columns, for RMSE
//! or test log-likelihood, mean +- standard error, the best mean of each row in bold.

use super::published::{paper, PaperRow, Stat};
use super::table::{format_stat, SetSummary};
use crate::cli::TableFormat;
use crate::data::uci::UciSet;

/// Which metric a comparison table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    Rmse,
    Ll,
}

impl Metric {
    fn better(self, a: f64, b: f64) -> bool {
        match self {
            Metric::Rmse => a < b,
            Metric::Ll => a > b,
        }
    }
}

/// The column label of an experiment's model.
pub fn model_label(model: &str) -> &'static str {
    match model {
        "mc_dropout" => "Dropout",
        "mfvi" => "VI",
        "gp" => "GP",
        _ => "model",
    }
}

/// A table cell: a mean and standard error, and whether it is a published number.
type Cell = Option<(Stat, bool)>;

/// One (RMSE, LL) pair of the paper's columns.
type PaperColumn = fn(&PaperRow) -> (Stat, Stat);

/// Renders one comparison table; `ours` is (column label, summaries) per experiment.
pub fn render(ours: &[(String, Vec<SetSummary>)], metric: Metric, format: TableFormat, title: &str) -> String {
    let mut sets: Vec<String> = ours.iter().flat_map(|(_, s)| s.iter().map(|r| r.dataset.clone())).collect();
    sets.sort_by_key(|d| d.parse::<UciSet>().map(|u| u as usize).unwrap_or(usize::MAX));
    sets.dedup();
    let mut header: Vec<String> = vec!["Data set".into()];
    header.extend(ours.iter().map(|(label, _)| format!("{label} (ours)")));
    header.extend(["VI (paper)", "PBP (paper)", "Dropout (paper)"].map(String::from));
    // Splits behind each of our columns, so a partial run is visible in the table.
    header.push("Splits (ours)".into());
    let splits: Vec<String> = sets
        .iter()
        .map(|dataset| {
            ours.iter()
                .map(|(_, sums)| {
                    sums.iter().find(|s| &s.dataset == dataset).map_or("-".to_string(), |s| s.splits.to_string())
                })
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    let rows: Vec<(String, Vec<Cell>)> = sets
        .iter()
        .map(|dataset| {
            let set = dataset.parse::<UciSet>().ok();
            let name = set.map(|s| s.display_name().to_string()).unwrap_or_else(|| dataset.clone());
            let mut cells: Vec<Cell> = ours
                .iter()
                .map(|(_, summaries)| {
                    summaries
                        .iter()
                        .find(|s| &s.dataset == dataset)
                        .map(|s| (if metric == Metric::Rmse { s.rmse } else { s.ll }, false))
                })
                .collect();
            let published = set.and_then(paper);
            let columns: [PaperColumn; 3] =
                [|p| (p.vi_rmse, p.vi_ll), |p| (p.pbp_rmse, p.pbp_ll), |p| (p.dropout_rmse, p.dropout_ll)];
            for pick in columns {
                cells.push(published.map(|p| {
                    let (rmse, ll) = pick(p);
                    (if metric == Metric::Rmse { rmse } else { ll }, true)
                }));
            }
            (name, cells)
        })
        .collect();
    let mut out = String::new();
    let text = |cell: &Cell, sep: &str| match cell {
        Some((stat, published)) => format_stat(*stat, sep, *published),
        None => "-".into(),
    };
    let best = |cells: &[Cell]| -> Option<f64> {
        cells.iter().flatten().map(|(s, _)| s.0).fold(None, |b, v| match b {
            Some(b) if !metric.better(v, b) => Some(b),
            _ => Some(v),
        })
    };
    match format {
        TableFormat::Markdown | TableFormat::Latex => {
            let (sep, bold): (&str, fn(&str) -> String) = if format == TableFormat::Markdown {
                (" ± ", |t| format!("**{t}**"))
            } else {
                (" $\\pm$ ", |t| format!("\\textbf{{{t}}}"))
            };
            let body: Vec<Vec<String>> = rows
                .iter()
                .zip(&splits)
                .map(|((name, cells), splits)| {
                    let top = best(cells);
                    let mut row = vec![name.clone()];
                    row.extend(cells.iter().map(|c| {
                        let t = text(c, sep);
                        if c.is_some() && c.map(|(s, _)| s.0) == top {
                            bold(&t)
                        } else {
                            t
                        }
                    }));
                    row.push(splits.clone());
                    row
                })
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            out.push_str(&super::text_table::render(title, &header, &body, format));
        }
        TableFormat::Csv => {
            let slug =
                |h: &str| h.to_lowercase().replace(['(', ')'], "").split_whitespace().collect::<Vec<_>>().join("_");
            let mut names = vec!["dataset".to_string()];
            for h in &header[1..header.len() - 1] {
                names.push(format!("{}_mean", slug(h)));
                names.push(format!("{}_se", slug(h)));
            }
            names.push("splits_ours".into());
            out.push_str(&format!("# {title}\n{}\n", names.join(",")));
            for (r, (name, cells)) in rows.iter().enumerate() {
                let mut values = vec![name.clone()];
                for c in cells {
                    match c {
                        Some(((m, s), _)) => values.extend([m.to_string(), s.to_string()]),
                        None => values.extend([String::new(), String::new()]),
                    }
                }
                values.push(splits[r].clone());
                out.push_str(&format!("{}\n", values.join(",")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(dataset: &str, rmse: f64, ll: f64) -> SetSummary {
        SetSummary {
            dataset: dataset.into(),
            model: "x".into(),
            splits: 20,
            rmse: (rmse, 0.1),
            ll: (ll, 0.01),
            rmse_standard: None,
        }
    }

    #[test]
    fn best_mean_of_each_row_is_bold_across_ours_and_published() {
        let ours = vec![
            ("Dropout".to_string(), vec![summary("bostonHousing", 2.80, -2.40), summary("yacht", 0.60, -1.20)]),
            ("GP".to_string(), vec![summary("bostonHousing", 2.50, -2.30)]),
        ];
        let rmse = render(&ours, Metric::Rmse, TableFormat::Markdown, "t");
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
        let ll = render(&ours, Metric::Ll, TableFormat::Markdown, "t");
        assert!(ll.contains("| Boston | -2.40 ± 0.01 | **-2.30 ± 0.01** |"), "{ll}");
        // Published numbers win when they are best.
        let worse = vec![("VI".to_string(), vec![summary("yacht", 9.0, -4.0)])];
        assert!(render(&worse, Metric::Rmse, TableFormat::Markdown, "t").contains("**1.02 ± 0.05**"));
    }
}
