//! Sparse GP regression for training sets too large for an exact Cholesky: Titsias (2009)'s
//! collapsed variational bound with M inducing inputs Z (learned, initialized at a random
//! subset of the member's training rows), same SE-ARD kernel and noise as `gp`.
//!
//! With K_mm = L L^T and A = L^-1 K_mn, the data enter only through Psi = A A^T and r = A y,
//! summed over chunks of rows, so memory stays O(M^2 + M x chunk) whatever n is. Psi is
//! accumulated as a Gram matrix, positive semi-definite by construction: the shortcut
//! L^-1 (K_mn K_nm) L^-T squares K_mm's condition number, and on power-plant (near-duplicate
//! rows among the inducing inputs) it made I + Psi / s_n^2 indefinite at the first step.
//! With B = I + Psi / s_n^2 = L_B L_B^T and c = L_B^-1 r / s_n^2:
//! log p(y) >= -n/2 log 2 pi - sum log diag L_B - n/2 log s_n^2 - y^T y / (2 s_n^2)
//!             + c^T c / 2 - n s_f^2 / (2 s_n^2) + tr(Psi) / (2 s_n^2),
//! and the predictive at x*: mean = (L_B^-1 L^-1 k_m*)^T c,
//! var = s_f^2 - |L^-1 k_m*|^2 + |L_B^-1 L^-1 k_m*|^2 + s_n^2. Cost O(n M^2) per member.
//!
//! The gradient takes two passes over the data (`bound_and_gradient`), in closed form: the
//! first sums r and Psi (its lower block triangle only); dF/dPsi and dF/dr follow from B's
//! factor (`bound_and_statistics_gradient`), and since Psi = A A^T and r = A y,
//! dF/dK_mn = R K_mn + rho y^T with R and rho M x M and M x 1, and dF/dK_mm is M x M too
//! (`pull_back_whitening`); the second pass forms that product chunk by chunk and pushes it
//! through the kernel to its parameters and the inducing inputs (`kernel_pullback`). The data
//! cost about 4 n M^2 flops per evaluation against autograd's 10 (which also keeps every M x n
//! block alive), in chunks small enough to stay in cache. `tests/gp.rs` checks it against
//! autograd through `negative_bound`. L-BFGS and a raced Adam fit take the passes; Adam's
//! unraced fit (`uci-gp`) keeps its earlier choice by memory budget (`BoundGradient`).
//!
//! `params` holds what a fit learns; `bound` the data's statistics, the bound and the
//! predictive; `gradient` the two-pass gradient and the choice between it and autograd;
//! `starts` where each fit's inducing inputs begin; `fit` the Adam and L-BFGS fits.

mod bound;
mod fit;
mod gradient;
mod params;
mod starts;

pub use bound::{negative_bound, predict, rows_per_pass};
pub use fit::{fit, fit_with};
pub use gradient::{bound_and_gradient, BoundGradient};
pub use params::SparseParams;
pub use starts::{greedy_variance, initial_params, lbfgs_starts};
