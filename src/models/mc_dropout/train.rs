//! Training of member-batched dropout MLPs. The loss of member k on a mini-batch (as the
//! reference code's Keras model): mean((f_k(x) - y)^2) + lambda_k * sum of squared weights
//! (no 1/2), on standardized y; its gradient is written by hand (`MemberMlp::loss_gradient`)
//! and applied by `FlatAdam`.

use tch::{Device, Tensor};

use super::member::Member;
use crate::error::{Error, Result};
use crate::models::checkpoint::{fingerprint, locate, Checkpoints, TrainingState};
use crate::models::family::{Progress, StackedRows};
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::member_mlp::{seed_device_generator, MaskSource, MemberMlp};
use crate::models::optim::adam::FlatAdam;
use crate::models::optim::epoch_replay::EpochReplay;
use crate::models::optim::Optimizer;
use crate::rng::{member_rng, MemberRng};
use crate::spec::raw::Activation;
use crate::spec::TrainingPlan;

/// Architecture and schedule shared by all members of a program.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Layer widths, input to output: [D, H, ..., 1].
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub epochs: usize,
    /// Optimiser and mini-batch size.
    pub training: TrainingPlan,
}

impl FitOptions {
    /// Mini-batch steps `fit` takes on `n` rows per member, for progress bars.
    pub fn steps(&self, n: usize) -> u64 {
        MemberBatches::steps(self.epochs, n, self.training.batch_size)
    }
}

/// Trains every member on its own `data.n` rows, on the device the rows are on; `progress`
/// advances once per mini-batch step. A checkpoint goes to `checkpoints` at the end of each
/// epoch it says is due, and a training that finds one of its own there continues from it.
pub fn fit(
    data: &StackedRows,
    members: &[Member],
    options: &FitOptions,
    progress: &dyn Progress,
    checkpoints: &dyn Checkpoints,
) -> Result<MemberMlp> {
    let device = data.x.device();
    let mut rngs: Vec<MemberRng> = members.iter().map(|m| member_rng(m.seed)).collect();
    let net = MemberMlp::new(device, &options.widths, options.activation, &mut rngs)?;
    let mut adam = FlatAdam::new(net.params(), &options.training)?;
    let identity = fingerprint(&(members, options, data.n));
    let rates: Vec<f64> = members.iter().map(|m| m.dropout).collect();
    if device != Device::Cpu {
        seed_device_generator(members.iter().map(|m| m.seed));
    }
    let masks = MaskSource::new(&rates, device)?;
    // The gradient of lambda * sum W^2 is 2 lambda W.
    let two_lambda: Vec<f32> = members.iter().map(|m| (2.0 * m.weight_decay) as f32).collect();
    let two_lambda = Tensor::from_slice(&two_lambda).f_view([members.len() as i64, 1, 1])?.f_to_device(device)?;
    let mut batches =
        MemberBatches::new(data.n, options.training.batch_size, members.iter().map(|m| m.row_offset), device);
    let mut first_epoch = 0;
    if let Some(state) = checkpoints.load()?.and_then(|b| TrainingState::from_bytes(&b, device)) {
        if state.fingerprint == identity {
            resume(&net, &mut adam, &state).map_err(locate(checkpoints))?;
            rngs = state.rngs;
            batches.restore_orders(state.orders);
            first_epoch = state.epochs_done;
            progress.advance(options.steps(data.n) / options.epochs.max(1) as u64 * first_epoch as u64);
            tracing::info!("resuming from a checkpoint after epoch {first_epoch} of {}", options.epochs);
        }
    }
    let steps_per_epoch = batches.starts().count();
    let mut replay = EpochReplay::new(device, steps_per_epoch, first_epoch);
    for epoch in first_epoch..options.epochs {
        batches.shuffle(&mut rngs)?;
        let mut step = |progress: &dyn Progress, adam: &mut FlatAdam| -> Result<()> {
            for start in batches.starts() {
                let (xb, yb, b) = batches.gather(data, start)?;
                let step_masks = masks.draw(&mut rngs, b, net.layer_inputs())?;
                net.loss_gradient(&xb, &yb, &step_masks, &two_lambda, &adam.grad)?;
                adam.step()?;
                progress.advance(1);
            }
            Ok(())
        };
        replay.epoch(epoch, progress, &mut step, &mut adam)?;
        if epoch + 1 < options.epochs && checkpoints.due() {
            let (moments, steps) = adam.state();
            let mut tensors = vec![("params".into(), net.params().flat.shallow_clone())];
            tensors.extend(moments);
            let state = TrainingState {
                fingerprint: identity.clone(),
                epochs_done: epoch + 1,
                steps,
                rngs: rngs.clone(),
                orders: batches.orders().to_vec(),
                tensors,
            };
            checkpoints.save(&state.to_bytes().map_err(locate(checkpoints))?)?;
        }
    }
    Ok(net)
}

/// Copies a checkpoint's parameters and Adam moments into a fresh network and optimiser.
fn resume(net: &MemberMlp, adam: &mut FlatAdam, state: &TrainingState) -> Result<()> {
    let params = state.tensor("params").ok_or_else(|| Error::checkpoint("lacks the parameters `params`"))?;
    tch::no_grad(|| net.params().flat.shallow_clone().f_copy_(params))?;
    adam.restore(&|name| state.tensor(name), state.steps)
}
