//! `mcdrop table EXPERIMENT`: aggregate the records of an experiment into a table.

use anyhow::Context;

use crate::cli::{Cli, TableArgs};
use crate::report::table::{render, summarize};
use crate::results::atomic::write_atomic;
use crate::results::ExperimentStore;

pub fn table(cli: &Cli, args: &TableArgs) -> anyhow::Result<()> {
    let store = ExperimentStore::new(&cli.results_dir, &args.experiment);
    if !store.dir().exists() {
        return Err(super::BadInput(format!(
            "no results for experiment `{}` under {} (run it first, or pass --results-dir)",
            args.experiment,
            cli.results_dir.display()
        ))
        .into());
    }
    let records = store.records()?;
    let summaries = summarize(&records).with_context(|| format!("experiment `{}`", args.experiment))?;
    let title = format!(
        "UCI regression, experiment `{}`: mean ± standard error over splits ({} records; published columns: the paper's Table 1, and for dropout the reference code's README)",
        args.experiment,
        records.len()
    );
    let text = render(&summaries, args.format, &title);
    print!("{text}");
    if let Some(path) = &args.output {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}
