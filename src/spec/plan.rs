//! The checked, resolved spec and its plans: what `check` builds from the raw spec and what
//! the protocols and models read. Every value here has passed its rules; defaults are applied
//! and per-set overrides merged.

use std::path::PathBuf;

use super::raw::{
    Activation, ConcreteNoise, DropoutPlacement, EnsembleLoss, GpOptimizer, InducingInit, LrPolicy, RawSpec,
    SelectionMetric, Splits,
};
use crate::data::regression::RegressionSource;
use crate::data::uci::UciSet;
use crate::data::SetName;
use crate::device::DeviceChoice;
use crate::error::{Error, Result};

/// A checked spec, ready to run.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub device: DeviceChoice,
    /// The file it was read from.
    pub source: PathBuf,
    /// SHA-256 of the canonical YAML form of the fields that decide results, so comments,
    /// formatting, description, device and run options don't change it.
    pub sha256: String,
    /// The parsed form, saved next to the results.
    pub raw: RawSpec,
    pub experiment: Experiment,
}

/// What the spec asks to run.
#[derive(Debug, Clone)]
pub enum Experiment {
    UciRegression(UciPlan),
    Mnist(MnistPlan),
    Co2(Co2Plan),
    Rl(super::rl::RlPlan),
}

/// MNIST: train one classifier, evaluate it (standard and MC), rotate a digit, rotate the
/// test set.
#[derive(Debug, Clone)]
pub struct MnistPlan {
    pub classifier: ClassifierPlan,
    pub epochs: usize,
    pub training: TrainingPlan,
    /// `training.optimizer: sgd` (Caffe's solver) instead of Adam; `training.lr` is its base rate.
    pub sgd: Option<SgdPlan>,
    pub mc_samples: usize,
    pub train_rows: Option<usize>,
    pub test_rows: Option<usize>,
    pub shift_rows: Option<usize>,
    pub shift_angles: Vec<f64>,
    pub rotated_digit: RotatedDigitPlan,
    pub calibration_bins: usize,
}

#[derive(Debug, Clone)]
pub struct RotatedDigitPlan {
    pub image: Option<usize>,
    pub steps: usize,
    pub max_degrees: f64,
    pub samples: usize,
    pub classes: Vec<usize>,
}

/// The classifiers the MNIST protocol trains.
#[derive(Debug, Clone)]
pub enum ClassifierPlan {
    /// LeNet with dropout; MC dropout at test time, and dropout off as "standard".
    /// With `learned`, `dropout` is where the two learned rates start.
    /// `members` > 1: an ensemble of such LeNets averaging their softmax outputs.
    Lenet {
        dropout: f64,
        placement: DropoutPlacement,
        weight_decay: f64,
        learned: Option<LearnedDropout>,
        members: usize,
    },
    /// Mean-field VI MLP with a softmax likelihood; "standard" is the net of posterior means.
    Mfvi { hidden_layers: usize, hidden_units: usize, activation: Activation, prior_std: f64, init_posterior_std: f64 },
}

impl ClassifierPlan {
    /// How many classifiers are trained (an ensemble's members; 1 otherwise).
    pub fn members(&self) -> usize {
        match self {
            ClassifierPlan::Lenet { members, .. } => *members,
            ClassifierPlan::Mfvi { .. } => 1,
        }
    }
}

/// Concrete dropout's rates before LeNet's fully connected layers.
#[derive(Debug, Clone, Copy)]
pub struct LearnedDropout {
    pub length_scale: f64,
    pub temperature: f64,
}

/// CO2: MC dropout nets (one per activation) and a GP, trained before the cutoff.
#[derive(Debug, Clone)]
pub struct Co2Plan {
    pub cutoff: f64,
    pub predict_until: f64,
    pub grid_points: usize,
    pub activations: Vec<Activation>,
    pub tau: f64,
    pub gp: GpPlan,
    pub mlp: MlpPlan,
    pub hidden_units: usize,
    pub epochs: usize,
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

/// The UCI protocol: grid search on a validation part of each split, retrain, test.
#[derive(Debug, Clone)]
pub struct UciPlan {
    pub sets: Vec<UciSetPlan>,
    pub splits: Splits,
    /// The spec field `splits` comes from, for errors.
    pub splits_field: &'static str,
    pub model: ModelPlan,
    pub validation_fraction: f64,
    pub selection_metric: SelectionMetric,
    pub splits_per_program: Option<usize>,
}

impl UciPlan {
    /// The spec's set that `name` names: its folder name, or a UCI set's table name.
    pub fn set_named(&self, name: &str) -> Option<&SetName> {
        let uci = name.parse::<UciSet>().ok();
        self.sets.iter().map(|p| &p.set).find(|s| s.folder() == name || (uci.is_some() && s.uci_set() == uci))
    }

    /// `--only` values resolved to the spec's sets, or an error listing them.
    pub fn resolve_only(&self, names: &[String]) -> Result<Vec<SetName>> {
        names
            .iter()
            .map(|name| {
                self.set_named(name).cloned().ok_or_else(|| {
                    let sets: Vec<&str> = self.sets.iter().map(|p| p.set.folder()).collect();
                    Error::Usage(format!(
                        "--only: `{name}` is not a set of this spec; its sets are {}",
                        sets.join(", ")
                    ))
                })
            })
            .collect()
    }
}

/// One data set's settings after overrides.
#[derive(Debug, Clone)]
pub struct UciSetPlan {
    pub set: SetName,
    /// Where its rows come from (`load` reads them).
    pub source: RegressionSource,
    pub hidden_units: usize,
    pub epochs: usize,
    pub taus: Vec<f64>,
    /// The GP's settings for this set, where `task.uci.sets.SET.gp` changes the model's.
    pub gp: Option<GpPlan>,
}

impl UciSetPlan {
    /// The GP settings this set is fitted with: its own, else the model's.
    pub fn gp_plan<'a>(&'a self, model: &'a GpPlan) -> &'a GpPlan {
        self.gp.as_ref().unwrap_or(model)
    }
}

/// The model family a UCI experiment trains.
#[derive(Debug, Clone)]
pub enum ModelPlan {
    McDropout(MlpPlan, NetworkTraining),
    Mfvi(MfviPlan, NetworkTraining),
    Gp(GpPlan),
    Pbp(PbpPlan),
    Ensemble(EnsemblePlan),
    ConcreteDropout(ConcretePlan, NetworkTraining),
}

impl ModelPlan {
    /// The optimizer and predictive samples of a network family (MC dropout, VI, concrete
    /// dropout); `None` for the GP, PBP and ensembles.
    pub fn network(&self) -> Option<&NetworkTraining> {
        match self {
            ModelPlan::McDropout(_, net) | ModelPlan::Mfvi(_, net) | ModelPlan::ConcreteDropout(_, net) => Some(net),
            ModelPlan::Gp(_) | ModelPlan::Pbp(_) | ModelPlan::Ensemble(_) => None,
        }
    }

    /// `network`, to change.
    pub fn network_mut(&mut self) -> Option<&mut NetworkTraining> {
        match self {
            ModelPlan::McDropout(_, net) | ModelPlan::Mfvi(_, net) | ModelPlan::ConcreteDropout(_, net) => Some(net),
            ModelPlan::Gp(_) | ModelPlan::Pbp(_) | ModelPlan::Ensemble(_) => None,
        }
    }
}

/// What the network families need beyond their architecture: the optimizer and the number
/// of samples of their predictive distribution.
#[derive(Debug, Clone)]
pub struct NetworkTraining {
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

/// PBP's network; units and passes come per set (`UciSetPlan`).
#[derive(Debug, Clone)]
pub struct PbpPlan {
    pub hidden_layers: usize,
}

/// Concrete dropout's network and relaxation; units and epochs come per set.
#[derive(Debug, Clone)]
pub struct ConcretePlan {
    pub hidden_layers: usize,
    pub length_scale: f64,
    pub temperature: f64,
    pub init_dropout: f64,
    /// Learned, chosen from the set's tau grid for prediction only, or fixed at each grid
    /// point in training too.
    pub noise: ConcreteNoise,
}

/// Deep ensembles; units and epochs come per set (`UciSetPlan`).
#[derive(Debug, Clone)]
pub struct EnsemblePlan {
    pub hidden_layers: usize,
    pub members: usize,
    /// Learning rates searched.
    pub rates: Vec<f64>,
    pub loss: EnsembleLoss,
    /// FGSM step as a fraction of each input's range; `None`: off.
    pub adversarial: Option<f64>,
    pub variance_floor: f64,
    /// Batch size and Adam's moments (Torch's defaults); the rate is each network's own.
    pub training: TrainingPlan,
}

#[derive(Debug, Clone)]
pub struct GpPlan {
    pub restarts: usize,
    pub iterations: usize,
    pub lr: f64,
    pub noise_floor: f64,
    pub max_rows: usize,
    /// Inducing inputs of the sparse GP used beyond max_rows.
    pub inducing: usize,
    pub optimizer: GpOptimizer,
    pub inducing_init: InducingInit,
    pub learn_inducing: bool,
    /// Iterations (L-BFGS) or steps (Adam) after which only each member's lowest restart goes on.
    pub race_after: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct MfviPlan {
    pub hidden_layers: usize,
    pub activation: Activation,
    pub prior_scales: Vec<f64>,
    pub learn_noise: bool,
    pub init_posterior_std: f64,
    pub init_noise_std: f64,
}

#[derive(Debug, Clone)]
pub struct MlpPlan {
    pub hidden_layers: usize,
    pub activation: Activation,
    pub dropout_rates: Vec<f64>,
    pub weight_decay: WeightDecayRule,
}

/// How the L2 coefficient lambda on weights is set for a network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeightDecayRule {
    /// lambda = l^2 (1 - p) / (2 N tau) (paper section 3 / the reference code).
    LengthScale(f64),
    Fixed(f64),
}

impl WeightDecayRule {
    /// Lambda for dropout rate `p`, precision `tau` and `n` training rows.
    pub fn lambda(self, p: f64, tau: f64, n: usize) -> f64 {
        match self {
            WeightDecayRule::LengthScale(l) => l * l * (1.0 - p) / (2.0 * n as f64 * tau),
            WeightDecayRule::Fixed(lambda) => lambda,
        }
    }
}

/// Caffe's SGD: momentum and the rate's schedule (the base rate is `TrainingPlan::lr`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdPlan {
    pub momentum: f64,
    pub lr_policy: LrPolicy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainingPlan {
    pub batch_size: usize,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
}
