//! `mcdrop table EXPERIMENT...`: aggregate records into tables, built from the records alone.
//!
//! UCI experiments: one experiment gives its detailed table, several the paper's Table 1
//! layout. MNIST experiments: the test-set table and the rotation-shift table. CO2: the
//! held-out table. RL: batches to the reward threshold per policy, with the verdict. Kinds are not mixed in one call.

use crate::cli::{Cli, TableArgs};
use crate::error::Error;
use crate::report::aggregate::SetSummary;
use crate::report::compare::comparison_table;
use crate::report::experiment::{load_experiment, Loaded, LoadedExperiment};
use crate::report::outcomes::{co2_table, mnist_table, shift_table};
use crate::report::rl::rl_table;
use crate::report::uci_table::uci_table;
use crate::report::Metric;
use crate::results::atomic::write_atomic;

pub fn table(cli: &Cli, args: &TableArgs) -> anyhow::Result<()> {
    let loaded =
        args.experiments.iter().map(|e| load_experiment(&cli.results_dir, e)).collect::<Result<Vec<_>, _>>()?;
    let kinds: Vec<&str> = loaded.iter().map(|e| kind(&e.data)).collect();
    if kinds.iter().any(|k| *k != kinds[0]) {
        return Err(Error::Usage(format!(
            "one table per kind of experiment: got {} ({})",
            args.experiments.join(", "),
            kinds.join(", ")
        ))
        .into());
    }
    let text = match kinds[0] {
        "uci" => uci(&loaded, args),
        "mnist" => mnist(&loaded, args)?,
        _ => loaded
            .iter()
            .filter_map(|e| match &e.data {
                Loaded::Co2(record) => Some(co2_table(&e.name, record, args.format, &e.profile_note())),
                Loaded::Rl(record) => Some(rl_table(&e.name, record, args.format, &e.profile_note())),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    print!("{text}");
    if let Some(path) = &args.output {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}

fn kind(data: &Loaded) -> &'static str {
    match data {
        Loaded::Uci(_) => "uci",
        Loaded::Mnist { .. } => "mnist",
        Loaded::Co2(_) => "co2",
        Loaded::Rl(_) => "rl",
    }
}

fn summaries(e: &LoadedExperiment) -> &[SetSummary] {
    match &e.data {
        Loaded::Uci(s) => s,
        _ => &[],
    }
}

fn uci(loaded: &[LoadedExperiment], args: &TableArgs) -> String {
    if let [e] = loaded {
        let model = summaries(e).first().map_or(crate::models::ModelKind::McDropout, |s| s.model);
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
        return uci_table(summaries(e), &title).render(args.format);
    }
    let ours: Vec<(String, Vec<SetSummary>)> = loaded
        .iter()
        .map(|e| (summaries(e).first().map_or("model", |r| r.model.label()).to_string(), summaries(e).to_vec()))
        .collect();
    let names: Vec<String> = loaded.iter().map(|e| format!("{}{}", e.name, e.profile_note())).collect();
    let metrics = match args.metric {
        Some(m) => vec![m],
        None => vec![Metric::Rmse, Metric::Ll],
    };
    let mut text = String::new();
    for metric in metrics {
        let what =
            if metric == Metric::Rmse { "RMSE (lower is better)" } else { "test log-likelihood (higher is better)" };
        let title = format!(
            "UCI regression, {what}: mean ± standard error over splits; ours from experiments {}; published VI, PBP and Dropout from the paper's Table 1; best of each row in bold",
            names.join(", ")
        );
        text.push_str(&comparison_table(&ours, metric, &title).render(args.format));
        text.push('\n');
    }
    text
}

fn mnist(loaded: &[LoadedExperiment], args: &TableArgs) -> anyhow::Result<String> {
    let mut evaluations = Vec::new();
    let mut shifts = Vec::new();
    for e in loaded {
        if let Loaded::Mnist { evaluation, shift, .. } = &e.data {
            evaluations.extend(evaluation.clone().map(|v| (e.name.clone(), v)));
            shifts.extend(shift.clone().map(|v| (e.name.clone(), v)));
        }
    }
    if evaluations.is_empty() {
        return Err(Error::Usage("no MNIST evaluation recorded yet: run the experiment first".into()).into());
    }
    let profile = loaded.iter().map(|e| e.profile_note()).find(|p| !p.is_empty()).unwrap_or_default();
    let mut text = mnist_table(&evaluations, args.format, &profile);
    if !shifts.is_empty() {
        text.push('\n');
        text.push_str(&shift_table(&shifts, args.format, &profile));
    }
    Ok(text)
}
