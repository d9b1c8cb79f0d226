//! `mcdrop plan SPEC...`: what `mcdrop run` would do, before it does it.

use crate::cli::{Cli, PlanArgs};
use crate::data::DataDirs;
use crate::protocol::survey::survey;
use crate::results::ExperimentStore;

pub fn plan(cli: &Cli, args: &PlanArgs) -> anyhow::Result<()> {
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    let mut total: Option<f64> = Some(0.0);
    for path in &args.specs {
        let spec = crate::spec::load(path)?;
        let store = ExperimentStore::new(&cli.results_dir, &spec.name);
        let s = survey(&spec, &store, &data)?;
        let estimate = match (s.to_train(), s.estimated_seconds()) {
            (0, _) => "nothing to train".to_string(),
            (_, Some(sec)) => format!("about {} on this machine", duration(sec)),
            (_, None) => "time unknown: no recorded unit of this spec to estimate from".to_string(),
        };
        total = match (total, s.estimated_seconds()) {
            (Some(t), Some(e)) => Some(t + e),
            _ if s.to_train() == 0 => total,
            _ => None,
        };
        println!("{}: {} unit(s) recorded, {} to train, {estimate}", s.experiment, s.recorded(), s.to_train());
        for l in s.lines.iter().filter(|l| l.to_train > 0) {
            let when = l.estimated_seconds.map_or("unknown".to_string(), duration);
            println!("  {:<14} {:>3} recorded, {:>3} to train ({when})", l.what, l.recorded, l.to_train);
        }
    }
    if args.specs.len() > 1 {
        println!("in all: {}", total.map_or("unknown (see above)".to_string(), duration));
    }
    Ok(())
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    humantime::format_duration(std::time::Duration::from_secs(if s >= 60 { s / 60 * 60 } else { s })).to_string()
}
