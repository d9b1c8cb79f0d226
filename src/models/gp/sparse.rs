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

/// Elements of one member's kernel block per chunk of `bound_and_gradient`'s passes (4 MiB):
/// small enough that a chunk's block is still in cache from one product or elementwise step
/// to the next, large enough that the products run at full speed (docs/performance.md).
const PASS_MEMBER_ELEMENTS: i64 = 1 << 19;

/// Rows per chunk of `bound_and_gradient`'s passes: `PASS_MEMBER_ELEMENTS` per member's
/// block, within `rows_per_chunk`'s bound.
pub fn rows_per_pass(x: &Tensor, p: &SparseParams) -> i64 {
    (PASS_MEMBER_ELEMENTS / p.inducing.size()[1]).clamp(1, rows_per_chunk(x, p))
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

/// How `data_statistics` sums Psi = A A^T over the chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gram {
    /// One product per chunk, both triangles: what autograd can run through.
    Full,
    /// Only the lower block triangle, in `GRAM_BLOCKS` row blocks (three fifths of the
    /// flops), mirrored once at the end; no graph.
    LowerBlocks,
}

/// Row blocks of the lower-triangle Gram matrix: fewer blocks waste the upper triangle's
/// flops, more make products too thin to run at full speed (docs/performance.md).
const GRAM_BLOCKS: i64 = 5;

/// Psi, r and y^T y, summed chunk by chunk; differentiable when the caller records a graph
/// and sums the `Gram::Full` way.
fn data_statistics(
    x: &Tensor,
    y: &Tensor,
    p: &SparseParams,
    l: &Tensor,
    rows: i64,
    gram: Gram,
) -> Result<DataStatistics> {
    let (b, m, n) = (x.size()[0], l.size()[1], x.size()[1]);
    let mut psi = Tensor::f_zeros([b, m, m], (Kind::Double, x.device()))?;
    let mut r = Tensor::f_zeros([b, m, 1], (Kind::Double, x.device()))?;
    for (start, len) in chunks(n, rows) {
        let a = whitened_block(x, p, l, start, len)?;
        let yc = y.f_narrow(1, start, len)?.f_unsqueeze(-1)?;
        match gram {
            Gram::Full => psi = psi.f_add(&a.f_bmm(&a.f_transpose(1, 2)?)?)?,
            Gram::LowerBlocks => add_lower_block_gram(&psi, &a)?,
        }
        r = r.f_add(&a.f_bmm(&yc)?)?;
    }
    if gram == Gram::LowerBlocks {
        psi = psi.f_tril(0)?.f_add(&psi.f_tril(-1)?.f_transpose(1, 2)?)?;
    }
    let yy = y.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double)?;
    Ok(DataStatistics { psi, r, yy, n })
}

/// Adds A A^T's lower block triangle to `psi` in place: row block i of A against A's rows up
/// to the end of block i. The strict upper triangle of the diagonal blocks is filled too and
/// discarded by the caller.
/// # Shapes
/// psi: [B, M, M], a: [B, M, len]
fn add_lower_block_gram(psi: &Tensor, a: &Tensor) -> Result<()> {
    let m = a.size()[1];
    let width = (m + GRAM_BLOCKS - 1) / GRAM_BLOCKS;
    for start in (0..m).step_by(width as usize) {
        let end = (start + width).min(m);
        let rows = a.f_narrow(1, start, end - start)?;
        let earlier = a.f_narrow(1, 0, end)?.f_transpose(1, 2)?;
        let _ = psi.f_narrow(1, start, end - start)?.f_narrow(2, 0, end)?.f_baddbmm_(&rows, &earlier)?;
    }
    Ok(())
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
    bound_of(stats, p, &factors(stats, p, noise_floor)?)
}

/// `bound_from` with the factors at hand.
fn bound_of(stats: &DataStatistics, p: &SparseParams, f: &Factors) -> Result<Tensor> {
    let n = stats.n as f64;
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

/// What the bound's gradient is before the chain reaches the kernel matrices.
/// # Shapes
/// value, log_signal_std, log_noise_std: [B]; psi: [B, M, M]; r: [B, M, 1]
struct StatisticsGradient {
    value: Tensor,
    /// dF/dPsi plus its transpose.
    psi: Tensor,
    r: Tensor,
    /// Through s_f^2 in the bound's trace term only; its share through the kernels comes later.
    log_signal_std: Tensor,
    log_noise_std: Tensor,
}

/// The negative bound F and its gradient with respect to Psi, r and the two scales, in closed
/// form. With s = s_n^2 (plus the floor), B = I + Psi / s, beta = B^-1 r / s, c as in the
/// module note:
/// dF/dPsi = (B^-1 + beta beta^T - I) / (2 s), dF/dr = -beta / s, dF/d log s_f = n s_f^2 / s,
/// dF/ds = (tr B^-1 - M + n - y^T y / s + beta^T beta + c^T c - n s_f^2 / s + tr Psi / s) / (2 s).
/// One inverse from B's factor, against autograd's chain through the Cholesky factorization.
fn bound_and_statistics_gradient(
    stats: &DataStatistics,
    p: &SparseParams,
    noise_floor: f64,
) -> Result<StatisticsGradient> {
    let (n, m) = (stats.n as f64, stats.psi.size()[1]);
    let f = factors(stats, p, noise_floor)?;
    let value = bound_of(stats, p, &f)?;
    let s = &f.noise_var;
    let per_noise = |t: &Tensor| -> Result<Tensor> { Ok(t.f_div(&s.f_view([-1, 1, 1])?)?) };
    let b_inv = f.lb.f_cholesky_inverse(false)?;
    let beta = f.lb.f_transpose(1, 2)?.f_linalg_solve_triangular(&f.c, true, true, false)?;
    let g_psi = b_inv.f_baddbmm(&beta, &beta.f_transpose(1, 2)?, 1.0, 1.0)?;
    let _ = g_psi.f_diagonal(0, 1, 2)?.f_sub_scalar_(1.0)?;
    let sum = |t: &Tensor, dims: &[i64]| t.f_sum_dim_intlist(dims, false, Kind::Double);
    let trace = |t: &Tensor| sum(&t.f_diagonal(0, 1, 2)?, &[1]);
    let signal_var = p.kernel.log_signal_std.f_mul_scalar(2.0)?.f_exp()?;
    let d_s = trace(&b_inv)?
        .f_sub_scalar(m as f64 - n)?
        .f_add(&sum(&beta.f_square()?, &[1, 2])?)?
        .f_add(&sum(&f.c.f_square()?, &[1, 2])?)?
        .f_add(&trace(&stats.psi)?.f_sub(&stats.yy)?.f_sub(&signal_var.f_mul_scalar(n)?)?.f_div(s)?)?
        .f_div(s)?
        .f_mul_scalar(0.5)?;
    Ok(StatisticsGradient {
        value,
        psi: per_noise(&g_psi)?,
        r: per_noise(&beta)?.f_neg()?,
        log_signal_std: signal_var.f_div(s)?.f_mul_scalar(n)?,
        // s = exp(2 log s_n) + floor
        log_noise_std: d_s.f_mul(&p.kernel.log_noise_std.f_mul_scalar(2.0)?.f_exp()?)?.f_mul_scalar(2.0)?,
    })
}

/// Negative collapsed bound per member: [B]. Autograd runs through it (and through every
/// chunk) when the parameters require gradients: the fit's gradient where
/// `BoundGradient::for_program` allows, else `bound_and_gradient`'s passes.
/// # Shapes
/// x: [B, n, D], y: [B, n]
pub fn negative_bound(x: &Tensor, y: &Tensor, p: &SparseParams, noise_floor: f64) -> Result<Tensor> {
    let l = inducing_factor(p)?;
    bound_from(&data_statistics(x, y, p, &l, rows_per_chunk(x, p), Gram::Full)?, p, noise_floor)
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
    let _guard = tch::no_grad_guard();
    let kmm = se_ard(&p.inducing, &p.inducing, &p.kernel)?;
    let l = cholesky_with_jitter(&kmm)?;
    let stats = data_statistics(x, y, p, &l, rows, Gram::LowerBlocks)?;
    let g = bound_and_statistics_gradient(&stats, p, noise_floor)?;
    let pulled = pull_back_whitening(&l, &g.psi, &g.r, &stats)?;
    let through_data = kernel_pullback(x, y, p, &pulled, rows)?;
    let through_kmm = inducing_pullback(&kmm, p, &pulled.d_kmm)?;
    let gradient = SparseParams {
        kernel: GpParams {
            log_lengthscales: through_data.log_lengthscales.f_add(&through_kmm.log_lengthscales)?,
            log_signal_std: g.log_signal_std.f_add(&through_data.log_signal_std)?.f_add(&through_kmm.log_signal_std)?,
            log_noise_std: g.log_noise_std,
        },
        inducing: through_data.inducing.f_add(&through_kmm.inducing)?,
    };
    Ok((g.value, gradient))
}

/// dF/dK_mn = R K_mn + rho y^T pushed through the SE-ARD kernel to its log length-scales,
/// log signal std and the inducing inputs, by hand (autograd's chain through the kernel took
/// about ten passes over each M x n block, this takes two), chunk by chunk: W = K_mn o dF/dK_mn
/// enters only through W [X, X o X, 1] (`KernelGradient::from_sums`).
fn kernel_pullback(
    x: &Tensor,
    y: &Tensor,
    p: &SparseParams,
    pulled: &WhiteningPullback,
    rows: i64,
) -> Result<KernelGradient> {
    let (b, m, d) = (x.size()[0], p.inducing.size()[1], x.size()[2]);
    let mut sums = Tensor::f_zeros([b, m, 2 * d + 1], (Kind::Double, x.device()))?;
    for (start, len) in chunks(x.size()[1], rows) {
        let xc = x.f_narrow(1, start, len)?;
        let kmn = se_ard(&p.inducing, &xc, &p.kernel)?;
        let yc = y.f_narrow(1, start, len)?.f_unsqueeze(1)?; // [B, 1, len]
        let w = pulled.rho.f_bmm(&yc)?.f_baddbmm(&pulled.r_mat, &kmn, 1.0, 1.0)?.f_mul_(&kmn)?;
        sums = sums.f_baddbmm(&w, &moment_features(&xc)?, 1.0, 1.0)?;
    }
    KernelGradient::from_sums(&sums, p, 1.0)
}

/// dF/dK_mm (symmetric) pushed through the kernel of the inducing inputs with themselves, in
/// the closed form of `kernel_pullback`, where Z is both arguments: its gradient counts twice.
/// # Shapes
/// kmm, d_kmm: [B, M, M]
fn inducing_pullback(kmm: &Tensor, p: &SparseParams, d_kmm: &Tensor) -> Result<KernelGradient> {
    let w = kmm.f_mul(d_kmm)?;
    KernelGradient::from_sums(&w.f_bmm(&moment_features(&p.inducing)?)?, p, 2.0)
}

/// [X, X o X, 1] of rows x: [B, n, D] -> [B, n, 2D + 1].
fn moment_features(x: &Tensor) -> Result<Tensor> {
    let ones = Tensor::f_ones([x.size()[0], x.size()[1], 1], (Kind::Double, x.device()))?;
    Ok(Tensor::f_cat(&[x, &x.f_square()?, &ones], 2)?)
}

/// The part of the bound's gradient that comes through one kernel matrix k(Z, X).
/// # Shapes
/// log_lengthscales: [B, D], log_signal_std: [B], inducing: [B, M, D]
struct KernelGradient {
    log_lengthscales: Tensor,
    log_signal_std: Tensor,
    inducing: Tensor,
}

impl KernelGradient {
    /// From S = W [X, X o X, 1] with W = k(Z, X) o dF/dk(Z, X): since
    /// dk/d log l_d = k (z_d - x_d)^2 / l_d^2, dk/dz_d = -k (z_d - x_d) / l_d^2 and
    /// dk/d log s_f = 2 k, the sums over X are W 1, W X and W (X o X). `inducing_sides` is 2
    /// where X is Z itself (and W symmetric).
    /// # Shapes
    /// sums: [B, M, 2D + 1]
    fn from_sums(sums: &Tensor, p: &SparseParams, inducing_sides: f64) -> Result<KernelGradient> {
        let d = p.inducing.size()[2];
        let (wx, wxx, w1) = (sums.f_narrow(2, 0, d)?, sums.f_narrow(2, d, d)?, sums.f_narrow(2, 2 * d, 1)?);
        let z = &p.inducing;
        let inverse_sq = p.kernel.log_lengthscales.f_mul_scalar(-2.0)?.f_exp()?.f_unsqueeze(1)?; // [B, 1, D]
        let spread = z.f_square()?.f_mul(&w1)?.f_sub(&z.f_mul(&wx)?.f_mul_scalar(2.0)?)?.f_add(&wxx)?;
        Ok(KernelGradient {
            log_lengthscales: spread.f_mul(&inverse_sq)?.f_sum_dim_intlist(1i64, false, Kind::Double)?,
            log_signal_std: w1.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Double)?.f_mul_scalar(2.0)?,
            inducing: wx.f_sub(&z.f_mul(&w1)?)?.f_mul(&inverse_sq)?.f_mul_scalar(inducing_sides)?,
        })
    }
}

/// What the bound's gradient with respect to Psi and r becomes one step back, through
/// A = L^-1 K_mn: dF/dK_mn = R K_mn + rho y^T, and dF/dK_mm in `d_kmm`.
/// # Shapes
/// r_mat: [B, M, M], rho: [B, M, 1], d_kmm: [B, M, M]
struct WhiteningPullback {
    r_mat: Tensor,
    rho: Tensor,
    d_kmm: Tensor,
}

/// With G = dF/dPsi + its transpose and g = dF/dr, dF/dA = G A + g y^T, so
/// dF/dK_mn = L^-T (G A + g y^T) = (L^-T G L^-1) K_mn + (L^-T g) y^T. Through L alone,
/// dF = tr(X L^-1 dL) with X = -(Psi G + r g^T), symmetric because the bound depends on K_mm,
/// not on which factor of it; dL = L Phi(L^-1 dK_mm L^-T) (Phi: the lower triangle, half
/// the diagonal) then gives dF/dK_mm = 1/2 L^-T X L^-1, here from X's symmetric part. All
/// M x M: the data are touched once more, by one matrix product per chunk.
fn pull_back_whitening(l: &Tensor, g: &Tensor, g_r: &Tensor, stats: &DataStatistics) -> Result<WhiteningPullback> {
    let lt = l.f_transpose(1, 2)?;
    // L^-T B L^-1, by a solve from the left and one from the right.
    let sandwich = |b: &Tensor| -> Result<Tensor> {
        let left = lt.f_linalg_solve_triangular(b, true, true, false)?;
        Ok(l.f_linalg_solve_triangular(&left, false, false, false)?)
    };
    let r_mat = sandwich(g)?;
    let rho = lt.f_linalg_solve_triangular(g_r, true, true, false)?;
    let x = stats.psi.f_bmm(g)?.f_baddbmm(&stats.r, &g_r.f_transpose(1, 2)?, 1.0, 1.0)?;
    let d_kmm = sandwich(&x.f_add(&x.f_transpose(1, 2)?)?)?.f_mul_scalar(-0.25)?;
    Ok(WhiteningPullback { r_mat, rho, d_kmm })
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
    let f = factors(&data_statistics(x, y, p, &l, rows_per_chunk(x, p), Gram::Full)?, p, noise_floor)?;
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
    let chunk = rows_per_pass(&xr, params);
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
        let (value, g) = bound_and_gradient(&xb, &yb, &p, noise_floor, rows_per_pass(&xb, &p))?;
        let mut rows = g.kernel.to_rows()?;
        if fixed.is_none() {
            append_per_point(&mut rows, &g.inducing)?;
        }
        let values = f64_values(&value)?;
        Ok(rows.into_iter().zip(values).map(|(gradient, value)| Evaluation { value, gradient }).collect())
    }
}
