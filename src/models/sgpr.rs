//! Sparse GP regression for training sets too large for an exact Cholesky: Titsias (2009)'s
//! collapsed variational bound with M inducing inputs Z (learned, initialized at a random
//! subset of the member's training rows), same SE-ARD kernel and noise as `gp`.
//!
//! With K_mm = L L^T, A = L^-1 K_mn / s_n, B = I + A A^T = L_B L_B^T, c = L_B^-1 A y / s_n:
//! log p(y) >= -n/2 log 2 pi - sum log diag L_B - n/2 log s_n^2 - y^T y / (2 s_n^2)
//!             + c^T c / 2 - n s_f^2 / (2 s_n^2) + tr(A A^T) / 2,
//! and the predictive at x*: mean = (L_B^-1 L^-1 k_m*)^T c,
//! var = s_f^2 - |L^-1 k_m*|^2 + |L_B^-1 L^-1 k_m*|^2 + s_n^2. Cost O(n M^2) per member.

use tch::{Device, Kind, Tensor};

use super::gp::{cholesky_with_jitter, float64_store, minimize_restarts, noise_variance, restart_params, se_ard, GpParams};
use crate::error::Result;
use crate::rng::shuffle;
use crate::spec::GpPlan;

/// Kernel hyper-parameters and inducing inputs of B members.
/// # Shapes
/// inducing: [B, M, D]
pub struct SparseParams {
    pub kernel: GpParams,
    pub inducing: Tensor,
}

/// The pieces the bound and the predictive share.
struct Factors {
    l: Tensor,
    lb: Tensor,
    c: Tensor,
    a: Tensor,
    noise_var: Tensor,
}

fn factors(x: &Tensor, y: &Tensor, p: &SparseParams, noise_floor: f64) -> Result<Factors> {
    let m = p.inducing.size()[1];
    let eye = Tensor::f_eye(m, (Kind::Double, x.device()))?.f_unsqueeze(0)?;
    let l = cholesky_with_jitter(&se_ard(&p.inducing, &p.inducing, &p.kernel)?)?;
    let noise_var = noise_variance(&p.kernel, noise_floor)?; // [B]
    let noise_std = noise_var.f_sqrt()?.f_view([-1, 1, 1])?;
    let kmn = se_ard(&p.inducing, x, &p.kernel)?; // [B, M, n]
    let a = l.f_linalg_solve_triangular(&kmn, false, true, false)?.f_div(&noise_std)?;
    let lb = cholesky_with_jitter(&a.f_bmm(&a.f_transpose(1, 2)?)?.f_add(&eye)?)?;
    let ay = a.f_bmm(&y.f_unsqueeze(-1)?)?; // [B, M, 1]
    let c = lb.f_linalg_solve_triangular(&ay, false, true, false)?.f_div(&noise_std)?;
    Ok(Factors { l, lb, c, a, noise_var })
}

/// Negative collapsed bound per member: [B].
/// # Shapes
/// x: [B, n, D], y: [B, n]
pub fn negative_bound(x: &Tensor, y: &Tensor, p: &SparseParams, noise_floor: f64) -> Result<Tensor> {
    let n = x.size()[1] as f64;
    let f = factors(x, y, p, noise_floor)?;
    let sum = |t: &Tensor| t.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double);
    let signal_var = p.kernel.log_signal_std.f_mul_scalar(2.0)?.f_exp()?;
    let log_det_b = f.lb.f_diagonal(0, 1, 2)?.f_log()?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    let yy = y.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    let bound = log_det_b
        .f_neg()?
        .f_sub(&f.noise_var.f_log()?.f_mul_scalar(0.5 * n)?)?
        .f_sub(&yy.f_div(&f.noise_var)?.f_mul_scalar(0.5)?)?
        .f_add(&sum(&f.c.f_square()?)?.f_mul_scalar(0.5)?)?
        .f_sub(&signal_var.f_div(&f.noise_var)?.f_mul_scalar(0.5 * n)?)?
        .f_add(&sum(&f.a.f_square()?)?.f_mul_scalar(0.5)?)?
        .f_sub_scalar(0.5 * n * (2.0 * std::f64::consts::PI).ln())?;
    Ok(bound.f_neg()?)
}

/// Predictive mean and variance of y (noise included) at `x_star`: ([B, m], [B, m]).
pub fn predict(x: &Tensor, y: &Tensor, x_star: &Tensor, p: &SparseParams, noise_floor: f64) -> Result<(Tensor, Tensor)> {
    let _guard = tch::no_grad_guard();
    let f = factors(x, y, p, noise_floor)?;
    let k_star = se_ard(&p.inducing, x_star, &p.kernel)?; // [B, M, m]
    let t1 = f.l.f_linalg_solve_triangular(&k_star, false, true, false)?;
    let t2 = f.lb.f_linalg_solve_triangular(&t1, false, true, false)?;
    let mean = t2.f_transpose(1, 2)?.f_bmm(&f.c)?.f_squeeze_dim(-1)?;
    let col = |t: &Tensor| t.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double);
    let signal_var = p.kernel.log_signal_std.f_mul_scalar(2.0)?.f_exp()?.f_unsqueeze(1)?;
    let var = signal_var.f_sub(&col(&t1)?)?.f_add(&col(&t2)?)?.f_clamp_min(0.0)?.f_add(&f.noise_var.f_unsqueeze(1)?)?;
    Ok((mean, var))
}

/// Fits kernel and inducing inputs from `plan.restarts` starts per member and keeps the
/// restart with the lowest final negative bound. x: [S, n, D], y: [S, n] (float64).
pub fn fit(x: &Tensor, y: &Tensor, seeds: &[u64], plan: &GpPlan, inducing: usize, device: Device) -> Result<(SparseParams, Tensor)> {
    let (s, n, d) = (seeds.len() as i64, x.size()[1], x.size()[2]);
    let r = plan.restarts as i64;
    let m = (inducing as i64).min(n);
    let vs = float64_store(device);
    // Inducing inputs start at M distinct training rows of each member-restart.
    let mut rows = Vec::new();
    let kernel = restart_params(&vs, seeds, r, d, |i, rng| {
        let mut order: Vec<i64> = (0..n).collect();
        shuffle(rng, &mut order);
        rows.extend(order[..m as usize].iter().map(|&k| i as i64 * n + k));
    })?;
    let root = vs.root();
    let z0 = x.f_reshape([s * n, d])?.f_index_select(0, &Tensor::from_slice(&rows).f_to_device(device)?)?.f_view([s * r, m, d])?;
    let params = SparseParams { kernel, inducing: root.f_var_copy("inducing", &z0)? };
    let xr = x.f_repeat_interleave_self_int(r, 0, None)?;
    let yr = y.f_repeat_interleave_self_int(r, 0, None)?;
    let objective = || negative_bound(&xr, &yr, &params, plan.noise_floor);
    let (best, final_bound) = minimize_restarts(&vs, plan, s, r, || Ok(objective()?.f_sum(Kind::Double)?), objective)?;
    let chosen = SparseParams {
        kernel: params.kernel.pick(&best)?,
        inducing: tch::no_grad(|| params.inducing.f_index_select(0, &best))?.detach(),
    };
    Ok((chosen, final_bound.f_index_select(0, &best)?))
}
