//! What a regression model family provides to the UCI protocol, and the batched program the
//! protocol hands it: every member's standardized training rows and held-out rows.
//!
//! The protocol owns data handling, selection and records; a family owns its grid, its
//! training and its predictive scores. The trait and its plain data types live here, below
//! both, so a family implements it beside its model without knowing the protocol (as burn
//! keeps `TrainStep` apart from the models that implement it).

use tch::{Device, Tensor};

use super::checkpoint::Checkpoints;
use super::kind::ModelKind;
use crate::error::{Error, Result};
use crate::spec::UciSetPlan;

/// A hyper-parameter a family's grid searches, by the name records give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HyperName {
    /// Dropout probability p (MC dropout).
    Dropout,
    /// Model precision tau, original target units.
    Tau,
    /// Prior standard deviation of the weights (VI).
    PriorScale,
    /// Adam's learning rate (deep ensembles).
    Lr,
}

impl HyperName {
    pub const ALL: [HyperName; 4] = [HyperName::Dropout, HyperName::Tau, HyperName::PriorScale, HyperName::Lr];

    /// The key in records' `hyper` maps.
    pub fn as_str(self) -> &'static str {
        match self {
            HyperName::Dropout => "dropout",
            HyperName::Tau => "tau",
            HyperName::PriorScale => "prior_scale",
            HyperName::Lr => "lr",
        }
    }

    /// The name of a records' key; `None` for one no family writes.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.as_str() == key)
    }
}

impl std::fmt::Display for HyperName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Hyper-parameter values in a fixed order (the order seeds are derived in).
pub type Hyper = Vec<(HyperName, f64)>;

/// One network (or GP) of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramMember {
    /// Seeds everything random about the member.
    pub seed: u64,
    /// Its training rows are `row_offset .. row_offset + n` of the stacked rows.
    pub row_offset: usize,
    pub hyper: Hyper,
    /// Training mean and std of the target, to map predictions back to original units.
    pub y_mean: f64,
    pub y_std: f64,
}

impl ProgramMember {
    /// The value of hyper-parameter `name`; an error (a family asking for a name its own grid
    /// lacks) rather than a panic.
    pub fn get(&self, name: HyperName) -> Result<f64> {
        self.hyper.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or_else(|| {
            Error::Report(format!(
                "internal: a grid point without `{name}` (it has {:?}); please report this",
                self.hyper
            ))
        })
    }
}

/// Training rows of several data sets stacked on the device (standardized).
///
/// # Shapes
/// x: [R, D], y: [R]
pub struct StackedRows {
    pub x: Tensor,
    pub y: Tensor,
    /// Rows per member: member k trains on `row_offset .. row_offset + n`.
    pub n: usize,
}

/// Members that share shapes, with their data on the device.
pub struct Program {
    pub stacked: StackedRows,
    pub members: Vec<ProgramMember>,
    /// [K, n_held, D], standardized with each member's training statistics.
    pub held_x: Tensor,
    /// K * n_held targets in original units, member-major.
    pub held_y: Vec<f64>,
    pub n_held: usize,
}

impl Program {
    /// Training rows per member.
    pub fn n(&self) -> usize {
        self.stacked.n
    }
}

/// Held-out scores of one member, in original target units.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// RMSE of the predictive mean.
    pub rmse: f64,
    /// Mean test log-likelihood.
    pub ll: f64,
    /// Family-specific metrics (e.g. `rmse_standard` for dropout).
    pub extra: Vec<(String, f64)>,
}

/// How a trainer reports how far it has got: the one callback type every trainer takes, so
/// models do not depend on a progress-bar crate. The protocol shows it as a bar or log lines.
pub trait Progress: Sync {
    /// `steps` more training steps are done.
    fn advance(&self, steps: u64);
    /// What the program does now, once its steps are done (e.g. MC evaluation).
    fn phase(&self, what: &str);
}

/// Progress nobody watches (tests, benches, nested fits).
pub struct Silent;

impl Progress for Silent {
    fn advance(&self, _steps: u64) {}
    fn phase(&self, _what: &str) {}
}

/// Where and how a program runs.
pub struct Env<'a> {
    pub device: Device,
    /// Largest activation tensor one MC chunk may create.
    pub mc_budget: usize,
    /// Advanced once per training step.
    pub progress: &'a dyn Progress,
    /// Where the program's training keeps its checkpoint (families whose trainer cannot
    /// resume ignore it).
    pub checkpoints: &'a dyn Checkpoints,
}

/// A model family the UCI protocol can run. `Sync`: a speculative retrain trains on a thread
/// of its own beside the grid search.
pub trait RegressionFamily: Sync {
    /// Written into records as `model`.
    fn kind(&self) -> ModelKind;
    /// Hyper-parameter settings searched on validation rows (one setting: no search).
    fn grid(&self, set: &UciSetPlan) -> Vec<Hyper>;
    /// Networks the grid phase trains per split: one per grid point, unless points differ
    /// only in how a trained network is scored (concrete dropout's predictive tau).
    fn grid_networks(&self, set: &UciSetPlan) -> usize {
        self.grid(set).len()
    }
    /// Training steps of a program with `n` rows per member, for progress bars.
    fn steps(&self, n: usize, set: &UciSetPlan) -> u64;
    /// The relative work of one member's training, by which shards are balanced and unrecorded
    /// sets estimated: rows touched over all its steps. Full-batch families (the default)
    /// touch every row each step, mini-batch ones a batch; the GP its kernel's entries.
    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        n as f64 * self.steps(n, set) as f64
    }
    /// Trains every member of `program` and scores it on its held-out rows, in member order.
    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>>;
    /// Trains every member of `program`, then scores only the members `keep` names once the
    /// training is done (a speculative retrain: `keep` waits for the grid search's choice), in
    /// `keep`'s order. A member's scores must not depend on which others are kept; families
    /// whose scoring is costly train first and score only the kept members.
    fn fit_and_score_kept(
        &self,
        program: &Program,
        set: &UciSetPlan,
        env: &Env,
        keep: &mut dyn FnMut() -> Result<Vec<usize>>,
    ) -> Result<Vec<Scores>> {
        let all = self.fit_and_score(program, set, env)?;
        Ok(keep()?.into_iter().map(|k| all[k].clone()).collect())
    }
}
