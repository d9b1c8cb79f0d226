//! Mean-field Gaussian variational BNN (the paper's VI baseline): the member-batched network
//! and its hand-written ELBO gradient (`bnn`), its trainer (`train`), its predictive scores
//! (`evaluate`) and its UCI family (`family`). MNIST's VI classifier reuses `MemberBnn`.

pub mod bnn;
pub mod evaluate;
pub mod family;
pub mod train;

pub use bnn::{draw_noise, MemberBnn};
pub use evaluate::{evaluate, noise_precision};
pub use family::MfviFamily;
pub use train::{fit, BnnMember, BnnOptions, ElboGradient};
