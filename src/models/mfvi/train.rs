//! Training of the member-batched variational networks: each member maximizes its ELBO on its
//! own rows with Adam, the gradient by hand (`MemberBnn::elbo_gradient`) or, for the bench,
//! by autograd.

use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::bnn::{draw_noise, MemberBnn};
use crate::device::cuda_graph::eager_reason;
use crate::error::{Error, Result};
use crate::models::family::{Progress, StackedRows};
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::member_mlp::seed_device_generator;
use crate::models::optim::adam::{libtorch_adam, ReplayedSteps, TensorAdam};
use crate::models::optim::epoch_replay::EpochReplay;
use crate::models::optim::Optimizer;
use crate::rng::{member_rng, MemberRng};
use crate::spec::raw::Activation;
use crate::spec::TrainingPlan;

/// One variational network of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct BnnMember {
    pub seed: u64,
    pub prior_std: f64,
    /// Fixed noise precision in standardized units; `None`: learned.
    pub tau: Option<f64>,
    pub row_offset: usize,
}

/// Architecture, schedule and initialization shared by all members of a program.
#[derive(Debug, Clone)]
pub struct BnnOptions {
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub epochs: usize,
    /// Optimiser and mini-batch size.
    pub training: TrainingPlan,
    pub init_posterior_std: f64,
    /// Initial noise std (standardized units) when tau is learned.
    pub init_noise_std: f64,
    pub gradient: ElboGradient,
}

impl BnnOptions {
    /// Mini-batch steps `fit` takes on `n` rows per member, for progress bars.
    pub fn steps(&self, n: usize) -> u64 {
        MemberBatches::steps(self.epochs, n, self.training.batch_size)
    }
}

/// How the trainer differentiates the ELBO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ElboGradient {
    /// `MemberBnn::elbo_gradient` (what the protocol uses).
    #[default]
    Hand,
    /// Autograd through `MemberBnn::negative_elbo`: the reference `bench vi` times it against.
    Autograd,
}

/// Trains every member on its own `data.n` rows by maximizing its ELBO, on the device the rows
/// are on; `progress` advances once per mini-batch step.
pub fn fit(
    data: &StackedRows,
    members: &[BnnMember],
    options: &BnnOptions,
    progress: &dyn Progress,
) -> Result<MemberBnn> {
    let device = data.x.device();
    let n = data.n;
    let mut rngs: Vec<MemberRng> = members.iter().map(|m| member_rng(m.seed)).collect();
    if device != Device::Cpu {
        seed_device_generator(members.iter().map(|m| m.seed));
    }
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
    // Where epochs replay from a CUDA graph, `TensorAdam` (libtorch's update with its step
    // count on the device); elsewhere libtorch's own Adam, as the records were made.
    let replayable = eager_reason(device).is_none() && options.gradient == ElboGradient::Hand;
    let mut optimizer = match replayable {
        true => BnnOptimizer::Replayable(TensorAdam::new(&net.vs, &options.training)?),
        false => BnnOptimizer::Libtorch(libtorch_adam(&options.training).build(&net.vs, options.training.lr)?),
    };
    let prior_std =
        Tensor::from_slice(&members.iter().map(|m| m.prior_std as f32).collect::<Vec<_>>()).f_to_device(device)?;
    let fixed_log_tau: Vec<f32> = members.iter().map(|m| m.tau.map_or(0.0, |t| t.ln()) as f32).collect();
    let fixed_log_tau = Tensor::from_slice(&fixed_log_tau).f_to_device(device)?;
    let mut batches = MemberBatches::new(n, options.training.batch_size, members.iter().map(|m| m.row_offset), device);
    let log_tau = net.log_tau().map_or_else(|| fixed_log_tau.shallow_clone(), |t| t.shallow_clone());
    // Gradients by hand, written in place every step (no zero_grad: it would drop them).
    net.allocate_gradients()?;
    let mut replay = EpochReplay::new(device, batches.starts().count(), 0);
    for epoch in 0..options.epochs {
        batches.shuffle(&mut rngs)?;
        let mut step = |progress: &dyn Progress, optimizer: &mut BnnOptimizer| -> Result<()> {
            for start in batches.starts() {
                let (xb, yb, b) = batches.gather(data, start)?;
                let noise = draw_noise(&mut rngs, b, net.layer_outputs(), device)?;
                match options.gradient {
                    ElboGradient::Hand => net.elbo_gradient(&xb, &yb, &noise, &log_tau, &prior_std, n)?,
                    ElboGradient::Autograd => {
                        optimizer.zero_grad();
                        net.negative_elbo(&xb, &yb, &noise, &log_tau, &prior_std, n)?
                            .f_sum(Kind::Float)?
                            .f_backward()?;
                    }
                }
                optimizer.step()?;
                progress.advance(1);
            }
            Ok(())
        };
        replay.epoch(epoch, progress, &mut step, &mut optimizer)?;
    }
    Ok(net)
}

/// libtorch's Adam, or `TensorAdam` where a CUDA graph records the steps.
enum BnnOptimizer {
    Libtorch(nn::Optimizer),
    Replayable(TensorAdam),
}

impl BnnOptimizer {
    fn zero_grad(&mut self) {
        match self {
            Self::Libtorch(o) => o.zero_grad(),
            Self::Replayable(o) => o.zero_grad(),
        }
    }

    fn step(&mut self) -> Result<()> {
        match self {
            Self::Libtorch(o) => {
                o.step();
                Ok(())
            }
            Self::Replayable(o) => o.step(),
        }
    }
}

impl ReplayedSteps for BnnOptimizer {
    fn count_on_device(&mut self, on: bool) -> Result<()> {
        match self {
            Self::Replayable(o) => o.count_on_device(on),
            Self::Libtorch(_) if !on => Ok(()),
            Self::Libtorch(_) => Err(Error::Device("libtorch's Adam keeps its step count on the host".into())),
        }
    }

    fn add_steps(&mut self, steps: i32) {
        if let Self::Replayable(o) = self {
            o.add_steps(steps);
        }
    }

    fn steps_taken(&self) -> i32 {
        match self {
            Self::Replayable(o) => o.steps_taken(),
            Self::Libtorch(_) => 0,
        }
    }
}
