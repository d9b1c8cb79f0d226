//! `mcdrop summary EXPERIMENT...`: what ran, how long each experiment took, where its outputs
//! are, and a verdict per published number it can be held to — what `make reproduce` prints
//! at the end. The lines and their verdicts are `report::summary`'s; this prints them.

use crate::cli::{Cli, SummaryArgs};
use crate::report::experiment::load_experiment;
use crate::report::summary::{outcome_lines, run_lines};
use crate::results::ExperimentStore;

pub fn summary(cli: &Cli, args: &SummaryArgs) -> anyhow::Result<()> {
    println!("Summary of {} experiment(s) under {}:", args.experiments.len(), cli.results_dir.display());
    let mut unreadable = Vec::new();
    for name in &args.experiments {
        // A corrupt record or manifest is reported and the next experiment summarized; the
        // command still fails at the end, so a script notices.
        let (experiment, manifest) = match load_experiment(&cli.results_dir, name)
            .and_then(|e| Ok((e, ExperimentStore::new(&cli.results_dir, name).manifest()?)))
        {
            Ok(loaded) => loaded,
            Err(e @ (crate::Error::Results { .. } | crate::Error::Report(_))) => {
                println!("\n== {name}: unreadable: {e}");
                unreadable.push(name.clone());
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let store = ExperimentStore::new(&cli.results_dir, name);
        println!("\n== {name} [profile {}] -> {}", experiment.spec.raw.profile.as_str(), store.dir().display());
        for line in manifest.as_ref().map(run_lines).unwrap_or_default() {
            println!("   {line}");
        }
        for line in outcome_lines(&experiment.data) {
            println!("   {line}");
        }
        let figures = store.dir().join("figures");
        if figures.is_dir() {
            println!("   figures: {}", figures.display());
        }
    }
    if !unreadable.is_empty() {
        anyhow::bail!("unreadable results in {}: rerun them, or see the lines above", unreadable.join(", "));
    }
    Ok(())
}
