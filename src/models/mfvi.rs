//! Mean-field Gaussian variational BNN: a fully factorized Gaussian posterior over every
//! weight and bias, a zero-mean Gaussian prior, trained by maximizing the ELBO (Blundell et al.
//! 2015, "Bayes by Backprop") with the local reparameterization trick (Kingma et al. 2015):
//! each pre-activation is sampled from its Gaussian, mean h M + m_b and variance
//! h^2 S^2 + s_b^2, instead of sampling weights. Member-batched like the dropout networks.
//!
//! Loss of member k on a mini-batch of standardized targets (the negative ELBO per datum):
//! mean_i [tau_k/2 (y_i - f_i)^2 - 1/2 log tau_k] + KL(q_k || p_k) / N  (+ constants).
//! The noise precision tau_k is learned (log-parameterized) or fixed by the grid.

use indicatif::ProgressBar;
use rayon::prelude::*;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::batches::MemberBatches;
use super::mc_dropout::StackedRows;
use super::mc_predictive::{mc_predictive, HeldOut};
use super::member_mlp::{mlp_widths, per_stream_tensor};
use crate::error::Result;
use crate::protocol::regression::{Env, Hyper, Program, RegressionFamily, Scores};
use crate::rng::{derive_seed, fill_standard_normal, glorot_uniform, member_rng, MemberRng};
use crate::spec::raw::Activation;
use crate::spec::{MfviPlan, TrainingPlan, UciSetPlan};

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
                h = self.activate(&h)?;
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

    /// The hidden layers' nonlinearity.
    fn activate(&self, z: &Tensor) -> Result<Tensor> {
        Ok(match self.activation {
            Activation::Relu => z.f_relu()?,
            Activation::Tanh => z.f_tanh()?,
        })
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
                let a = self.activate(&sampled.z)?;
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
                g = match self.activation {
                    Activation::Relu => hidden[l - 1].f_threshold_backward(&upstream, 0.0)?,
                    Activation::Tanh => Tensor::f_tanh_backward(&upstream, &hidden[l - 1])?,
                };
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
/// member-sample) from its own stream.
/// # Shapes
/// returns noise[l]: [len(rngs), rows, layer_outputs[l]]
pub fn draw_noise(rngs: &mut [MemberRng], rows: usize, layer_outputs: &[usize], device: Device) -> Result<Vec<Tensor>> {
    layer_outputs
        .iter()
        .map(|&width| per_stream_tensor(rngs, rows, width, device, |_, rng, chunk| fill_standard_normal(rng, chunk)))
        .collect()
}

/// One variational network of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct BnnMember {
    pub seed: u64,
    pub prior_std: f64,
    /// Fixed noise precision in standardized units; `None`: learned.
    pub tau: Option<f64>,
    pub row_offset: usize,
}

#[derive(Debug, Clone)]
pub struct BnnOptions {
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: TrainingPlan,
    pub init_posterior_std: f64,
    /// Initial noise std (standardized units) when tau is learned.
    pub init_noise_std: f64,
}

/// How the trainer differentiates the ELBO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElboGradient {
    /// `MemberBnn::elbo_gradient` (what `fit` uses).
    Hand,
    /// Autograd through `MemberBnn::negative_elbo`: the reference `bench vi` times it against.
    Autograd,
}

/// Trains every member on its own `n` rows by maximizing its ELBO.
pub fn fit(
    data: &StackedRows,
    n: usize,
    members: &[BnnMember],
    options: &BnnOptions,
    device: Device,
    progress: &ProgressBar,
) -> Result<MemberBnn> {
    fit_with(data, n, members, options, device, progress, ElboGradient::Hand)
}

/// `fit` with the gradient computed by `gradient`.
pub fn fit_with(
    data: &StackedRows,
    n: usize,
    members: &[BnnMember],
    options: &BnnOptions,
    device: Device,
    progress: &ProgressBar,
    gradient: ElboGradient,
) -> Result<MemberBnn> {
    let mut rngs: Vec<MemberRng> = members.iter().map(|m| member_rng(m.seed)).collect();
    let learned = members.iter().any(|m| m.tau.is_none());
    let log_tau_init: Vec<f64> = members.iter().map(|_| -2.0 * options.init_noise_std.ln()).collect();
    let net = MemberBnn::new(
        device,
        &options.widths,
        options.activation,
        options.init_posterior_std,
        learned.then_some(&log_tau_init[..]),
        &mut rngs,
    )?;
    let adam = nn::Adam {
        beta1: options.optimizer.beta1,
        beta2: options.optimizer.beta2,
        wd: 0.0,
        eps: options.optimizer.eps,
        amsgrad: false,
    };
    let mut optimizer = adam.build(&net.vs, options.optimizer.lr)?;
    let prior_std =
        Tensor::from_slice(&members.iter().map(|m| m.prior_std as f32).collect::<Vec<_>>()).f_to_device(device)?;
    let fixed_log_tau: Vec<f32> = members.iter().map(|m| m.tau.map_or(0.0, |t| t.ln()) as f32).collect();
    let fixed_log_tau = Tensor::from_slice(&fixed_log_tau).f_to_device(device)?;
    let mut batches = MemberBatches::new(n, options.batch_size, members.iter().map(|m| m.row_offset), device);
    let log_tau = net.log_tau().map_or_else(|| fixed_log_tau.shallow_clone(), |t| t.shallow_clone());
    // Gradients by hand, written in place every step (no zero_grad: it would drop them).
    net.allocate_gradients()?;
    for _ in 0..options.epochs {
        batches.shuffle(&mut rngs)?;
        for start in batches.starts() {
            let (xb, yb, b) = batches.gather(data, start)?;
            let noise = draw_noise(&mut rngs, b, net.layer_outputs(), device)?;
            match gradient {
                ElboGradient::Hand => net.elbo_gradient(&xb, &yb, &noise, &log_tau, &prior_std, n)?,
                ElboGradient::Autograd => {
                    optimizer.zero_grad();
                    net.negative_elbo(&xb, &yb, &noise, &log_tau, &prior_std, n)?.f_sum(Kind::Float)?.f_backward()?;
                }
            }
            optimizer.step();
            progress.inc(1);
        }
    }
    Ok(net)
}

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
    let widest = *net.widths.iter().max().expect("widths") as i64;
    let chunk = (budget as i64 / (k * n * widest).max(1)).clamp(1, samples as i64) as usize;
    let seeds: Vec<u64> = members.iter().map(|m| derive_seed(m.seed, &["predictive"])).collect();
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
            extra: vec![("rmse_posterior_mean_net".to_string(), rmse_means), ("noise_tau".to_string(), *tau)],
        })
        .collect())
}

/// Mean-field VI as a UCI model family: the grid is prior std (x tau when tau is fixed).
pub struct MfviFamily {
    pub plan: MfviPlan,
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

impl MfviFamily {
    pub fn options(&self, set: &UciSetPlan, inputs: usize) -> BnnOptions {
        BnnOptions {
            widths: mlp_widths(inputs, set.hidden_units, self.plan.hidden_layers),
            activation: self.plan.activation,
            epochs: set.epochs,
            batch_size: self.training.batch_size,
            optimizer: self.training.clone(),
            init_posterior_std: self.plan.init_posterior_std,
            init_noise_std: self.plan.init_noise_std,
        }
    }

    /// The program's members as the trainer sees them.
    pub fn members(&self, program: &Program) -> Vec<BnnMember> {
        program
            .members
            .iter()
            .map(|m| BnnMember {
                seed: m.seed,
                prior_std: m.get("prior_scale"),
                // tau is given in original units; the network sees standardized targets.
                tau: (!self.plan.learn_noise).then(|| m.get("tau") * m.y_std * m.y_std),
                row_offset: m.row_offset,
            })
            .collect()
    }
}

impl RegressionFamily for MfviFamily {
    fn name(&self) -> &'static str {
        "mfvi"
    }

    fn grid(&self, set: &UciSetPlan) -> Vec<Hyper> {
        let mut points = Vec::new();
        for &s in &self.plan.prior_scales {
            if self.plan.learn_noise {
                points.push(vec![("prior_scale".to_string(), s)]);
            } else {
                for &tau in &set.taus {
                    points.push(vec![("prior_scale".to_string(), s), ("tau".to_string(), tau)]);
                }
            }
        }
        points
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        (set.epochs * n.div_ceil(self.training.batch_size)) as u64
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let options = self.options(set, program.held_x.size()[2] as usize);
        let members = self.members(program);
        let net = fit(&program.stacked, program.n, &members, &options, env.device, env.progress)?;
        env.progress.set_message(format!("predictive, T={}", self.mc_samples));
        let held = HeldOut::of_program(program, noise_precision(&net, &members, program)?);
        evaluate(&net, &members, &held, self.mc_samples, env.mc_budget, env.device)
    }
}
