//! Experiment specs: YAML -> raw serde structs (`raw`) -> checked, resolved spec (`check`).
//!
//! The YAML library is used only in `load`, so swapping it is a one-module change.

pub mod check;
pub mod load;
pub mod raw;
pub mod rl;
pub mod table;
pub mod values;

pub use check::{
    ClassifierPlan, Co2Plan, ConcretePlan, EnsemblePlan, Experiment, GpPlan, LearnedDropout, MfviPlan, MlpPlan,
    MnistPlan, ModelPlan, NetworkTraining, PbpPlan, RotatedDigitPlan, SgdPlan, Spec, TrainingPlan, UciPlan, UciSetPlan,
    WeightDecayRule,
};
pub use load::{load, load_with, parse, to_yaml};
pub use raw::{GpOptimizer, InducingInit};
pub use rl::RlPlan;
