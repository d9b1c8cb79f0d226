//! MC dropout prediction: T stochastic passes with dropout on, scored per member on held-out
//! rows (`evaluate`), or the predictive moments at query points (`mc_moments`, for CO2).

use tch::{Device, Kind, Tensor};

use super::member::{Member, RegressionScores};
use crate::error::Result;
use crate::models::nn::mc_predictive::{mc_predictive, samples_per_chunk, HeldOut};
use crate::models::nn::member_mlp::{draw_masks, MemberMlp};
use crate::rng::{derive_seed, MemberRng};

/// Scores every member with `samples` MC passes. On the CPU this runs the mask-free host
/// evaluator (`host`); elsewhere dense masks in chunks of at most `budget` activations.
/// Returns the scores and the number of samples per chunk used.
pub fn evaluate(
    net: &MemberMlp,
    members: &[Member],
    held_out: &HeldOut,
    samples: usize,
    budget: usize,
    device: Device,
) -> Result<(Vec<RegressionScores>, usize)> {
    if device == Device::Cpu {
        let scores = super::host::evaluate_on_host(net, members, held_out, samples)?;
        return Ok((scores, super::host::SAMPLES_PER_TASK.min(samples)));
    }
    evaluate_with_masks(net, members, held_out, samples, budget, device)
}

/// The dense-mask evaluator: every chunk of samples materializes its masks on the device.
pub fn evaluate_with_masks(
    net: &MemberMlp,
    members: &[Member],
    held_out: &HeldOut,
    samples: usize,
    budget: usize,
    device: Device,
) -> Result<(Vec<RegressionScores>, usize)> {
    let _guard = tch::no_grad_guard();
    let widest = *net.layer_inputs().iter().max().expect("layers");
    let chunk = samples_per_chunk(budget, members.len(), held_out.n, widest, samples);
    let rates: Vec<f64> = members.iter().map(|m| m.dropout).collect();
    // Off the CPU masks come from the device generator (see `MaskSource`). On the CPU sample s
    // of member k draws from a stream of its own, so the scores do not depend on how samples
    // are chunked or how many members share the program.
    let mc_seeds: Vec<u64> = members.iter().map(|m| derive_seed(m.seed, &["mc"])).collect();
    let predictive = mc_predictive(held_out, &mc_seeds, samples, chunk, device, |xr, rngs, t| {
        let (k, rows) = (members.len() as i64, xr.size()[1]);
        let sample_rates: Vec<f64> = rates.iter().flat_map(|&p| std::iter::repeat_n(p, t)).collect();
        // [K*t, n, d] per layer -> [K, t*n, d]
        let masks = draw_masks(rngs, &sample_rates, held_out.n, net.layer_inputs(), device)?
            .into_iter()
            .map(|m| m.f_view([k, rows, -1]))
            .collect::<Result<Vec<_>, _>>()?;
        net.forward(xr, Some(&masks))
    })?;
    let standard = predictive.rmse_of(&net.forward(&held_out.x, None)?)?;
    let scores = predictive
        .rmse()?
        .into_iter()
        .zip(standard)
        .zip(predictive.mean_ll()?)
        .map(|((rmse_mc, rmse_standard), ll)| RegressionScores { rmse_mc, rmse_standard, ll })
        .collect();
    Ok((scores, chunk))
}

/// Predictive mean and std at `query` ([m, 1] standardized inputs) of member 0 of `net`:
/// `samples` passes with dropout rate `rate`, masks from `rng` in chunks that keep
/// activations under `budget` elements; variance = sample variance + 1/tau (paper section
/// 4). Standardized units.
pub fn mc_moments(
    net: &MemberMlp,
    query: &Tensor,
    rate: f64,
    tau: f64,
    samples: usize,
    budget: usize,
    rng: &mut MemberRng,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let _guard = tch::no_grad_guard();
    let device = query.device();
    let m = query.size()[0] as usize;
    let widest = *net.widths().iter().max().expect("widths");
    let chunk = samples_per_chunk(budget, 1, m, widest, samples);
    let rngs = std::slice::from_mut(rng);
    let mut sum = Tensor::f_zeros([m as i64], (Kind::Double, device))?;
    let mut sum_sq = sum.f_zeros_like()?;
    let mut done = 0;
    while done < samples {
        let t = chunk.min(samples - done);
        let xr = query.f_repeat([t as i64, 1])?.f_unsqueeze(0)?; // [1, t*m, 1]
        let masks = draw_masks(rngs, &[rate], t * m, net.layer_inputs(), device)?;
        let out = net.forward(&xr, Some(&masks))?.f_view([t as i64, m as i64])?.f_to_kind(Kind::Double)?;
        sum = sum.f_add(&out.f_sum_dim_intlist(0i64, false, Kind::Double)?)?;
        sum_sq = sum_sq.f_add(&out.f_square()?.f_sum_dim_intlist(0i64, false, Kind::Double)?)?;
        done += t;
    }
    let t = samples as f64;
    let mean = sum.f_div_scalar(t)?;
    let var = sum_sq.f_div_scalar(t)?.f_sub(&mean.f_square()?)?.f_clamp_min(0.0)?.f_add_scalar(1.0 / tau)?;
    let host = |t: &Tensor| -> Result<Vec<f64>> { Ok(Vec::<f64>::try_from(&t.f_to_device(Device::Cpu)?)?) };
    Ok((host(&mean)?, host(&var.f_sqrt()?)?))
}
