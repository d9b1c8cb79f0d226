//! `mcdrop export EXPERIMENT... --format csv|jsonl`: every record as one tidy row.

use crate::cli::{Cli, ExportArgs, ExportFormat};
use crate::report::export;
use crate::results::atomic::write_atomic;

pub fn export(cli: &Cli, args: &ExportArgs) -> anyhow::Result<()> {
    let rows = export::rows(&cli.results_dir, &args.experiments)?;
    let text = match args.format {
        ExportFormat::Csv => export::csv(&rows),
        ExportFormat::Jsonl => export::jsonl(&rows),
    };
    match &args.output {
        Some(path) => {
            write_atomic(path, text.as_bytes())?;
            eprintln!("{} row(s) -> {}", rows.len(), path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
