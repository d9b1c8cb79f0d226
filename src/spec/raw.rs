//! The spec as written in YAML: serde structs that mirror the file one to one.
//!
//! Enums are externally tagged (`model: {mc_dropout: {...}}`) because internally tagged ones
//! lose error locations. Every struct denies unknown fields so a typo is an error, not a
//! silently ignored key. Fields holding such enums go through yaml_serde's `singleton_map`,
//! which reads the `{variant: value}` form (plain yaml_serde wants `!variant` tags). Defaults are documented on the field and in docs/specs.md, "Spec reference".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::values::{Count, DecayFactor, DropoutRate, ExperimentName, NonNegative, OpenFraction, Positive};
use crate::data::uci::UciSet;
use crate::device::DeviceChoice;

/// One experiment: what data, which model, how to train and evaluate it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    /// Names the results directory `results/<name>/`.
    pub name: ExperimentName,
    /// Free text shown by `mcdrop list`.
    #[serde(default)]
    pub description: String,
    /// Root seed; every unit of work derives its own seed from it.
    pub seed: u64,
    /// `full` (the paper's protocol), `quick` (shortened for a first look) or `smoke` (tests).
    /// Shown in table headers, figure captions and the manifest. Default full. Left out of
    /// the spec's hash (it labels results, it does not change them).
    #[serde(default, skip_serializing_if = "Profile::is_full")]
    pub profile: Profile,
    /// auto (GPU when present), cpu or cuda. Default auto.
    #[serde(default)]
    pub device: DeviceChoice,
    #[serde(with = "yaml_serde::with::singleton_map")]
    pub task: Task,
    #[serde(with = "yaml_serde::with::singleton_map")]
    pub model: Model,
    /// Required by the neural models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Training>,
    /// Required by the sampling models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
    /// Hyper-parameter selection; default: last 20 % of each training split, best validation LL.
    #[serde(default)]
    pub selection: Selection,
    /// How work is grouped when it runs (does not change results).
    #[serde(default)]
    pub run: RunOptions,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    #[default]
    Full,
    Quick,
    Smoke,
}

impl Profile {
    pub fn is_full(&self) -> bool {
        *self == Profile::Full
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Full => "full",
            Profile::Quick => "quick",
            Profile::Smoke => "smoke",
        }
    }
}

/// The data and the question asked of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Task {
    /// UCI regression on the fixed train/test splits.
    Uci(UciTask),
    /// A researcher's own table (CSV or Parquet), run by the UCI protocol.
    Table(TableTask),
    /// MNIST classification: standard vs MC evaluation, the rotated digit, rotation shift.
    Mnist(MnistTask),
    /// Mauna Loa CO2: train up to a cutoff year, extrapolate past it.
    Co2(Co2Task),
    /// Section 5.4: deep-Q agents in ConvNetJS's rldemo world, exploring by Thompson sampling
    /// with dropout or epsilon-greedy.
    Rl(RlTask),
}

/// The reinforcement-learning experiment: how long each agent lives, over how many seeds,
/// and how its reward curve is read. docs/rl.md explains each default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RlTask {
    /// Runs per policy; seed k's room starts the same for every policy. Default 10.
    #[serde(default = "ten")]
    pub seeds: Count,
    /// World ticks each agent lives. Default 200000 (the demo's learning_steps_total).
    #[serde(default = "rl_ticks")]
    pub ticks: Count,
    /// Ticks of random actions before the policy acts: epsilon-greedy's epsilon is 1 through
    /// them, Thompson sampling acts at random until its memory holds this many experiences.
    /// Default 12500, the paper's 25 batches; the demo uses 3000.
    #[serde(default = "rl_burnin")]
    pub burnin_ticks: Count,
    /// Ticks per "batch", the x unit of the paper's figure and one point of the curve.
    /// Default 500 (the demo's plot cadence).
    #[serde(default = "five_hundred")]
    pub batch_ticks: Count,
    /// Rewards averaged into each point of the curve. Default 1000 (the demo's window).
    #[serde(default = "thousand")]
    pub reward_window: Count,
    /// Average reward a run must exceed to count as having learned. Default 1 (the paper's).
    #[serde(default = "one_reward")]
    pub reward_threshold: Positive,
}

fn ten() -> Count {
    Count::try_from(10).expect("valid")
}
fn rl_ticks() -> Count {
    Count::try_from(200_000).expect("valid")
}
fn rl_burnin() -> Count {
    Count::try_from(12_500).expect("valid")
}
fn five_hundred() -> Count {
    Count::try_from(500).expect("valid")
}
fn thousand() -> Count {
    Count::try_from(1000).expect("valid")
}
fn one_reward() -> Positive {
    Positive::try_from(1.0).expect("valid")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MnistTask {
    /// Train on the first N of the 60000 training images. Default all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rows: Option<Count>,
    /// Test on the first N of the 10000 test images. Default all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_rows: Option<Count>,
    /// Angles (degrees) the test images are rotated by in the shift study.
    /// Default 0, 15, ..., 180.
    #[serde(default = "shift_angles")]
    pub shift_angles: Vec<NonNegative>,
    /// Test images rotated in the shift study (the first N test rows). Default all test rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_rows: Option<Count>,
    /// The paper's rotated-digit figure.
    #[serde(default)]
    pub rotated_digit: RotatedDigit,
    /// Equal-width confidence bins of the ECE and the reliability diagram. Default 15.
    #[serde(default = "fifteen")]
    pub calibration_bins: Count,
}

fn shift_angles() -> Vec<NonNegative> {
    (0..=12).map(|i| NonNegative::try_from(15.0 * i as f64).expect("valid")).collect()
}
fn fifteen() -> Count {
    Count::try_from(15).expect("valid")
}

/// A test digit rotated in equal steps, each seen through many stochastic passes (Figure 4).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotatedDigit {
    /// Index of the test image. Default: the first test image labelled 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<usize>,
    /// Rotations after the upright image. Default 12.
    #[serde(default = "twelve")]
    pub steps: Count,
    /// The last rotation, degrees. Default 90.
    #[serde(default = "ninety")]
    pub max_degrees: Positive,
    /// Stochastic forward passes per rotated image. Default 100.
    #[serde(default = "hundred")]
    pub samples: Count,
    /// Classes whose softmax input and output are drawn. Default [1, 5, 7].
    #[serde(default = "figure_classes")]
    pub classes: Vec<usize>,
}

impl Default for RotatedDigit {
    fn default() -> Self {
        Self { image: None, steps: twelve(), max_degrees: ninety(), samples: hundred(), classes: figure_classes() }
    }
}

fn twelve() -> Count {
    Count::try_from(12).expect("valid")
}
fn ninety() -> Positive {
    Positive::try_from(90.0).expect("valid")
}
fn hundred() -> Count {
    Count::try_from(100).expect("valid")
}
fn figure_classes() -> Vec<usize> {
    vec![1, 5, 7]
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Co2Task {
    /// Weeks before this decimal year train the models; the rest of the record is the
    /// held-out range. Default 1992.0 (the end of 1991).
    #[serde(default = "cutoff")]
    pub cutoff: Positive,
    /// The prediction grid runs from the first observation to this year. Default 2010.
    #[serde(default = "predict_until")]
    pub predict_until: Positive,
    /// Points on the prediction grid. Default 400.
    #[serde(default = "four_hundred")]
    pub grid_points: Count,
    /// One MC dropout network per activation; the first is also shown as standard dropout
    /// (dropout off). Default [relu, tanh].
    #[serde(default = "activations")]
    pub activations: Vec<Activation>,
    /// Model precision tau (standardized targets): the weight-decay rule's tau and the
    /// predictive noise 1/tau added to the MC variance. Default 100.
    #[serde(default = "co2_tau")]
    pub tau: Positive,
    /// The GP baseline (SE kernel; one input, so ARD is a single length-scale).
    #[serde(default = "co2_gp")]
    pub gp: Gp,
}

fn cutoff() -> Positive {
    Positive::try_from(1992.0).expect("valid")
}
fn predict_until() -> Positive {
    Positive::try_from(2010.0).expect("valid")
}
fn four_hundred() -> Count {
    Count::try_from(400).expect("valid")
}
fn activations() -> Vec<Activation> {
    vec![Activation::Relu, Activation::Tanh]
}
fn co2_tau() -> Positive {
    Positive::try_from(100.0).expect("valid")
}
fn co2_gp() -> Gp {
    Gp {
        restarts: three(),
        iterations: two_hundred(),
        lr: gp_lr(),
        noise_floor: noise_floor(),
        max_rows: max_rows(),
        inducing: None,
        optimizer: None,
        inducing_init: None,
        learn_inducing: None,
        race_after: None,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UciTask {
    /// The data sets, keyed by folder name, each with its own settings.
    pub sets: BTreeMap<UciSet, UciSetSettings>,
    /// Which splits of each set to run. Default all.
    #[serde(default, with = "yaml_serde::with::singleton_map")]
    pub splits: Splits,
}

/// A table of one's own, run by the UCI protocol (grid search on a validation part of each
/// training split, retrain, test). docs/own-data.md walks through one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableTask {
    /// The set's name in records, tables and `results/<experiment>/<name>/`. Default the
    /// file's name without its extension. A UCI set's name (`yacht`) puts the paper's numbers
    /// for that set beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The file, relative to the directory mcdrop runs in: `.csv` (a header row naming the
    /// columns, comma-separated) or `.parquet`.
    pub path: std::path::PathBuf,
    /// The column to predict.
    pub target: String,
    /// The input columns. Default every column but the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    /// How the train/test splits are made.
    #[serde(with = "yaml_serde::with::singleton_map")]
    pub splits: TableSplits,
    /// `refuse` (default: an empty cell is an error naming it) or `drop_rows`.
    #[serde(default)]
    pub missing: MissingCells,
    /// Which of the splits to run. Default all.
    #[serde(default, with = "yaml_serde::with::singleton_map")]
    pub run_splits: Splits,
    /// Model precision tau values searched (original target units); required by the models
    /// that search tau, as in `task.uci.sets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tau: Vec<Positive>,
    /// Overrides the model's hidden_units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_units: Option<Count>,
    /// Overrides training.epochs (PBP, ensembles: the model's epochs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<Count>,
    /// SHA-256 of the file. Filled in when the spec is read, so the spec's hash (and every
    /// record's provenance) covers the data; when given, a run on a changed file is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// SHA-256 of the index files of `splits: {index_files: ...}`, filled in the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits_sha256: Option<String>,
}

/// A table's train/test splits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TableSplits {
    /// Random permutations, as the reference code drew the UCI splits.
    Random(RandomSplits),
    /// A folder of `index_train_k.txt` / `index_test_k.txt` (0-based data rows, one a line),
    /// relative to the directory mcdrop runs in.
    IndexFiles(std::path::PathBuf),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSplits {
    /// Number of splits. Default 20 (the paper's, for all sets but protein).
    #[serde(default = "twenty")]
    pub count: Count,
    /// Share of the rows each split tests on. Default 0.1 (the paper's).
    #[serde(default = "tenth_fraction")]
    pub test_fraction: OpenFraction,
    /// Seed of the permutations (not the spec's seed, so the splits stay put when it changes).
    /// Default 1.
    #[serde(default = "one_seed")]
    pub seed: u64,
}

fn twenty() -> Count {
    Count::try_from(20).expect("valid")
}
fn tenth_fraction() -> OpenFraction {
    OpenFraction::try_from(0.1).expect("valid")
}
fn one_seed() -> u64 {
    1
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingCells {
    /// An empty cell is an error that names its line and column.
    #[default]
    Refuse,
    /// Rows with an empty cell in a used column are left out.
    DropRows,
}

/// Per-set settings: the reference code's tau grid, and where it differs, width and epochs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UciSetSettings {
    /// Model precision tau values searched for this set (original target units). Required
    /// by models that search tau (dropout; VI with `noise: grid`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tau: Vec<Positive>,
    /// Overrides the model's hidden_units for this set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_units: Option<Count>,
    /// Overrides training.epochs (PBP, ensembles: the model's epochs) for this set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<Count>,
    /// GP only: how this set's marginal likelihood is maximized, where it differs from
    /// `model.gp` (e.g. a set on which L-BFGS stops short of Adam's fit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gp: Option<GpSetSettings>,
}

/// The optimizer settings of `model.gp` one set may change; the rest is the model's. The
/// model's `race_after` carries over only to a set fitted by the model's optimizer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpSetSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<GpOptimizer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<Positive>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inducing_init: Option<InducingInit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race_after: Option<Count>,
}

/// A selection of split indices.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Splits {
    /// Every split the data set ships.
    #[default]
    All,
    /// The first N splits.
    First(Count),
    /// These split indices (0-based).
    List(Vec<usize>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Model {
    /// An MLP with dropout before every weight layer, evaluated by MC dropout.
    McDropout(McDropout),
    /// A mean-field Gaussian variational BNN (Bayes by Backprop, local reparameterization).
    Mfvi(Mfvi),
    /// Exact GP regression, SE-ARD kernel, hyper-parameters by marginal likelihood.
    Gp(Gp),
    /// Probabilistic backpropagation (Hernández-Lobato & Adams 2015): a ReLU network with a
    /// factorized Gaussian posterior, trained by assumed density filtering.
    Pbp(Pbp),
    /// Deep ensembles (Lakshminarayanan et al. 2017): M networks with a Gaussian output,
    /// NLL-trained, optionally adversarially, predicting as the mixture of their Gaussians.
    Ensemble(Ensemble),
    /// Concrete dropout (Gal, Hron & Kendall 2017): the dropout network with its rates and
    /// noise learned, no grid search.
    ConcreteDropout(ConcreteDropout),
    /// The paper's LeNet convnet with dropout (MNIST).
    Lenet(Lenet),
    /// Deep-Q agents with experience replay (ConvNetJS's deepqlearn), one per seed and policy.
    DeepQ(DeepQ),
}

/// The deep-Q agent: the demo's network and trainer, and the policies compared. Every default
/// is the demo's Brain option (rldemo.html, yaringal/DropoutUncertaintyDemos rl_demo.html).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepQ {
    /// Policies run, each on every seed. Default [thompson, epsilon_greedy].
    #[serde(default = "rl_policies")]
    pub policies: Vec<RlPolicy>,
    /// Hidden ReLU layers' widths. Default [50, 50].
    #[serde(default = "fifty_fifty")]
    pub hidden_units: Vec<Count>,
    /// Where Thompson sampling's dropout sits and at what rate. Default the paper's: 0.1
    /// before every weight layer.
    #[serde(default)]
    pub thompson_dropout: ThompsonDropout,
    /// Discount of the TD target. Default 0.7.
    #[serde(default = "rl_gamma")]
    pub gamma: OpenFraction,
    /// SGD learning rate (no momentum). Default 0.001.
    #[serde(default = "rl_lr")]
    pub lr: Positive,
    /// Experiences replayed per tick, one SGD step of their mean gradient. Default 64.
    #[serde(default = "sixty_four")]
    pub batch_size: Count,
    /// L2 decay on the weights, averaged over the batch as ConvNetJS does. Default 0.01.
    #[serde(default = "rl_l2")]
    pub l2_decay: NonNegative,
    /// Experiences kept; when full, a random one is replaced. Default 30000.
    #[serde(default = "rl_replay")]
    pub replay_size: Count,
    /// Learning starts once more than this many experiences are held. Default 1000.
    #[serde(default = "thousand")]
    pub learn_after: Count,
    /// Epsilon-greedy's floor. Default 0.05.
    #[serde(default = "rl_epsilon_min")]
    pub epsilon_min: OpenFraction,
    /// Learning steps over which epsilon falls from 1 (after burn-in) to its floor's line:
    /// the demo's learning_steps_total. Default 200000.
    #[serde(default = "rl_ticks")]
    pub epsilon_ticks: Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RlPolicy {
    /// The argmax of one pass of the dropout network, masks drawn for each action.
    Thompson,
    /// A random action with probability epsilon, else the argmax of the deterministic network.
    EpsilonGreedy,
}

impl RlPolicy {
    pub fn name(self) -> &'static str {
        match self {
            RlPolicy::Thompson => "thompson",
            RlPolicy::EpsilonGreedy => "epsilon_greedy",
        }
    }
}

/// Thompson sampling's dropout layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThompsonDropout {
    /// `every_layer` (the paper: before every weight layer, inputs included) or
    /// `after_first_hidden` (the authors' demo: one layer after the first hidden one).
    #[serde(default)]
    pub placement: RlDropoutPlacement,
    /// Drop probability. Default 0.1 (the paper; the demo uses 0.2).
    #[serde(default = "tenth")]
    pub rate: DropoutRate,
}

impl Default for ThompsonDropout {
    fn default() -> Self {
        Self { placement: RlDropoutPlacement::EveryLayer, rate: tenth() }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RlDropoutPlacement {
    #[default]
    EveryLayer,
    AfterFirstHidden,
}

fn rl_policies() -> Vec<RlPolicy> {
    vec![RlPolicy::Thompson, RlPolicy::EpsilonGreedy]
}
fn fifty_fifty() -> Vec<Count> {
    vec![Count::try_from(50).expect("valid"); 2]
}
fn rl_gamma() -> OpenFraction {
    OpenFraction::try_from(0.7).expect("valid")
}
fn rl_lr() -> Positive {
    Positive::try_from(0.001).expect("valid")
}
fn sixty_four() -> Count {
    Count::try_from(64).expect("valid")
}
fn rl_l2() -> NonNegative {
    NonNegative::try_from(0.01).expect("valid")
}
fn rl_replay() -> Count {
    Count::try_from(30_000).expect("valid")
}
fn rl_epsilon_min() -> OpenFraction {
    OpenFraction::try_from(0.05).expect("valid")
}
fn tenth() -> DropoutRate {
    DropoutRate::try_from(0.1).expect("valid")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lenet {
    /// Dropout rate. Default 0.5.
    #[serde(default = "half")]
    pub dropout: DropoutRate,
    /// `last`: dropout before the fully connected layers (the paper's lenet-ip);
    /// `all`: also after each convolution block ("lenet-all"). Default last.
    #[serde(default)]
    pub placement: DropoutPlacement,
    /// L2 coefficient on the weights, added to the mean cross-entropy. Default 5e-4 (Caffe's).
    #[serde(default = "lenet_decay")]
    pub weight_decay: NonNegative,
    /// Learn the two rates before the fully connected layers by concrete dropout, starting
    /// from `dropout`; their regularizer replaces those layers' weight decay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concrete: Option<LenetConcrete>,
    /// An ensemble of this many LeNets, each from its own initialization and data order;
    /// they predict by averaging their softmax outputs. Default 1.
    #[serde(default = "one", skip_serializing_if = "Count::is_one")]
    pub members: Count,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LenetConcrete {
    /// Prior length-scale l of the fully connected weights (the regularizer's l^2 / 2N).
    pub length_scale: Positive,
    /// Temperature of the relaxed mask. Default 0.1.
    #[serde(default = "concrete_temperature")]
    pub temperature: Positive,
}

fn half() -> DropoutRate {
    DropoutRate::try_from(0.5).expect("valid")
}
fn lenet_decay() -> NonNegative {
    NonNegative::try_from(5e-4).expect("valid")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropoutPlacement {
    #[default]
    Last,
    All,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pbp {
    /// Number of hidden ReLU layers. Default 1.
    #[serde(default = "one")]
    pub hidden_layers: Count,
    /// Units per hidden layer (a set may override it).
    pub hidden_units: Count,
    /// ADF passes over the training rows, one update per row each (a set may override it
    /// with `epochs`). Default 40, the authors' recommendation.
    #[serde(default = "forty")]
    pub epochs: Count,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ensemble {
    /// Number of hidden ReLU layers. Default 1.
    #[serde(default = "one")]
    pub hidden_layers: Count,
    /// Units per hidden layer (a set may override it).
    pub hidden_units: Count,
    /// Networks per ensemble, M. Default 5.
    #[serde(default = "five")]
    pub members: Count,
    /// Passes over the training rows (a set may override it). Default 40.
    #[serde(default = "forty")]
    pub epochs: Count,
    /// Mini-batch size. Default 100.
    #[serde(default = "hundred")]
    pub batch_size: Count,
    /// Adam learning rates searched on the validation rows (one value: no search).
    pub lr: Vec<Positive>,
    /// `nll`: each network predicts a mean and a variance (Gaussian NLL); `mse`: a mean alone
    /// (squared error), the ensemble's spread is its variance. Default nll.
    #[serde(default)]
    pub loss: EnsembleLoss,
    /// Fast-gradient-sign step as a fraction of each input's range on the training rows; 0
    /// turns adversarial training off. Default 0.01.
    #[serde(default = "fgsm_fraction")]
    pub adversarial: NonNegative,
    /// Smallest predicted variance, standardized units. Default 1e-6.
    #[serde(default = "ensemble_floor")]
    pub variance_floor: Positive,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcreteDropout {
    /// Number of hidden ReLU layers. Default 1.
    #[serde(default = "one")]
    pub hidden_layers: Count,
    /// Units per hidden layer (a set may override it).
    pub hidden_units: Count,
    /// Prior length-scale l of the weights (the regularizer's l^2 / 2N). Default 0.01, the
    /// dropout reference code's.
    #[serde(default = "concrete_length_scale")]
    pub length_scale: Positive,
    /// Temperature of the relaxed mask. Default 0.1 (the authors' for dense layers).
    #[serde(default = "concrete_temperature")]
    pub temperature: Positive,
    /// Every layer's starting dropout rate. Default 0.1.
    #[serde(default = "concrete_init")]
    pub init_dropout: DropoutRate,
    /// The noise: `learned` (default) in training and prediction; `grid`: still learned in
    /// training, but the predictive tau is the set's tau chosen on the validation rows (the tau
    /// points share one network); `fixed`: one network per tau of the set's grid trained at that
    /// noise precision, the best on the validation rows retrained.
    #[serde(default, skip_serializing_if = "ConcreteNoise::is_learned")]
    pub noise: ConcreteNoise,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcreteNoise {
    #[default]
    Learned,
    Grid,
    Fixed,
}

impl ConcreteNoise {
    pub fn is_learned(&self) -> bool {
        *self == ConcreteNoise::Learned
    }
}

fn concrete_length_scale() -> Positive {
    Positive::try_from(0.01).expect("valid")
}
fn concrete_temperature() -> Positive {
    Positive::try_from(0.1).expect("valid")
}
fn concrete_init() -> DropoutRate {
    DropoutRate::try_from(0.1).expect("valid")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnsembleLoss {
    #[default]
    Nll,
    Mse,
}

fn five() -> Count {
    Count::try_from(5).expect("valid")
}
fn fgsm_fraction() -> NonNegative {
    NonNegative::try_from(0.01).expect("valid")
}
fn ensemble_floor() -> Positive {
    Positive::try_from(1e-6).expect("valid")
}

fn forty() -> Count {
    Count::try_from(40).expect("valid")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gp {
    /// Starting points of the marginal-likelihood optimization. Default 3.
    #[serde(default = "three")]
    pub restarts: Count,
    /// Adam steps on the log hyper-parameters. Default 200.
    #[serde(default = "two_hundred")]
    pub iterations: Count,
    /// Adam learning rate. Default 0.05.
    #[serde(default = "gp_lr")]
    pub lr: Positive,
    /// Smallest noise variance (standardized targets), keeps K well conditioned. Default 1e-6.
    #[serde(default = "noise_floor")]
    pub noise_floor: Positive,
    /// Largest training set fitted exactly (n x n kernel); larger ones get the sparse GP
    /// (Titsias 2009 collapsed bound). Default 2000.
    #[serde(default = "max_rows")]
    pub max_rows: Count,
    /// Inducing inputs M of the sparse GP (learned, started at random training rows).
    /// Default 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inducing: Option<Count>,
    /// How the marginal likelihood is maximized: `adam` (`iterations` steps at `lr`, the
    /// default) or `lbfgs` (quasi-Newton with a line search, at most `iterations` iterations,
    /// stopping on convergence as scipy's L-BFGS-B does; `lr` unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<GpOptimizer>,
    /// Where the sparse GP's inducing inputs start: `random` training rows (the default) or,
    /// under L-BFGS, `greedy_variance`, the rows a pivoted Cholesky of the starting kernel
    /// picks (Burt et al. 2020).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inducing_init: Option<InducingInit>,
    /// Whether the sparse GP learns its inducing inputs with the kernel (default true); false
    /// keeps them where `inducing_init` put them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learn_inducing: Option<bool>,
    /// The restarts of a member race: after this many iterations (L-BFGS) or steps (Adam) only
    /// the lowest goes on (none: every restart runs to its end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub race_after: Option<Count>,
}

/// The GP's marginal-likelihood optimizer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GpOptimizer {
    #[default]
    Adam,
    Lbfgs,
}

/// Where the sparse GP's inducing inputs start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InducingInit {
    #[default]
    Random,
    GreedyVariance,
}

fn three() -> Count {
    Count::try_from(3).expect("valid")
}
fn two_hundred() -> Count {
    Count::try_from(200).expect("valid")
}
fn gp_lr() -> Positive {
    Positive::try_from(0.05).expect("valid")
}
fn noise_floor() -> Positive {
    Positive::try_from(1e-6).expect("valid")
}
fn max_rows() -> Count {
    Count::try_from(2000).expect("valid")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mfvi {
    /// Number of hidden layers. Default 1.
    #[serde(default = "one")]
    pub hidden_layers: Count,
    /// Units per hidden layer (a set may override it).
    pub hidden_units: Count,
    /// Hidden-layer non-linearity. Default relu.
    #[serde(default)]
    pub activation: Activation,
    /// Prior standard deviations searched (weights and biases ~ N(0, s^2)).
    pub prior_scale: Vec<Positive>,
    /// `learned`: the noise precision is a parameter; `grid`: searched over the set's tau list.
    #[serde(default)]
    pub noise: Noise,
    /// Initial posterior standard deviation of every weight. Default 1e-3.
    #[serde(default = "init_posterior_std")]
    pub init_posterior_std: Positive,
    /// Initial noise standard deviation (standardized targets) when learned. Default 0.5.
    #[serde(default = "init_noise_std")]
    pub init_noise_std: Positive,
}

fn init_posterior_std() -> Positive {
    Positive::try_from(1e-3).expect("valid")
}
fn init_noise_std() -> Positive {
    Positive::try_from(0.5).expect("valid")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Noise {
    #[default]
    Learned,
    Grid,
}

impl Noise {
    pub fn is_learned(&self) -> bool {
        *self == Noise::Learned
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McDropout {
    /// Number of hidden layers. Default 1.
    #[serde(default = "one")]
    pub hidden_layers: Count,
    /// Units per hidden layer (a set may override it).
    pub hidden_units: Count,
    /// Hidden-layer non-linearity. Default relu.
    #[serde(default)]
    pub activation: Activation,
    /// Dropout rates searched (one value: no search over p).
    pub dropout: Vec<DropoutRate>,
    /// How the L2 coefficient on weights is set.
    #[serde(with = "yaml_serde::with::singleton_map")]
    pub weight_decay: WeightDecay,
}

fn one() -> Count {
    Count::try_from(1).expect("1 is a valid count")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
}

impl Activation {
    /// The spec's spelling, also used in record and file names.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
        }
    }

    /// The activation spelled `name`.
    pub fn from_name(name: &str) -> Option<Activation> {
        [Activation::Relu, Activation::Tanh].into_iter().find(|a| a.name() == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WeightDecay {
    /// The paper's rule: lambda = l^2 (1 - p) / (2 N tau), with prior length-scale l.
    LengthScale(Positive),
    /// A fixed lambda, the same for every grid point.
    Fixed(NonNegative),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Passes over the training rows (a set may override it).
    pub epochs: Count,
    /// Rows per mini-batch; the last partial batch is used.
    pub batch_size: Count,
    #[serde(with = "yaml_serde::with::singleton_map")]
    pub optimizer: Optimizer,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Optimizer {
    Adam(Adam),
    /// Caffe's SGD with momentum (MNIST classifiers only).
    Sgd(Sgd),
}

/// Caffe's update: v <- momentum v + rate(i) g; theta <- theta - v, with the rate of step i
/// (counted from 0) set by `lr_policy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sgd {
    pub lr: Positive,
    /// Default 0 (plain SGD).
    #[serde(default)]
    pub momentum: DecayFactor,
    /// Default fixed.
    #[serde(default, with = "yaml_serde::with::singleton_map")]
    pub lr_policy: LrPolicy,
}

/// How the SGD rate changes with the step i (Caffe's `lr_policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LrPolicy {
    /// lr at every step.
    #[default]
    Fixed,
    /// lr (1 + gamma i)^-power: Caffe's LeNet solver uses gamma 1e-4, power 0.75.
    Inv { gamma: Positive, power: Positive },
}

impl LrPolicy {
    /// The rate of step `step` (0 for the first) from the base rate `lr`.
    pub fn rate(self, lr: f64, step: u64) -> f64 {
        match self {
            LrPolicy::Fixed => lr,
            LrPolicy::Inv { gamma, power } => lr * (1.0 + gamma.get() * step as f64).powf(-power.get()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adam {
    pub lr: Positive,
    /// Default 0.9.
    #[serde(default = "beta1")]
    pub beta1: DropoutRate,
    /// Default 0.999.
    #[serde(default = "beta2")]
    pub beta2: DropoutRate,
    /// Default 1e-7 (Keras, as the reference code used; PyTorch's is 1e-8).
    #[serde(default = "adam_eps")]
    pub eps: Positive,
}

fn beta1() -> DropoutRate {
    DropoutRate::try_from(0.9).expect("valid")
}
fn beta2() -> DropoutRate {
    DropoutRate::try_from(0.999).expect("valid")
}
fn adam_eps() -> Positive {
    Positive::try_from(1e-7).expect("valid")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    /// Stochastic forward passes T per test point (validation uses the same T).
    pub mc_samples: Count,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// Share of each training split, taken from its end without shuffling, used for validation.
    #[serde(default = "validation_fraction")]
    pub validation_fraction: OpenFraction,
    /// What picks the best grid point. Default ll.
    #[serde(default)]
    pub metric: SelectionMetric,
}

impl Default for Selection {
    fn default() -> Self {
        Self { validation_fraction: validation_fraction(), metric: SelectionMetric::default() }
    }
}

fn validation_fraction() -> OpenFraction {
    OpenFraction::try_from(0.2).expect("valid")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectionMetric {
    /// Highest MC test log-likelihood on the validation rows.
    #[default]
    Ll,
    /// Lowest MC RMSE on the validation rows.
    Rmse,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// How many splits train together as one batched program. Smaller groups finish and save
    /// records sooner (safer for long CPU runs); larger ones use the hardware better.
    /// Default: all selected splits of a set at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub splits_per_program: Option<Count>,
}
