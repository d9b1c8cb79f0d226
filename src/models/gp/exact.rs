//! Exact Gaussian-process regression: squared-exponential kernel with ARD length-scales,
//! signal variance and Gaussian noise; hyper-parameters by maximizing the log marginal
//! likelihood with Adam or L-BFGS on their logarithms from several starting points; closed-form
//! predictive mean and variance, so the test log-likelihood is exact. All in float64.
//!
//! Splits and restarts are batched: every (split, restart) is one member of a batch of
//! kernel matrices, factorized by one batched Cholesky.
//!
//! -log p(y | X) = 1/2 y^T K^-1 y + sum_i log L_ii + n/2 log 2 pi, K = k(X, X) + s_n^2 I = L L^T.

use tch::{Kind, Tensor};

use super::kernel::{cholesky_with_jitter, noise_variance, predictive_noise, se_ard, GpParams};
use super::lbfgs::Evaluation;
use super::optimize::{
    evaluate_or_back_away, float64_store, lbfgs_restarts, linear_surrogate, minimize_restarts, phase, restart_params,
    restart_starts, variables, RacePhases,
};
use crate::error::Result;
use crate::models::family::Progress;
use crate::models::nn::host::f64_values;
use crate::spec::{GpOptimizer, GpPlan};

/// Negative log marginal likelihood per member: [B].
/// # Shapes
/// x: [B, n, D], y: [B, n]
pub fn negative_log_marginal_likelihood(x: &Tensor, y: &Tensor, p: &GpParams, noise_floor: f64) -> Result<Tensor> {
    let n = x.size()[1];
    let k = with_noise(&se_ard(x, x, p)?, p, noise_floor)?;
    let l = cholesky_with_jitter(&k)?;
    let y = y.f_unsqueeze(-1)?;
    let alpha = y.f_cholesky_solve(&l, false)?;
    nlml_from_factor(&y, &alpha, &l, n)
}

/// 1/2 y^T alpha + sum_i log L_ii + n/2 log 2 pi per member, from alpha = K^-1 y and the
/// Cholesky factor L of K.
/// # Shapes
/// y, alpha: [B, n, 1], l: [B, n, n] -> [B]
fn nlml_from_factor(y: &Tensor, alpha: &Tensor, l: &Tensor, n: i64) -> Result<Tensor> {
    let fit = y.f_mul(alpha)?.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double)?.f_mul_scalar(0.5)?;
    let log_det = l.f_diagonal(0, 1, 2)?.f_log()?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    Ok(fit.f_add(&log_det)?.f_add_scalar(0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln())?)
}

/// The negative log marginal likelihood per member [B] and its gradient with respect to
/// each log hyper-parameter, in closed form: with W = K^-1 - alpha alpha^T,
/// d NLML / d theta = 1/2 tr(W dK/dtheta). One Cholesky and one inverse from it per
/// evaluation, against autograd's chain through the factorization (an Adam step on wine,
/// n = 1,439, measured 2.8 times faster this way).
/// # Shapes
/// x: [B, n, D], y: [B, n] -> (nlml [B], GpParams holding the gradients)
pub fn nlml_with_gradient(x: &Tensor, y: &Tensor, p: &GpParams, noise_floor: f64) -> Result<(Tensor, GpParams)> {
    let _guard = tch::no_grad_guard();
    let n = x.size()[1];
    let kf = se_ard(x, x, p)?;
    let l = cholesky_with_jitter(&with_noise(&kf, p, noise_floor)?)?;
    // K^-1 from the factor (LAPACK's potri, a third of the flops of solving against I), and
    // alpha = K^-1 y from it (a batched one-column cholesky_solve measured slower than the
    // product).
    let k_inv = l.f_cholesky_inverse(false)?;
    let y = y.f_unsqueeze(-1)?;
    let alpha = k_inv.f_bmm(&y)?; // [B, n, 1]
    let nlml = nlml_from_factor(&y, &alpha, &l, n)?;

    let w = k_inv.f_sub(&alpha.f_bmm(&alpha.f_transpose(1, 2)?)?)?;
    let m = w.f_mul(&kf)?;
    // dK/d log s_f = 2 K_f
    let log_signal_std = m.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double)?;
    // dK/d log s_n = 2 s_n^2 I (the floor does not move)
    let noise = p.log_noise_std.f_mul_scalar(2.0)?.f_exp()?;
    let log_noise_std = w.f_diagonal(0, 1, 2)?.f_sum_dim_intlist(1i64, false, Kind::Double)?.f_mul(&noise)?;
    // dK_ij/d log l_d = K_f,ij (a_id - a_jd)^2 with a = x / l; with M = W o K_f symmetric,
    // 1/2 sum_ij M_ij (a_id - a_jd)^2 = sum_i a_id^2 (M 1)_i - (a^T M a)_dd.
    let a = x.f_div(&p.log_lengthscales.f_exp()?.f_unsqueeze(1)?)?;
    let row_sums = m.f_sum_dim_intlist(2i64, true, Kind::Double)?; // [B, n, 1]
    let spread = a.f_square()?.f_mul(&row_sums)?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    let cross = m.f_bmm(&a)?.f_mul(&a)?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    let log_lengthscales = spread.f_sub(&cross)?;
    Ok((nlml, GpParams { log_lengthscales, log_signal_std, log_noise_std }))
}

/// k + s_n^2 I per member, by adding to a copy's diagonal (the values of adding a scaled
/// identity, in one pass over k instead of three).
fn with_noise(k: &Tensor, p: &GpParams, noise_floor: f64) -> Result<Tensor> {
    let mut noisy = k.f_empty_like()?;
    noisy.f_copy_(k)?;
    let _ = noisy.f_diagonal(0, 1, 2)?.f_add_(&noise_variance(p, noise_floor)?.f_view([-1, 1])?)?;
    Ok(noisy)
}

/// Predictive mean and variance of y (noise included) at `x_star`.
/// # Shapes
/// x: [B, n, D], y: [B, n], x_star: [B, m, D] -> ([B, m], [B, m])
pub fn predict(x: &Tensor, y: &Tensor, x_star: &Tensor, p: &GpParams, noise_floor: f64) -> Result<(Tensor, Tensor)> {
    let _guard = tch::no_grad_guard();
    let l = cholesky_with_jitter(&with_noise(&se_ard(x, x, p)?, p, noise_floor)?)?;
    let k_star = se_ard(x, x_star, p)?; // [B, n, m]
    let alpha = y.f_unsqueeze(-1)?.f_cholesky_solve(&l, false)?; // [B, n, 1]
    let mean = k_star.f_transpose(1, 2)?.f_bmm(&alpha)?.f_squeeze_dim(-1)?;
    let v = l.f_linalg_solve_triangular(&k_star, false, true, false)?; // L^-1 K*
    let prior_var = p.log_signal_std.f_mul_scalar(2.0)?.f_exp()?.f_unsqueeze(1)?;
    let var = prior_var
        .f_sub(&v.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double)?)?
        .f_clamp_min(0.0)?
        .f_add(&predictive_noise(noise_variance(p, noise_floor)?)?.f_unsqueeze(1)?)?;
    Ok((mean, var))
}

/// Fits each member's hyper-parameters from `plan.restarts` starting points and keeps, per
/// member, the restart with the lowest final negative log marginal likelihood, by the plan's
/// optimizer; `progress` advances by `plan.iterations` in all.
/// # Shapes
/// x: [S, n, D], y: [S, n] (float64) -> parameters for S members and their NLML [S]
pub fn fit(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(GpParams, Tensor)> {
    match plan.optimizer {
        GpOptimizer::Adam => fit_adam(x, y, seeds, plan, progress),
        GpOptimizer::Lbfgs => fit_lbfgs(x, y, seeds, plan, progress),
    }
}

/// Adam for `plan.iterations` steps on every restart at once, or, where the plan races, on
/// every restart for `race_after` steps and then on each member's lowest alone (`RacePhases`).
fn fit_adam(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(GpParams, Tensor)> {
    let phases = RacePhases::of(plan);
    let vs = float64_store(x.device());
    let starts = restart_params(&vs, seeds, plan.restarts as i64, x.size()[2], |_, _| {})?;
    let raced = adam_steps(&vs, &starts, x, y, &phase(plan, plan.restarts, phases.raced), progress)?;
    if phases.alone == 0 {
        return Ok(raced);
    }
    let vs = float64_store(x.device());
    let survivors = variables(&vs, &raced.0)?;
    adam_steps(&vs, &survivors, x, y, &phase(plan, 1, phases.alone), progress)
}

/// Adam on `params` (variables of `vs`, `plan.restarts` per member of x) for
/// `plan.iterations` steps; each member's restart with the lowest final NLML, and that NLML.
fn adam_steps(
    vs: &tch::nn::VarStore,
    params: &GpParams,
    x: &Tensor,
    y: &Tensor,
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(GpParams, Tensor)> {
    let (s, r) = (x.size()[0], plan.restarts as i64);
    let xr = x.f_repeat_interleave_self_int(r, 0, None)?;
    let yr = y.f_repeat_interleave_self_int(r, 0, None)?;
    let surrogate = || -> Result<Tensor> {
        let (_, g) = nlml_with_gradient(&xr, &yr, params, plan.noise_floor)?;
        linear_surrogate(&[
            (&params.log_lengthscales, &g.log_lengthscales),
            (&params.log_signal_std, &g.log_signal_std),
            (&params.log_noise_std, &g.log_noise_std),
        ])
    };
    let objective = || negative_log_marginal_likelihood(&xr, &yr, params, plan.noise_floor);
    let (best, final_nlml) = minimize_restarts(vs, plan, s, r, surrogate, objective, progress)?;
    Ok((params.pick(&best)?, final_nlml.f_index_select(0, &best)?))
}

/// L-BFGS on each member's restarts, to convergence or `plan.iterations` iterations.
fn fit_lbfgs(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(GpParams, Tensor)> {
    let (r, d) = (plan.restarts, x.size()[2]);
    let starts = restart_starts(seeds, r as i64, d, |_, _| {});
    let evaluate = |who: &[usize], points: &[Vec<f64>]| -> Result<Vec<Evaluation>> {
        let members: Vec<i64> = who.iter().map(|k| (k / r) as i64).collect();
        evaluations(x, y, &members, points, d, plan.noise_floor)
    };
    let best = lbfgs_restarts(starts, r, plan, x.device(), evaluate, progress)?;
    let rows: Vec<Vec<f64>> = best.iter().map(|b| b.point.clone()).collect();
    let values: Vec<f64> = best.iter().map(|b| b.value).collect();
    Ok((GpParams::from_rows(&rows, d, x.device())?, Tensor::from_slice(&values).f_to_device(x.device())?))
}

/// The NLML and its gradient at `points` for the members `members` of x and y, as
/// `evaluate_or_back_away` asks for them.
fn evaluations(
    x: &Tensor,
    y: &Tensor,
    members: &[i64],
    points: &[Vec<f64>],
    d: i64,
    noise_floor: f64,
) -> Result<Vec<Evaluation>> {
    evaluate_or_back_away(members.len(), points[0].len(), |range| {
        let index = Tensor::from_slice(&members[range.clone()]).f_to_device(x.device())?;
        let (xb, yb) = (x.f_index_select(0, &index)?, y.f_index_select(0, &index)?);
        let params = GpParams::from_rows(&points[range], d, x.device())?;
        let (value, gradient) = nlml_with_gradient(&xb, &yb, &params, noise_floor)?;
        let values = f64_values(&value)?;
        Ok(gradient
            .to_rows()?
            .into_iter()
            .zip(values)
            .map(|(gradient, value)| Evaluation { value, gradient })
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Silent;
    use crate::spec::raw::InducingInit;

    /// The CO2 fit's shapes: one member, one input column, several restarts.
    #[test]
    fn fits_one_input_column_from_several_restarts_with_either_optimizer() {
        let xs: Vec<f64> = (0..40).map(|i| f64::from(i) / 10.0 - 2.0).collect();
        let ys: Vec<f64> = xs.iter().map(|x| (2.0 * x).sin()).collect();
        let x = Tensor::from_slice(&xs).view([1, -1, 1]);
        let y = Tensor::from_slice(&ys).view([1, -1]);
        for optimizer in [GpOptimizer::Adam, GpOptimizer::Lbfgs] {
            let plan = GpPlan {
                restarts: 3,
                iterations: 60,
                lr: 0.05,
                noise_floor: 1e-6,
                max_rows: 1000,
                inducing: 10,
                optimizer,
                inducing_init: InducingInit::Random,
                learn_inducing: false,
                race_after: None,
            };
            let (params, nlml) = fit(&x, &y, &[7], &plan, &Silent).unwrap();
            assert_eq!(params.log_lengthscales.size(), [1, 1], "{optimizer:?}");
            assert_eq!(nlml.size(), [1], "{optimizer:?}");
            let (mean, _) = predict(&x, &y, &x, &params, plan.noise_floor).unwrap();
            let error = f64::try_from((mean.view([-1]) - &y.view([-1])).abs().max()).unwrap();
            assert!(error < 0.1, "{optimizer:?}: largest error {error}");
        }
    }
}
