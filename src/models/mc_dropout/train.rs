//! Training of member-batched dropout MLPs. The loss of member k on a mini-batch (as the
//! reference code's Keras model): mean((f_k(x) - y)^2) + lambda_k * sum of squared weights
//! (no 1/2), on standardized y; its gradient is written by hand (`MemberMlp::loss_gradient`)
//! and applied by `FlatAdam`.

use tch::{Device, Tensor};

use super::member::Member;
use crate::error::Result;
use crate::models::family::{Progress, StackedRows};
use crate::models::shared::adam::FlatAdam;
use crate::models::shared::batches::MemberBatches;
use crate::models::shared::member_mlp::{seed_device_generator, MaskSource, MemberMlp};
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
/// advances once per mini-batch step.
pub fn fit(data: &StackedRows, members: &[Member], options: &FitOptions, progress: &dyn Progress) -> Result<MemberMlp> {
    let device = data.x.device();
    let mut rngs: Vec<MemberRng> = members.iter().map(|m| member_rng(m.seed)).collect();
    let net = MemberMlp::new(device, &options.widths, options.activation, &mut rngs)?;
    let mut adam = FlatAdam::new(net.params(), &options.training)?;
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
    for _ in 0..options.epochs {
        batches.shuffle(&mut rngs)?;
        for start in batches.starts() {
            let (xb, yb, b) = batches.gather(data, start)?;
            let step_masks = masks.draw(&mut rngs, b, net.layer_inputs())?;
            net.loss_gradient(&xb, &yb, &step_masks, &two_lambda, &adam.grad)?;
            adam.step(net.params())?;
            progress.advance(1);
        }
    }
    Ok(net)
}
