//! An MLP whose parameters carry a leading "member" dimension, so that K independent networks
//! (a hyper-parameter grid over several splits) run as one program of batched matmuls.
//!
//! Members never share anything but the program: each has its own weights, its own dropout
//! rate and masks (drawn from its own stream, see `rng`), and, because Adam is elementwise and
//! the loss is a sum of per-member losses, its own optimiser state.

use rayon::prelude::*;
use tch::{nn, Device, Kind, Tensor};

use crate::error::Result;
use crate::rng::{fill_dropout_mask, glorot_uniform, MemberRng};
use crate::spec::raw::Activation;

/// K networks with identical layer widths.
pub struct MemberMlp {
    pub vs: nn::VarStore,
    /// weights[l]: [K, widths[l], widths[l+1]]
    weights: Vec<Tensor>,
    /// biases[l]: [K, 1, widths[l+1]]
    biases: Vec<Tensor>,
    widths: Vec<usize>,
    activation: Activation,
    members: usize,
}

impl MemberMlp {
    /// Glorot-uniform weights from each member's stream, zero biases (Keras' Dense defaults).
    pub fn new(device: Device, widths: &[usize], activation: Activation, rngs: &mut [MemberRng]) -> Result<Self> {
        let k = rngs.len();
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for (l, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let mut init = vec![0f32; k * fan_in * fan_out];
            init.par_chunks_mut(fan_in * fan_out)
                .zip(rngs.par_iter_mut())
                .for_each(|(chunk, rng)| glorot_uniform(rng, fan_in, fan_out, chunk));
            let init = Tensor::from_slice(&init).f_view([k as i64, fan_in as i64, fan_out as i64])?;
            weights.push(root.f_var_copy(&format!("w{l}"), &init.f_to_device(device)?)?);
            biases.push(root.f_zeros(&format!("b{l}"), &[k as i64, 1, fan_out as i64])?);
        }
        Ok(Self { vs, weights, biases, widths: widths.to_vec(), activation, members: k })
    }

    pub fn members(&self) -> usize {
        self.members
    }

    /// Layer widths, input to output.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Input width of every weight layer: the shapes the dropout masks must have.
    pub fn layer_inputs(&self) -> &[usize] {
        &self.widths[..self.widths.len() - 1]
    }

    /// # Shapes
    /// x: [K, n, widths[0]]; masks[l]: [K, n, widths[l]] (dropout before weight layer l);
    /// returns [K, n, widths.last()].
    ///
    /// `masks = None` is "standard dropout" at test time: inverted dropout scaled at training
    /// time, so the deterministic network is the identity-mask one.
    pub fn forward(&self, x: &Tensor, masks: Option<&[Tensor]>) -> Result<Tensor> {
        let last = self.weights.len() - 1;
        let mut h = x.shallow_clone();
        for (l, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            if let Some(masks) = masks {
                h = h.f_mul(&masks[l])?;
            }
            h = b.f_baddbmm(&h, w, 1.0, 1.0)?;
            if l < last {
                h = match self.activation {
                    Activation::Relu => h.f_relu()?,
                    Activation::Tanh => h.f_tanh()?,
                };
            }
        }
        Ok(h)
    }

    /// Sum of squared weights (not biases) per member: [K].
    pub fn weights_l2(&self) -> Result<Tensor> {
        let mut total: Option<Tensor> = None;
        for w in &self.weights {
            let s = w.f_square()?.f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float)?;
            total = Some(match total {
                None => s,
                Some(t) => t.f_add(&s)?,
            });
        }
        Ok(total.expect("an MLP has at least one layer"))
    }

    /// The parameters of one member, for tests that compare batched and single training.
    pub fn member_parameters(&self, k: usize) -> Vec<Tensor> {
        self.weights.iter().chain(&self.biases).map(|t| t.get(k as i64).detach().copy()).collect()
    }
}

/// Draws one inverted-dropout mask per weight layer for `rows` rows of every member, each
/// member with its own rate (see [`MaskSource`] for where the randomness comes from).
///
/// # Shapes
/// returns masks[l]: [K, rows, layer_inputs[l]]
pub fn draw_masks(
    rngs: &mut [MemberRng],
    rates: &[f64],
    rows: usize,
    layer_inputs: &[usize],
    device: Device,
) -> Result<Vec<Tensor>> {
    MaskSource::new(rates, device)?.draw(rngs, rows, layer_inputs)
}

/// Where a program's dropout masks come from.
///
/// On the CPU every member draws from its own stream, so a member's masks do not depend on
/// which other members share its program (the batching-equivalence tests rely on this). On a
/// GPU, writing masks on the host and copying them over every step costs several times the
/// step itself, so they are drawn on the device from libtorch's generator (seeded once per
/// program, see [`seed_device_generator`]): reproducible for a given program and device, but
/// no longer independent of the program's composition.
pub enum MaskSource {
    Host { rates: Vec<f64> },
    /// keep: [K, 1, 1] keep probabilities 1 - p on the device.
    Device { keep: Tensor },
}

impl MaskSource {
    pub fn new(rates: &[f64], device: Device) -> Result<Self> {
        if device == Device::Cpu {
            return Ok(Self::Host { rates: rates.to_vec() });
        }
        let keep: Vec<f32> = rates.iter().map(|&p| (1.0 - p) as f32).collect();
        let keep = Tensor::from_slice(&keep).f_view([rates.len() as i64, 1, 1])?.f_to_device(device)?;
        Ok(Self::Device { keep })
    }

    /// # Shapes
    /// returns masks[l]: [K, rows, layer_inputs[l]], entries 0 or 1 / (1 - p_k)
    pub fn draw(&self, rngs: &mut [MemberRng], rows: usize, layer_inputs: &[usize]) -> Result<Vec<Tensor>> {
        match self {
            Self::Host { rates } => layer_inputs
                .iter()
                .map(|&width| {
                    per_stream_tensor(rngs, rows, width, Device::Cpu, |k, rng, chunk| fill_dropout_mask(rng, rates[k], chunk))
                })
                .collect(),
            Self::Device { keep } => layer_inputs
                .iter()
                .map(|&width| {
                    let shape = [keep.size()[0], rows as i64, width as i64];
                    let mut mask = Tensor::f_empty(shape, (Kind::Float, keep.device()))?;
                    let _ = mask.f_bernoulli_(keep)?;
                    let _ = mask.f_div_(keep)?;
                    Ok(mask)
                })
                .collect(),
        }
    }
}

/// Seeds libtorch's generators (the GPU's included) for a program whose randomness on a GPU
/// comes from the device; derived from the members' own seeds so a rerun repeats it.
pub fn seed_device_generator(member_seeds: impl IntoIterator<Item = u64>) {
    let seed = member_seeds.into_iter().fold(0x9e37_79b9_7f4a_7c15u64, |acc, s| acc.rotate_left(7) ^ s);
    tch::manual_seed((seed >> 1) as i64);
}

/// A [len(rngs), rows, width] f32 tensor on `device` whose k-th slab is written on the host
/// by `fill(k, &mut rngs[k], slab)`, slabs in parallel. The host buffer is the tensor's own
/// memory, so nothing is copied on the CPU.
pub fn per_stream_tensor(
    rngs: &mut [MemberRng],
    rows: usize,
    width: usize,
    device: Device,
    fill: impl Fn(usize, &mut MemberRng, &mut [f32]) + Sync,
) -> Result<Tensor> {
    let k = rngs.len();
    let per_stream = rows * width;
    let tensor = Tensor::f_empty([k as i64, rows as i64, width as i64], (Kind::Float, Device::Cpu))?;
    // SAFETY: `tensor` was just allocated: a contiguous CPU f32 tensor of k * per_stream
    // elements that nothing else references while the slice lives.
    let buf = unsafe { std::slice::from_raw_parts_mut(tensor.data_ptr() as *mut f32, k * per_stream) };
    buf.par_chunks_mut(per_stream.max(1))
        .zip(rngs.par_iter_mut())
        .enumerate()
        .for_each(|(i, (chunk, rng))| fill(i, rng, chunk));
    Ok(if device == Device::Cpu { tensor } else { tensor.f_to_device(device)? })
}

/// Layer widths of a one-output MLP: inputs, `layers` hidden layers of `units`, 1.
pub fn mlp_widths(inputs: usize, units: usize, layers: usize) -> Vec<usize> {
    let mut widths = vec![inputs];
    widths.extend(std::iter::repeat_n(units, layers));
    widths.push(1);
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GPU's mask source (run here on a CPU keep tensor): inverted-dropout values, each
    /// member at its own rate, fresh draws every call.
    #[test]
    fn device_masks_have_each_members_rate_and_scale() {
        tch::manual_seed(7);
        let rates = [0.05, 0.5, 0.9];
        let keep: Vec<f32> = rates.iter().map(|p| 1.0 - *p as f32).collect();
        let source = MaskSource::Device { keep: Tensor::from_slice(&keep).view([3, 1, 1]) };
        let rows = 400;
        let masks = source.draw(&mut [], rows, &[5, 50]).unwrap();
        assert_eq!(masks.len(), 2);
        assert_eq!(masks[1].size(), [3, rows as i64, 50]);
        for (k, &p) in rates.iter().enumerate() {
            let m: Vec<f32> = Vec::try_from(&masks[1].get(k as i64).flatten(0, -1)).unwrap();
            let scale = (1.0 / (1.0 - p)) as f32;
            assert!(m.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-5), "member {k}: values other than 0 and 1/(1-p)");
            let dropped = m.iter().filter(|&&v| v == 0.0).count() as f64 / m.len() as f64;
            let sd = (p * (1.0 - p) / m.len() as f64).sqrt();
            assert!((dropped - p).abs() < 5.0 * sd, "member {k}: dropped {dropped}, rate {p}");
        }
        let again = source.draw(&mut [], rows, &[5, 50]).unwrap();
        assert!(!again[1].equal(&masks[1]), "a second draw repeated the first");
    }
}
