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
//! The gradient takes two passes over the data (`bound_and_gradient`): the first sums Psi and
//! r, autograd on the M x M part gives dF/dPsi and dF/dr, and since Psi = A A^T and r = A y,
//! dF/dK_mn = R K_mn + rho y^T with R and rho M x M and M x 1 (`pull_back_whitening`); the
//! second pass forms that product chunk by chunk and pushes it through the kernel to its
//! parameters and the inducing inputs. The data cost 5 n M^2 flops per evaluation against
//! autograd's 10 (which also keeps every M x n block alive); L's gradient, also M x M, goes
//! back through the Cholesky factor of K_mm. L-BFGS and a raced Adam fit take the passes;
//! Adam's unraced fit (`uci-gp`) keeps its earlier choice by memory budget (`BoundGradient`),
//! so that it goes on computing the same bits.

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
use crate::rng::{below, shuffle, MemberRng};
use crate::spec::{GpOptimizer, GpPlan, InducingInit};

/// Largest kernel block (elements) one chunk of rows may create: 2^24 doubles, 128 MiB.
const CHUNK_ELEMENTS: i64 = 1 << 24;

/// Largest autograd graph (bytes) the fit may keep: above it the two-pass gradient, whose
/// memory does not grow with n. Protein's 15 members (5 splits x 3 restarts) need ~4.9 GB;
/// one split's 3 members ~1 GB, kin8nm, naval and power's 15 members 0.9 to 1.3 GB.
const AUTOGRAD_BUDGET_BYTES: i64 = 4 << 30;

/// How the fit differentiates the bound; the two agree to rounding (`tests/gp.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundGradient {
    /// Autograd through every chunk: memory grows with B x M x n.
    Autograd,
    /// `bound_and_gradient`'s passes: memory O(B x M x chunk).
    TwoPass,
}

impl BoundGradient {
    /// Autograd when its graph fits the budget. Measured with `mcdrop bench sparse-gp` on
    /// protein (3 members x 500 x 41,157 rows, one float64 block 494 MB), autograd's peak was
    /// 600 MiB above the two-pass one: the estimate of two blocks leaves a margin.
    pub fn for_size(members: i64, inducing: i64, rows: i64) -> BoundGradient {
        let block_bytes = members * inducing * rows * std::mem::size_of::<f64>() as i64;
        if 2 * block_bytes <= AUTOGRAD_BUDGET_BYTES {
            BoundGradient::Autograd
        } else {
            BoundGradient::TwoPass
        }
    }

    /// `for_size` of a program as the fit holds it: x [B, n, D] and B members' parameters.
    pub fn for_program(x: &Tensor, p: &SparseParams) -> BoundGradient {
        BoundGradient::for_size(x.size()[0], p.inducing.size()[1], x.size()[1])
    }
}

/// Kernel hyper-parameters and inducing inputs of B members.
/// # Shapes
/// inducing: [B, M, D]
pub struct SparseParams {
    pub kernel: GpParams,
    pub inducing: Tensor,
}

/// What the bound needs from the data.
/// # Shapes
/// psi: [B, M, M], r: [B, M, 1], yy: [B]
struct DataStatistics {
    psi: Tensor,
    r: Tensor,
    yy: Tensor,
    n: i64,
}

/// Rows per chunk so that one [B, M, rows] kernel block stays within `CHUNK_ELEMENTS`.
pub fn rows_per_chunk(x: &Tensor, p: &SparseParams) -> i64 {
    let (b, m, n) = (x.size()[0], p.inducing.size()[1], x.size()[1]);
    (CHUNK_ELEMENTS / (b * m)).clamp(1, n)
}

/// The row ranges (start, length) of chunks of `rows` rows.
fn chunks(n: i64, rows: i64) -> impl Iterator<Item = (i64, i64)> {
    (0..n).step_by(rows as usize).map(move |start| (start, rows.min(n - start)))
}

/// Cholesky factor L of K_mm: [B, M, M].
fn inducing_factor(p: &SparseParams) -> Result<Tensor> {
    cholesky_with_jitter(&se_ard(&p.inducing, &p.inducing, &p.kernel)?)
}

/// A = L^-1 K_mn for the rows `start .. start + len`: [B, M, len].
fn whitened_block(x: &Tensor, p: &SparseParams, l: &Tensor, start: i64, len: i64) -> Result<Tensor> {
    let kmn = se_ard(&p.inducing, &x.f_narrow(1, start, len)?, &p.kernel)?;
    Ok(l.f_linalg_solve_triangular(&kmn, false, true, false)?)
}

/// Psi, r and y^T y, summed chunk by chunk; differentiable when the caller records a graph.
fn data_statistics(x: &Tensor, y: &Tensor, p: &SparseParams, l: &Tensor, rows: i64) -> Result<DataStatistics> {
    let (b, m, n) = (x.size()[0], l.size()[1], x.size()[1]);
    let mut psi = Tensor::f_zeros([b, m, m], (Kind::Double, x.device()))?;
    let mut r = Tensor::f_zeros([b, m, 1], (Kind::Double, x.device()))?;
    for (start, len) in chunks(n, rows) {
        let a = whitened_block(x, p, l, start, len)?;
        let yc = y.f_narrow(1, start, len)?.f_unsqueeze(-1)?;
        psi = psi.f_add(&a.f_bmm(&a.f_transpose(1, 2)?)?)?;
        r = r.f_add(&a.f_bmm(&yc)?)?;
    }
    let yy = y.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    Ok(DataStatistics { psi, r, yy, n })
}

/// The pieces the bound and the predictive share.
struct Factors {
    lb: Tensor,
    c: Tensor,
    noise_var: Tensor,
}

fn factors(stats: &DataStatistics, p: &SparseParams, noise_floor: f64) -> Result<Factors> {
    let m = stats.psi.size()[1];
    let eye = Tensor::f_eye(m, (Kind::Double, stats.psi.device()))?.f_unsqueeze(0)?;
    let noise_var = noise_variance(&p.kernel, noise_floor)?; // [B]
    let per_noise = |t: &Tensor| -> Result<Tensor> { Ok(t.f_div(&noise_var.f_view([-1, 1, 1])?)?) };
    let lb = cholesky_with_jitter(&per_noise(&stats.psi)?.f_add(&eye)?)?;
    let c = per_noise(&lb.f_linalg_solve_triangular(&stats.r, false, true, false)?)?;
    Ok(Factors { lb, c, noise_var })
}

/// Negative collapsed bound per member [B] from the data statistics.
fn bound_from(stats: &DataStatistics, p: &SparseParams, noise_floor: f64) -> Result<Tensor> {
    let n = stats.n as f64;
    let f = factors(stats, p, noise_floor)?;
    let signal_var = p.kernel.log_signal_std.f_mul_scalar(2.0)?.f_exp()?;
    let log_det_b = f.lb.f_diagonal(0, 1, 2)?.f_log()?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    let cc = f.c.f_square()?.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double)?;
    let trace_psi = stats.psi.f_diagonal(0, 1, 2)?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    let bound = log_det_b
        .f_neg()?
        .f_sub(&f.noise_var.f_log()?.f_mul_scalar(0.5 * n)?)?
        .f_sub(&stats.yy.f_div(&f.noise_var)?.f_mul_scalar(0.5)?)?
        .f_add(&cc.f_mul_scalar(0.5)?)?
        .f_sub(&signal_var.f_div(&f.noise_var)?.f_mul_scalar(0.5 * n)?)?
        .f_add(&trace_psi.f_div(&f.noise_var)?.f_mul_scalar(0.5)?)?
        .f_sub_scalar(0.5 * n * (2.0 * std::f64::consts::PI).ln())?;
    Ok(bound.f_neg()?)
}

/// Negative collapsed bound per member: [B]. Autograd runs through it (and through every
/// chunk) when the parameters require gradients: the fit's gradient where
/// `BoundGradient::for_program` allows, else `bound_and_gradient`'s passes.
/// # Shapes
/// x: [B, n, D], y: [B, n]
pub fn negative_bound(x: &Tensor, y: &Tensor, p: &SparseParams, noise_floor: f64) -> Result<Tensor> {
    let l = inducing_factor(p)?;
    bound_from(&data_statistics(x, y, p, &l, rows_per_chunk(x, p))?, p, noise_floor)
}

/// The negative bound per member [B] and its gradient with respect to each parameter, in
/// `SparseParams`' shape, by the passes of the module note; `rows` rows per chunk.
pub fn bound_and_gradient(
    x: &Tensor,
    y: &Tensor,
    p: &SparseParams,
    noise_floor: f64,
    rows: i64,
) -> Result<(Tensor, SparseParams)> {
    let leaf = |t: &Tensor| t.detach().set_requires_grad(true);
    let q = SparseParams {
        kernel: GpParams {
            log_lengthscales: leaf(&p.kernel.log_lengthscales),
            log_signal_std: leaf(&p.kernel.log_signal_std),
            log_noise_std: leaf(&p.kernel.log_noise_std),
        },
        inducing: leaf(&p.inducing),
    };
    // K_mm's factor keeps its (M x M) graph for the last pass; the chunks see it as a constant.
    let factor = inducing_factor(&q)?;
    let l = factor.detach();
    let stats = tch::no_grad(|| data_statistics(x, y, &q, &l, rows))?;
    let stats = DataStatistics { psi: leaf(&stats.psi), r: leaf(&stats.r), ..stats };
    let value = bound_from(&stats, &q, noise_floor)?;
    let inputs = [&q.kernel.log_signal_std, &q.kernel.log_noise_std, &stats.psi, &stats.r];
    let g = Tensor::f_run_backward(&[value.f_sum(Kind::Double)?], &inputs, false, false)?;
    let (mut g_sf, g_sn) = (g[0].shallow_clone(), g[1].shallow_clone());
    let pulled = tch::no_grad(|| pull_back_whitening(&l, &g[2], &g[3], &stats))?;
    let mut g_ls = q.kernel.log_lengthscales.f_zeros_like()?;
    let mut g_z = q.inducing.f_zeros_like()?;
    let kernel_inputs = [&q.kernel.log_lengthscales, &q.kernel.log_signal_std, &q.inducing];
    for (start, len) in chunks(x.size()[1], rows) {
        let kmn = se_ard(&q.inducing, &x.f_narrow(1, start, len)?, &q.kernel)?;
        let yc = y.f_narrow(1, start, len)?.f_unsqueeze(1)?; // [B, 1, len]
        let d_kmn = tch::no_grad(|| -> Result<Tensor> {
            Ok(pulled.rho.f_bmm(&yc)?.f_baddbmm(&pulled.r_mat, &kmn.detach(), 1.0, 1.0)?)
        })?;
        let pullback = kmn.f_mul(&d_kmn)?.f_sum(Kind::Double)?;
        let gc = Tensor::f_run_backward(&[pullback], &kernel_inputs, false, false)?;
        g_ls = g_ls.f_add(&gc[0])?;
        g_sf = g_sf.f_add(&gc[1])?;
        g_z = g_z.f_add(&gc[2])?;
    }
    // L depends on the kernel and Z through the Cholesky factor of K_mm; only its lower
    // triangle is free.
    let pullback = factor.f_mul(&pulled.d_l.f_tril(0)?)?.f_sum(Kind::Double)?;
    let gk = Tensor::f_run_backward(&[pullback], &kernel_inputs, false, false)?;
    let gradient = SparseParams {
        kernel: GpParams {
            log_lengthscales: g_ls.f_add(&gk[0])?,
            log_signal_std: g_sf.f_add(&gk[1])?,
            log_noise_std: g_sn,
        },
        inducing: g_z.f_add(&gk[2])?,
    };
    Ok((value.detach(), gradient))
}

/// What the bound's gradient with respect to Psi and r becomes one step back, through
/// A = L^-1 K_mn: dF/dK_mn = R K_mn + rho y^T, and dF/dL in `d_l`.
/// # Shapes
/// r_mat: [B, M, M], rho: [B, M, 1], d_l: [B, M, M]
struct WhiteningPullback {
    r_mat: Tensor,
    rho: Tensor,
    d_l: Tensor,
}

/// With G = dF/dPsi + its transpose and g = dF/dr, dF/dA = G A + g y^T, so
/// dF/dK_mn = L^-T (G A + g y^T) = (L^-T G L^-1) K_mn + (L^-T g) y^T, and
/// dF/dL = -L^-T (G A + g y^T) A^T = -L^-T (G Psi + g r^T): everything but the product with
/// K_mn is M x M, so the data are touched once more, by one matrix product per chunk.
fn pull_back_whitening(l: &Tensor, g_psi: &Tensor, g_r: &Tensor, stats: &DataStatistics) -> Result<WhiteningPullback> {
    let g = g_psi.f_add(&g_psi.f_transpose(1, 2)?)?;
    let lt = l.f_transpose(1, 2)?;
    let solve_lt = |b: &Tensor| lt.f_linalg_solve_triangular(b, true, true, false);
    let lt_g = solve_lt(&g)?;
    let r_mat = l.f_linalg_solve_triangular(&lt_g, false, false, false)?; // (L^-T G) L^-1
    let rho = solve_lt(g_r)?;
    let psi = stats.psi.detach();
    let outer = g.f_bmm(&psi)?.f_baddbmm(g_r, &stats.r.detach().f_transpose(1, 2)?, 1.0, 1.0)?;
    let d_l = solve_lt(&outer)?.f_neg()?;
    Ok(WhiteningPullback { r_mat, rho, d_l })
}

/// Predictive mean and variance of y (noise included) at `x_star`: ([B, m], [B, m]).
pub fn predict(
    x: &Tensor,
    y: &Tensor,
    x_star: &Tensor,
    p: &SparseParams,
    noise_floor: f64,
) -> Result<(Tensor, Tensor)> {
    let _guard = tch::no_grad_guard();
    let l = inducing_factor(p)?;
    let f = factors(&data_statistics(x, y, p, &l, rows_per_chunk(x, p))?, p, noise_floor)?;
    let k_star = se_ard(&p.inducing, x_star, &p.kernel)?; // [B, M, m]
    let t1 = l.f_linalg_solve_triangular(&k_star, false, true, false)?;
    let t2 = f.lb.f_linalg_solve_triangular(&t1, false, true, false)?;
    let mean = t2.f_transpose(1, 2)?.f_bmm(&f.c)?.f_squeeze_dim(-1)?;
    let col = |t: &Tensor| t.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double);
    let signal_var = p.kernel.log_signal_std.f_mul_scalar(2.0)?.f_exp()?.f_unsqueeze(1)?;
    let var = signal_var
        .f_sub(&col(&t1)?)?
        .f_add(&col(&t2)?)?
        .f_clamp_min(0.0)?
        .f_add(&predictive_noise(f.noise_var.shallow_clone())?.f_unsqueeze(1)?)?;
    Ok((mean, var))
}

/// Starting parameters of S members x R restarts as variables of `vs` (member-restart (i, j)
/// at i * R + j): `restart_params`' kernels, and inducing inputs at M distinct training rows
/// of each member-restart, drawn on the member's own stream.
/// x: [S, n, D] (float64) -> inducing [S * R, M, D]
pub fn initial_params(
    vs: &tch::nn::VarStore,
    x: &Tensor,
    seeds: &[u64],
    r: i64,
    inducing: usize,
) -> Result<SparseParams> {
    let (s, n, d) = (seeds.len() as i64, x.size()[1], x.size()[2]);
    let m = (inducing as i64).min(n);
    let mut rows = Vec::new();
    let kernel = restart_params(vs, seeds, r, d, |i, rng| {
        rows.extend(random_rows(rng, n, m).into_iter().map(|k| i as i64 * n + k));
    })?;
    let index = Tensor::from_slice(&rows).f_to_device(x.device())?;
    let z0 = x.f_reshape([s * n, d])?.f_index_select(0, &index)?.f_view([s * r, m, d])?;
    Ok(SparseParams { kernel, inducing: vs.root().f_var_copy("inducing", &z0)? })
}

/// Fits kernel and inducing inputs from `plan.restarts` starts per member and keeps the
/// restart with the lowest final negative bound, by the plan's optimizer; `plan.inducing`
/// inducing inputs, `progress` advances by `plan.iterations` in all; Adam's gradient as
/// `BoundGradient::for_program` picks.
/// x: [S, n, D], y: [S, n] (float64).
pub fn fit(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(SparseParams, Tensor)> {
    match plan.optimizer {
        GpOptimizer::Adam => fit_with(x, y, seeds, plan, progress, None),
        GpOptimizer::Lbfgs => fit_lbfgs(x, y, seeds, plan, progress),
    }
}

/// `fit` by Adam with the gradient chosen by the caller (`None`: by the memory budget, or the
/// passes where the plan races), every restart at once or, where the plan races, every restart
/// for `race_after` steps and then each member's lowest alone (`RacePhases`).
pub fn fit_with(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
    gradient: Option<BoundGradient>,
) -> Result<(SparseParams, Tensor)> {
    let phases = RacePhases::of(plan);
    let vs = float64_store(x.device());
    let starts = initial_params(&vs, x, seeds, plan.restarts as i64, plan.inducing)?;
    // The budget's choice keeps uci-gp's bits; a raced fit has no earlier bits to keep, and the
    // passes cost half autograd's flops.
    let gradient = if phases.alone > 0 { gradient.or(Some(BoundGradient::TwoPass)) } else { gradient };
    let raced = adam_steps(&vs, &starts, x, y, &phase(plan, plan.restarts, phases.raced), progress, gradient)?;
    if phases.alone == 0 {
        return Ok(raced);
    }
    let (chosen, _) = raced;
    let vs = float64_store(x.device());
    let survivors = SparseParams {
        kernel: variables(&vs, &chosen.kernel)?,
        inducing: vs.root().f_var_copy("inducing", &chosen.inducing)?,
    };
    adam_steps(&vs, &survivors, x, y, &phase(plan, 1, phases.alone), progress, gradient)
}

/// Adam on `params` (variables of `vs`, `plan.restarts` per member of x) for
/// `plan.iterations` steps; each member's restart with the lowest final bound, and that bound.
fn adam_steps(
    vs: &tch::nn::VarStore,
    params: &SparseParams,
    x: &Tensor,
    y: &Tensor,
    plan: &GpPlan,
    progress: &dyn Progress,
    gradient: Option<BoundGradient>,
) -> Result<(SparseParams, Tensor)> {
    let (s, r) = (x.size()[0], plan.restarts as i64);
    let xr = x.f_repeat_interleave_self_int(r, 0, None)?;
    let yr = y.f_repeat_interleave_self_int(r, 0, None)?;
    let chunk = rows_per_chunk(&xr, params);
    let gradient = gradient.unwrap_or_else(|| BoundGradient::for_program(&xr, params));
    let surrogate = || -> Result<Tensor> {
        if gradient == BoundGradient::Autograd {
            return Ok(negative_bound(&xr, &yr, params, plan.noise_floor)?.f_sum(Kind::Double)?);
        }
        let (_, g) = bound_and_gradient(&xr, &yr, params, plan.noise_floor, chunk)?;
        let k = &params.kernel;
        linear_surrogate(&[
            (&k.log_lengthscales, &g.kernel.log_lengthscales),
            (&k.log_signal_std, &g.kernel.log_signal_std),
            (&k.log_noise_std, &g.kernel.log_noise_std),
            (&params.inducing, &g.inducing),
        ])
    };
    let objective = || negative_bound(&xr, &yr, params, plan.noise_floor);
    let (best, final_bound) = minimize_restarts(vs, plan, s, r, surrogate, objective, progress)?;
    let chosen = SparseParams {
        kernel: params.kernel.pick(&best)?,
        inducing: tch::no_grad(|| params.inducing.f_index_select(0, &best))?.detach(),
    };
    Ok((chosen, final_bound.f_index_select(0, &best)?))
}

/// L-BFGS on each member's restarts, to convergence or `plan.iterations` iterations, over the
/// kernel and (where `plan.learn_inducing`) the inducing inputs, which start where
/// `plan.inducing_init` puts them.
fn fit_lbfgs(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(SparseParams, Tensor)> {
    let (r, n, d) = (plan.restarts, x.size()[1], x.size()[2]);
    let m = (plan.inducing as i64).min(n);
    let (mut starts, z0) = lbfgs_starts(x, seeds, plan)?;
    if plan.learn_inducing {
        append_per_point(&mut starts, &z0)?;
    }
    let objective =
        BoundObjective { x, y, fixed: (!plan.learn_inducing).then_some(&z0), m, d, noise_floor: plan.noise_floor };
    let evaluate = |who: &[usize], points: &[Vec<f64>]| -> Result<Vec<Evaluation>> {
        let members: Vec<i64> = who.iter().map(|k| (k / r) as i64).collect();
        let restarts: Vec<i64> = who.iter().map(|&k| k as i64).collect();
        objective.evaluations(&members, &restarts, points)
    };
    let best = lbfgs_restarts(starts, r, plan, x.device(), evaluate, progress)?;
    let rows: Vec<Vec<f64>> = best.iter().map(|b| b.point.clone()).collect();
    let kernel = GpParams::from_rows(&rows, d, x.device())?;
    let inducing = if plan.learn_inducing {
        inducing_of(&rows, m, d, x.device())?
    } else {
        let index: Vec<i64> = best.iter().map(|b| b.index as i64).collect();
        z0.f_index_select(0, &Tensor::from_slice(&index).f_to_device(x.device())?)?
    };
    let values: Vec<f64> = best.iter().map(|b| b.value).collect();
    Ok((SparseParams { kernel, inducing }, Tensor::from_slice(&values).f_to_device(x.device())?))
}

/// Where L-BFGS starts each member-restart (member i, restart j at i * R + j): the kernel row
/// of `restart_starts` and the inducing inputs `plan.inducing_init` puts there, [S * R, M, D].
pub fn lbfgs_starts(x: &Tensor, seeds: &[u64], plan: &GpPlan) -> Result<(Vec<Vec<f64>>, Tensor)> {
    let (r, n, d) = (plan.restarts, x.size()[1], x.size()[2]);
    let m = (plan.inducing as i64).min(n);
    let mut picks = Vec::new();
    let starts = restart_starts(seeds, r as i64, d, |_, rng| picks.push(first_pick(plan.inducing_init, rng, n, m)));
    let mut z0 = Vec::with_capacity(starts.len());
    for (k, (start, pick)) in starts.iter().zip(picks).enumerate() {
        let member = x.f_get((k / r) as i64)?;
        let rows = match pick {
            FirstPick::Rows(rows) => rows,
            FirstPick::Pivot(first) => greedy_variance(&member, start, m, first)?,
        };
        z0.push(member.f_index_select(0, &Tensor::from_slice(&rows).f_to_device(x.device())?)?);
    }
    Ok((starts, Tensor::f_stack(&z0, 0)?))
}

/// The M x D inducing inputs that follow the kernel row in each host point: [points, M, D].
fn inducing_of(points: &[Vec<f64>], m: i64, d: i64, device: tch::Device) -> Result<Tensor> {
    let flat: Vec<f64> = points.iter().flat_map(|p| p[(d + 2) as usize..].iter().copied()).collect();
    Ok(Tensor::from_slice(&flat).f_view([points.len() as i64, m, d])?.f_to_device(device)?)
}

/// Appends to each host point its member's slice of `per_point` ([points, ...]).
fn append_per_point(points: &mut [Vec<f64>], per_point: &Tensor) -> Result<()> {
    let flat = f64_values(per_point)?;
    let per = flat.len() / points.len().max(1);
    points.iter_mut().zip(flat.chunks(per.max(1))).for_each(|(point, values)| point.extend_from_slice(values));
    Ok(())
}

/// What a member-restart's draws decide about its inducing inputs: M training rows at random,
/// or the first pivot of the greedy selection.
enum FirstPick {
    Rows(Vec<i64>),
    Pivot(i64),
}

fn first_pick(init: InducingInit, rng: &mut MemberRng, n: i64, m: i64) -> FirstPick {
    match init {
        InducingInit::Random => FirstPick::Rows(random_rows(rng, n, m)),
        InducingInit::GreedyVariance => FirstPick::Pivot(below(rng, n as usize) as i64),
    }
}

/// M distinct rows of n, drawn on a member-restart's stream.
fn random_rows(rng: &mut MemberRng, n: i64, m: i64) -> Vec<i64> {
    let mut order: Vec<i64> = (0..n).collect();
    shuffle(rng, &mut order);
    order.truncate(m as usize);
    order
}

/// M rows of `x` [n, D] chosen by greedy variance (Burt, Rasmussen & van der Wilk 2020): a
/// pivoted Cholesky of the kernel matrix at `start`'s kernel, each pivot the row whose
/// variance the rows chosen so far explain least, beginning at `first`.
pub fn greedy_variance(x: &Tensor, start: &[f64], m: i64, first: i64) -> Result<Vec<i64>> {
    let _guard = tch::no_grad_guard();
    let (n, d) = (x.size()[0], x.size()[1]);
    let kernel = GpParams::from_rows(&[start.to_vec()], d, x.device())?;
    let rows = x.f_unsqueeze(0)?;
    let mut residual = Tensor::f_full([n], (2.0 * start[d as usize]).exp(), (Kind::Double, x.device()))?;
    let factor = Tensor::f_zeros([m, n], (Kind::Double, x.device()))?;
    let mut chosen = vec![first];
    for j in 0..m {
        let pivot = chosen[j as usize];
        let column = se_ard(&rows.f_narrow(1, pivot, 1)?, &rows, &kernel)?.f_view([n])?;
        let explained = if j == 0 {
            column.f_zeros_like()?
        } else {
            let earlier = factor.f_narrow(0, 0, j)?;
            earlier.f_transpose(0, 1)?.f_mv(&earlier.f_select(1, pivot)?)?
        };
        let scale = f64::try_from(residual.f_get(pivot)?)?.max(f64::MIN_POSITIVE).sqrt();
        let next = column.f_sub(&explained)?.f_div_scalar(scale)?;
        factor.f_get(j)?.f_copy_(&next)?;
        // A chosen row is never chosen again: its residual stays -inf through the subtractions.
        residual = residual.f_sub(&next.f_square()?)?;
        residual =
            residual.f_index_fill(0, &Tensor::from_slice(&[pivot]).f_to_device(x.device())?, f64::NEG_INFINITY)?;
        if j + 1 < m {
            chosen.push(i64::try_from(residual.f_argmax(0, false)?)?);
        }
    }
    Ok(chosen)
}

/// The negative bound of members of x and y at host points: each point is the kernel row
/// followed, when `fixed` is `None`, by the M x D inducing inputs, else they are `fixed`'s
/// rows of the member-restart.
struct BoundObjective<'a> {
    x: &'a Tensor,
    y: &'a Tensor,
    fixed: Option<&'a Tensor>,
    m: i64,
    d: i64,
    noise_floor: f64,
}

impl BoundObjective<'_> {
    /// The negative bound and its gradient at `points` for the member-restarts `restarts` (of
    /// the members `members`), as `evaluate_or_back_away` asks for them.
    fn evaluations(&self, members: &[i64], restarts: &[i64], points: &[Vec<f64>]) -> Result<Vec<Evaluation>> {
        evaluate_or_back_away(members.len(), points[0].len(), |range| {
            self.evaluate_together(&members[range.clone()], &restarts[range.clone()], &points[range])
        })
    }

    /// `evaluations` of every point in one batch.
    fn evaluate_together(&self, members: &[i64], restarts: &[i64], points: &[Vec<f64>]) -> Result<Vec<Evaluation>> {
        let BoundObjective { x, y, fixed, m, d, noise_floor } = *self;
        let device = x.device();
        let index = Tensor::from_slice(members).f_to_device(device)?;
        let (xb, yb) = (x.f_index_select(0, &index)?, y.f_index_select(0, &index)?);
        let kernel = GpParams::from_rows(points, d, device)?;
        let inducing = match fixed {
            Some(z) => z.f_index_select(0, &Tensor::from_slice(restarts).f_to_device(device)?)?,
            None => inducing_of(points, m, d, device)?,
        };
        let p = SparseParams { kernel, inducing };
        let (value, g) = bound_and_gradient(&xb, &yb, &p, noise_floor, rows_per_chunk(&xb, &p))?;
        let mut rows = g.kernel.to_rows()?;
        if fixed.is_none() {
            append_per_point(&mut rows, &g.inducing)?;
        }
        let values = f64_values(&value)?;
        Ok(rows.into_iter().zip(values).map(|(gradient, value)| Evaluation { value, gradient }).collect())
    }
}
