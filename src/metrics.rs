//! Pure metric functions on plain slices, used by reports and as the reference the tensor
//! code is tested against.
//!
//! The MC test log-likelihood is the paper's estimator (section 5.3):
//! ll(x, y) = logsumexp_t(-tau/2 (y - y_t)^2) - log T - 1/2 log 2 pi + 1/2 log tau,
//! with y and the T samples y_t in original target units.

use std::f64::consts::PI;

/// Root mean squared error.
pub fn rmse(y: &[f64], prediction: &[f64]) -> f64 {
    assert_eq!(y.len(), prediction.len(), "rmse needs paired values");
    let sse: f64 = y.iter().zip(prediction).map(|(a, b)| (a - b) * (a - b)).sum();
    (sse / y.len() as f64).sqrt()
}

/// log(sum(exp(v))) without overflow; -inf for an empty slice.
pub fn logsumexp(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// MC-dropout log-likelihood of one target `y` under T predictive samples with precision `tau`.
pub fn mc_log_likelihood(y: f64, samples: &[f64], tau: f64) -> f64 {
    let terms: Vec<f64> = samples.iter().map(|s| -0.5 * tau * (y - s) * (y - s)).collect();
    logsumexp(&terms) - (samples.len() as f64).ln() - 0.5 * (2.0 * PI).ln() + 0.5 * tau.ln()
}

/// Log density of `y` under N(mean, variance).
pub fn gaussian_log_likelihood(y: f64, mean: f64, variance: f64) -> f64 {
    -0.5 * (2.0 * PI * variance).ln() - 0.5 * (y - mean) * (y - mean) / variance
}

/// Mean and standard error (population std / sqrt(n), numpy's default as in the reference code).
pub fn mean_and_standard_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt() / n.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mc_log_likelihood_matches_a_hand_computation() {
        // y = 1, samples 0 and 2, tau = 2: each term is -1, so logsumexp = -1 + ln 2 and
        // ll = -1 + ln 2 - ln 2 - 0.5 ln(2 pi) + 0.5 ln 2.
        let ll = mc_log_likelihood(1.0, &[0.0, 2.0], 2.0);
        let hand = -1.0 - 0.5 * (2.0 * PI).ln() + 0.5 * 2f64.ln();
        assert!((ll - hand).abs() < 1e-12, "{ll} vs {hand}");
    }

    #[test]
    fn mc_log_likelihood_with_one_exact_sample_is_the_gaussian_peak() {
        let tau = 4.0;
        let ll = mc_log_likelihood(3.0, &[3.0], tau);
        assert!((ll - gaussian_log_likelihood(3.0, 3.0, 1.0 / tau)).abs() < 1e-12);
    }

    #[test]
    fn mc_log_likelihood_is_not_moment_matching() {
        // Two far-apart samples: the mixture puts mass near each, a moment-matched Gaussian
        // would put it at the middle. At y = 0 (a sample) the mixture is much higher.
        let mixture = mc_log_likelihood(0.0, &[0.0, 10.0], 1.0);
        let moment = gaussian_log_likelihood(0.0, 5.0, 1.0 + 25.0);
        assert!(mixture > moment + 0.5, "{mixture} vs {moment}");
    }

    #[test]
    fn logsumexp_is_stable() {
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-9);
        assert_eq!(logsumexp(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn rmse_and_standard_error_by_hand() {
        assert!((rmse(&[0.0, 0.0], &[3.0, 4.0]) - 12.5f64.sqrt()).abs() < 1e-12);
        let (m, se) = mean_and_standard_error(&[1.0, 3.0]);
        assert_eq!(m, 2.0);
        assert!((se - 1.0 / 2f64.sqrt()).abs() < 1e-12);
    }
}
