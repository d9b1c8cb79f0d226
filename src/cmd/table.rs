//! `mcdrop table EXPERIMENT...`: aggregate records into tables, built from the records alone
//! (`report::tables` says which tables a kind of experiment gives). Kinds are not mixed in
//! one call.

use crate::cli::{Cli, TableArgs};
use crate::report::experiment::load_experiment;
use crate::report::tables::{render_tables, tables_of};
use crate::results::atomic::write_atomic;

pub fn table(cli: &Cli, args: &TableArgs) -> anyhow::Result<()> {
    let loaded =
        args.experiments.iter().map(|e| load_experiment(&cli.results_dir, e)).collect::<Result<Vec<_>, _>>()?;
    let tables = tables_of(&loaded, args.metric)?;
    let text = render_tables(&loaded, &tables, args.format);
    print!("{text}");
    if let Some(path) = &args.output {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(())
}
