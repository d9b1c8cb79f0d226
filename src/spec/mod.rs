//! Experiment specs: YAML -> raw serde structs (`raw`) -> checked (`check`) into the resolved
//! spec and its plans (`plan`); `identity` hashes what decides a spec's numbers.
//!
//! The YAML library is used only in `load`, so swapping it is a one-module change.

pub mod check;
pub mod identity;
pub mod load;
pub mod plan;
pub mod raw;
pub mod rl;
pub mod table;
pub mod values;

pub use identity::{extend, hex, identity_hash, set_identity, shared_identity};
pub use load::{load, load_with, parse, to_yaml};
pub use plan::{
    ClassifierPlan, Co2Plan, ConcretePlan, EnsemblePlan, Experiment, GpPlan, LearnedDropout, MfviPlan, MlpPlan,
    MnistPlan, ModelPlan, NetworkTraining, PbpPlan, RotatedDigitPlan, SgdPlan, Spec, TrainingPlan, UciPlan, UciSetPlan,
    WeightDecayRule,
};
pub use raw::{GpOptimizer, InducingInit};
pub use rl::RlPlan;
