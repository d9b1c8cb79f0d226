//! What the bound needs from the data, chunk by chunk (Psi, r, y^T y), the bound itself from
//! B's Cholesky factor, and the predictive that shares the factor (the module note above).

use tch::{Kind, Tensor};

use super::super::kernel::{cholesky_with_jitter, noise_variance, predictive_noise, se_ard};
use super::params::SparseParams;
use crate::error::Result;

/// Largest kernel block (elements) one chunk of rows may create: 2^24 doubles, 128 MiB.
const CHUNK_ELEMENTS: i64 = 1 << 24;

/// What the bound needs from the data.
/// # Shapes
/// psi: [B, M, M], r: [B, M, 1], yy: [B]
pub(super) struct DataStatistics {
    pub(super) psi: Tensor,
    pub(super) r: Tensor,
    pub(super) yy: Tensor,
    pub(super) n: i64,
}

/// Rows per chunk so that one [B, M, rows] kernel block stays within `CHUNK_ELEMENTS`.
fn rows_per_chunk(x: &Tensor, p: &SparseParams) -> i64 {
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
pub(super) fn chunks(n: i64, rows: i64) -> impl Iterator<Item = (i64, i64)> {
    (0..n).step_by(rows as usize).map(move |start| (start, rows.min(n - start)))
}

/// K_mm and its Cholesky factor L: ([B, M, M], [B, M, M]).
pub(super) fn inducing_factor(p: &SparseParams) -> Result<(Tensor, Tensor)> {
    let kmm = se_ard(&p.inducing, &p.inducing, &p.kernel)?;
    let l = cholesky_with_jitter(&kmm)?;
    Ok((kmm, l))
}

/// A = L^-1 K_mn for the rows `start .. start + len`: [B, M, len].
fn whitened_block(x: &Tensor, p: &SparseParams, l: &Tensor, start: i64, len: i64) -> Result<Tensor> {
    let kmn = se_ard(&p.inducing, &x.f_narrow(1, start, len)?, &p.kernel)?;
    Ok(l.f_linalg_solve_triangular(&kmn, false, true, false)?)
}

/// How `data_statistics` sums Psi = A A^T over the chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gram {
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
pub(super) fn data_statistics(
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
pub(super) struct Factors {
    pub(super) lb: Tensor,
    pub(super) c: Tensor,
    pub(super) noise_var: Tensor,
}

pub(super) fn factors(stats: &DataStatistics, p: &SparseParams, noise_floor: f64) -> Result<Factors> {
    let m = stats.psi.size()[1];
    let eye = Tensor::f_eye(m, (Kind::Double, stats.psi.device()))?.f_unsqueeze(0)?;
    let noise_var = noise_variance(&p.kernel, noise_floor)?; // [B]
    let lb = cholesky_with_jitter(&per_noise(&stats.psi, &noise_var)?.f_add(&eye)?)?;
    let c = per_noise(&lb.f_linalg_solve_triangular(&stats.r, false, true, false)?, &noise_var)?;
    Ok(Factors { lb, c, noise_var })
}

/// Each member's matrix [B, ...] divided by its noise variance [B].
pub(super) fn per_noise(t: &Tensor, noise_var: &Tensor) -> Result<Tensor> {
    Ok(t.f_div(&noise_var.f_view([-1, 1, 1])?)?)
}

/// Negative collapsed bound per member [B] from the data statistics.
fn bound_from(stats: &DataStatistics, p: &SparseParams, noise_floor: f64) -> Result<Tensor> {
    bound_of(stats, p, &factors(stats, p, noise_floor)?)
}

/// `bound_from` with the factors at hand.
pub(super) fn bound_of(stats: &DataStatistics, p: &SparseParams, f: &Factors) -> Result<Tensor> {
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

/// Negative collapsed bound per member: [B]. Autograd runs through it (and through every
/// chunk) when the parameters require gradients: the fit's gradient where
/// `BoundGradient::for_program` allows, else `bound_and_gradient`'s passes.
/// # Shapes
/// x: [B, n, D], y: [B, n]
pub fn negative_bound(x: &Tensor, y: &Tensor, p: &SparseParams, noise_floor: f64) -> Result<Tensor> {
    let (_, l) = inducing_factor(p)?;
    bound_from(&data_statistics(x, y, p, &l, rows_per_chunk(x, p), Gram::Full)?, p, noise_floor)
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
    let (_, l) = inducing_factor(p)?;
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
