//! Gaussian-process regression, the non-parametric baseline: the SE-ARD kernel (`kernel`), the
//! restarts and optimisers both fits share (`optimize`, `lbfgs`), the exact marginal likelihood and
//! predictive (`exact`), Titsias' sparse bound for large sets (`sparse`), and the UCI family.

pub mod exact;
pub mod family;
pub mod kernel;
pub mod lbfgs;
pub mod optimize;
pub mod sparse;

pub use exact::{fit, negative_log_marginal_likelihood, nlml_with_gradient, predict};
pub use family::GpFamily;
pub use kernel::{cholesky_with_jitter, se_ard, GpParams};
