//! PBP's two updates: assumed density filtering on one training point (every weight and the
//! noise Gamma), and after each pass the EP refinement of the prior factors with the shared
//! Gamma over the weight precision.

use super::moments::{gamma_moment_match, log_evidence};
use super::network::{Gamma, PbpNet, Tape};

/// Smallest posterior variance an update may leave; below it (or at NaN) the weight keeps its
/// old moments, as in the authors' code.
const SMALLEST_VARIANCE: f64 = 1e-100;

/// The ADF rule for one Gaussian given d log Z / d mean and d log Z / d var:
/// mean + var g_m and var - var^2 (g_m^2 - 2 g_v). `None` when the result is not a valid
/// Gaussian.
pub fn gaussian_update(mean: f64, var: f64, d_mean: f64, d_var: f64) -> Option<(f64, f64)> {
    let new_mean = mean + var * d_mean;
    let new_var = var - var * var * (d_mean * d_mean - 2.0 * d_var);
    (new_var > SMALLEST_VARIANCE && !new_mean.is_nan()).then_some((new_mean, new_var))
}

/// One ADF update of `net` on the standardized point (`x`, `y`); returns how many weight
/// updates were rejected.
pub fn adf_update(net: &mut PbpNet, x: &[f64], y: f64, tape: &mut Tape) -> usize {
    let (m, v) = net.forward(x, tape);
    let Gamma { a, b } = net.noise;
    let z = log_evidence(y, m, v + b / (a - 1.0));
    let z1 = log_evidence(y, m, v + b / a);
    let z2 = log_evidence(y, m, v + b / (a + 1.0));
    let mut rejected = 0;
    net.backward(tape, z.dmean, z.dvar, |w_mean, w_var, d_mean, d_var| {
        match gaussian_update(*w_mean, *w_var, d_mean, d_var) {
            Some((mean, var)) => (*w_mean, *w_var) = (mean, var),
            None => rejected += 1,
        }
    });
    let (a, b) = gamma_moment_match(a, b, z.log_z, z1.log_z, z2.log_z);
    net.noise = Gamma { a, b };
    rejected
}

/// EP refinement of the prior: for every weight in order (layer by layer, row-major), remove
/// its approximate prior factor (the cavity), moment-match the Gaussian prior whose precision
/// has the shared Gamma, and keep the new factor, posterior and shared Gamma. Weights whose
/// cavity is not a proper distribution (or whose variance is 1e6 or more) are left as they are.
pub fn refine_prior(net: &mut PbpNet) {
    for layer in &mut net.layers {
        for k in 0..layer.mean.len() {
            let var_nat = 1.0 / layer.var[k];
            let mean_nat = layer.mean[k] / layer.var[k];
            let cav_var_nat = var_nat - layer.factor_var_nat[k];
            let cav_mean_nat = mean_nat - layer.factor_mean_nat[k];
            let cav_var = 1.0 / cav_var_nat;
            let cav_mean = cav_mean_nat / cav_var_nat;
            let cav_a_nat = (net.prior.a - 1.0) - layer.factor_a_nat[k];
            let cav_b_nat = -net.prior.b - layer.factor_b_nat[k];
            let (cav_a, cav_b) = (cav_a_nat + 1.0, -cav_b_nat);
            if !(cav_var > 0.0 && cav_b > 0.0 && cav_a > 1.0 && cav_var < 1e6) {
                continue;
            }
            // The weight's evidence under the cavity: N(0 | cav_mean, cav_var + 1 / lambda).
            let z = log_evidence(0.0, cav_mean, cav_var + cav_b / (cav_a - 1.0));
            let z1 = log_evidence(0.0, cav_mean, cav_var + cav_b / cav_a);
            let z2 = log_evidence(0.0, cav_mean, cav_var + cav_b / (cav_a + 1.0));
            let Some((new_mean, new_var)) = gaussian_update(cav_mean, cav_var, z.dmean, z.dvar) else {
                continue;
            };
            let (new_a, new_b) = gamma_moment_match(cav_a, cav_b, z.log_z, z1.log_z, z2.log_z);
            layer.factor_mean_nat[k] = new_mean / new_var - cav_mean_nat;
            layer.factor_var_nat[k] = 1.0 / new_var - cav_var_nat;
            layer.factor_a_nat[k] = (new_a - 1.0) - cav_a_nat;
            layer.factor_b_nat[k] = -new_b - cav_b_nat;
            layer.mean[k] = new_mean;
            layer.var[k] = new_var;
            net.prior = Gamma { a: new_a, b: new_b };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;

    #[test]
    fn one_weight_update_matches_a_hand_computation() {
        // A linear net y = (w x + c) / sqrt(2): weights w (mean 0.5, var 0.2) and c (mean
        // -0.1, var 0.3), noise Gamma(6, 6) (variance 1.2); the point x = 2, y = 1.
        let mut net = PbpNet::new(&[1, 1], &mut member_rng(1));
        net.layers[0].mean = vec![0.5, -0.1];
        net.layers[0].var = vec![0.2, 0.3];
        let mut tape = net.tape();
        let rejected = adf_update(&mut net, &[2.0], 1.0, &mut tape);
        assert_eq!(rejected, 0);
        // By hand: m = (0.5 * 2 - 0.1) / sqrt 2 = 0.9 / sqrt 2, v = (0.2 * 4 + 0.3) / 2 = 0.55,
        // total variance s = 0.55 + 1.2 = 1.75, r = y - m.
        let m = 0.9 / 2f64.sqrt();
        let s = 1.75;
        let r = 1.0 - m;
        let (g_m, g_v) = (r / s, -0.5 / s + 0.5 * r * r / (s * s));
        // Chain rule to w: dm/dw = x / sqrt 2, dv/d var_w = x^2 / 2 = 2.
        let (gw_m, gw_v) = (g_m * 2.0 / 2f64.sqrt(), g_v * 2.0);
        let w_mean = 0.5 + 0.2 * gw_m;
        let w_var = 0.2 - 0.04 * (gw_m * gw_m - 2.0 * gw_v);
        assert!((net.layers[0].mean[0] - w_mean).abs() < 1e-14, "{} vs {w_mean}", net.layers[0].mean[0]);
        assert!((net.layers[0].var[0] - w_var).abs() < 1e-14, "{} vs {w_var}", net.layers[0].var[0]);
        // The bias: dm/dc = 1 / sqrt 2, dv / d var_c = 1 / 2.
        let (gc_m, gc_v) = (g_m / 2f64.sqrt(), g_v / 2.0);
        assert!((net.layers[0].mean[1] - (-0.1 + 0.3 * gc_m)).abs() < 1e-14);
        assert!((net.layers[0].var[1] - (0.3 - 0.09 * (gc_m * gc_m - 2.0 * gc_v))).abs() < 1e-14);
        // The noise Gamma moved by the closed form in its three plug-in variances.
        let lz = |var: f64| -0.5 * ((0.55 + var).ln() + r * r / (0.55 + var));
        let (a, b) = gamma_moment_match(6.0, 6.0, lz(1.2), lz(1.0), lz(6.0 / 7.0));
        assert_eq!(net.noise, Gamma { a, b });
        // The point fits within its predictive spread, so the noise estimate barely moves.
        assert!((net.noise.variance() - 1.2).abs() < 0.1, "{:?}", net.noise);
    }

    #[test]
    fn invalid_updates_keep_the_old_weight() {
        assert_eq!(gaussian_update(0.0, 1.0, 3.0, 0.0), None, "variance would go negative");
        assert_eq!(gaussian_update(0.0, 1.0, f64::NAN, 0.0), None);
        assert_eq!(gaussian_update(0.0, 1.0, 0.5, -0.1), Some((0.5, 1.0 - 0.25 - 0.2)));
    }

    #[test]
    fn refining_a_fresh_network_keeps_its_posterior() {
        // Before any data the posterior is the prior factor itself: the cavity is flat
        // (natural parameters zero), so the cavity check skips every weight.
        let mut net = PbpNet::new(&[3, 5, 1], &mut member_rng(2));
        let before = net.clone();
        refine_prior(&mut net);
        assert_eq!(net, before);
    }

    #[test]
    fn refining_after_data_moves_the_prior_towards_the_weights() {
        let mut net = PbpNet::new(&[2, 6, 1], &mut member_rng(4));
        let mut tape = net.tape();
        let mut rng = member_rng(9);
        for _ in 0..200 {
            let x = [crate::rng::uniform(&mut rng) * 2.0 - 1.0, crate::rng::uniform(&mut rng) * 2.0 - 1.0];
            adf_update(&mut net, &x, x[0] - 0.5 * x[1], &mut tape);
        }
        let prior = net.prior;
        refine_prior(&mut net);
        assert_ne!(net.prior, prior, "the shared Gamma was refined");
        assert!(net.prior.a > prior.a, "each weight adds evidence about the prior precision");
        for layer in &net.layers {
            assert!(layer.var.iter().all(|v| *v > 0.0 && v.is_finite()));
            assert!(layer.mean.iter().all(|m| m.is_finite()));
        }
    }
}
