//! MC dropout for regression (paper sections 3 and 5.3): member-batched MLPs trained with
//! dropout before every weight layer and an L2 penalty (`train`), predicting with dropout ON
//! and averaging T stochastic passes (`evaluate`, on the CPU through the mask-free `host`
//! evaluator), plugged into the UCI protocol by `family`.

pub mod evaluate;
pub mod family;
pub mod host;
pub mod member;
pub mod train;

pub use evaluate::{evaluate, evaluate_with_masks, mc_moments};
pub use family::McDropoutFamily;
pub use member::{Member, RegressionScores};
pub use train::{fit, FitOptions};
