//! `mcdrop plan SPEC...`: what `mcdrop run` would do, before it does it; with `--fresh`,
//! what a run from scratch would take on this machine (`protocol::calibrate`).

use crate::cli::{Cli, PlanArgs};
use crate::data::DataDirs;
use crate::models::regression_family;
use crate::protocol::calibrate::{
    estimate_fresh, hours_and_minutes, lanes_wall, short_duration, uci_lanes_wall, Calibration,
};
use crate::protocol::execute::DEFAULT_MC_BUDGET;
use crate::protocol::progress::whole_minutes_of as duration;
use crate::protocol::shard::{programs_of, splits_label, uci_programs, Shard};
use crate::protocol::survey::survey;
use crate::results::ExperimentStore;
use crate::spec::{Experiment, UciPlan};

pub fn plan(cli: &Cli, args: &PlanArgs) -> anyhow::Result<()> {
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    if args.fresh {
        return plan_fresh(args, &data);
    }
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

/// Calibrates every spec's cost model and prints the estimate of a run from scratch, spec by
/// spec, ending with `total: N h M min`.
fn plan_fresh(args: &PlanArgs, data: &DataDirs) -> anyhow::Result<()> {
    let lanes = args.jobs.unwrap_or(1) as usize;
    let threads = tch::get_num_threads();
    match lanes {
        1 => println!("Estimate of a run from scratch on this machine ({threads} threads), calibrated by shortened runs now:"),
        n => println!(
            "Estimate of a run from scratch on this machine in {n} lanes of {threads} thread(s), calibrated by shortened runs now:"
        ),
    }
    // UCI specs run one after another, each in every lane; the others share the lanes.
    let (mut uci_total, mut whole_specs) = (0.0, Vec::new());
    for path in &args.specs {
        let spec = crate::spec::load_with(path, &args.set)?;
        let device = crate::device::resolve(spec.device)?;
        let calibration = Calibration { data, device, mc_budget: DEFAULT_MC_BUDGET };
        let estimate = estimate_fresh(&spec, &calibration)?;
        let wall = match &spec.experiment {
            Experiment::UciRegression(plan) => uci_lanes_wall(plan, data, &estimate, lanes)?,
            _ => estimate.seconds(),
        };
        let in_lanes = match (lanes, &spec.experiment) {
            (1, _) => String::new(),
            (n, Experiment::UciRegression(_)) => format!(", {} in {n} lanes", hours_and_minutes(wall)),
            (_, _) => ", in one lane".to_string(),
        };
        println!(
            "{}: {}{in_lanes} (calibrated in {:.0} s on {})",
            estimate.experiment,
            hours_and_minutes(estimate.seconds()),
            estimate.calibration_seconds,
            crate::device::describe(device)
        );
        for l in &estimate.lines {
            let split = match l.evaluate {
                0.0 => String::new(),
                e => format!(" (training {}, evaluation {})", short_duration(l.train), short_duration(e)),
            };
            println!("  {:<10} {}{split}; {}", l.what, short_duration(l.seconds()), l.how);
        }
        if let Some(caveat) = &estimate.caveat {
            println!("  note: {caveat}");
        }
        match spec.experiment {
            Experiment::UciRegression(_) => uci_total += wall,
            _ => whole_specs.push(wall),
        }
    }
    if lanes > 1 {
        println!(
            "UCI specs one after another: {}; the others {lanes} at a time in the order given: {}",
            hours_and_minutes(uci_total),
            hours_and_minutes(lanes_wall(&whole_specs, lanes))
        );
    }
    println!("total: {}", hours_and_minutes(uci_total + lanes_wall(&whole_specs, lanes)));
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
