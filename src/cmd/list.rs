//! `mcdrop list`: the experiment specs and the data sets found, with where they were found.

use std::path::Path;

use crate::cli::Cli;
use crate::data::uci::UciSet;
use crate::data::DataDirs;

pub fn list(cli: &Cli, experiments: &Path) -> anyhow::Result<()> {
    println!("Experiments in {}:", experiments.display());
    let mut files: Vec<_> = match std::fs::read_dir(experiments) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            println!("  (cannot read: {e})");
            Vec::new()
        }
    };
    // One level of sub-folders too (experiments/quick/).
    let nested: Vec<_> = files
        .iter()
        .filter(|p| p.is_dir())
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path())))
        .collect();
    files.extend(nested);
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"));
    files.sort();
    for path in files {
        match crate::spec::load(&path) {
            Ok(spec) => {
                let store = crate::results::ExperimentStore::new(&cli.results_dir, &spec.name);
                let outcomes = std::fs::read_dir(store.outcome_path(""))
                    .map(|d| d.filter_map(|e| e.ok()).filter(|e| e.path().is_file()).count())
                    .unwrap_or(0);
                let (records, unreadable) = match store.scan_records() {
                    Ok(scan) => (scan.readable.len(), scan.unreadable),
                    Err(e) => (0, vec![(store.dir().join("records"), e.to_string())]),
                };
                let done = records + outcomes;
                let last = match store.manifest() {
                    Ok(Some(m)) => m.runs.last().map_or("no run recorded".into(), |run| match &run.ended {
                        Some(ended) => format!("last run {}, ended {ended}", run.outcome),
                        None => format!("last run started {}: {}", run.started, run.status()),
                    }),
                    Ok(None) if done > 0 => "records without a manifest".into(),
                    Ok(None) => "never run".into(),
                    Err(e) => format!("manifest unreadable: {e}"),
                };
                println!("  {:<20} {:<44} {done:>4} records  {last}", spec.name, path.display());
                if let Some((first, why)) = unreadable.first() {
                    println!(
                        "  {:<20} {} record(s) corrupt, redone by the next run; first: {}: {why}",
                        "",
                        unreadable.len(),
                        first.display()
                    );
                }
                if !spec.description.is_empty() {
                    println!("  {:<20} {}", "", spec.description.lines().next().unwrap_or(""));
                }
            }
            Err(e) => println!("  (invalid) {e}"),
        }
    }
    let dirs = DataDirs::new(cli.data_dir.as_deref())?;
    println!(
        "\nData (search order: {}):",
        dirs.candidates().iter().map(|(d, from)| format!("{} [{from}]", d.display())).collect::<Vec<_>>().join(", ")
    );
    for set in UciSet::ALL {
        match dirs.find(&format!("uci/{}", set.folder()), "") {
            Ok(path) => println!("  uci/{:<28} {}", set.folder(), path.display()),
            Err(_) => println!("  uci/{:<28} missing (scripts/fetch-data uci {})", set.folder(), set.folder()),
        }
    }
    for (relative, fetch) in [("mnist", "mnist"), ("co2/co2_weekly_mlo.csv", "co2")] {
        match dirs.find(relative, fetch) {
            Ok(path) => println!("  {relative:<32} {}", path.display()),
            Err(_) => println!("  {relative:<32} missing (scripts/fetch-data {fetch})"),
        }
    }
    Ok(())
}
