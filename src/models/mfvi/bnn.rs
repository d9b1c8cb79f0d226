//! Mean-field Gaussian variational BNN: a fully factorized Gaussian posterior over every
//! weight and bias, a zero-mean Gaussian prior, trained by maximizing the ELBO (Blundell et al.
//! 2015, "Bayes by Backprop") with the local reparameterization trick (Kingma et al. 2015):
//! each pre-activation is sampled from its Gaussian, mean h M + m_b and variance
//! h^2 S^2 + s_b^2, instead of sampling weights. Member-batched like the dropout networks.
//!
//! Loss of member k on a mini-batch of standardized targets (the negative ELBO per datum):
//! mean_i [tau_k/2 (y_i - f_i)^2 - 1/2 log tau_k] + KL(q_k || p_k) / N  (+ constants).
//! The noise precision tau_k is learned (log-parameterized) or fixed by the grid.

use rayon::prelude::*;
use tch::{nn, Device, Kind, Tensor};

use crate::error::Result;
use crate::models::nn::activation;
use crate::models::nn::member_mlp::per_stream_tensor;
use crate::rng::{fill_standard_normal, glorot_uniform, MemberRng};
use crate::spec::raw::Activation;

/// softplus^-1: the rho that gives posterior std `sigma`.
fn inverse_softplus(sigma: f64) -> f64 {
    sigma.exp_m1().ln()
}

/// K variational networks with identical widths.
pub struct MemberBnn {
    pub vs: nn::VarStore,
    /// Posterior means and rho (std = softplus(rho)) of weights [K, in, out] and biases [K, 1, out].
    mu_w: Vec<Tensor>,
    rho_w: Vec<Tensor>,
    mu_b: Vec<Tensor>,
    rho_b: Vec<Tensor>,
    /// Learned log noise precision per member, standardized units: [K].
    log_tau: Option<Tensor>,
    widths: Vec<usize>,
    activation: Activation,
}

impl MemberBnn {
    /// Means Glorot-uniform from each member's stream, biases' means zero, every posterior std
    /// `init_std`; `log_tau_init` makes the noise precision a parameter.
    pub fn new(
        device: Device,
        widths: &[usize],
        activation: Activation,
        init_std: f64,
        log_tau_init: Option<&[f64]>,
        rngs: &mut [MemberRng],
    ) -> Result<Self> {
        let k = rngs.len() as i64;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let rho = inverse_softplus(init_std);
        let (mut mu_w, mut rho_w, mut mu_b, mut rho_b) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (l, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let mut init = vec![0f32; rngs.len() * fan_in * fan_out];
            init.par_chunks_mut(fan_in * fan_out)
                .zip(rngs.par_iter_mut())
                .for_each(|(chunk, rng)| glorot_uniform(rng, fan_in, fan_out, chunk));
            let init = Tensor::from_slice(&init).f_view([k, fan_in as i64, fan_out as i64])?.f_to_device(device)?;
            mu_w.push(root.f_var_copy(&format!("mu_w{l}"), &init)?);
            rho_w.push(root.f_var_copy(&format!("rho_w{l}"), &init.f_full_like(rho)?)?);
            mu_b.push(root.f_zeros(&format!("mu_b{l}"), &[k, 1, fan_out as i64])?);
            rho_b.push(root.f_var_copy(
                &format!("rho_b{l}"),
                &Tensor::f_full([k, 1, fan_out as i64], rho, (Kind::Float, device))?,
            )?);
        }
        let log_tau = match log_tau_init {
            Some(init) => {
                let init: Vec<f32> = init.iter().map(|&v| v as f32).collect();
                Some(root.f_var_copy("log_tau", &Tensor::from_slice(&init).f_to_device(device)?)?)
            }
            None => None,
        };
        Ok(Self { vs, mu_w, rho_w, mu_b, rho_b, log_tau, widths: widths.to_vec(), activation })
    }

    /// Layer widths, input to output.
    pub fn widths(&self) -> &[usize] {
        &self.widths
    }

    /// Output width of every weight layer: the shapes the noise tensors must have.
    pub fn layer_outputs(&self) -> &[usize] {
        &self.widths[1..]
    }

    /// # Shapes
    /// x: [K, n, widths[0]]; noise[l]: [K, n, widths[l+1]] standard normals; returns
    /// [K, n, widths.last()]. `noise = None` runs the network of posterior means.
    pub fn forward(&self, x: &Tensor, noise: Option<&[Tensor]>) -> Result<Tensor> {
        let last = self.mu_w.len() - 1;
        let mut h = x.shallow_clone();
        for l in 0..=last {
            h = match noise {
                None => self.mean_preactivation(l, &h)?,
                Some(noise) => self.sampled_preactivation(l, &h, &self.layer_posterior(l)?, &noise[l])?.z,
            };
            if l < last {
                h = activation::forward(&h, self.activation)?;
            }
        }
        Ok(h)
    }

    /// Posterior stds and variances of layer `l`'s weights and biases.
    fn layer_posterior(&self, l: usize) -> Result<LayerPosterior> {
        let sigma_w = self.rho_w[l].f_softplus()?;
        let sigma_b = self.rho_b[l].f_softplus()?;
        Ok(LayerPosterior { var_w: sigma_w.f_square()?, var_b: sigma_b.f_square()?, sigma_w, sigma_b })
    }

    /// h M + m_b: layer `l`'s pre-activation under the posterior means.
    fn mean_preactivation(&self, l: usize, h: &Tensor) -> Result<Tensor> {
        Ok(self.mu_b[l].f_baddbmm(h, &self.mu_w[l], 1.0, 1.0)?)
    }

    /// Layer `l`'s pre-activation sampled by local reparameterization: its mean plus
    /// sqrt(var) eps, var = h^2 S^2 + s_b^2 being the pre-activation's own variance.
    fn sampled_preactivation(
        &self,
        l: usize,
        h: &Tensor,
        posterior: &LayerPosterior,
        eps: &Tensor,
    ) -> Result<SampledPreactivation> {
        let var = posterior.var_b.f_baddbmm(&h.f_square()?, &posterior.var_w, 1.0, 1.0)?;
        let std = var.f_clamp_min(1e-16)?.f_sqrt()?;
        let z = self.mean_preactivation(l, h)?.f_add(&std.f_mul(eps)?)?;
        Ok(SampledPreactivation { z, var, std })
    }

    /// KL(q || N(0, prior_std^2)) per member, closed form, over every weight and bias: [K].
    /// # Shapes
    /// prior_std: [K]
    pub fn kl(&self, prior_std: &Tensor) -> Result<Tensor> {
        let s = prior_std.f_view([-1, 1, 1])?;
        let s2 = s.f_square()?;
        let mut total: Option<Tensor> = None;
        for (mu, rho) in self.mu_w.iter().zip(&self.rho_w).chain(self.mu_b.iter().zip(&self.rho_b)) {
            let sigma = rho.f_softplus()?;
            // log(s / sigma) + (sigma^2 + mu^2) / (2 s^2) - 1/2
            let term = s
                .f_log()?
                .f_sub(&sigma.f_log()?)?
                .f_add(&sigma.f_square()?.f_add(&mu.f_square()?)?.f_div(&s2)?.f_mul_scalar(0.5)?)?
                .f_sub_scalar(0.5)?
                .f_sum_dim_intlist([1i64, 2].as_slice(), false, Kind::Float)?;
            total = Some(match total {
                None => term,
                Some(t) => t.f_add(&term)?,
            });
        }
        Ok(total.expect("a network has layers"))
    }

    /// Every posterior factor as (mean, std) tensors: weights then biases, layer by layer.
    pub fn posterior(&self) -> Result<Vec<(Tensor, Tensor)>> {
        self.mu_w
            .iter()
            .zip(&self.rho_w)
            .chain(self.mu_b.iter().zip(&self.rho_b))
            .map(|(mu, rho)| Ok((mu.detach().copy(), rho.f_softplus()?.detach())))
            .collect()
    }

    /// The learned log precision, standardized units: [K] (None when tau is fixed).
    pub fn log_tau(&self) -> Option<&Tensor> {
        self.log_tau.as_ref()
    }

    /// Every member's training loss on a mini-batch, the negative ELBO per datum: [K].
    /// mean over rows of tau/2 (y - f)^2 - 1/2 log tau, plus KL(q || prior) / n_train.
    /// The definition `elbo_gradient` differentiates by hand (its test checks it against
    /// autograd through this).
    /// # Shapes
    /// x: [K, b, widths[0]], y: [K, b, 1], noise as `forward`, log_tau and prior_std: [K]
    pub fn negative_elbo(
        &self,
        x: &Tensor,
        y: &Tensor,
        noise: &[Tensor],
        log_tau: &Tensor,
        prior_std: &Tensor,
        n_train: usize,
    ) -> Result<Tensor> {
        let out = self.forward(x, Some(noise))?;
        let tau = log_tau.f_exp()?.f_view([-1, 1, 1])?;
        let nll = out
            .f_sub(y)?
            .f_square()?
            .f_mul(&tau)?
            .f_mul_scalar(0.5)?
            .f_mean_dim([1i64, 2].as_slice(), false, Kind::Float)?
            .f_sub(&log_tau.f_mul_scalar(0.5)?)?;
        Ok(nll.f_add(&self.kl(prior_std)?.f_div_scalar(n_train as f64)?)?)
    }

    /// Every trainable tensor: weights' means and rhos, biases' means and rhos, and the log
    /// precision when it is learned.
    fn trainable(&self) -> Vec<&Tensor> {
        let mut all: Vec<&Tensor> = self.mu_w.iter().chain(&self.rho_w).chain(&self.mu_b).chain(&self.rho_b).collect();
        all.extend(self.log_tau.as_ref());
        all
    }

    /// Gives every trainable tensor a zero gradient, so `elbo_gradient` has tensors to write
    /// into (libtorch's optimizer reads them; its `zero_grad` would drop them again).
    pub fn allocate_gradients(&self) -> Result<()> {
        let mut total = Tensor::f_zeros([], (Kind::Float, self.vs.device()))?;
        for t in self.trainable() {
            total = total.f_add(&t.f_sum(Kind::Float)?.f_mul_scalar(0.0)?)?;
        }
        total.f_backward()?;
        Ok(())
    }

    /// Writes into each trainable tensor's `.grad()` the gradient of the members' summed
    /// `negative_elbo`, by hand instead of through autograd: no graph to record and fewer
    /// kernels, which are most of a step's cost at these sizes (`mcdrop bench vi`). Needs
    /// `allocate_gradients` once before.
    /// # Shapes
    /// as `negative_elbo`
    #[allow(clippy::needless_range_loop)] // one layer index addresses six per-layer vectors
    pub fn elbo_gradient(
        &self,
        x: &Tensor,
        y: &Tensor,
        noise: &[Tensor],
        log_tau: &Tensor,
        prior_std: &Tensor,
        n_train: usize,
    ) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let last = self.mu_w.len() - 1;
        // Forward, keeping what the backward pass needs per layer: its input h, the layer's
        // posterior, the pre-activation's std, and the hidden activations.
        let (mut inputs, mut posteriors, mut stds, mut hidden) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut h = x.shallow_clone();
        for l in 0..=last {
            let posterior = self.layer_posterior(l)?;
            let sampled = self.sampled_preactivation(l, &h, &posterior, &noise[l])?;
            inputs.push(h);
            posteriors.push(posterior);
            // Where the clamp was active its gradient is zero: mark those entries by an
            // infinite std, whose reciprocal below is zero.
            stds.push(sampled.std.f_masked_fill(&sampled.var.f_lt(1e-16)?, f64::INFINITY)?);
            h = if l < last {
                let a = activation::forward(&sampled.z, self.activation)?;
                hidden.push(a.shallow_clone());
                a
            } else {
                sampled.z
            };
        }
        let tau = log_tau.f_exp()?.f_view([-1, 1, 1])?;
        let residual = h.f_sub(y)?;
        let count = (residual.size()[1] * residual.size()[2]) as f64;
        if let Some(lt) = &self.log_tau {
            // d/d log tau of mean(tau/2 r^2) - 1/2 log tau
            let g = residual.f_square()?.f_mul(&tau)?.f_mean_dim([1i64, 2].as_slice(), false, Kind::Float)?;
            write_grad(lt, g.f_mul_scalar(0.5)?.f_sub_scalar(0.5)?.f_view_as(lt)?)?;
        }
        // KL / n per member: d/d mu = mu / (s^2 n); d/d sigma = (sigma / s^2 - 1 / sigma) / n.
        let inv_s2n = prior_std.f_square()?.f_mul_scalar(n_train as f64)?.f_reciprocal()?.f_view([-1, 1, 1])?;
        let inv_n = 1.0 / n_train as f64;
        let mut g = residual.f_mul(&tau)?.f_mul_scalar(1.0 / count)?;
        for l in (0..=last).rev() {
            // z = mean + std * eps with std^2 = h^2 S^2 + s_b^2: d/d var = g eps / (2 std).
            let dvar = g.f_mul(&noise[l])?.f_div(&stds[l])?.f_mul_scalar(0.5)?;
            let h2t = inputs[l].f_square()?.f_transpose(1, 2)?;
            // Weights: the mean's gradient, and the std's through var_w = sigma_w^2.
            write_grad(
                &self.mu_w[l],
                self.mu_w[l].f_mul(&inv_s2n)?.f_baddbmm(&inputs[l].f_transpose(1, 2)?, &g, 1.0, 1.0)?,
            )?;
            let LayerPosterior { sigma_w, sigma_b, var_w, .. } = &posteriors[l];
            let d_sigma_w = kl_sigma_gradient(sigma_w, &inv_s2n, inv_n)?
                .f_add(&h2t.f_bmm(&dvar)?.f_mul(sigma_w)?.f_mul_scalar(2.0)?)?;
            write_grad(&self.rho_w[l], self.rho_w[l].f_softplus_backward(&d_sigma_w, 1.0, 20.0)?)?;
            // Biases likewise, summed over rows.
            write_grad(
                &self.mu_b[l],
                self.mu_b[l].f_mul(&inv_s2n)?.f_add(&g.f_sum_dim_intlist([1i64].as_slice(), true, Kind::Float)?)?,
            )?;
            let d_sigma_b = kl_sigma_gradient(sigma_b, &inv_s2n, inv_n)?.f_add(
                &dvar.f_sum_dim_intlist([1i64].as_slice(), true, Kind::Float)?.f_mul(sigma_b)?.f_mul_scalar(2.0)?,
            )?;
            write_grad(&self.rho_b[l], self.rho_b[l].f_softplus_backward(&d_sigma_b, 1.0, 20.0)?)?;
            if l > 0 {
                // d/dh = g M^T + 2 h (dvar S^2^T), then through the activation.
                let upstream = g
                    .f_bmm(&self.mu_w[l].f_transpose(1, 2)?)?
                    .f_add(&dvar.f_bmm(&var_w.f_transpose(1, 2)?)?.f_mul(&inputs[l])?.f_mul_scalar(2.0)?)?;
                g = activation::backward(&upstream, &hidden[l - 1], self.activation)?;
            }
        }
        Ok(())
    }
}

/// Posterior stds (softplus of rho) and variances of one layer's weights [K, in, out] and
/// biases [K, 1, out].
struct LayerPosterior {
    sigma_w: Tensor,
    sigma_b: Tensor,
    var_w: Tensor,
    var_b: Tensor,
}

/// A sampled pre-activation z, its variance, and its std sqrt(max(var, 1e-16)).
struct SampledPreactivation {
    z: Tensor,
    var: Tensor,
    std: Tensor,
}

/// Overwrites `param`'s gradient (allocated by `allocate_gradients`) with `value`.
fn write_grad(param: &Tensor, value: Tensor) -> Result<()> {
    let mut grad = param.grad();
    grad.f_copy_(&value)?;
    Ok(())
}

/// The KL term's gradient with respect to a posterior std, per datum: (sigma / s^2 - 1/sigma) / n.
fn kl_sigma_gradient(sigma: &Tensor, inv_s2n: &Tensor, inv_n: f64) -> Result<Tensor> {
    Ok(sigma.f_mul(inv_s2n)?.f_sub(&sigma.f_reciprocal()?.f_mul_scalar(inv_n)?)?)
}

/// Standard-normal noise for the sampled pre-activations of `rows` rows, each member (or
/// member-sample) from its own stream. On a GPU it is drawn on the device from libtorch's
/// generator instead (seeded per program, as dropout masks are): host noise copied over every
/// step costs more than the step there.
/// # Shapes
/// returns noise[l]: [len(rngs), rows, layer_outputs[l]]
pub fn draw_noise(rngs: &mut [MemberRng], rows: usize, layer_outputs: &[usize], device: Device) -> Result<Vec<Tensor>> {
    if device != Device::Cpu {
        let streams = rngs.len() as i64;
        return layer_outputs
            .iter()
            .map(|&width| Ok(Tensor::f_randn([streams, rows as i64, width as i64], (Kind::Float, device))?))
            .collect();
    }
    layer_outputs
        .iter()
        .map(|&width| per_stream_tensor(rngs, rows, width, device, |_, rng, chunk| fill_standard_normal(rng, chunk)))
        .collect()
}
