//! The table task's plan: a researcher's own CSV or Parquet file, run by the UCI protocol
//! with the model and selection of the rest of the spec.

use std::path::Path;

use super::check::{regression_model, rule_error, set_plan, SetGrid};
use super::plan::UciPlan;
use super::raw::{MissingCells, RawSpec, Splits, TableSplits, TableTask};
use crate::data::regression::RegressionSource;
use crate::data::table::{file_sha256, split_folder_sha256, MissingCells as Missing, SplitSource, TableSource};
use crate::error::{Error, Result};

pub(super) fn table_plan(raw: &RawSpec, task: &TableTask, path: &Path, text: &str) -> Result<UciPlan> {
    let model = regression_model(raw, "table", path, text)?;
    let source = TableSource {
        name: table_name(task, path, text)?,
        path: task.path.clone(),
        target: task.target.clone(),
        features: task.features.clone(),
        splits: match &task.splits {
            TableSplits::Random(r) => {
                SplitSource::Random { count: r.count.get(), test_fraction: r.test_fraction.get(), seed: r.seed }
            }
            TableSplits::IndexFiles(dir) => SplitSource::IndexFiles(dir.clone()),
        },
        missing: match task.missing {
            MissingCells::Refuse => Missing::Refuse,
            MissingCells::DropRows => Missing::DropRows,
        },
        sha256: task.sha256.clone(),
        splits_sha256: task.splits_sha256.clone(),
    };
    if task.features.as_ref().is_some_and(Vec::is_empty) {
        return Err(rule_error(
            path,
            text,
            "features",
            "task.table.features: list at least one column, or leave it out for every column but the target",
        ));
    }
    if let Splits::List(list) = &task.run_splits {
        if list.is_empty() {
            return Err(rule_error(
                path,
                text,
                "run_splits",
                "task.table.run_splits.list: list at least one split index",
            ));
        }
    }
    let grid = SetGrid { tau: &task.tau, hidden_units: task.hidden_units, epochs: task.epochs, gp: None };
    let set = set_plan(&model, RegressionSource::Table(source), grid, ("task.table", "table"), path, text)?;
    Ok(model.into_plan(raw, vec![set], task.run_splits.clone(), "task.table.run_splits"))
}

/// The name given, or the file's stem; either must do as a folder name.
fn table_name(task: &TableTask, path: &Path, text: &str) -> Result<String> {
    let name = match &task.name {
        Some(name) => name.clone(),
        None => task.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        let whence = if task.name.is_some() { "" } else { " (taken from the file's name)" };
        return Err(rule_error(
            path,
            text,
            if task.name.is_some() { "name" } else { "path" },
            &format!(
                "task.table.name: {name:?}{whence} names a results folder, so it must use only letters, digits, '-', '_' and '.'; set `name:`"
            ),
        ));
    }
    Ok(name)
}

/// Records the SHA-256 of the file (and of the split folder) in the task when the spec does
/// not give them, so that the spec's identity covers the data. A spec that gives them is
/// checked against the data when the set is loaded instead, so that the saved spec of a
/// results folder reads without the data at hand.
pub(super) fn record_hashes(task: &mut TableTask, path: &Path, text: &str) -> Result<()> {
    let unreadable = |field: &str, e: Error| {
        rule_error(
            path,
            text,
            field,
            &format!("task.table.{field}: {e} (paths are relative to the directory mcdrop runs in)"),
        )
    };
    if task.sha256.is_none() {
        task.sha256 = Some(file_sha256(&task.path).map_err(|e| unreadable("path", e))?);
    }
    if let TableSplits::IndexFiles(dir) = &task.splits {
        if task.splits_sha256.is_none() {
            task.splits_sha256 = Some(split_folder_sha256(dir).map_err(|e| unreadable("splits", e))?);
        }
    }
    Ok(())
}
