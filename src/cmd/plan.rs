//! `mcdrop plan SPEC...`: what `mcdrop run` would do, before it does it.

use crate::cli::{Cli, PlanArgs};
use crate::data::DataDirs;
use crate::models::regression_family;
use crate::protocol::progress::whole_minutes_of as duration;
use crate::protocol::shard::{programs_of, splits_label, uci_programs, Shard};
use crate::protocol::survey::survey;
use crate::results::ExperimentStore;
use crate::spec::{Experiment, UciPlan};

pub fn plan(cli: &Cli, args: &PlanArgs) -> anyhow::Result<()> {
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    let mut total: Option<f64> = Some(0.0);
    for path in &args.specs {
        let spec = crate::spec::load_with(path, &args.set)?;
        let store = ExperimentStore::new(&cli.results_dir, &spec.name);
        let s = survey(&spec, &store, &data)?;
        let estimate = s.estimate();
        total = match (total, s.estimated_seconds()) {
            (Some(t), Some(e)) => Some(t + e),
            _ if s.to_train() == 0 => total,
            _ => None,
        };
        println!("{}: {} unit(s) recorded, {} to train, {estimate}", s.experiment, s.recorded(), s.to_train());
        for l in s.lines.iter().filter(|l| l.to_train > 0) {
            let when = match l.estimated_seconds {
                Some(sec) if l.extrapolated => format!("{}, from the other sets' cost", duration(sec)),
                Some(sec) => duration(sec),
                None => "unknown".to_string(),
            };
            println!("  {:<14} {:>3} recorded, {:>3} to train ({when})", l.what, l.recorded, l.to_train);
        }
        if let (Some(n), Experiment::UciRegression(uci)) = (args.shards, &spec.experiment) {
            print_shards(uci, &data, n as usize)?;
        }
    }
    if args.specs.len() > 1 {
        println!("in all: {}", total.map_or("unknown (see above)".to_string(), duration));
    }
    Ok(())
}

/// Each shard's programs and estimated cost (members x `RegressionFamily::training_work`), as `--shard I/N` runs them.
fn print_shards(plan: &UciPlan, data: &DataDirs, count: usize) -> anyhow::Result<()> {
    let family = regression_family(plan);
    let programs = uci_programs(plan, family.as_ref(), data, &[], None)?;
    let total: f64 = programs.iter().map(|p| p.cost).sum();
    println!("  {count} shard(s) of {} programs, {:.3e} member-rows processed in all:", programs.len(), total);
    for index in 0..count {
        let mine = programs_of(&programs, Shard { index, count });
        let cost: f64 = mine.iter().map(|p| p.cost).sum();
        let names: Vec<String> =
            mine.iter().map(|p| format!("{}:{}", p.set.folder(), splits_label(&p.splits))).collect();
        println!(
            "  shard {index}/{count}: {:.3e} ({:.1} % of the whole) {}",
            cost,
            100.0 * cost / total.max(f64::MIN_POSITIVE),
            names.join(" ")
        );
    }
    Ok(())
}
