//! The concrete relaxation of a dropout mask and the regularizer of the rates, per layer:
//!
//! drop = sigmoid((log p - log(1 - p) + log u - log(1 - u)) / t), u ~ U(0, 1), and the layer's
//! input is multiplied by (1 - drop) / (1 - p); as t -> 0 the mask is Bernoulli(1 - p) / (1 - p).
//! The regularizer (the KL of the approximate posterior, per training row) is
//! l^2 / (2 N) sum(W^2) / (1 - p) - K / N H(p), with K the layer's input width and H the
//! Bernoulli entropy; with the Gaussian NLL of a learned noise this is the objective of the
//! authors' code (their l^2 / N and 2 / N for twice the NLL).

use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::rng::{uniform, MemberRng};

/// Inside every logarithm, as the authors' code.
const EPS: f64 = 1e-7;

/// Uniform draws [streams, rows, width], each stream's from its own generator.
pub fn uniforms(rngs: &mut [MemberRng], rows: usize, width: usize, device: Device) -> Result<Tensor> {
    let mut values = Vec::with_capacity(rngs.len() * rows * width);
    for rng in rngs.iter_mut() {
        values.extend((0..rows * width).map(|_| uniform(rng) as f32));
    }
    Ok(Tensor::from_slice(&values).f_view([rngs.len() as i64, rows as i64, width as i64])?.f_to_device(device)?)
}

/// The relaxed keep mask (1 - drop) / (1 - p) for draws `u`.
///
/// # Shapes
/// p: [K, 1, 1]; u: [K, b, W]; returns [K, b, W]
pub fn relaxed_mask(p: &Tensor, u: &Tensor, temperature: f64) -> Result<Tensor> {
    let logit_p = p.f_add_scalar(EPS)?.f_log()?.f_sub(&p.f_neg()?.f_add_scalar(1.0 + EPS)?.f_log()?)?;
    let logit_u = u.f_add_scalar(EPS)?.f_log()?.f_sub(&u.f_neg()?.f_add_scalar(1.0 + EPS)?.f_log()?)?;
    let drop = logit_u.f_add(&logit_p)?.f_div_scalar(temperature)?.f_sigmoid()?;
    Ok(drop.f_neg()?.f_add_scalar(1.0)?.f_div(&p.f_neg()?.f_add_scalar(1.0)?)?)
}

/// One layer's regularizer per member.
///
/// # Shapes
/// p: [K]; weights: [K, in, out]; returns [K]
pub fn regularizer(p: &Tensor, weights: &Tensor, length_scale: f64, rows: usize) -> Result<Tensor> {
    let n = rows as f64;
    let inputs = weights.size()[1] as f64;
    let square = weights.f_square()?.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float)?;
    let weight_term =
        square.f_div(&p.f_neg()?.f_add_scalar(1.0)?)?.f_mul_scalar(length_scale * length_scale / (2.0 * n))?;
    let q = p.f_neg()?.f_add_scalar(1.0)?;
    let negative_entropy = p.f_mul(&p.f_log()?)?.f_add(&q.f_mul(&q.f_log()?)?)?;
    Ok(weight_term.f_add(&negative_entropy.f_mul_scalar(inputs / n)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;

    #[test]
    fn the_mean_mask_tends_to_one_and_its_zeros_to_p_as_the_temperature_falls() {
        let p = Tensor::from_slice(&[0.1f32, 0.4]).view([2, 1, 1]);
        let u = uniforms(&mut [member_rng(1), member_rng(2)], 2000, 25, Device::Cpu).unwrap();
        for (t, tolerance) in [(0.1, 0.03), (0.01, 0.02), (1e-4, 0.02)] {
            let mask = relaxed_mask(&p, &u, t).unwrap();
            for (k, rate) in [0.1, 0.4].into_iter().enumerate() {
                let m = mask.get(k as i64);
                // E[(1 - drop) / (1 - p)] = 1 for the hard mask; the relaxed one is close.
                let mean = f64::try_from(m.mean(Kind::Float)).unwrap();
                assert!((mean - 1.0).abs() < tolerance, "t={t} p={rate}: mean mask {mean}");
                if t < 0.01 {
                    // Nearly hard: the share of (almost) dropped units is p.
                    let zeros = f64::try_from(m.lt(1e-3).to_kind(Kind::Float).mean(Kind::Float)).unwrap();
                    assert!((zeros - rate).abs() < 0.01, "t={t}: dropped share {zeros} vs p = {rate}");
                }
            }
        }
    }

    #[test]
    fn regularizer_matches_a_hand_computation() {
        // One member, W = [[1, 2], [0, -1]] (2 inputs), p = 0.2, l = 0.5, N = 10:
        // 0.25 / 20 * 6 / 0.8 + 2 / 10 * (0.2 ln 0.2 + 0.8 ln 0.8).
        let w = Tensor::from_slice(&[1.0f32, 2.0, 0.0, -1.0]).view([1, 2, 2]);
        let r = regularizer(&Tensor::from_slice(&[0.2f32]), &w, 0.5, 10).unwrap();
        let expected = 0.25 / 20.0 * 6.0 / 0.8 + 0.2 * (0.2f64 * 0.2f64.ln() + 0.8 * 0.8f64.ln());
        assert!((f64::try_from(r.get(0)).unwrap() - expected).abs() < 1e-6, "{r} vs {expected}");
    }
}
