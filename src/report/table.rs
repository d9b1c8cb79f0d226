//! The UCI table: per data set, mean +- standard error over splits of our records (aggregated
//! with polars), beside the paper's Dropout column and the reference code's numbers.

use polars::prelude::*;

use super::published::{paper, reference_code, Stat, PUBLISHED_ROUNDING};
use crate::cli::TableFormat;
use crate::data::uci::UciSet;
use crate::error::{Error, Result};
use crate::results::UnitRecord;

/// One data set's aggregate over its split records.
#[derive(Debug, Clone, PartialEq)]
pub struct SetSummary {
    pub dataset: String,
    /// The model family of the records (`mc_dropout`, `mfvi`, ...).
    pub model: String,
    pub splits: usize,
    pub rmse: Stat,
    pub ll: Stat,
    /// The family's second RMSE (`secondary_metric`), when it has one.
    pub rmse_standard: Option<Stat>,
}

/// The family-specific RMSE shown beside the predictive one: the deterministic network
/// (dropout off) for dropout, the network of posterior means for VI.
pub fn secondary_metric(model: &str) -> Option<(&'static str, &'static str)> {
    match model {
        "mc_dropout" => Some(("rmse_standard", "Std. dropout RMSE (ours)")),
        "mfvi" => Some(("rmse_posterior_mean_net", "Mean-net RMSE (ours)")),
        _ => None,
    }
}

/// The published numbers a family is compared with: (column labels, values per set).
#[allow(clippy::type_complexity)]
pub fn published_columns(model: &str) -> ([&'static str; 2], fn(UciSet) -> [Option<(Stat, Stat)>; 2]) {
    match model {
        "mfvi" | "gp" => (["paper VI", "paper PBP"], |set| {
            let p = paper(set);
            [p.map(|p| (p.vi_rmse, p.vi_ll)), p.map(|p| (p.pbp_rmse, p.pbp_ll))]
        }),
        _ => (["paper", "ref. code"], |set| [paper(set).map(|p| (p.dropout_rmse, p.dropout_ll)), reference_code(set)]),
    }
}

/// Mean and standard error (population std / sqrt(n), as the reference code) per data set.
pub fn summarize(records: &[UnitRecord]) -> Result<Vec<SetSummary>> {
    if records.is_empty() {
        return Err(Error::Report("no records to summarize: run the experiment first (`mcdrop run SPEC`)".into()));
    }
    let model = records[0].model.clone();
    if let Some(other) = records.iter().find(|r| r.model != model) {
        return Err(Error::Report(format!(
            "records of two models in one experiment ({model} and {}: {} split {}); tables compare one model per experiment",
            other.model, other.dataset, other.split
        )));
    }
    let metric = |name: &str| -> Vec<Option<f64>> { records.iter().map(|r| r.metrics.get(name).copied()).collect() };
    let secondary = secondary_metric(&model).map(|(name, _)| name).unwrap_or("");
    let frame = df!(
        "dataset" => records.iter().map(|r| r.dataset.clone()).collect::<Vec<_>>(),
        "rmse" => metric("rmse"),
        "test_ll" => metric("test_ll"),
        "rmse_standard" => metric(secondary),
    )
    .map_err(polars_error)?;
    let stat = |name: &str| {
        [
            col(name).mean().alias(format!("{name}_mean")),
            (col(name).std(0) / col(name).count().cast(DataType::Float64).sqrt()).alias(format!("{name}_se")),
        ]
    };
    let aggregated = frame
        .lazy()
        .group_by([col("dataset")])
        .agg(
            [
                vec![len().alias("splits")],
                stat("rmse").to_vec(),
                stat("test_ll").to_vec(),
                stat("rmse_standard").to_vec(),
            ]
            .concat(),
        )
        .sort(["dataset"], SortMultipleOptions::default())
        .collect()
        .map_err(polars_error)?;
    let text = |name: &str| -> Result<Vec<String>> {
        let column = aggregated.column(name).map_err(polars_error)?;
        Ok(column.str().map_err(polars_error)?.iter().map(|v| v.unwrap_or_default().to_string()).collect())
    };
    let numbers = |name: &str| -> Result<Vec<Option<f64>>> {
        let column = aggregated.column(name).map_err(polars_error)?.cast(&DataType::Float64).map_err(polars_error)?;
        Ok(column.f64().map_err(polars_error)?.iter().collect())
    };
    let datasets = text("dataset")?;
    let splits = numbers("splits")?;
    let (rmse_m, rmse_s) = (numbers("rmse_mean")?, numbers("rmse_se")?);
    let (ll_m, ll_s) = (numbers("test_ll_mean")?, numbers("test_ll_se")?);
    let (std_m, std_s) = (numbers("rmse_standard_mean")?, numbers("rmse_standard_se")?);
    let mut out: Vec<SetSummary> = (0..datasets.len())
        .map(|i| SetSummary {
            dataset: datasets[i].clone(),
            model: model.clone(),
            splits: splits[i].unwrap_or(0.0) as usize,
            rmse: (rmse_m[i].unwrap_or(f64::NAN), rmse_s[i].unwrap_or(f64::NAN)),
            ll: (ll_m[i].unwrap_or(f64::NAN), ll_s[i].unwrap_or(f64::NAN)),
            rmse_standard: std_m[i].map(|m| (m, std_s[i].unwrap_or(f64::NAN))),
        })
        .collect();
    // The paper's row order; sets we don't know go last, alphabetically.
    out.sort_by_key(|s| s.dataset.parse::<UciSet>().map(|u| u as usize).unwrap_or(usize::MAX));
    Ok(out)
}

fn polars_error(e: PolarsError) -> Error {
    Error::Report(format!("polars: {e}"))
}

/// Most decimals a table prints.
const MAX_DECIMALS: f64 = 8.0;

/// Decimals that keep two significant digits of small numbers (naval's RMSE is ~0.0007 for
/// dropout, ~0.00002 for the GP).
fn decimals(v: f64) -> usize {
    match v.abs() {
        a if a >= 1.0 || a == 0.0 || !a.is_finite() => 2,
        a if a >= 0.1 => 3,
        a if a >= 0.01 => 4,
        a => (1.0 - a.log10().floor()).clamp(5.0, MAX_DECIMALS) as usize,
    }
}

/// Decimals that keep one significant digit of a standard error (naval's LL is 4.453 +- 0.002,
/// which two decimals would print as +- 0.00).
fn se_decimals(se: f64) -> usize {
    if se > 0.0 && se.is_finite() {
        (-se.log10()).ceil().clamp(0.0, MAX_DECIMALS) as usize
    } else {
        0
    }
}

/// `mean ± se` (with `plus_minus` as the sign) in every table; published numbers keep the two
/// decimals they were printed with.
pub(crate) fn format_stat(stat: Stat, plus_minus: &str, published: bool) -> String {
    let d = if published { 2 } else { decimals(stat.0).max(se_decimals(stat.1)) };
    format!("{:.d$}{plus_minus}{:.d$}", stat.0, stat.1)
}

/// How a mean compares with a published one: within two standard errors of the difference
/// (sqrt(se_a^2 + se_b^2)) of some value the published number rounds from (it is known only
/// to +- `PUBLISHED_ROUNDING`), or better / worse beyond that.
pub fn verdict(ours: Stat, published: Stat, lower_is_better: bool) -> &'static str {
    let diff = ours.0 - published.0;
    if diff.abs() - PUBLISHED_ROUNDING <= 2.0 * (ours.1 * ours.1 + published.1 * published.1).sqrt() {
        "within 2 SE"
    } else if (diff < 0.0) == lower_is_better {
        "better"
    } else {
        "worse"
    }
}

/// Renders the table; `title` goes in a caption line (markdown) or comment (csv, latex).
pub fn render(summaries: &[SetSummary], format: TableFormat, title: &str) -> String {
    let model = summaries.first().map(|s| s.model.as_str()).unwrap_or("mc_dropout");
    let ([first, second], published) = published_columns(model);
    // A family without a second RMSE (the GP) has no column for it.
    let secondary = secondary_metric(model).map(|(_, label)| label);
    const SECONDARY_COLUMN: usize = 5;
    let mut header = vec![
        "Data set".to_string(),
        "Splits".to_string(),
        "RMSE (ours)".to_string(),
        format!("RMSE ({first})"),
        format!("RMSE ({second})"),
        "Test LL (ours)".to_string(),
        format!("Test LL ({first})"),
        format!("Test LL ({second})"),
        format!("RMSE, LL vs {}", if model == "mc_dropout" { second } else { first }),
    ];
    if let Some(label) = secondary {
        header.insert(SECONDARY_COLUMN, label.to_string());
    }
    // Cells: (statistic, text, published?)
    let rows: Vec<Vec<(Option<Stat>, String, bool)>> = summaries
        .iter()
        .map(|s| {
            let set = s.dataset.parse::<UciSet>().ok();
            let name = set.map(|u| u.display_name().to_string()).unwrap_or_else(|| s.dataset.clone());
            let [a, b] = set.map(published).unwrap_or([None, None]);
            // Dropout is held to the reference code's numbers (the reproduction bar), the
            // baselines to the paper's VI column.
            let target = if model == "mc_dropout" { b } else { a };
            let judged = target
                .map(|(rmse, ll)| format!("{}, {}", verdict(s.rmse, rmse, true), verdict(s.ll, ll, false)))
                .unwrap_or_default();
            let mut row = vec![
                (None, name, false),
                (None, s.splits.to_string(), false),
                (Some(s.rmse), String::new(), false),
                (a.map(|p| p.0), String::new(), true),
                (b.map(|p| p.0), String::new(), true),
                (Some(s.ll), String::new(), false),
                (a.map(|p| p.1), String::new(), true),
                (b.map(|p| p.1), String::new(), true),
                (None, judged, false),
            ];
            if secondary.is_some() {
                row.insert(SECONDARY_COLUMN, (s.rmse_standard, String::new(), false));
            }
            row
        })
        .collect();
    let cell = |c: &(Option<Stat>, String, bool), sep: &str| match c {
        (Some(stat), _, published) => format_stat(*stat, sep, *published),
        (None, text, _) if !text.is_empty() => text.clone(),
        _ => "-".into(),
    };
    let mut out = String::new();
    match format {
        TableFormat::Markdown | TableFormat::Latex => {
            let sep = if format == TableFormat::Markdown { " ± " } else { " $\\pm$ " };
            let body: Vec<Vec<String>> = rows.iter().map(|row| row.iter().map(|c| cell(c, sep)).collect()).collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            out.push_str(&super::text_table::render(title, &header, &body, format));
        }
        TableFormat::Csv => {
            let slug = |label: &str| {
                label.to_lowercase().replace(['(', ')', '.'], "").split_whitespace().collect::<Vec<_>>().join("_")
            };
            let mut names = vec!["dataset".to_string(), "splits".to_string()];
            for label in &header[2..header.len() - 1] {
                names.push(format!("{}_mean", slug(label)));
                names.push(format!("{}_se", slug(label)));
            }
            names.push("verdict".to_string());
            out.push_str(&names.join(","));
            out.push('\n');
            for row in &rows {
                let mut cells = vec![row[0].1.clone(), row[1].1.clone()];
                for c in &row[2..row.len() - 1] {
                    match c.0 {
                        Some((m, s)) => cells.extend([m.to_string(), s.to_string()]),
                        None => cells.extend([String::new(), String::new()]),
                    }
                }
                cells.push(format!("\"{}\"", row[row.len() - 1].1));
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Provenance;
    use std::collections::BTreeMap;

    fn record(dataset: &str, split: usize, rmse: f64, ll: f64) -> UnitRecord {
        UnitRecord {
            experiment: "t".into(),
            dataset: dataset.into(),
            split,
            model: "mc_dropout".into(),
            hyper: BTreeMap::new(),
            metrics: BTreeMap::from([("rmse".into(), rmse), ("test_ll".into(), ll)]),
            n_train: 1,
            n_test: 1,
            validation: vec![],
            wall_seconds: 0.0,
            program_members: 1,
            provenance: Provenance::new("0", 0, "cpu"),
        }
    }

    #[test]
    fn verdicts_use_two_standard_errors_of_the_difference() {
        assert_eq!(verdict((2.9, 0.1), (3.0, 0.1), true), "within 2 SE");
        assert_eq!(verdict((2.5, 0.1), (3.0, 0.1), true), "better");
        assert_eq!(verdict((2.5, 0.1), (3.0, 0.1), false), "worse");
        assert_eq!(verdict((-1.0, 0.01), (-1.5, 0.01), false), "better");
        // A published 0.00 +- 0.00 is anything under 0.005: naval's 0.00062 +- 0.00003 matches.
        assert_eq!(verdict((0.00062, 0.00003), (0.00, 0.00), true), "within 2 SE");
        assert_eq!(verdict((4.4533, 0.0015), (4.45, 0.00), false), "within 2 SE");
        assert_eq!(verdict((0.0062, 0.0003), (0.00, 0.00), true), "worse");
    }

    #[test]
    fn small_numbers_keep_two_significant_digits() {
        assert_eq!(format_stat((0.00072, 0.00004), " ± ", false), "0.00072 ± 0.00004");
        // The sparse GP on naval: RMSE 1.6e-5 over splits that agree to 1e-7.
        assert_eq!(format_stat((1.62e-5, 1.3e-7), " ± ", false), "0.0000162 ± 0.0000001");
        assert_eq!(format_stat((4.4533, 0.0015), " ± ", false), "4.453 ± 0.002");
        assert_eq!(format_stat((2.86, 0.2), " ± ", false), "2.86 ± 0.20");
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
        assert!(s[1].rmse_standard.is_none());
        let md = render(&s, TableFormat::Markdown, "t");
        assert!(md.contains("| Yacht | 2 | 2.00 ± 0.71 | 1.11 ± 0.09 | 0.67 ± 0.05 | - | -1.50 ± 0.35 | -1.55 ± 0.03 | -1.25 ± 0.01 | within 2 SE, within 2 SE |"), "{md}");
    }
}
