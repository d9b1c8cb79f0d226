//! Concrete-dropout prediction: T passes with relaxed masks at the learned rates (as the
//! authors' code keeps them at test time), scored with the MC estimator of the dropout column
//! at the learned noise precision.

use tch::Device;

use super::train::{draw_relaxed_masks, Trained};
use crate::error::Result;
use crate::models::nn::mc_predictive::{mc_predictive, samples_per_chunk, HeldOut, Predictive};
use crate::rng::derive_seed;
use tch::Tensor;

/// The MC predictive of every member over `held` (whose `tau` must be the learned noise
/// precisions in original units); member k's samples from streams of `seeds[k]`.
pub fn evaluate(
    trained: &Trained,
    seeds: &[u64],
    held: &HeldOut,
    samples: usize,
    temperature: f64,
    budget: usize,
    device: Device,
) -> Result<Predictive> {
    let _guard = tch::no_grad_guard();
    let net = &trained.net;
    let widest = *net.layer_inputs().iter().max().expect("layers");
    let chunk = samples_per_chunk(budget, seeds.len(), held.n, widest, samples);
    let mc_seeds: Vec<u64> = seeds.iter().map(|&s| derive_seed(s, &["mc"])).collect();
    mc_predictive(held, &mc_seeds, samples, chunk, device, |xr, rngs, t| {
        let (k, rows) = (seeds.len() as i64, xr.size()[1]);
        // One rate per (member, sample) stream, member-major.
        let rates = (0..trained.rates.len())
            .map(|l| {
                let per_stream: Vec<f32> =
                    trained.rates[l].iter().flat_map(|&p| std::iter::repeat_n(p as f32, t)).collect();
                Ok(Tensor::from_slice(&per_stream).f_view([-1, 1, 1])?.f_to_device(device)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let masks = draw_relaxed_masks(rngs, &rates, held.n, net.layer_inputs(), temperature, device)?
            .into_iter()
            .map(|m| m.f_view([k, rows, -1]))
            .collect::<Result<Vec<_>, _>>()?;
        net.forward(xr, Some(&masks))
    })
}
