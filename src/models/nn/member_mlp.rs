//! An MLP whose parameters carry a leading "member" dimension, so that K independent networks
//! (a hyper-parameter grid over several splits) run as one program of batched matmuls.
//!
//! Members never share anything but the program: each has its own weights, its own dropout
//! rate and masks (drawn from its own stream, see `rng`), and, because Adam is elementwise and
//! the loss is a sum of per-member losses, its own optimiser state.

use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::activation;
use crate::error::Result;
use crate::rng::{fill_dropout_mask, glorot_uniform, MemberRng};
use crate::spec::raw::Activation;

/// K networks with identical layer widths. All parameters live in one flat tensor (see
/// [`ParamBuffer`]), so the optimiser updates them with a handful of elementwise kernels.
pub struct MemberMlp {
    params: ParamBuffer,
    activation: Activation,
}

/// One flat tensor holding a value for every parameter of K networks (the parameters
/// themselves, or their gradients, or optimiser moments), with a view per weight and bias.
/// Layout, layer by layer: W_l as [K, widths[l], widths[l+1]], then b_l as [K, 1, widths[l+1]].
pub struct ParamBuffer {
    pub flat: Tensor,
    members: usize,
    widths: Vec<usize>,
    /// weights[l]: [K, widths[l], widths[l+1]], a view into `flat`
    pub weights: Vec<Tensor>,
    /// biases[l]: [K, 1, widths[l+1]], a view into `flat`
    pub biases: Vec<Tensor>,
}

impl ParamBuffer {
    /// Number of values a buffer for K networks of these widths holds.
    pub fn len(members: usize, widths: &[usize]) -> usize {
        members * widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum::<usize>()
    }

    /// Views into `flat`, which must hold `len(members, widths)` values.
    pub fn over(flat: Tensor, members: usize, widths: &[usize]) -> Result<Self> {
        let k = members as i64;
        let (mut weights, mut biases, mut offset) = (Vec::new(), Vec::new(), 0i64);
        for pair in widths.windows(2) {
            let (fan_in, fan_out) = (pair[0] as i64, pair[1] as i64);
            weights.push(flat.f_narrow(0, offset, k * fan_in * fan_out)?.f_view([k, fan_in, fan_out])?);
            offset += k * fan_in * fan_out;
            biases.push(flat.f_narrow(0, offset, k * fan_out)?.f_view([k, 1, fan_out])?);
            offset += k * fan_out;
        }
        Ok(Self { flat, members, widths: widths.to_vec(), weights, biases })
    }

    /// Layer widths, input to output.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// A zero buffer with the same layout.
    pub fn zeros_like(&self) -> Result<Self> {
        Self::over(self.flat.f_zeros_like()?, self.members, &self.widths)
    }

    /// A new buffer whose member j is a copy of member `members[j]` of this one.
    pub fn select_members(&self, members: &[i64]) -> Result<Self> {
        let index = Tensor::from_slice(members).f_to_device(self.flat.device())?;
        let mut parts = Vec::with_capacity(2 * self.weights.len());
        for (w, b) in self.weights.iter().zip(&self.biases) {
            parts.push(w.f_index_select(0, &index)?.f_flatten(0, -1)?);
            parts.push(b.f_index_select(0, &index)?.f_flatten(0, -1)?);
        }
        Self::over(Tensor::f_cat(&parts, 0)?, members.len(), &self.widths)
    }
}

impl MemberMlp {
    /// Glorot-uniform weights from each member's stream, zero biases (Keras' Dense defaults).
    pub fn new(device: Device, widths: &[usize], activation: Activation, rngs: &mut [MemberRng]) -> Result<Self> {
        let k = rngs.len();
        let mut init = vec![0f32; ParamBuffer::len(k, widths)];
        let mut offset = 0;
        for pair in widths.windows(2) {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            init[offset..offset + k * fan_in * fan_out]
                .par_chunks_mut(fan_in * fan_out)
                .zip(rngs.par_iter_mut())
                .for_each(|(chunk, rng)| glorot_uniform(rng, fan_in, fan_out, chunk));
            offset += k * fan_in * fan_out + k * fan_out; // biases stay zero
        }
        let flat = Tensor::from_slice(&init).f_to_device(device)?;
        Ok(Self { params: ParamBuffer::over(flat, k, widths)?, activation })
    }

    /// A network over given parameters (another initialization, or a leaf for autograd).
    pub fn from_params(params: ParamBuffer, activation: Activation) -> Self {
        Self { params, activation }
    }

    /// The parameters (trainers update `params().flat` in place).
    pub fn params(&self) -> &ParamBuffer {
        &self.params
    }

    /// Layer widths, input to output.
    pub fn widths(&self) -> &[usize] {
        self.params.widths()
    }

    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Input width of every weight layer: the shapes the dropout masks must have.
    pub fn layer_inputs(&self) -> &[usize] {
        let widths = self.widths();
        &widths[..widths.len() - 1]
    }

    /// # Shapes
    /// x: [K, n, widths[0]]; masks[l]: [K, n, widths[l]] (dropout before weight layer l);
    /// returns [K, n, widths.last()].
    ///
    /// `masks = None` is "standard dropout" at test time: inverted dropout scaled at training
    /// time, so the deterministic network is the identity-mask one.
    pub fn forward(&self, x: &Tensor, masks: Option<&[Tensor]>) -> Result<Tensor> {
        let last = self.params.weights.len() - 1;
        let mut h = x.shallow_clone();
        for (l, (w, b)) in self.params.weights.iter().zip(&self.params.biases).enumerate() {
            if let Some(masks) = masks {
                h = h.f_mul(&masks[l])?;
            }
            h = b.f_baddbmm(&h, w, 1.0, 1.0)?;
            if l < last {
                h = activation::forward(&h, self.activation)?;
            }
        }
        Ok(h)
    }

    /// Writes into `grad` the gradient, with respect to every parameter, of the training loss
    /// sum_k [ mean over rows (f_k(x) - y)^2 + lambda_k * sum of squared weights ] (the
    /// loss of `mc_dropout`), by hand rather than through autograd: no backward graph to build,
    /// and fewer kernels a step, which is what a step costs on a GPU.
    ///
    /// # Shapes
    /// x: [K, b, widths[0]], y: [K, b, 1], masks[l]: [K, b, widths[l]], two_lambda: [K, 1, 1]
    pub fn loss_gradient(
        &self,
        x: &Tensor,
        y: &Tensor,
        masks: &[Tensor],
        two_lambda: &Tensor,
        grad: &ParamBuffer,
    ) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let (weights, biases) = (&self.params.weights, &self.params.biases);
        let last = weights.len() - 1;
        // Forward, keeping each layer's masked input u_l and each hidden activation.
        let (mut inputs, mut hidden) = (Vec::with_capacity(last + 1), Vec::with_capacity(last));
        let mut h = x.shallow_clone();
        for l in 0..=last {
            let u = h.f_mul(&masks[l])?;
            let z = biases[l].f_baddbmm(&u, &weights[l], 1.0, 1.0)?;
            inputs.push(u);
            if l < last {
                h = activation::forward(&z, self.activation)?;
                hidden.push(h.shallow_clone());
            } else {
                h = z;
            }
        }
        // d/d out of the mean over b rows: 2 (out - y) / b.
        let rows = x.size()[1] as f64;
        let mut g = h.f_sub(y)?;
        let _ = g.f_mul_scalar_(2.0 / rows)?;
        for l in (0..=last).rev() {
            // dW = u^T g + 2 lambda W; db = sum over rows of g.
            let _ = weights[l].f_mul_out(&grad.weights[l], two_lambda)?;
            let _ = grad.weights[l].shallow_clone().f_baddbmm_(&inputs[l].f_transpose(1, 2)?, &g)?;
            let _ = g.f_sum_intlist_out(&grad.biases[l], [1i64].as_slice(), true, Kind::Float)?;
            if l > 0 {
                let mut upstream = g.f_bmm(&weights[l].f_transpose(1, 2)?)?;
                let _ = upstream.f_mul_(&masks[l])?;
                g = activation::backward(&upstream, &hidden[l - 1], self.activation)?;
            }
        }
        Ok(())
    }

    /// The parameters of one member, for tests that compare batched and single training.
    pub fn member_parameters(&self, k: usize) -> Vec<Tensor> {
        self.params.weights.iter().chain(&self.params.biases).map(|t| t.get(k as i64).detach().copy()).collect()
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
    Host {
        rates: Vec<f64>,
    },
    /// keep: [K, 1, 1] keep probabilities 1 - p on the device.
    Device {
        keep: Tensor,
    },
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
                    per_stream_tensor(rngs, rows, width, Device::Cpu, |k, rng, chunk| {
                        fill_dropout_mask(rng, rates[k], chunk)
                    })
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
    use crate::rng::member_rng;

    #[test]
    fn selected_members_are_copies_in_the_asked_order() {
        let widths = [3usize, 4, 1];
        let flat = Tensor::randn([ParamBuffer::len(3, &widths) as i64], (Kind::Float, Device::Cpu));
        let all = ParamBuffer::over(flat, 3, &widths).unwrap();
        let picked = all.select_members(&[2, 0, 2, 1]).unwrap();
        assert_eq!(picked.flat.size(), [ParamBuffer::len(4, &widths) as i64]);
        for (j, k) in [2i64, 0, 2, 1].into_iter().enumerate() {
            for l in 0..2 {
                assert!(picked.weights[l].get(j as i64).equal(&all.weights[l].get(k)), "weights {l} of {j}");
                assert!(picked.biases[l].get(j as i64).equal(&all.biases[l].get(k)), "biases {l} of {j}");
            }
        }
    }

    /// The hand-written gradient equals autograd's on the same loss, for both activations,
    /// two hidden layers, dropout masks and per-member weight decay.
    #[test]
    fn loss_gradient_matches_autograd() {
        tch::manual_seed(11);
        let (k, rows, widths) = (3usize, 9usize, [4usize, 7, 5, 1]);
        for activation in [Activation::Relu, Activation::Tanh] {
            let mut rngs: Vec<_> = (0..k as u64).map(member_rng).collect();
            let net = MemberMlp::new(Device::Cpu, &widths, activation, &mut rngs).unwrap();
            // Non-zero biases, so their gradient path is exercised too.
            let _ = tch::no_grad(|| {
                net.params()
                    .flat
                    .shallow_clone()
                    .f_add_(&(Tensor::randn([net.params().flat.numel() as i64], (Kind::Float, Device::Cpu)) * 0.1))
            })
            .unwrap();
            let x = Tensor::randn([k as i64, rows as i64, 4], (Kind::Float, Device::Cpu));
            let y = Tensor::randn([k as i64, rows as i64, 1], (Kind::Float, Device::Cpu));
            let masks = draw_masks(&mut rngs, &[0.1, 0.3, 0.5], rows, net.layer_inputs(), Device::Cpu).unwrap();
            let lambda = [1e-3f32, 5e-2, 0.2];
            let two_lambda = Tensor::from_slice(&lambda.map(|l| 2.0 * l)).view([3, 1, 1]);
            let grad = net.params().zeros_like().unwrap();
            net.loss_gradient(&x, &y, &masks, &two_lambda, &grad).unwrap();

            let leaf = net.params().flat.detach().copy().set_requires_grad(true);
            let p = ParamBuffer::over(leaf.shallow_clone(), k, &widths).unwrap();
            let mut h = x.shallow_clone();
            for (l, ((bias, weight), mask)) in p.biases.iter().zip(&p.weights).zip(&masks).enumerate() {
                h = bias.baddbmm(&(&h * mask), weight, 1.0, 1.0);
                if l < 2 {
                    h = if activation == Activation::Relu { h.relu() } else { h.tanh() };
                }
            }
            let mse = (&h - &y).square().mean_dim([1i64, 2].as_slice(), false, Kind::Float);
            let l2 = p
                .weights
                .iter()
                .map(|w| w.square().sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float))
                .reduce(|a, b| a + b)
                .unwrap();
            let loss = (mse + Tensor::from_slice(&lambda) * l2).sum(Kind::Float);
            loss.backward();
            let reference = leaf.grad();
            let err = f64::try_from((&grad.flat - &reference).abs().max()).unwrap();
            let scale = f64::try_from(reference.abs().max()).unwrap();
            assert!(err < 1e-5 * scale, "{activation:?}: hand gradient differs from autograd by {err} (scale {scale})");
        }
    }

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
            assert!(
                m.iter().all(|&v| v == 0.0 || (v - scale).abs() < 1e-5),
                "member {k}: values other than 0 and 1/(1-p)"
            );
            let dropped = m.iter().filter(|&&v| v == 0.0).count() as f64 / m.len() as f64;
            let sd = (p * (1.0 - p) / m.len() as f64).sqrt();
            assert!((dropped - p).abs() < 5.0 * sd, "member {k}: dropped {dropped}, rate {p}");
        }
        let again = source.draw(&mut [], rows, &[5, 50]).unwrap();
        assert!(!again[1].equal(&masks[1]), "a second draw repeated the first");
    }
}
