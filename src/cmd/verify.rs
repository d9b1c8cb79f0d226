//! `mcdrop verify [EXPERIMENT...]`: print the plan, rerun it, write
//! `results/verify/<time>.{md,json}`, and fail when a unit is inconsistent with its record.

use std::io::IsTerminal;

use anyhow::{bail, Context};

use crate::cli::{Cli, VerifyArgs};
use crate::data::uci::UciSet;
use crate::data::DataDirs;
use crate::data::SetName;
use crate::device::DeviceChoice;
use crate::error::Error;
use crate::results::atomic::write_atomic;
use crate::verify::{self, Verdict, VerifyOptions};

pub fn verify(cli: &Cli, args: &VerifyArgs) -> anyhow::Result<()> {
    let experiments = if args.experiments.is_empty() { committed_experiments(cli)? } else { args.experiments.clone() };
    let units = if args.units.is_empty() { None } else { Some(parse_units(&args.units)?) };
    let options = VerifyOptions {
        budget_seconds: args.budget.as_secs_f64(),
        units,
        device: crate::device::resolve(args.device.unwrap_or(DeviceChoice::Auto))?,
        mc_budget: args.mc_budget,
    };
    let plan = verify::plan(&cli.results_dir, &experiments, &options)?;
    println!(
        "verify: {} unit(s) in {} program(s) of {}, recorded cost {:.0} s, budget {:.0} s:",
        plan.units(),
        plan.len(),
        experiments.join(", "),
        plan.estimated_seconds(),
        options.budget_seconds
    );
    for line in plan.lines() {
        println!("  {line}");
    }
    if args.dry_run {
        return Ok(());
    }
    let terminal = std::io::stderr().is_terminal();
    let bar = crate::protocol::progress::units_bar(plan.len() as u64, terminal);
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    let report = verify::run(plan, &data, &options, &experiments, |i, n, what| {
        bar.set_position(i as u64);
        bar.set_message(what.to_string());
        if !terminal {
            eprintln!("verify: rerunning {what} ({}/{n})", i + 1);
        }
    })?;
    bar.finish_and_clear();
    let dir = cli.results_dir.join("verify");
    let stem = dir.join(report.started.replace(':', "-"));
    write_atomic(&stem.with_extension("json"), serde_json::to_string_pretty(&report)?.as_bytes())?;
    let markdown = verify::report::markdown(&report);
    write_atomic(&stem.with_extension("md"), markdown.as_bytes())?;
    print!("{markdown}");
    println!("\nreport: {}", stem.with_extension("md").display());
    if report.verdict() == Verdict::Inconsistent {
        bail!(
            "{} unit(s) inconsistent with their records",
            report.units.iter().filter(|u| u.verdict == Verdict::Inconsistent).count()
        );
    }
    Ok(())
}

/// `yacht:0,boston:3` (and repeated flags) -> units.
fn parse_units(specs: &[String]) -> Result<Vec<(SetName, usize)>, Error> {
    let mut out = Vec::new();
    for item in specs.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || Error::Usage(format!("--units: expected SET:SPLIT (e.g. yacht:0), got {item:?}"));
        let (set, split) = item.rsplit_once(':').ok_or_else(bad)?;
        let set = set.parse::<UciSet>().map_or_else(|_| SetName::named(set), SetName::uci);
        out.push((set, split.parse::<usize>().map_err(|_| bad())?));
    }
    Ok(out)
}

/// Every experiment folder under the results directory with a saved spec.
fn committed_experiments(cli: &Cli) -> anyhow::Result<Vec<String>> {
    let root = &cli.results_dir;
    let mut names: Vec<String> = std::fs::read_dir(root)
        .with_context(|| format!("reading {}", root.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("spec.yaml").is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    Ok(names)
}
