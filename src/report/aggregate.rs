//! Per data set, mean and standard error over splits of an experiment's records, aggregated
//! with polars: what every UCI table, figure and summary starts from.

use crate::metrics::keys;
use polars::prelude::*;

use super::columns::TableFacts;
use super::stat::Stat;
use crate::data::uci::UciSet;
use crate::error::{Error, Result};
use crate::models::ModelKind;
use crate::results::UnitRecord;

/// One data set's aggregate over its split records.
#[derive(Debug, Clone, PartialEq)]
pub struct SetSummary {
    pub dataset: String,
    /// The model family of the records.
    pub model: ModelKind,
    pub splits: usize,
    pub rmse: Stat,
    pub ll: Stat,
    /// The family's second metric (`TableFacts::secondary_metric`), when it has one.
    pub secondary: Option<Stat>,
}

/// Mean and standard error (population std / sqrt(n), as the reference code) per data set.
pub fn summarize(records: &[UnitRecord]) -> Result<Vec<SetSummary>> {
    if records.is_empty() {
        return Err(Error::Report("no records to summarize: run the experiment first (`mcdrop run SPEC`)".into()));
    }
    let model = records[0].model;
    if let Some(other) = records.iter().find(|r| r.model != model) {
        return Err(Error::Report(format!(
            "records of two models in one experiment ({model} and {}: {} split {}); tables compare one model per experiment",
            other.model, other.dataset, other.split
        )));
    }
    let metric = |name: &str| -> Vec<Option<f64>> { records.iter().map(|r| r.metrics.get(name).copied()).collect() };
    let secondary = model.secondary_metric().map(|m| m.key).unwrap_or("");
    let frame = df!(
        "dataset" => records.iter().map(|r| r.dataset.folder()).collect::<Vec<_>>(),
        "rmse" => metric(keys::RMSE),
        "test_ll" => metric(keys::TEST_LL),
        "secondary" => metric(secondary),
    )?;
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
            [vec![len().alias("splits")], stat("rmse").to_vec(), stat("test_ll").to_vec(), stat("secondary").to_vec()]
                .concat(),
        )
        .sort(["dataset"], SortMultipleOptions::default())
        .collect()?;
    let text = |name: &str| -> Result<Vec<String>> {
        let column = aggregated.column(name)?;
        Ok(column.str()?.iter().map(|v| v.unwrap_or_default().to_string()).collect())
    };
    let numbers = |name: &str| -> Result<Vec<Option<f64>>> {
        let column = aggregated.column(name)?.cast(&DataType::Float64)?;
        Ok(column.f64()?.iter().collect())
    };
    let datasets = text("dataset")?;
    let splits = numbers("splits")?;
    let (rmse_m, rmse_s) = (numbers("rmse_mean")?, numbers("rmse_se")?);
    let (ll_m, ll_s) = (numbers("test_ll_mean")?, numbers("test_ll_se")?);
    let (std_m, std_s) = (numbers("secondary_mean")?, numbers("secondary_se")?);
    let mut out: Vec<SetSummary> = (0..datasets.len())
        .map(|i| SetSummary {
            dataset: datasets[i].clone(),
            model,
            splits: splits[i].unwrap_or(0.0) as usize,
            rmse: (rmse_m[i].unwrap_or(f64::NAN), rmse_s[i].unwrap_or(f64::NAN)),
            ll: (ll_m[i].unwrap_or(f64::NAN), ll_s[i].unwrap_or(f64::NAN)),
            secondary: std_m[i].map(|m| (m, std_s[i].unwrap_or(f64::NAN))),
        })
        .collect();
    // The paper's row order; sets we don't know go last, alphabetically.
    out.sort_by_key(|s| s.dataset.parse::<UciSet>().map(|u| u as usize).unwrap_or(usize::MAX));
    Ok(out)
}
