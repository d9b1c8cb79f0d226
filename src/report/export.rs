//! Every record of experiments as one tidy row each, for people who analyse results in polars
//! or pandas: experiment, model, set, split, the chosen hyper-parameters and every metric as
//! columns of their own, and where the row came from (commit, spec hash, device, time).
//!
//! UCI splits give a row each; MNIST gives one row per prediction (standard, MC) on the test
//! set and per rotation angle of the shift study; CO2 one row per predictor (held-out scores and
//! the fit to the training years).

use crate::results::outcome::OutcomeFile;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Map, Value};

use super::co2_fit::training_fit;
use crate::error::Result;
use crate::metrics::ClassificationScores;
use crate::results::outcome::{Co2Record, MnistEvaluation, RlRecord, ShiftStudy};
use crate::results::{ExperimentStore, Provenance};
use crate::spec::Experiment;

/// One tidy row: named values (numbers, text, or null where a row has no such column).
pub type Row = BTreeMap<String, Value>;

/// The rows of `experiments` under `results_dir`.
pub fn rows(results_dir: &Path, experiments: &[String]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for name in experiments {
        let store = ExperimentStore::new(results_dir, name);
        match store.saved_spec()?.experiment {
            Experiment::UciRegression(_) => {
                for r in store.records()? {
                    let mut row = base(name, &r.model.to_string(), r.dataset.folder(), Some(r.split), &r.provenance);
                    for (k, v) in &r.hyper {
                        row.insert(format!("hyper_{k}"), json!(v));
                    }
                    for (k, v) in &r.metrics {
                        row.insert(k.clone(), json!(v));
                    }
                    row.insert("n_train".into(), json!(r.n_train));
                    row.insert("n_test".into(), json!(r.n_test));
                    row.insert("wall_seconds".into(), json!(r.wall_seconds));
                    out.push(row);
                }
            }
            Experiment::Mnist(_) => {
                if let Some(e) = store.read_json::<MnistEvaluation>(&store.outcome(OutcomeFile::MnistEvaluation))? {
                    for (prediction, s) in [("standard", &e.standard.scores), ("mc", &e.mc.scores)] {
                        let mut row = base(name, &e.model.to_string(), "mnist", None, &e.provenance);
                        row.insert("prediction".into(), json!(prediction));
                        row.insert("rotation_degrees".into(), json!(0.0));
                        scores(&mut row, s);
                        row.insert("n_test".into(), json!(e.n_test));
                        out.push(row);
                    }
                }
                if let Some(study) = store.read_json::<ShiftStudy>(&store.outcome(OutcomeFile::Shift))? {
                    for angle in &study.angles {
                        for (prediction, s) in [("standard", &angle.standard), ("mc", &angle.mc)] {
                            let mut row =
                                base(name, &study.model.to_string(), "mnist-rotated", None, &study.provenance);
                            row.insert("prediction".into(), json!(prediction));
                            row.insert("rotation_degrees".into(), json!(angle.degrees));
                            scores(&mut row, s);
                            row.insert("n_test".into(), json!(study.n_images));
                            out.push(row);
                        }
                    }
                }
            }
            Experiment::Co2(_) => {
                if let Some(record) = store.read_json::<Co2Record>(&store.outcome(OutcomeFile::Co2))? {
                    for m in &record.models {
                        let mut row = base(name, &m.name.to_string(), "co2", None, &record.provenance);
                        row.insert("rmse".into(), json!(m.heldout_rmse));
                        row.insert("test_ll".into(), json!(m.heldout_ll));
                        row.insert("coverage95".into(), json!(m.heldout_coverage95));
                        row.insert("train_years_rmse".into(), json!(training_fit(&record, m).map(|f| f.rmse)));
                        row.insert("wall_seconds".into(), json!(m.wall_seconds));
                        out.push(row);
                    }
                }
            }
            Experiment::Rl(_) => {
                if let Some(record) = store.read_json::<RlRecord>(&store.outcome(OutcomeFile::Rl))? {
                    for run in &record.runs {
                        // One row per run: the seed stands where a UCI row has its split.
                        let mut row =
                            base(name, &format!("deep_q {}", run.policy), "rl", Some(run.seed), &run.provenance);
                        row.insert("policy".into(), json!(run.policy));
                        row.insert("dropout".into(), json!(run.dropout));
                        row.insert("first_above_threshold_batch".into(), json!(run.first_above_threshold_batch));
                        row.insert("first_above_threshold_tick".into(), json!(run.first_above_threshold_tick));
                        row.insert("reward_threshold".into(), json!(run.reward_threshold));
                        row.insert("final_average_reward".into(), json!(run.final_average_reward));
                        row.insert("total_reward".into(), json!(run.total_reward));
                        row.insert("food_eaten".into(), json!(run.food_eaten));
                        row.insert("poison_eaten".into(), json!(run.poison_eaten));
                        row.insert("ticks".into(), json!(run.ticks));
                        row.insert("burnin_ticks".into(), json!(run.burnin_ticks));
                        row.insert("batch_ticks".into(), json!(run.batch_ticks));
                        row.insert(
                            "wall_seconds".into(),
                            json!(run.program_wall_seconds / run.program_runs.max(1) as f64),
                        );
                        out.push(row);
                    }
                }
            }
        }
    }
    Ok(out)
}

fn base(experiment: &str, model: &str, set: &str, split: Option<usize>, p: &Provenance) -> Row {
    let mut row = Row::new();
    row.insert("experiment".into(), json!(experiment));
    row.insert("model".into(), json!(model));
    row.insert("dataset".into(), json!(set));
    row.insert("split".into(), json!(split));
    row.insert("commit".into(), json!(p.git_commit));
    row.insert("spec_sha256".into(), json!(p.spec_sha256));
    row.insert("device".into(), json!(p.device));
    row.insert("written_at".into(), json!(p.written_at));
    row
}

fn scores(row: &mut Row, s: &ClassificationScores) {
    for (k, v) in [("accuracy", s.accuracy), ("nll", s.nll), ("brier", s.brier), ("ece", s.ece), ("entropy", s.entropy)]
    {
        row.insert(k.into(), json!(v));
    }
}

/// The columns of `rows` in a fixed order: identity first, then the rest alphabetically.
pub fn columns(rows: &[Row]) -> Vec<String> {
    const FIRST: [&str; 4] = ["experiment", "model", "dataset", "split"];
    let rest: BTreeSet<&String> = rows.iter().flat_map(|r| r.keys()).filter(|k| !FIRST.contains(&k.as_str())).collect();
    FIRST.iter().map(|s| s.to_string()).chain(rest.into_iter().cloned()).collect()
}

/// CSV with a header; a row without a column leaves its field empty.
pub fn csv(rows: &[Row]) -> String {
    let columns = columns(rows);
    let field = |v: Option<&Value>| -> String {
        match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    };
    let mut out = crate::report::render::join_csv(&columns);
    out.push('\n');
    for row in rows {
        let fields: Vec<String> = columns.iter().map(|c| field(row.get(c))).collect();
        out.push_str(&crate::report::render::join_csv(&fields));
        out.push('\n');
    }
    out
}

/// One JSON object per line, every column present (null where a row has none).
pub fn jsonl(rows: &[Row]) -> String {
    let columns = columns(rows);
    let mut out = String::new();
    for row in rows {
        let object: Map<String, Value> =
            columns.iter().map(|c| (c.clone(), row.get(c).cloned().unwrap_or(Value::Null))).collect();
        out.push_str(&Value::Object(object).to_string());
        out.push('\n');
    }
    out
}
