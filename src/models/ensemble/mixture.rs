//! The ensemble's predictive distribution: the uniform mixture of its networks' Gaussians.
//! Its test LL is the mixture's exact log density (a log-sum-exp over networks); beside it
//! the paper's Gaussian approximation with the mixture's mean and variance,
//! mu* = mean of mu_m and var* = mean of (var_m + mu_m^2) - mu*^2. Networks trained on squared
//! error have no variance of their own: the ensemble's spread (plus the floor) is its variance,
//! and both LLs are that Gaussian's.

use crate::metrics::{gaussian_log_likelihood, logsumexp, rmse};

/// One split's scores, original target units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureScores {
    /// RMSE of the mixture mean.
    pub rmse: f64,
    /// Mean log density of the mixture.
    pub ll: f64,
    /// Mean log density of the moment-matched Gaussian.
    pub ll_gaussian: f64,
}

/// Scores of `y` under the networks' predictions: `means[m][i]` and, for Gaussian heads,
/// `variances[m][i]`; `floor` is added to the spread when there are no variances.
pub fn mixture_scores(y: &[f64], means: &[Vec<f64>], variances: Option<&[Vec<f64>]>, floor: f64) -> MixtureScores {
    let m = means.len() as f64;
    let (mut mixture_mean, mut ll, mut ll_gaussian) = (Vec::with_capacity(y.len()), 0.0, 0.0);
    for (i, &target) in y.iter().enumerate() {
        let mu = means.iter().map(|net| net[i]).sum::<f64>() / m;
        let second: f64 = match variances {
            Some(v) => means.iter().zip(v).map(|(net, var)| var[i] + net[i] * net[i]).sum::<f64>() / m,
            None => means.iter().map(|net| net[i] * net[i]).sum::<f64>() / m + floor,
        };
        let var_star = second - mu * mu;
        let gaussian = gaussian_log_likelihood(target, mu, var_star);
        ll_gaussian += gaussian;
        ll += match variances {
            Some(v) => {
                let terms: Vec<f64> =
                    means.iter().zip(v).map(|(net, var)| gaussian_log_likelihood(target, net[i], var[i])).collect();
                logsumexp(&terms) - m.ln()
            }
            None => gaussian,
        };
        mixture_mean.push(mu);
    }
    let n = y.len() as f64;
    MixtureScores { rmse: rmse(y, &mixture_mean), ll: ll / n, ll_gaussian: ll_gaussian / n }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn mixture_ll_matches_a_hand_computation() {
        // Two networks at one point y = 1: N(1 | 0, 1) and N(1 | 2, 4), weight 1/2 each.
        let (means, vars) = (vec![vec![0.0], vec![2.0]], vec![vec![1.0], vec![4.0]]);
        let s = mixture_scores(&[1.0], &means, Some(&vars), 0.0);
        let density = 0.5 * (-0.5f64).exp() / (2.0 * PI).sqrt() + 0.5 * (-1.0f64 / 8.0).exp() / (8.0 * PI).sqrt();
        assert!((s.ll - density.ln()).abs() < 1e-12, "{} vs {}", s.ll, density.ln());
        // Moment match: mean 1, variance (1 + 0 + 4 + 4) / 2 - 1 = 3.5.
        let gaussian = -0.5 * (2.0 * PI * 3.5).ln();
        assert!((s.ll_gaussian - gaussian).abs() < 1e-12);
        assert_eq!(s.rmse, 0.0);
    }

    #[test]
    fn squared_error_members_use_their_spread() {
        let means = vec![vec![1.0, 3.0], vec![3.0, 3.0]];
        let s = mixture_scores(&[2.0, 3.0], &means, None, 1e-6);
        let first = gaussian_log_likelihood(2.0, 2.0, 1.0 + 1e-6);
        let second = gaussian_log_likelihood(3.0, 3.0, 1e-6);
        assert!((s.ll - (first + second) / 2.0).abs() < 1e-9);
        assert_eq!(s.ll, s.ll_gaussian);
    }
}
