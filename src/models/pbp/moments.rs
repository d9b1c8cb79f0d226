//! Gaussian moment formulas PBP propagates through a network: the linear layer's output
//! moments, the rectified Gaussian (ReLU of a Gaussian) with its derivatives, and the Gaussian
//! log evidence of a target whose gradient drives the ADF update.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// Standard normal density.
pub fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// Standard normal distribution function, accurate in both tails (erfc, not 1 - erf).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// Below this ratio mean / std the density-over-distribution ratio is taken from its
/// asymptotic series, as the authors' code does: both terms underflow far sooner than it does.
const ROBUST_BELOW: f64 = -30.0;

/// phi(a) / Phi(a), the inverse Mills ratio of -a, given phi(a) and Phi(a).
fn density_over_distribution(a: f64, density: f64, distribution: f64) -> f64 {
    if a < ROBUST_BELOW {
        -a - 1.0 / a + 2.0 / (a * a * a)
    } else {
        density / distribution
    }
}

/// Mean and variance of max(0, x) for x ~ N(mean, variance), and their derivatives with
/// respect to the input mean and variance (what the backward pass chains through).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rectified {
    pub mean: f64,
    pub variance: f64,
    pub dmean_dmean: f64,
    pub dmean_dvar: f64,
    pub dvar_dmean: f64,
    pub dvar_dvar: f64,
}

/// The rectified Gaussian's moments. The variance is the truncated Gaussian's variance
/// weighted by Phi plus the spread between zero and the truncated mean, which stays accurate
/// where E[z^2] - E[z]^2 would cancel. The derivatives use dE[z]/dmu = Phi,
/// dE[z]/dv = phi / (2 sigma), dE[z^2]/dmu = 2 E[z] and dE[z^2]/dv = Phi.
pub fn rectified(mean: f64, variance: f64) -> Rectified {
    let sd = variance.sqrt();
    let a = mean / sd;
    let p = normal_cdf(a);
    let density = normal_pdf(a);
    let g = density_over_distribution(a, density, p);
    let truncated_mean = mean + sd * g;
    let m = p * truncated_mean;
    let v = m * truncated_mean * (1.0 - p) + p * variance * (1.0 - g * (g + a));
    Rectified {
        mean: m,
        variance: v,
        dmean_dmean: p,
        dmean_dvar: density / (2.0 * sd),
        dvar_dmean: 2.0 * m * (1.0 - p),
        dvar_dvar: p - m * density / sd,
    }
}

/// log N(y | mean, variance) without its constant -log(2 pi) / 2, and its derivatives in
/// mean and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogEvidence {
    pub log_z: f64,
    pub dmean: f64,
    pub dvar: f64,
}

pub fn log_evidence(y: f64, mean: f64, variance: f64) -> LogEvidence {
    let r = y - mean;
    LogEvidence {
        log_z: -0.5 * (variance.ln() + r * r / variance),
        dmean: r / variance,
        dvar: -0.5 / variance + 0.5 * r * r / (variance * variance),
    }
}

/// The Gamma(a, b) over a precision lambda after moment matching the tilted distribution
/// Gamma(lambda | a, b) N(.. | .., 1 / lambda), given the log evidence under the Gamma's three
/// variance plug-ins b / (a - 1), b / a and b / (a + 1) (`log_z`, `log_z1`, `log_z2`):
/// E[lambda] = a / b Z1 / Z and E[lambda^2] = a (a + 1) / b^2 Z2 / Z; the new shape is
/// E^2 / Var and the new rate E / Var.
pub fn gamma_moment_match(a: f64, b: f64, log_z: f64, log_z1: f64, log_z2: f64) -> (f64, f64) {
    let a_new = 1.0 / ((log_z2 - 2.0 * log_z1 + log_z).exp() * (a + 1.0) / a - 1.0);
    let b_new = 1.0 / ((log_z2 - log_z1).exp() * (a + 1.0) / b - (log_z1 - log_z).exp() * a / b);
    (a_new, b_new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn rectified_moments_match_monte_carlo() {
        let mut rng = member_rng(11);
        let draws: Vec<f64> = (0..400_000).map(|_| StandardNormal.sample(&mut rng)).collect();
        for (mean, variance) in [(0.0, 1.0), (1.3, 0.4), (-0.8, 2.5), (-2.0, 0.3), (3.0, 0.1)] {
            let sd: f64 = f64::sqrt(variance);
            let z: Vec<f64> = draws.iter().map(|e| (mean + sd * e).max(0.0)).collect();
            let n = z.len() as f64;
            let m = z.iter().sum::<f64>() / n;
            let v = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
            let r = rectified(mean, variance);
            // Standard errors of a 400,000-draw mean and variance are below 0.004 here.
            assert!((r.mean - m).abs() < 0.01, "mean {mean} var {variance}: {} vs MC {m}", r.mean);
            assert!((r.variance - v).abs() < 0.015, "mean {mean} var {variance}: {} vs MC {v}", r.variance);
        }
    }

    #[test]
    fn rectified_derivatives_match_finite_differences() {
        let h = 1e-6;
        for (mean, variance) in [(0.2, 1.0), (-1.5, 0.7), (2.0, 3.0), (-6.0, 0.5)] {
            let r = rectified(mean, variance);
            let dm = |f: fn(&Rectified) -> f64| {
                (f(&rectified(mean + h, variance)) - f(&rectified(mean - h, variance))) / (2.0 * h)
            };
            let dv = |f: fn(&Rectified) -> f64| {
                (f(&rectified(mean, variance + h)) - f(&rectified(mean, variance - h))) / (2.0 * h)
            };
            let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * (1.0 + b.abs());
            assert!(close(r.dmean_dmean, dm(|r| r.mean)), "dm/dm at {mean}, {variance}");
            assert!(close(r.dmean_dvar, dv(|r| r.mean)), "dm/dv at {mean}, {variance}");
            assert!(close(r.dvar_dmean, dm(|r| r.variance)), "dv/dm at {mean}, {variance}");
            assert!(close(r.dvar_dvar, dv(|r| r.variance)), "dv/dv at {mean}, {variance}");
        }
    }

    #[test]
    fn far_negative_inputs_stay_finite_and_tiny() {
        for mean in [-29.0, -31.0, -200.0] {
            let r = rectified(mean, 1.0);
            assert!(r.mean.is_finite() && r.variance.is_finite() && r.mean >= 0.0 && r.variance >= 0.0, "{r:?}");
            assert!(r.mean < 1e-100);
        }
        // At the switch the series and the exact ratio agree to its next term, 10 / |a|^5.
        let a = ROBUST_BELOW;
        let exact = normal_pdf(a) / normal_cdf(a);
        let series = -a - 1.0 / a + 2.0 / (a * a * a);
        assert!((series - exact).abs() < 1e-7 * exact, "{series} vs {exact}");
    }

    #[test]
    fn gamma_match_equals_the_tilted_moments() {
        // Tilted moments from the evidence ratios, then a Gamma with that mean and variance.
        let (a, b) = (6.3, 4.1);
        let (y, m, v) = (0.7, -0.2, 0.35);
        let z = |var: f64| log_evidence(y, m, v + var).log_z;
        let (lz, lz1, lz2) = (z(b / (a - 1.0)), z(b / a), z(b / (a + 1.0)));
        let mean = a / b * (lz1 - lz).exp();
        let second = a * (a + 1.0) / (b * b) * (lz2 - lz).exp();
        let var = second - mean * mean;
        let (a_new, b_new) = gamma_moment_match(a, b, lz, lz1, lz2);
        assert!((a_new - mean * mean / var).abs() < 1e-9 * a_new, "{a_new}");
        assert!((b_new - mean / var).abs() < 1e-9 * b_new, "{b_new}");
        // One observation seen exactly would add half a unit of shape; seen through the
        // network's own output variance it adds less.
        assert!(a_new > a && a_new < a + 0.5, "{a_new}");
    }
}
