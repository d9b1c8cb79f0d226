//! K Q-networks of one shape batched as one program: the demo's `fc 50 relu, fc 50 relu,
//! linear 5` (rldemo.html's layer list), initialized as ConvNetJS does and trained by its
//! trainer on the TD loss, by hand rather than through autograd.

use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::models::nn::activation;
use crate::models::nn::member_mlp::ParamBuffer;
use crate::rng::{fill_standard_normal, MemberRng};
use crate::spec::raw::Activation;

/// ConvNetJS gives an `fc` followed by a ReLU the bias 0.1 (its `bias_pref`) and the output
/// layer 0 (convnet.js, `desugar`).
const HIDDEN_BIAS: f32 = 0.1;

pub struct QNetworks {
    params: ParamBuffer,
    grad: ParamBuffer,
}

/// What the training pass keeps for the backward one.
struct Pass {
    /// Each weight layer's (masked) input.
    inputs: Vec<Tensor>,
    /// Each hidden layer's output.
    hidden: Vec<Tensor>,
    out: Tensor,
}

impl QNetworks {
    /// Weights N(0, 1 / fan_in) from each member's stream (ConvNetJS `Vol` without a fill
    /// value), biases as ConvNetJS sets them.
    pub fn new(device: Device, widths: &[usize], rngs: &mut [MemberRng]) -> Result<Self> {
        let k = rngs.len();
        let mut init = vec![0f32; ParamBuffer::len(k, widths)];
        let layers = widths.len() - 1;
        let mut offset = 0;
        for (l, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let scale = (1.0 / fan_in as f64).sqrt() as f32;
            for (chunk, rng) in
                init[offset..offset + k * fan_in * fan_out].chunks_mut(fan_in * fan_out).zip(rngs.iter_mut())
            {
                fill_standard_normal(rng, chunk);
                chunk.iter_mut().for_each(|w| *w *= scale);
            }
            offset += k * fan_in * fan_out;
            let bias = if l + 1 < layers { HIDDEN_BIAS } else { 0.0 };
            init[offset..offset + k * fan_out].fill(bias);
            offset += k * fan_out;
        }
        Self::from_flat(Tensor::from_slice(&init).f_to_device(device)?, k, widths)
    }

    /// Networks over a flat parameter tensor laid out as [`ParamBuffer`] lays it out.
    pub fn from_flat(flat: Tensor, members: usize, widths: &[usize]) -> Result<Self> {
        let params = ParamBuffer::over(flat, members, widths)?;
        let grad = params.zeros_like()?;
        Ok(Self { params, grad })
    }

    pub fn params(&self) -> &ParamBuffer {
        &self.params
    }

    /// The gradient the last `td_gradient` left.
    pub fn grad(&self) -> &ParamBuffer {
        &self.grad
    }

    /// Q-values of every action.
    ///
    /// # Shapes
    /// x: [K, n, inputs]; masks[l]: [K, n, widths[l]] (inverted dropout before weight layer
    /// l) or `None` for no dropout there; returns [K, n, actions].
    pub fn q_values(&self, x: &Tensor, masks: &[Option<Tensor>]) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.pass(x, masks)?.out)
    }

    fn pass(&self, x: &Tensor, masks: &[Option<Tensor>]) -> Result<Pass> {
        let last = self.params.weights.len() - 1;
        let (mut inputs, mut hidden) = (Vec::with_capacity(last + 1), Vec::with_capacity(last));
        let mut h = x.shallow_clone();
        for (l, (w, b)) in self.params.weights.iter().zip(&self.params.biases).enumerate() {
            let u = match masks.get(l).and_then(Option::as_ref) {
                Some(mask) => h.f_mul(mask)?,
                None => h,
            };
            let z = b.f_baddbmm(&u, w, 1.0, 1.0)?;
            inputs.push(u);
            if l < last {
                h = activation::forward(&z, Activation::Relu)?;
                hidden.push(h.shallow_clone());
            } else {
                h = z;
            }
        }
        Ok(Pass { inputs, hidden, out: h })
    }

    /// Writes into `grad()` the gradient of ConvNetJS's regression loss on the taken actions,
    /// sum over rows of 0.5 (Q(s, a) - y)^2, plus its L2 term l2 / 2 |W|^2 on the weights, both
    /// divided by the rows (its trainer averages the summed gradient over the batch).
    ///
    /// # Shapes
    /// states: [K, n, inputs]; actions: [K, n, 1] (int64); targets: [K, n, 1]; masks as in
    /// `q_values`.
    pub fn td_gradient(
        &mut self,
        states: &Tensor,
        actions: &Tensor,
        targets: &Tensor,
        masks: &[Option<Tensor>],
        l2: f64,
    ) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let pass = self.pass(states, masks)?;
        let rows = states.size()[1] as f64;
        let error = pass.out.f_gather(2, actions, false)?.f_sub(targets)?.f_mul_scalar(1.0 / rows)?;
        let mut g = pass.out.f_zeros_like()?.f_scatter(2, actions, &error)?;
        let (weights, grad) = (&self.params.weights, &self.grad);
        for l in (0..weights.len()).rev() {
            let _ = weights[l].f_mul_scalar_out(&grad.weights[l], l2 / rows)?;
            let _ = grad.weights[l].shallow_clone().f_baddbmm_(&pass.inputs[l].f_transpose(1, 2)?, &g)?;
            let _ = g.f_sum_intlist_out(&grad.biases[l], [1i64].as_slice(), true, Kind::Float)?;
            if l > 0 {
                let mut upstream = g.f_bmm(&weights[l].f_transpose(1, 2)?)?;
                if let Some(mask) = masks.get(l).and_then(Option::as_ref) {
                    let _ = upstream.f_mul_(mask)?;
                }
                g = activation::backward(&upstream, &pass.hidden[l - 1], Activation::Relu)?;
            }
        }
        Ok(())
    }

    /// One step of ConvNetJS's SGD without momentum: theta -= lr * grad.
    pub fn sgd_step(&mut self, lr: f64) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let _ = self.params.flat.f_sub_(&self.grad.flat.f_mul_scalar(lr)?)?;
        Ok(())
    }
}

/// The TD targets r + gamma max_a Q(s', a), from one pass with `masks` (Thompson sampling's
/// own masks for the target; `None` layers for the deterministic network).
///
/// # Shapes
/// next_states: [K, n, inputs]; rewards: [K, n, 1]; returns [K, n, 1].
pub fn td_targets(
    net: &QNetworks,
    next_states: &Tensor,
    rewards: &Tensor,
    masks: &[Option<Tensor>],
    gamma: f64,
) -> Result<Tensor> {
    let best = net.q_values(next_states, masks)?.f_amax([2i64].as_slice(), true)?;
    Ok(rewards.f_add(&best.f_mul_scalar(gamma)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;

    const WIDTHS: [usize; 4] = [4, 3, 3, 2];

    fn nets(k: usize) -> QNetworks {
        let mut rngs: Vec<_> = (0..k).map(|i| member_rng(10 + i as u64)).collect();
        QNetworks::new(Device::Cpu, &WIDTHS, &mut rngs).unwrap()
    }

    fn host(t: &Tensor) -> Vec<f32> {
        Vec::try_from(&t.f_flatten(0, -1).unwrap()).unwrap()
    }

    /// One member's forward pass on the host, masks applied before each weight layer.
    fn host_forward(net: &QNetworks, k: usize, x: &[f32], masks: &[Vec<f32>]) -> Vec<f32> {
        let mut h = x.to_vec();
        let last = WIDTHS.len() - 2;
        for l in 0..=last {
            let (w, b) = (host(&net.params().weights[l].get(k as i64)), host(&net.params().biases[l].get(k as i64)));
            let (fan_in, fan_out) = (WIDTHS[l], WIDTHS[l + 1]);
            let u: Vec<f32> = h.iter().zip(&masks[l]).map(|(a, m)| a * m).collect();
            h = (0..fan_out)
                .map(|j| {
                    let z = b[j] + (0..fan_in).map(|i| u[i] * w[i * fan_out + j]).sum::<f32>();
                    if l < last {
                        z.max(0.0)
                    } else {
                        z
                    }
                })
                .collect();
        }
        h
    }

    #[test]
    fn weights_start_as_convnetjs_sets_them() {
        let net = nets(1);
        assert!(host(&net.params().biases[0]).iter().all(|&b| b == 0.1));
        assert!(host(&net.params().biases[2]).iter().all(|&b| b == 0.0));
        let w = host(&net.params().weights[0]);
        assert!(w.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn a_sampled_pass_is_the_masked_network_and_the_action_its_argmax() {
        let net = nets(2);
        let x = [0.3f32, 1.0, 0.5, 27.0, 0.1, 1.0, 1.0, 0.0];
        let masks_host = [vec![1.25, 0.0, 1.25, 1.25], vec![0.0, 1.25, 1.25], vec![1.25, 1.25, 0.0]];
        let masks: Vec<Option<Tensor>> = masks_host
            .iter()
            .map(|m| {
                let both: Vec<f32> = m.iter().chain(m.iter()).copied().collect();
                Some(Tensor::from_slice(&both).view([2, 1, m.len() as i64]))
            })
            .collect();
        let q = host(&net.q_values(&Tensor::from_slice(&x).view([2, 1, 4]), &masks).unwrap());
        for k in 0..2 {
            let expect = host_forward(&net, k, &x[4 * k..4 * k + 4], &masks_host);
            for (a, b) in q[2 * k..2 * k + 2].iter().zip(&expect) {
                assert!((a - b).abs() < 1e-5, "member {k}: {q:?} vs {expect:?}");
            }
            let action = crate::models::deep_q::explore::argmax(&q[2 * k..2 * k + 2]);
            let best = if expect[1] > expect[0] { 1 } else { 0 };
            assert_eq!(action, best);
        }
    }

    #[test]
    fn the_td_gradient_is_autograds_and_flows_only_through_kept_units() {
        let mut net = nets(1);
        let n: i64 = 5;
        let states = Tensor::randn([1, n, 4], (Kind::Float, Device::Cpu));
        let actions = Tensor::from_slice(&[0i64, 1, 1, 0, 1]).view([1, n, 1]);
        let targets = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.0, 1.5]).view([1, n, 1]);
        // Input unit 1 dropped in every row; hidden unit 2 of the first layer dropped too.
        let m0 = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 1.0]).view([1, 1, 4]).repeat([1, n, 1]);
        let m1 = Tensor::from_slice(&[1.0f32, 1.0, 0.0]).view([1, 1, 3]).repeat([1, n, 1]);
        let masks = vec![Some(m0), Some(m1), None];
        let l2 = 0.01;
        net.td_gradient(&states, &actions, &targets, &masks, l2).unwrap();

        // The same loss through autograd.
        let leaf = net.params().flat.detach().copy().set_requires_grad(true);
        let view = ParamBuffer::over(leaf.shallow_clone(), 1, &WIDTHS).unwrap();
        let mut h = states.shallow_clone();
        for (l, mask) in masks.iter().enumerate() {
            if let Some(m) = mask {
                h = &h * m;
            }
            h = view.biases[l].baddbmm(&h, &view.weights[l], 1.0, 1.0);
            if l < 2 {
                h = h.relu();
            }
        }
        let q = h.gather(2, &actions, false);
        let decay: Tensor = view.weights.iter().map(|w| (w * w).sum(Kind::Float)).sum::<Tensor>();
        let loss = ((&q - &targets).square().sum(Kind::Float) * 0.5 + decay * (l2 / 2.0)) / n as f64;
        let grads = Tensor::run_backward(&[loss], &[&leaf], false, false);
        assert!(net.grad().flat.allclose(&grads[0], 1e-5, 1e-6, false));

        let dw0 = host(&net.grad().weights[0]);
        let w0 = host(&net.params().weights[0]);
        // Row 1 of W1 (the dropped input) gets only weight decay.
        for j in 0..3 {
            assert!((dw0[3 + j] - l2 as f32 / n as f32 * w0[3 + j]).abs() < 1e-7);
        }
        // Column 2 of W1 and its bias feed the dropped hidden unit: decay only, no bias gradient.
        for i in 0..4 {
            assert!((dw0[i * 3 + 2] - l2 as f32 / n as f32 * w0[i * 3 + 2]).abs() < 1e-7);
        }
        assert_eq!(host(&net.grad().biases[0])[2], 0.0);
    }

    #[test]
    fn a_replay_target_is_the_reward_plus_gamma_times_the_best_next_value() {
        let net = nets(1);
        let next = [0.2f32, 0.7, 1.0, 0.0, 1.0, 1.0, 0.4, 27.0];
        let rewards = Tensor::from_slice(&[1.5f32, -6.0]).view([1, 2, 1]);
        let none = vec![None, None, None];
        let y = host(&td_targets(&net, &Tensor::from_slice(&next).view([1, 2, 4]), &rewards, &none, 0.7).unwrap());
        let ones = [vec![1.0; 4], vec![1.0; 3], vec![1.0; 3]];
        for (row, r) in [(0usize, 1.5f32), (1, -6.0)] {
            let q = host_forward(&net, 0, &next[4 * row..4 * row + 4], &ones);
            let expect = r + 0.7 * q[0].max(q[1]);
            assert!((y[row] - expect).abs() < 1e-5, "{y:?} {expect}");
        }
    }
}
