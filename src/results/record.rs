//! What one unit of work leaves behind.
//!
//! A unit is one (experiment, data set, split): the hyper-parameters chosen for it, every
//! metric on its test rows, and the validation scores of the grid search that chose them.
//! Grid records are kept too, so an interrupted run resumes after its grid search.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Provenance;
use crate::data::SetName;
use crate::models::ModelKind;

/// The final record of one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRecord {
    pub experiment: String,
    /// The set's folder name (a UCI set's, or a table's own).
    pub dataset: SetName,
    pub split: usize,
    pub model: ModelKind,
    /// Chosen hyper-parameters (e.g. dropout, tau).
    pub hyper: BTreeMap<String, f64>,
    /// Test metrics in original target units: `rmse` (predictive mean), `test_ll`, and
    /// model-specific ones (`rmse_standard` for dropout).
    pub metrics: BTreeMap<String, f64>,
    pub n_train: usize,
    pub n_test: usize,
    /// Validation scores of every grid point (empty when there was nothing to search).
    pub validation: Vec<GridPoint>,
    /// Wall time of the batched program that trained and tested this unit.
    pub wall_seconds: f64,
    /// Networks trained together in that program.
    pub program_members: usize,
    /// Trained by a speculative retrain (every grid point's retrain network, beside the grid
    /// search, the chosen one kept); absent in records of a sequential retrain.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub speculative_retrain: bool,
    pub provenance: Provenance,
}

/// Validation scores of one hyper-parameter setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridPoint {
    pub hyper: BTreeMap<String, f64>,
    pub rmse: f64,
    pub ll: f64,
}

/// The grid search of one split, saved before the retrain phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRecord {
    pub experiment: String,
    pub dataset: SetName,
    pub split: usize,
    pub n_fit: usize,
    pub n_validation: usize,
    pub points: Vec<GridPoint>,
    pub wall_seconds: f64,
    pub program_members: usize,
    pub provenance: Provenance,
}
