//! MC dropout for regression (paper sections 3 and 5.3): train member-batched MLPs with
//! dropout before every weight layer and an L2 penalty, then predict with dropout ON,
//! averaging T stochastic passes.
//!
//! Training loss of member k on a mini-batch (as the reference code's Keras model):
//! mean((f_k(x) - y)^2) + lambda_k * sum of squared weights (no 1/2), on standardized y.

use indicatif::ProgressBar;
use tch::{Device, Tensor};

use super::batches::MemberBatches;
use super::flat_adam::FlatAdam;
use super::mc_predictive::{mc_predictive, HeldOut};
use super::member_mlp::{draw_masks, mlp_widths, seed_device_generator, MaskSource, MemberMlp};
use crate::error::Result;
use crate::protocol::regression::{Env, Hyper, Program, RegressionFamily, Scores};
use crate::rng::{derive_seed, member_rng, MemberRng};
use crate::spec::raw::Activation;
use crate::spec::{MlpPlan, TrainingPlan, UciSetPlan};

/// MC dropout as a UCI model family: the grid is dropout rate x tau, the weight decay follows
/// the spec's rule, test scores are MC RMSE, MC log-likelihood and the standard-dropout RMSE.
pub struct McDropoutFamily {
    pub mlp: MlpPlan,
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

impl McDropoutFamily {
    pub fn fit_options(&self, set: &UciSetPlan, inputs: usize) -> FitOptions {
        FitOptions {
            widths: mlp_widths(inputs, set.hidden_units, self.mlp.hidden_layers),
            activation: self.mlp.activation,
            epochs: set.epochs,
            batch_size: self.training.batch_size,
            optimizer: self.training.clone(),
        }
    }

    /// The program's held-out rows, with each member's target scaling and precision tau.
    pub fn held_out(&self, program: &Program) -> HeldOut {
        HeldOut::of_program(program, program.members.iter().map(|m| m.get("tau")).collect())
    }

    /// The program's members as dropout networks.
    pub fn members(&self, program: &Program) -> Vec<Member> {
        program
            .members
            .iter()
            .map(|m| {
                let (p, tau) = (m.get("dropout"), m.get("tau"));
                Member {
                    seed: m.seed,
                    dropout: p,
                    weight_decay: self.mlp.weight_decay.lambda(p, tau, program.n),
                    row_offset: m.row_offset,
                }
            })
            .collect()
    }
}

impl RegressionFamily for McDropoutFamily {
    fn name(&self) -> &'static str {
        "mc_dropout"
    }

    fn grid(&self, set: &UciSetPlan) -> Vec<Hyper> {
        let mut points = Vec::new();
        for &p in &self.mlp.dropout_rates {
            for &tau in &set.taus {
                points.push(vec![("dropout".to_string(), p), ("tau".to_string(), tau)]);
            }
        }
        points
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        fit_steps(n, &self.fit_options(set, 1))
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let options = self.fit_options(set, program.held_x.size()[2] as usize);
        let members = self.members(program);
        let held_out = self.held_out(program);
        let net = fit(&program.stacked, program.n, &members, &options, env.device, env.progress)?;
        env.progress.set_message(format!("MC evaluation, T={}", self.mc_samples));
        let (scores, _) = evaluate(&net, &members, &held_out, self.mc_samples, env.mc_budget, env.device)?;
        Ok(scores
            .into_iter()
            .map(|s| Scores { rmse: s.rmse_mc, ll: s.ll, extra: vec![("rmse_standard".to_string(), s.rmse_standard)] })
            .collect())
    }
}

/// One network of a batched program.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Seeds its weights, data order and dropout masks.
    pub seed: u64,
    pub dropout: f64,
    /// L2 coefficient lambda on its weights.
    pub weight_decay: f64,
    /// Its training rows are `row_offset .. row_offset + n` of the stacked data.
    pub row_offset: usize,
}

/// Training rows of several data sets stacked on the device (standardized).
///
/// # Shapes
/// x: [R, D], y: [R]
pub struct StackedRows {
    pub x: Tensor,
    pub y: Tensor,
}

/// Architecture and schedule shared by all members of a program.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Layer widths, input to output: [D, H, ..., 1].
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: TrainingPlan,
}

/// Trains every member on its own `n` rows; `progress` advances once per mini-batch step.
pub fn fit(
    data: &StackedRows,
    n: usize,
    members: &[Member],
    options: &FitOptions,
    device: Device,
    progress: &ProgressBar,
) -> Result<MemberMlp> {
    let mut rngs: Vec<MemberRng> = members.iter().map(|m| member_rng(m.seed)).collect();
    let net = MemberMlp::new(device, &options.widths, options.activation, &mut rngs)?;
    let mut adam = FlatAdam::new(net.params(), &options.optimizer)?;
    let rates: Vec<f64> = members.iter().map(|m| m.dropout).collect();
    if device != Device::Cpu {
        seed_device_generator(members.iter().map(|m| m.seed));
    }
    let masks = MaskSource::new(&rates, device)?;
    // The gradient of lambda * sum W^2 is 2 lambda W.
    let two_lambda: Vec<f32> = members.iter().map(|m| (2.0 * m.weight_decay) as f32).collect();
    let two_lambda = Tensor::from_slice(&two_lambda).f_view([members.len() as i64, 1, 1])?.f_to_device(device)?;
    let mut batches = MemberBatches::new(n, options.batch_size, members.iter().map(|m| m.row_offset), device);
    for _ in 0..options.epochs {
        batches.shuffle(&mut rngs)?;
        for start in batches.starts() {
            let (xb, yb, b) = batches.gather(data, start)?;
            let step_masks = masks.draw(&mut rngs, b, net.layer_inputs())?;
            net.loss_gradient(&xb, &yb, &step_masks, &two_lambda, &adam.grad)?;
            adam.step(net.params())?;
            progress.inc(1);
        }
    }
    Ok(net)
}

/// Mini-batch steps `fit` takes, for progress bars.
pub fn fit_steps(n: usize, options: &FitOptions) -> u64 {
    (options.epochs * n.div_ceil(options.batch_size)) as u64
}

/// Per-member regression scores in original units.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegressionScores {
    /// RMSE of the MC predictive mean.
    pub rmse_mc: f64,
    /// RMSE of one deterministic pass with dropout off ("standard dropout").
    pub rmse_standard: f64,
    /// Mean MC test log-likelihood (paper's estimator, see `metrics`).
    pub ll: f64,
}

/// Scores every member with `samples` MC passes. On the CPU this runs the mask-free host
/// evaluator (`mc_host`); elsewhere dense masks in chunks of at most `budget` activations.
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
        let scores = super::mc_host::evaluate_on_host(net, members, held_out, samples)?;
        return Ok((scores, super::mc_host::SAMPLES_PER_TASK.min(samples)));
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
    let chunk = (budget / (members.len() * held_out.n * widest).max(1)).clamp(1, samples);
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
