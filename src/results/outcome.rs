//! Records of the MNIST and CO2 experiments (the UCI ones are `record::UnitRecord`), kept
//! under `results/<experiment>/outcomes/` so `mcdrop table` and `mcdrop plot` rebuild every
//! table and figure from them without training.

use serde::{Deserialize, Serialize};

use super::Provenance;
use crate::metrics::{ClassificationScores, ReliabilityBin};
use crate::models::{Co2Predictor, ModelKind};

/// The outcome files records are read from, by what they hold (`ExperimentStore::outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeFile {
    MnistEvaluation,
    RotatedDigit,
    Shift,
    /// A single classifier's training record (an ensemble's members have one each).
    Training,
    Co2,
    Rl,
}

impl OutcomeFile {
    pub fn name(self) -> &'static str {
        match self {
            OutcomeFile::MnistEvaluation => "evaluation.json",
            OutcomeFile::RotatedDigit => "rotated-digit.json",
            OutcomeFile::Shift => "shift.json",
            OutcomeFile::Training => "training.json",
            OutcomeFile::Co2 => "co2.json",
            OutcomeFile::Rl => "rl.json",
        }
    }
}

/// `outcomes/training.json`: how the saved weights (`model.safetensors`) were trained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingRecord {
    pub experiment: String,
    pub model: ModelKind,
    pub n_train: usize,
    pub epochs: usize,
    pub steps: usize,
    /// Mean training loss per epoch.
    pub epoch_losses: Vec<f64>,
    /// The dropout rates before each fully connected layer, when training learned them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learned_dropout: Option<Vec<f64>>,
    pub wall_seconds: f64,
    pub provenance: Provenance,
}

/// Scores of one way of predicting (standard or MC) with its reliability diagram.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodScores {
    pub scores: ClassificationScores,
    pub reliability: Vec<ReliabilityBin>,
}

/// `outcomes/evaluation.json`: the unrotated test set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MnistEvaluation {
    pub experiment: String,
    pub model: ModelKind,
    pub n_test: usize,
    pub mc_samples: usize,
    /// Dropout off (LeNet) or the network of posterior means (VI).
    pub standard: MethodScores,
    /// The average of `mc_samples` stochastic softmax outputs.
    pub mc: MethodScores,
    pub wall_seconds: f64,
    pub provenance: Provenance,
}

/// `outcomes/rotated-digit.json`: the paper's Figure 4 data.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotatedDigitRecord {
    pub experiment: String,
    pub image_index: usize,
    pub label: u8,
    pub angles: Vec<f64>,
    /// The rotated images, 28 x 28 grey levels in [0, 1], one per angle.
    pub images: Vec<Vec<f32>>,
    pub classes: Vec<usize>,
    /// softmax_input[a][s][c]: logit of classes[c] in pass s at angle a.
    pub softmax_input: Vec<Vec<Vec<f32>>>,
    /// softmax_output[a][s][c]: probability of classes[c] in pass s at angle a.
    pub softmax_output: Vec<Vec<Vec<f32>>>,
    /// The class each angle's MC predictive ranks first.
    pub mc_prediction: Vec<usize>,
    pub provenance: Provenance,
}

/// `outcomes/shift.json`: the test images rotated by each angle.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftStudy {
    pub experiment: String,
    pub model: ModelKind,
    pub n_images: usize,
    pub mc_samples: usize,
    pub angles: Vec<ShiftAngle>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftAngle {
    pub degrees: f64,
    pub standard: ClassificationScores,
    pub mc: ClassificationScores,
}

/// `outcomes/co2.json`: every model's predictive on the grid and its held-out scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Co2Record {
    pub experiment: String,
    pub cutoff: f64,
    /// Observed weeks (decimal years, ppmv), training ones first.
    pub observed_years: Vec<f64>,
    pub observed_ppm: Vec<f64>,
    pub n_train: usize,
    pub grid_years: Vec<f64>,
    pub models: Vec<Co2Model>,
    pub provenance: Provenance,
}

/// One model's predictive (ppmv) on the grid and scores on the held-out weeks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Co2Model {
    /// `standard dropout (relu)`, `gp`, `mc dropout (relu)`, `mc dropout (tanh)`.
    pub name: Co2Predictor,
    pub grid_mean: Vec<f64>,
    /// Predictive standard deviation, including the noise term; 0 for a point prediction.
    pub grid_std: Vec<f64>,
    pub heldout_rmse: f64,
    /// Mean Gaussian log-likelihood of held-out weeks (null for a point prediction).
    pub heldout_ll: Option<f64>,
    /// Share of held-out weeks inside mean +- 1.96 std (null for a point prediction).
    pub heldout_coverage95: Option<f64>,
    pub wall_seconds: f64,
}

/// `outcomes/rl/<policy>-<seed>.json`: one deep-Q agent's life in the rldemo world.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RlRun {
    pub experiment: String,
    /// `thompson` or `epsilon_greedy`.
    pub policy: String,
    pub seed: usize,
    /// Thompson sampling's dropout: `every_layer p=0.1` (the paper) or
    /// `after_first_hidden p=0.2` (the demo); `none` for epsilon-greedy.
    pub dropout: String,
    pub ticks: usize,
    pub burnin_ticks: usize,
    pub batch_ticks: usize,
    pub reward_window: usize,
    pub reward_threshold: f64,
    /// Mean reward of the last `reward_window` ticks after each batch: point b is at tick
    /// (b + 1) x batch_ticks.
    pub curve: Vec<f64>,
    /// The first tick (a multiple of batch_ticks) whose point exceeds the threshold.
    pub first_above_threshold_tick: Option<usize>,
    /// The same in batches (the paper's x axis, counted from tick 0).
    pub first_above_threshold_batch: Option<usize>,
    /// The curve's last point.
    pub final_average_reward: f64,
    /// Total reward collected over the run, and the food and poison eaten.
    pub total_reward: f64,
    pub food_eaten: usize,
    pub poison_eaten: usize,
    /// Wall time of the program this run was batched in, and how many runs shared it.
    pub program_wall_seconds: f64,
    /// Where the program's time went.
    pub program_times: TimeSplit,
    pub program_runs: usize,
    pub provenance: Provenance,
}

/// Where a program's time went: the rooms (eyes, moves, items), the agents' action passes,
/// their learning (replay gathering, masks, the TD step), seconds each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    pub world: f64,
    pub act: f64,
    pub learn: f64,
}

impl RlRun {
    /// Curve points taken during burn-in (not drawn, not counted after burn-in).
    pub fn burnin_points(&self) -> usize {
        (self.burnin_ticks / self.batch_ticks).min(self.curve.len())
    }

    /// One batch past the run's last: where a run that never crossed the threshold ranks.
    pub fn batch_past_end(&self) -> usize {
        self.ticks / self.batch_ticks + 1
    }

    /// The mean of the curve after burn-in (the area under the learning curve).
    pub fn reward_after_burnin(&self) -> f64 {
        let after = &self.curve[self.burnin_points()..];
        after.iter().sum::<f64>() / after.len().max(1) as f64
    }
}

/// `outcomes/rl.json`: every run, once all are done (what tables and figures read).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RlRecord {
    pub experiment: String,
    pub runs: Vec<RlRun>,
    pub provenance: Provenance,
}
