//! `mcdrop table EXPERIMENT...`: aggregate records into tables, built from the records alone.

use anyhow::Context;

use crate::cli::{Cli, TableArgs};
use crate::report::compare::{self, model_label, Metric};
use crate::report::table::{render, summarize, SetSummary};
use crate::results::atomic::write_atomic;
use crate::results::ExperimentStore;

pub fn table(cli: &Cli, args: &TableArgs) -> anyhow::Result<()> {
    let mut loaded: Vec<(String, usize, Vec<SetSummary>)> = Vec::new();
    for experiment in &args.experiments {
        let store = ExperimentStore::new(&cli.results_dir, experiment);
        if !store.dir().exists() {
            return Err(super::BadInput(format!(
                "no results for experiment `{experiment}` under {} (run it first, or pass --results-dir)",
                cli.results_dir.display()
            ))
            .into());
        }
        let records = store.records()?;
        let summaries = summarize(&records).with_context(|| format!("experiment `{experiment}`"))?;
        loaded.push((experiment.clone(), records.len(), summaries));
    }
    let text = if let [(experiment, records, summaries)] = loaded.as_slice() {
        let title = format!(
            "UCI regression, experiment `{experiment}`: mean ± standard error over splits ({records} records; published columns: the paper's Table 1, and for dropout the reference code's README)"
        );
        render(summaries, args.format, &title)
    } else {
        let ours: Vec<(String, Vec<SetSummary>)> = loaded
            .iter()
            .map(|(_, _, s)| (model_label(s.first().map(|r| r.model.as_str()).unwrap_or("")).to_string(), s.clone()))
            .collect();
        let names: Vec<&str> = loaded.iter().map(|(e, _, _)| e.as_str()).collect();
        let metrics = match args.metric {
            Some(m) => vec![m],
            None => vec![Metric::Rmse, Metric::Ll],
        };
        let mut text = String::new();
        for metric in metrics {
            let what = if metric == Metric::Rmse { "RMSE (lower is better)" } else { "test log-likelihood (higher is better)" };
            let title = format!(
                "UCI regression, {what}: mean ± standard error over splits; ours from experiments {}; published VI, PBP and Dropout from the paper's Table 1; best of each row in bold",
                names.join(", ")
            );
            text.push_str(&compare::render(&ours, metric, args.format, &title));
            text.push('\n');
        }
        text
    };
    print!("{text}");
    if let Some(path) = &args.output {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}
