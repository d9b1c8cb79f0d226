//! What running a spec would do before it does it: per experiment (and per UCI set) the units
//! already recorded, the units left to train, and the time those are estimated to take on
//! this machine, from the recorded wall times of the same experiment's units.

use super::uci::selected_splits;
use crate::data::uci::UciData;
use crate::data::DataDirs;
use crate::error::Result;
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
}

/// Surveys `spec` against the results in `store`.
pub fn survey(spec: &Spec, store: &ExperimentStore, data: &DataDirs) -> Result<Survey> {
    let lines = match &spec.experiment {
        Experiment::UciRegression(plan) => {
            let mut lines = Vec::new();
            for set_plan in &plan.sets {
                let folder = set_plan.set.folder();
                let available = UciData::find_and_load(set_plan.set, data)?.splits.len();
                let splits = selected_splits(&plan.splits, available);
                let mut costs = Vec::new();
                for &k in &splits {
                    if let Recorded::Valid(r) = store.inspect::<UnitRecord>(&store.unit_path(folder, k))? {
                        if r.experiment == spec.name && r.dataset == folder && r.split == k {
                            costs.push(unit_seconds(store, &r)?);
                        }
                    }
                }
                lines.push(line(set_plan.set.display_name(), splits.len(), &costs));
            }
            lines
        }
        Experiment::Mnist(_) => {
            let files = ["training.json", "evaluation.json", "rotated-digit.json", "shift.json"];
            vec![outcome_line(store, "MNIST", &files)?]
        }
        Experiment::Co2(_) => vec![outcome_line(store, "CO2", &["co2.json"])?],
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
    }
}

/// A unit's share of its programs' recorded wall time: its share of the final program plus
/// its grid points' share of the grid program (a program's time is roughly linear in members).
pub fn unit_seconds(store: &ExperimentStore, r: &UnitRecord) -> Result<f64> {
    let grid = match store.inspect::<GridRecord>(&store.grid_path(&r.dataset, r.split))? {
        Recorded::Valid(g) => g.wall_seconds * r.validation.len() as f64 / g.program_members.max(1) as f64,
        _ => 0.0,
    };
    Ok(r.wall_seconds / r.program_members.max(1) as f64 + grid)
}

/// MNIST and CO2 have no per-unit wall times to average: a missing outcome has no estimate.
fn outcome_line(store: &ExperimentStore, what: &str, files: &[&str]) -> Result<SurveyLine> {
    let mut recorded = 0;
    for f in files {
        if let Recorded::Valid(_) = store.inspect::<serde_json::Value>(&store.outcome_path(f))? {
            recorded += 1;
        }
    }
    Ok(SurveyLine { what: what.to_string(), recorded, to_train: files.len() - recorded, estimated_seconds: None })
}
