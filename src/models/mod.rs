//! Model families, one folder each: `mc_dropout` (the paper's method), `mfvi` (the VI
//! baseline), `gp` (exact and sparse Gaussian processes), `classifier` (the MNIST LeNet and
//! VI MLP), `pbp` (probabilistic backpropagation), `ensemble` (deep ensembles),
//! `concrete_dropout` (learned rates), `deep_q` (the RL agents). Beside them: `nn` holds what
//! the member-batched networks have in common, `optim` their optimisers, `checkpoint` the
//! saved state a long training resumes from, `family` the trait
//! and data types the UCI protocol hands a family, `kind` the enum that names each family in
//! records (what the reports show for each lives in `report::columns`), `registry` the one place that picks a family for a spec.
//!
//! This layer is a leaf: it knows specs, data types and RNGs, never the protocol, the
//! commands or the CLI.

pub mod checkpoint;
pub mod classifier;
pub mod concrete_dropout;
pub mod deep_q;
pub mod ensemble;
pub mod family;
pub mod gp;
pub mod kind;
pub mod mc_dropout;
pub mod mfvi;
pub mod nn;
pub mod optim;
pub mod pbp;
pub mod registry;

pub use family::{
    Env, Hyper, HyperName, Program, ProgramMember, Progress, RegressionFamily, Scores, Silent, StackedRows,
};
pub use kind::{Co2Predictor, ModelKind};
pub use registry::regression_family;
