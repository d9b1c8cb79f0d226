//! Reading an experiment's results for `table`, `plot` and `summary`: its saved spec (which
//! says what kind of experiment it is and under which profile it ran) and its records.

use crate::results::outcome::OutcomeFile;
use std::path::Path;

use super::aggregate::{summarize, SetSummary};
use crate::error::{Error, Result};
use crate::results::outcome::{Co2Record, MnistEvaluation, RlRecord, RotatedDigitRecord, ShiftStudy, TrainingRecord};
use crate::results::ExperimentStore;
use crate::spec::{Experiment, Spec};

/// An experiment's results, by kind.
// One value per command, read once: boxing the large MNIST variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    Uci(Vec<SetSummary>),
    Mnist {
        evaluation: Option<MnistEvaluation>,
        rotated: Option<RotatedDigitRecord>,
        shift: Option<ShiftStudy>,
        /// The rates concrete dropout learned, before each fully connected layer.
        learned_dropout: Option<Vec<f64>>,
    },
    Co2(Co2Record),
    Rl(RlRecord),
}

pub struct LoadedExperiment {
    pub name: String,
    pub spec: Spec,
    /// Records behind the data (UCI: split records).
    pub records: usize,
    pub data: Loaded,
}

impl LoadedExperiment {
    /// ` (profile quick)` for shortened runs, empty for the paper's protocol.
    pub fn profile_note(&self) -> String {
        if self.spec.raw.profile.is_full() {
            String::new()
        } else {
            format!(" (profile {})", self.spec.raw.profile.as_str())
        }
    }

    /// A figure caption: experiment, profile, spec hash, how to redraw (the description is
    /// in the saved spec; it would not fit under a figure).
    pub fn caption(&self) -> String {
        format!(
            "experiment {} [profile {}], spec {} (results/{}/spec.yaml); redraw: mcdrop plot {}",
            self.name,
            self.spec.raw.profile.as_str(),
            &self.spec.sha256[..12],
            self.name,
            self.name
        )
    }
}

/// The results of experiment `name` under `results_dir`.
pub fn load_experiment(results_dir: &Path, name: &str) -> Result<LoadedExperiment> {
    let store = ExperimentStore::new(results_dir, name);
    let spec = store.saved_spec()?;
    let (data, records) = match &spec.experiment {
        Experiment::UciRegression(_) => {
            let records = store.records()?;
            let summaries = summarize(&records).map_err(|e| match e {
                Error::Report(message) => Error::Report(format!("experiment `{name}`: {message}")),
                other => other,
            })?;
            (Loaded::Uci(summaries), records.len())
        }
        Experiment::Mnist(_) => {
            let evaluation = store.read_json::<MnistEvaluation>(&store.outcome(OutcomeFile::MnistEvaluation))?;
            let rotated = store.read_json::<RotatedDigitRecord>(&store.outcome(OutcomeFile::RotatedDigit))?;
            let shift = store.read_json::<ShiftStudy>(&store.outcome(OutcomeFile::Shift))?;
            let learned_dropout = store
                .read_json::<TrainingRecord>(&store.outcome(OutcomeFile::Training))?
                .and_then(|t| t.learned_dropout);
            let n = [evaluation.is_some(), rotated.is_some(), shift.is_some()].iter().filter(|b| **b).count();
            (Loaded::Mnist { evaluation, rotated, shift, learned_dropout }, n)
        }
        Experiment::Co2(_) => {
            let record = store.read_json::<Co2Record>(&store.outcome(OutcomeFile::Co2))?.ok_or_else(|| {
                Error::Usage(format!("experiment `{name}` has no outcomes/co2.json yet: run it first"))
            })?;
            (Loaded::Co2(record), 1)
        }
        Experiment::Rl(_) => {
            let record = store.read_json::<RlRecord>(&store.outcome(OutcomeFile::Rl))?.ok_or_else(|| {
                Error::Usage(format!("experiment `{name}` has no outcomes/rl.json yet: run it first"))
            })?;
            let runs = record.runs.len();
            (Loaded::Rl(record), runs)
        }
    };
    Ok(LoadedExperiment { name: name.to_string(), spec, records, data })
}
