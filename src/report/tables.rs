//! Which tables a set of experiments of one kind gives, as `mcdrop table` prints them and the
//! HTML report shows them: one UCI experiment its detailed table, several the paper's Table 1
//! layout (RMSE and LL); MNIST the test-set and rotation-shift tables; CO2 and RL one table
//! per experiment.

use super::aggregate::SetSummary;
use super::columns::TableFacts;
use super::compare::comparison_table;
use super::experiment::{Loaded, LoadedExperiment};
use super::outcomes::{co2_table, mnist_table, shift_table};
use super::render::Table;
use super::rl::rl_table;
use super::uci_table::uci_table;
use super::{Metric, TableFormat};
use crate::error::{Error, Result};
use crate::models::ModelKind;

/// The kind of experiment, as tables group them.
pub fn kind(data: &Loaded) -> &'static str {
    match data {
        Loaded::Uci(_) => "uci",
        Loaded::Mnist { .. } => "mnist",
        Loaded::Co2(_) => "co2",
        Loaded::Rl(_) => "rl",
    }
}

/// The tables of `loaded` (experiments of one kind); `metric` picks one metric of the UCI
/// comparison (default both).
pub fn tables_of(loaded: &[LoadedExperiment], metric: Option<Metric>) -> Result<Vec<Table>> {
    let Some(first) = loaded.first() else { return Ok(Vec::new()) };
    let kinds: Vec<&str> = loaded.iter().map(|e| kind(&e.data)).collect();
    if kinds.iter().any(|k| *k != kinds[0]) {
        let names: Vec<&str> = loaded.iter().map(|e| e.name.as_str()).collect();
        return Err(Error::Usage(format!(
            "one table per kind of experiment: got {} ({})",
            names.join(", "),
            kinds.join(", ")
        )));
    }
    Ok(match &first.data {
        Loaded::Uci(_) if loaded.len() == 1 => vec![experiment_table(first)],
        Loaded::Uci(_) => uci_comparison(loaded, metric),
        Loaded::Mnist { .. } => mnist(loaded)?,
        _ => loaded
            .iter()
            .filter_map(|e| match &e.data {
                Loaded::Co2(record) => Some(co2_table(&e.name, record, &e.profile_note())),
                Loaded::Rl(record) => Some(rl_table(&e.name, record, &e.profile_note())),
                _ => None,
            })
            .collect(),
    })
}

/// The tables as `mcdrop table` prints them: one after another, a blank line between; the
/// UCI comparison ends each table with one.
pub fn render_tables(loaded: &[LoadedExperiment], tables: &[Table], format: TableFormat) -> String {
    let rendered: Vec<String> = tables.iter().map(|t| t.render(format)).collect();
    match loaded {
        [_, _, ..] if matches!(loaded[0].data, Loaded::Uci(_)) => rendered.iter().map(|t| format!("{t}\n")).collect(),
        _ => rendered.join("\n"),
    }
}

fn summaries(e: &LoadedExperiment) -> &[SetSummary] {
    match &e.data {
        Loaded::Uci(s) => s,
        _ => &[],
    }
}

/// One UCI experiment's detailed table.
fn experiment_table(e: &LoadedExperiment) -> Table {
    let model = summaries(e).first().map_or(ModelKind::McDropout, |s| s.model);
    let ([a, b], _) = model.published_columns();
    let title = format!(
        "UCI regression, experiment `{}`{}: mean ± standard error over splits ({} records; published columns: {} from {}, {} from {})",
        e.name,
        e.profile_note(),
        e.records,
        a.label(),
        a.source(),
        b.label(),
        b.source()
    );
    uci_table(summaries(e), &title)
}

/// The paper's Table 1 layout of several UCI experiments.
fn uci_comparison(loaded: &[LoadedExperiment], metric: Option<Metric>) -> Vec<Table> {
    let label = |e: &LoadedExperiment| summaries(e).first().map_or("model", |r| r.model.label()).to_string();
    // Two experiments of one family (uci-gp beside uci-gp-lbfgs) are told apart by name.
    let shared = |e: &LoadedExperiment| loaded.iter().filter(|o| label(o) == label(e)).count() > 1;
    let ours: Vec<(String, Vec<SetSummary>)> = loaded
        .iter()
        .map(|e| {
            let column = if shared(e) { format!("{} {}", label(e), e.name) } else { label(e) };
            (column, summaries(e).to_vec())
        })
        .collect();
    let names: Vec<String> = loaded.iter().map(|e| format!("{}{}", e.name, e.profile_note())).collect();
    let metrics = match metric {
        Some(m) => vec![m],
        None => vec![Metric::Rmse, Metric::Ll],
    };
    metrics
        .into_iter()
        .map(|metric| {
            let what = if metric == Metric::Rmse {
                "RMSE (lower is better)"
            } else {
                "test log-likelihood (higher is better)"
            };
            let title = format!(
                "UCI regression, {what}: mean ± standard error over splits; ours from experiments {}; published VI, PBP and Dropout from the paper's Table 1; best of each row in bold",
                names.join(", ")
            );
            comparison_table(&ours, metric, &title)
        })
        .collect()
}

fn mnist(loaded: &[LoadedExperiment]) -> Result<Vec<Table>> {
    let mut evaluations = Vec::new();
    let mut shifts = Vec::new();
    for e in loaded {
        if let Loaded::Mnist { evaluation, shift, .. } = &e.data {
            evaluations.extend(evaluation.clone().map(|v| (e.name.clone(), v)));
            shifts.extend(shift.clone().map(|v| (e.name.clone(), v)));
        }
    }
    if evaluations.is_empty() {
        return Err(Error::Usage("no MNIST evaluation recorded yet: run the experiment first".into()));
    }
    let profile = loaded.iter().map(|e| e.profile_note()).find(|p| !p.is_empty()).unwrap_or_default();
    let mut tables = vec![mnist_table(&evaluations, &profile)];
    if !shifts.is_empty() {
        tables.push(shift_table(&shifts, &profile));
    }
    Ok(tables)
}
