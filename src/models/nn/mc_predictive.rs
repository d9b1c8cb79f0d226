//! MC predictive scoring shared by the sampling models (MC dropout's dense-mask path, the
//! mean-field VI net): T stochastic passes over every member's held-out rows, chunk by chunk so
//! memory does not grow with T, into the predictive mean and the paper's log-likelihood
//! estimator (log of the mean Gaussian likelihood over samples), in original units.

use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::models::family::Program;
use crate::mutation::{active, Mutation};
use crate::rng::{member_rng, MemberRng};

/// Held-out rows for every member, with what is needed to score in original units.
///
/// # Shapes
/// x: [K, n, D] (standardized with each member's training statistics); y: K*n targets in
/// original units, member-major.
pub struct HeldOut {
    pub x: Tensor,
    pub y: Vec<f64>,
    pub n: usize,
    /// Per member: training mean and std of y, to map predictions back; model precision tau.
    pub y_mean: Vec<f64>,
    pub y_std: Vec<f64>,
    pub tau: Vec<f64>,
}

impl HeldOut {
    /// A program's held-out rows with each member's target scaling, and `tau` (one model
    /// precision per member, original units).
    pub fn of_program(program: &Program, tau: Vec<f64>) -> Self {
        HeldOut {
            x: program.held_x.shallow_clone(),
            y: program.held_y.clone(),
            n: program.n_held,
            y_mean: program.members.iter().map(|m| m.y_mean).collect(),
            y_std: program.members.iter().map(|m| m.y_std).collect(),
            tau,
        }
    }

    /// The rows of `members` only, in that order.
    pub fn select_members(&self, members: &[usize]) -> Result<Self> {
        let index: Vec<i64> = members.iter().map(|&k| k as i64).collect();
        let index = Tensor::from_slice(&index).f_to_device(self.x.device())?;
        let pick = |v: &[f64]| -> Vec<f64> { members.iter().map(|&k| v[k]).collect() };
        Ok(HeldOut {
            x: self.x.f_index_select(0, &index)?,
            y: members.iter().flat_map(|&k| self.y[k * self.n..(k + 1) * self.n].iter().copied()).collect(),
            n: self.n,
            y_mean: pick(&self.y_mean),
            y_std: pick(&self.y_std),
            tau: pick(&self.tau),
        })
    }
}

/// What T passes gave, with the targets and scaling to score anything else against.
pub struct Predictive {
    /// MC predictive mean [K, n], original units.
    pub mean: Tensor,
    /// Per-point log predictive likelihood [K, n].
    pub ll: Tensor,
    y: Tensor,
    y_mean: Tensor,
    y_std: Tensor,
}

impl Predictive {
    /// Per member: RMSE of the MC predictive mean.
    pub fn rmse(&self) -> Result<Vec<f64>> {
        per_member_rmse(&self.mean, &self.y)
    }

    /// Per member: RMSE of one deterministic pass, given in standardized units ([K, n, 1]).
    pub fn rmse_of(&self, standardized: &Tensor) -> Result<Vec<f64>> {
        let k = self.y.size()[0];
        let pred = standardized.f_view([k, -1])?.f_to_kind(Kind::Double)?.f_mul(&self.y_std)?.f_add(&self.y_mean)?;
        per_member_rmse(&pred, &self.y)
    }

    /// Per member: the mean test log-likelihood over its points.
    pub fn mean_ll(&self) -> Result<Vec<f64>> {
        per_member_mean(&self.ll)
    }
}

/// MC samples per chunk, so that one chunk's widest activation ([members, samples * rows,
/// widest]) stays within `budget` elements: at least one sample, at most all of them.
pub fn samples_per_chunk(budget: usize, members: usize, rows: usize, widest: usize, samples: usize) -> usize {
    (budget / (members * rows * widest).max(1)).clamp(1, samples)
}

/// Runs `samples` stochastic passes of every member over `held`, `chunk` samples at a time.
/// `forward(x, rngs, t)` gets the rows repeated t times ([K, t*n, D]) and one stream per
/// (member, sample) (member-major), and returns standardized predictions [K, t*n, 1]. Sample s
/// of member k draws from `sample_rng(seeds[k], s)`, so scores do not depend on the chunking.
pub fn mc_predictive(
    held: &HeldOut,
    seeds: &[u64],
    samples: usize,
    chunk: usize,
    device: Device,
    mut forward: impl FnMut(&Tensor, &mut [MemberRng], usize) -> Result<Tensor>,
) -> Result<Predictive> {
    let (k, n) = (seeds.len() as i64, held.n as i64);
    let d = held.x.size()[2];
    let column = |v: &[f64]| -> Result<Tensor> { Ok(Tensor::from_slice(v).f_view([k, 1, 1])?.f_to_device(device)?) };
    let (mean, std, tau) = (column(&held.y_mean)?, column(&held.y_std)?, column(&held.tau)?);
    let y = Tensor::from_slice(&held.y).f_view([k, 1, n])?.f_to_device(device)?;
    let mut acc = McAccumulator::new(k, n, device)?;
    let mut done = 0;
    while done < samples {
        let t = chunk.min(samples - done);
        // [K, n, D] -> [K, t, n, D] -> [K, t*n, D]
        let xr = held.x.f_unsqueeze(1)?.f_expand([k, t as i64, n, d], false)?.f_reshape([k, t as i64 * n, d])?;
        let mut rngs: Vec<MemberRng> =
            seeds.iter().flat_map(|&seed| (done..done + t).map(move |s| sample_rng(seed, s))).collect();
        // [K, t*n, 1] -> [K, t, n] in original units
        let pred = forward(&xr, &mut rngs, t)?.f_view([k, t as i64, n])?.f_to_kind(Kind::Double)?;
        acc.push(&pred.f_mul(&std)?.f_add(&mean)?, &y, &tau)?;
        done += t;
    }
    let (mc_mean, ll) = acc.finish(&tau.f_view([k, 1])?)?;
    Ok(Predictive { mean: mc_mean, ll, y: y.f_view([k, n])?, y_mean: mean.f_view([k, 1])?, y_std: std.f_view([k, 1])? })
}

/// RMSE of each member's predictions: pred and y [K, n] -> K values.
fn per_member_rmse(pred: &Tensor, y: &Tensor) -> Result<Vec<f64>> {
    let v = pred.f_sub(y)?.f_square()?.f_mean_dim(1i64, false, Kind::Double)?.f_sqrt()?;
    Ok(Vec::<f64>::try_from(&v.f_to_device(Device::Cpu)?)?)
}

/// Mean over each member's points: [K, n] -> K values.
fn per_member_mean(values: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(&values.f_mean_dim(1i64, false, Kind::Double)?.f_to_device(Device::Cpu)?)?)
}

/// The stream of MC sample `s` of a member whose MC seed is `seed` (seed_from_u64 runs
/// SplitMix64, so consecutive seeds give unrelated streams).
pub(crate) fn sample_rng(seed: u64, s: usize) -> MemberRng {
    member_rng(seed.wrapping_add((s as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Streams MC samples chunk by chunk into the predictive mean and the log-likelihood
/// estimator, so memory does not grow with T.
struct McAccumulator {
    sum: Tensor,
    lse: Tensor,
    count: usize,
    /// Sum of squared samples and the targets [K, n], kept only for the `TauLeftOut`
    /// mutation's moment-matched score.
    sum_sq: Option<(Tensor, Tensor)>,
}

impl McAccumulator {
    /// For K members and n points: running sum and running logsumexp, both [K, n] f64.
    pub fn new(k: i64, n: i64, device: Device) -> Result<Self> {
        Ok(Self {
            sum: Tensor::f_zeros([k, n], (Kind::Double, device))?,
            lse: Tensor::f_full([k, n], f64::NEG_INFINITY, (Kind::Double, device))?,
            count: 0,
            sum_sq: if active(Mutation::TauLeftOut) {
                let zeros = Tensor::f_zeros([k, n], (Kind::Double, device))?;
                Some((zeros.shallow_clone(), zeros))
            } else {
                None
            },
        })
    }

    /// # Shapes
    /// pred: [K, t, n] samples in original units; y: [K, 1, n]; tau: [K, 1, 1].
    pub fn push(&mut self, pred: &Tensor, y: &Tensor, tau: &Tensor) -> Result<()> {
        self.sum = self.sum.f_add(&pred.f_sum_dim_intlist(1i64, false, Kind::Double)?)?;
        if let Some((sq, _)) = &self.sum_sq {
            let sq = sq.f_add(&pred.f_square()?.f_sum_dim_intlist(1i64, false, Kind::Double)?)?;
            self.sum_sq = Some((sq, y.f_squeeze_dim(1)?));
        }
        let log_kernel = pred.f_sub(y)?.f_square()?.f_mul(tau)?.f_mul_scalar(-0.5)?;
        self.lse = self.lse.f_logaddexp(&log_kernel.f_logsumexp(1i64, false)?)?;
        self.count += pred.size()[1] as usize;
        Ok(())
    }

    /// Predictive mean [K, n] and per-point log-likelihood [K, n]; tau: [K, 1].
    pub fn finish(self, tau: &Tensor) -> Result<(Tensor, Tensor)> {
        let t = self.count as f64;
        let mean = self.sum.f_div_scalar(t)?;
        let half_log_2pi =
            if active(Mutation::LlWithoutConstant) { 0.0 } else { 0.5 * (2.0 * std::f64::consts::PI).ln() };
        if let Some((sq, y)) = &self.sum_sq {
            // The mutation: N(y | mean, the samples' variance), 1 / tau left out.
            let var = sq.f_div_scalar(t)?.f_sub(&mean.f_square()?)?.f_clamp_min(1e-12)?;
            let misfit = mean.f_sub(y)?.f_square()?.f_div(&var)?.f_mul_scalar(0.5)?;
            let ll = var.f_log()?.f_mul_scalar(-0.5)?.f_sub_scalar(half_log_2pi)?.f_sub(&misfit)?;
            return Ok((mean, ll));
        }
        let constant = -t.ln() - half_log_2pi;
        let ll = self.lse.f_add_scalar(constant)?.f_add(&tau.f_log()?.f_mul_scalar(0.5)?)?;
        Ok((mean, ll))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::mc_log_likelihood;

    #[test]
    fn streamed_log_likelihood_matches_the_formula_on_all_samples() {
        // 2 members, 3 points, 7 samples pushed in chunks of 3, 3 and 1.
        let (k, n, t) = (2i64, 3i64, 7i64);
        let samples: Vec<f64> = (0..k * t * n).map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3).collect();
        let y = [0.5, -1.0, 2.0, 0.0, 0.2, -0.4];
        let tau = [0.7, 3.0];
        let pred = Tensor::from_slice(&samples).view([k, t, n]);
        let yt = Tensor::from_slice(&y).view([k, 1, n]);
        let taut = Tensor::from_slice(&tau).view([k, 1, 1]);
        let mut acc = McAccumulator::new(k, n, Device::Cpu).unwrap();
        for (start, len) in [(0, 3), (3, 3), (6, 1)] {
            acc.push(&pred.narrow(1, start, len), &yt, &taut).unwrap();
        }
        let (mean, ll) = acc.finish(&taut.view([k, 1])).unwrap();
        for m in 0..k {
            for i in 0..n {
                let s: Vec<f64> = (0..t).map(|j| samples[((m * t + j) * n + i) as usize]).collect();
                let expected = mc_log_likelihood(y[(m * n + i) as usize], &s, tau[m as usize]);
                let got = ll.double_value(&[m, i]);
                assert!((got - expected).abs() < 1e-10, "ll[{m},{i}] {got} vs {expected}");
                let mean_expected = s.iter().sum::<f64>() / t as f64;
                assert!((mean.double_value(&[m, i]) - mean_expected).abs() < 1e-12);
            }
        }
    }
}
