//! PBP's predictive distribution: the Gaussian with the network's output moments plus the
//! noise variance b / (a - 1), mapped back to original target units. Its test log-likelihood
//! is that Gaussian's density (PBP's own formula), not the MC estimator of the dropout
//! families.

use super::network::PbpNet;
use crate::metrics::{gaussian_log_likelihood, rmse};

/// Predictive means and variances of `rows` (standardized inputs, row-major with `d`
/// columns), in original units for a target of training mean `y_mean` and std `y_std`.
pub fn predict(net: &PbpNet, rows: &[f64], d: usize, y_mean: f64, y_std: f64) -> (Vec<f64>, Vec<f64>) {
    let mut tape = net.tape();
    let noise = net.noise.variance();
    rows.chunks(d)
        .map(|x| {
            let (m, v) = net.forward(x, &mut tape);
            (m * y_std + y_mean, (v + noise) * y_std * y_std)
        })
        .unzip()
}

/// RMSE of the predictive mean and mean Gaussian log density of `y`.
pub fn scores(y: &[f64], mean: &[f64], var: &[f64]) -> (f64, f64) {
    let ll = y.iter().zip(mean).zip(var).map(|((&y, &m), &v)| gaussian_log_likelihood(y, m, v)).sum::<f64>()
        / y.len() as f64;
    (rmse(y, mean), ll)
}
