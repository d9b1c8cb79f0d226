//! Deep ensembles (Lakshminarayanan, Pritzel & Blundell 2017): M networks per split, each with
//! a Gaussian output (mean and variance) trained on the negative log-likelihood, optionally
//! with fast-gradient-sign adversarial examples, predicting as the uniform mixture of their
//! Gaussians. `network` builds and runs the member-batched networks, `train` fits them
//! through autograd, `mixture` scores the mixture, `family` is the UCI family.

pub mod family;
pub mod mixture;
pub mod network;
pub mod train;

pub use family::EnsembleFamily;
pub use train::{fit, EnsembleNet, EnsembleOptions};
