//! Predictive scores of the variational networks: posterior draws through the local
//! reparameterization, chunked like every MC predictive (`nn::mc_predictive`).

use tch::{Device, Kind};

use super::bnn::{draw_noise, MemberBnn};
use super::train::BnnMember;
use crate::error::Result;
use crate::models::family::{Program, Scores};
use crate::models::nn::mc_predictive::{mc_predictive, samples_per_chunk, HeldOut};
use crate::models::nn::member_mlp::seed_device_generator;
use crate::rng::derive_seed;

/// Each member's noise precision in original units (tau_standardized / std_y^2): learned by
/// the net, or the member's fixed tau.
pub fn noise_precision(net: &MemberBnn, members: &[BnnMember], program: &Program) -> Result<Vec<f64>> {
    let log_tau_std: Vec<f64> = match net.log_tau() {
        Some(t) => Vec::<f64>::try_from(&t.f_to_kind(Kind::Double)?.f_to_device(Device::Cpu)?)?,
        None => members.iter().map(|m| m.tau.expect("fixed tau").ln()).collect(),
    };
    Ok(log_tau_std.iter().zip(&program.members).map(|(lt, m)| lt.exp() / (m.y_std * m.y_std)).collect())
}

/// Predictive scores from `samples` posterior draws (local reparameterization per point),
/// in chunks of at most `budget` activations; `held.tau` is the members' `noise_precision`.
pub fn evaluate(
    net: &MemberBnn,
    members: &[BnnMember],
    held: &HeldOut,
    samples: usize,
    budget: usize,
    device: Device,
) -> Result<Vec<Scores>> {
    let _guard = tch::no_grad_guard();
    let (k, n) = (members.len() as i64, held.n as i64);
    let widest = *net.widths().iter().max().expect("widths");
    let chunk = samples_per_chunk(budget, members.len(), held.n, widest, samples);
    let seeds: Vec<u64> = members.iter().map(|m| derive_seed(m.seed, &["predictive"])).collect();
    if device != Device::Cpu {
        seed_device_generator(seeds.iter().copied());
    }
    let predictive = mc_predictive(held, &seeds, samples, chunk, device, |xr, rngs, _| {
        let rows = xr.size()[1];
        let noise = draw_noise(rngs, n as usize, net.layer_outputs(), device)?
            .into_iter()
            .map(|e| e.f_view([k, rows, -1]))
            .collect::<Result<Vec<_>, _>>()?;
        net.forward(xr, Some(&noise))
    })?;
    let rmse_means = predictive.rmse_of(&net.forward(&held.x, None)?)?;
    Ok(predictive
        .rmse()?
        .into_iter()
        .zip(rmse_means)
        .zip(predictive.mean_ll()?)
        .zip(&held.tau)
        .map(|(((rmse, rmse_means), ll), tau)| Scores {
            rmse,
            ll,
            extra: vec![
                (crate::metrics::keys::RMSE_POSTERIOR_MEAN_NET.to_string(), rmse_means),
                ("noise_tau".to_string(), *tau),
            ],
        })
        .collect())
}
