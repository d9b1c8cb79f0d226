//! The bound's gradient in two passes over the data, in closed form (the module note above),
//! and the choice between it and autograd through `negative_bound` by memory budget.

use tch::{Kind, Tensor};

use super::super::kernel::{se_ard, GpParams};
use super::bound::{bound_of, chunks, data_statistics, factors, inducing_factor, per_noise, DataStatistics, Gram};
use super::params::SparseParams;
use crate::error::Result;

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
        psi: per_noise(&g_psi, s)?,
        r: per_noise(&beta, s)?.f_neg()?,
        log_signal_std: signal_var.f_div(s)?.f_mul_scalar(n)?,
        // s = exp(2 log s_n) + floor
        log_noise_std: d_s.f_mul(&p.kernel.log_noise_std.f_mul_scalar(2.0)?.f_exp()?)?.f_mul_scalar(2.0)?,
    })
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
    let (kmm, l) = inducing_factor(p)?;
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
