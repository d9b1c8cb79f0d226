//! What running a spec would do before it does it: per experiment (and per UCI set) the units
//! already recorded, the units left to train, and the time those are estimated to take on
//! this machine, from the recorded wall times of the same experiment's units. A UCI set
//! with none recorded is estimated from the other sets' seconds per unit of the sharding cost
//! model (members x rows x steps), so a partly run spec has a whole estimate.

use super::shard::uci_programs;
use super::splits::selected_splits;
use crate::data::{DataDirs, SetName};
use crate::error::Result;
use crate::models::regression_family;
use crate::results::outcome::OutcomeFile;
use crate::results::outcome::RlRun;
use crate::results::store::Recorded;
use crate::results::{ExperimentStore, GridRecord, UnitRecord};
use crate::spec::{Experiment, Spec};

/// One line of a survey: a UCI set, or a whole MNIST or CO2 experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyLine {
    pub what: String,
    pub recorded: usize,
    pub to_train: usize,
    /// Seconds the units left would take at the recorded units' mean cost; `None` when none
    /// is recorded to estimate from.
    pub estimated_seconds: Option<f64>,
    /// The estimate comes from other sets of the spec (through the cost model), not this one's.
    pub extrapolated: bool,
}

/// The survey of one spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    pub experiment: String,
    pub lines: Vec<SurveyLine>,
}

impl Survey {
    pub fn recorded(&self) -> usize {
        self.lines.iter().map(|l| l.recorded).sum()
    }

    pub fn to_train(&self) -> usize {
        self.lines.iter().map(|l| l.to_train).sum()
    }

    /// The estimate for everything left; `None` if any part has none.
    pub fn estimated_seconds(&self) -> Option<f64> {
        self.lines.iter().filter(|l| l.to_train > 0).map(|l| l.estimated_seconds).sum()
    }

    /// What is left, in words: `nothing to train`, `about 1 h 12 min on this machine`, or why
    /// there is no estimate.
    pub fn estimate(&self) -> String {
        match (self.to_train(), self.estimated_seconds()) {
            (0, _) => "nothing to train".to_string(),
            (_, Some(sec)) => format!("about {} on this machine", crate::protocol::progress::whole_minutes_of(sec)),
            (_, None) => "time unknown: no recorded unit of this spec to estimate from".to_string(),
        }
    }
}

/// Surveys `spec` against the results in `store`.
pub fn survey(spec: &Spec, store: &ExperimentStore, data: &DataDirs) -> Result<Survey> {
    let lines = match &spec.experiment {
        Experiment::UciRegression(plan) => {
            let mut lines = Vec::new();
            // (recorded seconds, their cost) over sets with records; each set's cost per split.
            let family = regression_family(plan);
            let programs = uci_programs(plan, family.as_ref(), data, &[], None)?;
            let cost_per_split = |set: &SetName| {
                let (cost, splits) = programs
                    .iter()
                    .filter(|p| &p.set == set)
                    .fold((0.0, 0usize), |(c, n), p| (c + p.cost, n + p.splits.len()));
                cost / splits.max(1) as f64
            };
            let (mut seconds_seen, mut cost_seen) = (0.0, 0.0);
            for set_plan in &plan.sets {
                let folder = set_plan.set.folder();
                let available = set_plan.source.load(data)?.splits.len();
                let splits = selected_splits(&plan.splits, available);
                let mut costs = Vec::new();
                for &k in &splits {
                    if let Recorded::Valid(r) = store.inspect::<UnitRecord>(&store.unit_path(folder, k))? {
                        if r.experiment == spec.name && r.dataset == folder && r.split == k {
                            costs.push(unit_seconds(store, &r)?);
                        }
                    }
                }
                seconds_seen += costs.iter().sum::<f64>();
                cost_seen += costs.len() as f64 * cost_per_split(&set_plan.set);
                lines.push((set_plan.set.clone(), line(set_plan.set.display_name(), splits.len(), &costs)));
            }
            let rate = (cost_seen > 0.0).then(|| seconds_seen / cost_seen);
            lines
                .into_iter()
                .map(|(set, mut l)| {
                    if l.recorded == 0 && l.to_train > 0 {
                        if let Some(rate) = rate {
                            l.estimated_seconds = Some(rate * cost_per_split(&set) * l.to_train as f64);
                            l.extrapolated = true;
                        }
                    }
                    l
                })
                .collect()
        }
        Experiment::Mnist(plan) => {
            let files = super::mnist::outcome_files(plan);
            vec![outcome_line(store, "MNIST", &files)?]
        }
        Experiment::Co2(_) => vec![outcome_line(store, "CO2", &[OutcomeFile::Co2.name()])?],
        Experiment::Rl(plan) => plan
            .policies
            .iter()
            .map(|policy| {
                let mut costs = Vec::new();
                for seed in 0..plan.seeds {
                    if let Recorded::Valid(r) = store.inspect::<RlRun>(&super::rl::run_path(store, *policy, seed))? {
                        if r.experiment == spec.name {
                            costs.push(r.program_wall_seconds / r.program_runs.max(1) as f64);
                        }
                    }
                }
                Ok(line(&format!("RL {}", policy.name()), plan.seeds, &costs))
            })
            .collect::<Result<_>>()?,
    };
    Ok(Survey { experiment: spec.name.clone(), lines })
}

fn line(what: &str, units: usize, costs: &[f64]) -> SurveyLine {
    let to_train = units - costs.len();
    let mean = (!costs.is_empty()).then(|| costs.iter().sum::<f64>() / costs.len() as f64);
    SurveyLine {
        what: what.to_string(),
        recorded: costs.len(),
        to_train,
        estimated_seconds: mean.map(|m| m * to_train as f64),
        extrapolated: false,
    }
}

/// A unit's share of its programs' recorded wall time: its share of the final program plus
/// its grid points' share of the grid program (a program's time is roughly linear in members).
/// A speculative retrain trained a network per grid point for the unit.
pub fn unit_seconds(store: &ExperimentStore, r: &UnitRecord) -> Result<f64> {
    let points = r.validation.len().max(1) as f64;
    let grid = match store.inspect::<GridRecord>(&store.grid_path(r.dataset.folder(), r.split))? {
        Recorded::Valid(g) => g.wall_seconds * points / g.program_members.max(1) as f64,
        _ => 0.0,
    };
    let retrained = if r.speculative_retrain { points } else { 1.0 };
    Ok(r.wall_seconds * retrained / r.program_members.max(1) as f64 + grid)
}

/// MNIST and CO2 have no per-unit wall times to average: a missing outcome has no estimate.
fn outcome_line(store: &ExperimentStore, what: &str, files: &[impl AsRef<str>]) -> Result<SurveyLine> {
    let mut recorded = 0;
    for f in files {
        if let Recorded::Valid(_) = store.inspect::<serde_json::Value>(&store.outcome_path(f.as_ref()))? {
            recorded += 1;
        }
    }
    Ok(SurveyLine {
        what: what.to_string(),
        recorded,
        to_train: files.len() - recorded,
        estimated_seconds: None,
        extrapolated: false,
    })
}
