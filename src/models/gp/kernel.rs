//! The squared-exponential ARD kernel shared by the exact and sparse GP, its hyper-parameters,
//! and a Cholesky factorization that retries with jitter and fails with the fix.

use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::models::nn::host::f64_values;

/// Largest jitter added to a kernel's diagonal before giving up on its Cholesky factor.
const MAX_JITTER: f64 = 1e-2;

/// Kernel hyper-parameters of B members, as logarithms.
/// # Shapes
/// log_lengthscales: [B, D], log_signal_std: [B], log_noise_std: [B]
pub struct GpParams {
    pub log_lengthscales: Tensor,
    pub log_signal_std: Tensor,
    pub log_noise_std: Tensor,
}

impl GpParams {
    /// Parameters of B members from host rows [log l_1..l_D, log s_f, log s_n] (extra
    /// values after them are left to the caller: the sparse GP's inducing inputs).
    pub fn from_rows(rows: &[Vec<f64>], d: i64, device: Device) -> Result<GpParams> {
        let d = d as usize;
        // `shape` is [B, D] for the length-scales, even with one input column, and [B] for
        // the two scalars.
        let column = |take: &dyn Fn(&Vec<f64>) -> &[f64], shape: &[i64]| -> Result<Tensor> {
            let flat: Vec<f64> = rows.iter().flat_map(|r| take(r).iter().copied()).collect();
            Ok(Tensor::from_slice(&flat).f_view(shape)?.f_to_device(device)?)
        };
        let b = rows.len() as i64;
        Ok(GpParams {
            log_lengthscales: column(&|r| &r[..d], &[b, d as i64])?,
            log_signal_std: column(&|r| &r[d..d + 1], &[b])?,
            log_noise_std: column(&|r| &r[d + 1..d + 2], &[b])?,
        })
    }

    /// Per member, the host row `from_rows` reads.
    pub fn to_rows(&self) -> Result<Vec<Vec<f64>>> {
        let ls = f64_values(&self.log_lengthscales)?;
        let (sf, sn) = (f64_values(&self.log_signal_std)?, f64_values(&self.log_noise_std)?);
        let d = ls.len() / sf.len().max(1);
        Ok((0..sf.len())
            .map(|i| {
                let mut row = ls[i * d..(i + 1) * d].to_vec();
                row.extend([sf[i], sn[i]]);
                row
            })
            .collect())
    }

    /// The members at `index`, detached from the optimisation.
    pub fn pick(&self, index: &Tensor) -> Result<GpParams> {
        let take = |t: &Tensor| -> Result<Tensor> { Ok(tch::no_grad(|| t.f_index_select(0, index))?.detach()) };
        Ok(GpParams {
            log_lengthscales: take(&self.log_lengthscales)?,
            log_signal_std: take(&self.log_signal_std)?,
            log_noise_std: take(&self.log_noise_std)?,
        })
    }
}

/// k(a, b) = s_f^2 exp(-1/2 sum_d (a_d - b_d)^2 / l_d^2).
///
/// Written as exp(log s_f^2 - |a'|^2 / 2 - |b'|^2 / 2 + a' . b') with a' = a / l, b' = b / l:
/// the n x m block is touched by one broadcast add, the product accumulated onto it, and an
/// in-place exp. The kernel blocks of the sparse GP are its largest tensors, and each extra
/// elementwise pass over them (scale, clamp, multiply by s_f^2) cost as much as the product.
/// # Shapes
/// a: [B, n, D], b: [B, m, D] -> [B, n, m]
pub fn se_ard(a: &Tensor, b: &Tensor, p: &GpParams) -> Result<Tensor> {
    let ls = p.log_lengthscales.f_exp()?.f_unsqueeze(1)?;
    let (a, b) = (a.f_div(&ls)?, b.f_div(&ls)?);
    let half_sq = |t: &Tensor| t.f_square()?.f_sum_dim_intlist(-1i64, true, Kind::Double)?.f_mul_scalar(-0.5);
    let log_sf2 = p.log_signal_std.f_mul_scalar(2.0)?.f_view([-1, 1, 1])?;
    let rows = half_sq(&a)?.f_add(&log_sf2)?; // [B, n, 1]
    let cols = half_sq(&b)?.f_transpose(1, 2)?; // [B, 1, m]
    Ok(rows.f_add(&cols)?.f_baddbmm(&a, &b.f_transpose(1, 2)?, 1.0, 1.0)?.f_exp_()?)
}

/// Cholesky factor of a batch of SPD matrices, adding diagonal jitter (1e-8, x10 each try)
/// where a factorization fails; an error that names the fix once `MAX_JITTER` is not enough.
pub fn cholesky_with_jitter(k: &Tensor) -> Result<Tensor> {
    let n = k.size()[1];
    let mut jitter = 0.0;
    loop {
        // The first try factors k itself: an exact GP's n x n identity, scaled and added, cost
        // three passes over the largest matrix of the fit for nothing.
        let (l, info) = if jitter == 0.0 {
            k.f_linalg_cholesky_ex(false, false)?
        } else {
            let eye = Tensor::f_eye(n, (Kind::Double, k.device()))?;
            k.f_add(&eye.f_mul_scalar(jitter)?)?.f_linalg_cholesky_ex(false, false)?
        };
        let failed = i64::try_from(info.f_gt(0)?.f_sum(Kind::Int64)?)?;
        if failed == 0 {
            if jitter > 0.0 {
                tracing::debug!("cholesky needed jitter {jitter:e}");
            }
            return Ok(l);
        }
        jitter = if jitter == 0.0 { 1e-8 } else { jitter * 10.0 };
        if jitter > MAX_JITTER {
            return Err(Error::NotPositiveDefinite { members: failed, max_jitter: MAX_JITTER });
        }
    }
}

pub fn noise_variance(p: &GpParams, noise_floor: f64) -> Result<Tensor> {
    Ok(p.log_noise_std.f_mul_scalar(2.0)?.f_exp()?.f_add_scalar(noise_floor)?)
}

/// The noise variance a prediction adds to the latent variance (doubled under the check's
/// `GpNoiseDoubled` mutation).
pub fn predictive_noise(noise_variance: Tensor) -> Result<Tensor> {
    if crate::mutation::active(crate::mutation::Mutation::GpNoiseDoubled) {
        return Ok(noise_variance.f_mul_scalar(2.0)?);
    }
    Ok(noise_variance)
}
