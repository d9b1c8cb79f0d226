//! What a UCI spec's training costs per split, and what its records learned: per set, the
//! member-steps of one split (every grid network on the fit rows plus the final network on
//! the whole training split), the recorded wall time of one split (its share of its programs,
//! as `survey::unit_seconds`), and the mean and range over splits of each recorded metric
//! that is neither a score nor the family's second metric (the rates and noise concrete
//! dropout learns, the GP's noise, ...). Beside another spec's, it says what a family saves
//! against a grid search.

use std::collections::BTreeMap;

use super::splits::{fit_rows, selected_splits};
use super::survey::unit_seconds;
use crate::data::{DataDirs, SetName};
use crate::error::Result;
use crate::models::regression_family;
use crate::report::TableFacts;
use crate::results::store::Recorded;
use crate::results::{ExperimentStore, UnitRecord};
use crate::spec::{Experiment, Spec};

/// A metric's mean and range over a set's recorded splits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// One set of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct SetCost {
    pub set: SetName,
    pub splits_recorded: usize,
    /// Grid networks x their steps + the final network's steps, for one split.
    pub member_steps_per_split: u64,
    /// Mean recorded seconds per split; `None` with no record.
    pub seconds_per_split: Option<f64>,
    /// Learned quantities by metric key.
    pub learned: BTreeMap<String, Spread>,
}

/// The cost of every set of a UCI `spec` and what its records in `store` learned; `None` for
/// MNIST and CO2 specs.
pub fn set_costs(spec: &Spec, store: &ExperimentStore, data: &DataDirs) -> Result<Option<Vec<SetCost>>> {
    let Experiment::UciRegression(plan) = &spec.experiment else { return Ok(None) };
    let family = regression_family(plan);
    let kind = family.kind();
    let scores = [crate::metrics::keys::RMSE, crate::metrics::keys::TEST_LL];
    let secondary = kind.secondary_metric().map(|m| m.key);
    let mut out = Vec::new();
    for set_plan in &plan.sets {
        let uci = set_plan.source.load(data)?;
        let n_train = uci.splits.first().map_or(0, |s| s.train.len());
        let (points, networks) = (family.grid(set_plan).len(), family.grid_networks(set_plan) as u64);
        let fit = fit_rows(n_train, plan.validation_fraction);
        let grid = if points > 1 { networks * family.steps(fit, set_plan) } else { 0 };
        let member_steps_per_split = grid + family.steps(n_train, set_plan);
        let folder = set_plan.set.folder();
        let (mut seconds, mut values) = (Vec::new(), BTreeMap::<String, Vec<f64>>::new());
        for k in selected_splits(&plan.splits, uci.splits.len()) {
            if let Recorded::Valid(r) = store.inspect::<UnitRecord>(&store.unit_path(folder, k))? {
                if r.experiment != spec.name || r.dataset != folder || r.split != k {
                    continue;
                }
                seconds.push(unit_seconds(store, &r)?);
                for (key, &v) in r
                    .metrics
                    .iter()
                    .filter(|(key, _)| !scores.contains(&key.as_str()) && Some(key.as_str()) != secondary)
                {
                    values.entry(key.clone()).or_default().push(v);
                }
            }
        }
        let learned = values
            .into_iter()
            .map(|(key, v)| {
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let (min, max) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                (key, Spread { mean, min, max })
            })
            .collect();
        out.push(SetCost {
            set: set_plan.set.clone(),
            splits_recorded: seconds.len(),
            member_steps_per_split,
            seconds_per_split: (!seconds.is_empty()).then(|| seconds.iter().sum::<f64>() / seconds.len() as f64),
            learned,
        });
    }
    Ok(Some(out))
}
