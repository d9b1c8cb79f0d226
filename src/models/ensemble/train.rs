//! Training of the ensemble's networks, all members of a program at once: Adam on each
//! network's mean loss over its mini-batch, each network from its own initialization and its
//! own order of the whole training split (no bagging), each at its own learning rate. With
//! adversarial training the loss is l(x) + l(x'), x' = x + eps * sign(dl/dx) (the fast gradient
//! sign method), eps a fraction of each input's range on the network's training rows.
//!
//! The gradient comes from autograd: the input gradient FGSM needs and the variance head make
//! a hand-written backward pass more code than it saves at 40 epochs.

use tch::{Kind, Tensor};

use super::network::{member_loss, split_head, torch_default_mlp, Head};
use crate::error::Result;
use crate::models::family::{Progress, StackedRows};
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::member_mlp::{MemberMlp, ParamBuffer};
use crate::models::optim::adam::FlatAdam;
use crate::models::optim::Optimizer;
use crate::rng::{member_rng, MemberRng};
use crate::spec::raw::Activation;
use crate::spec::TrainingPlan;

/// One network of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleNet {
    pub seed: u64,
    pub row_offset: usize,
    pub lr: f64,
}

/// Architecture and schedule shared by every network of a program.
#[derive(Debug, Clone)]
pub struct EnsembleOptions {
    /// Input, hidden..., outputs (2 for `Head::Gaussian`).
    pub widths: Vec<usize>,
    pub head: Head,
    pub epochs: usize,
    /// Mini-batch size and Adam's moments (its rate is each network's own).
    pub training: TrainingPlan,
    /// FGSM step as a fraction of each input's range; `None`: no adversarial training.
    pub adversarial: Option<f64>,
    /// Smallest variance of the Gaussian head (standardized units).
    pub variance_floor: f64,
}

impl EnsembleOptions {
    pub fn steps(&self, n: usize) -> u64 {
        MemberBatches::steps(self.epochs, n, self.training.batch_size)
    }
}

/// Each network's FGSM step per input column: `fraction` x (max - min) of the column on its
/// `n` training rows.
///
/// # Shapes
/// returns [K, 1, D]
fn input_steps(data: &StackedRows, nets: &[EnsembleNet], fraction: f64) -> Result<Tensor> {
    let n = data.n as i64;
    let steps = nets
        .iter()
        .map(|net| -> Result<Tensor> {
            let rows = data.x.f_narrow(0, net.row_offset as i64, n)?;
            let range = rows.f_amax([0i64].as_slice(), true)?.f_sub(&rows.f_amin([0i64].as_slice(), true)?)?;
            Ok(range.f_mul_scalar(fraction)?)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::f_stack(&steps, 0)?)
}

/// The networks' losses on (x, y), summed (each network's gradient is its own loss's).
///
/// # Shapes
/// x: [K, b, D], y: [K, b, 1]
pub fn summed_loss(net: &MemberMlp, x: &Tensor, y: &Tensor, options: &EnsembleOptions) -> Result<Tensor> {
    let (mean, var) = split_head(&net.forward(x, None)?, options.head, options.variance_floor)?;
    Ok(member_loss(&mean, var.as_ref(), &y.f_squeeze_dim(2)?)?.f_sum(Kind::Float)?)
}

/// The clean loss (its graph kept for the parameters' gradient) and the fast-gradient-sign
/// inputs x + eps * sign(d loss / d x), each network's from its own loss.
///
/// # Shapes
/// x: [K, b, D], y: [K, b, 1], eps: [K, 1, D]; returns ([], [K, b, D])
pub fn loss_and_adversary(
    net: &MemberMlp,
    x: &Tensor,
    y: &Tensor,
    eps: &Tensor,
    options: &EnsembleOptions,
) -> Result<(Tensor, Tensor)> {
    let leaf = x.f_detach()?.f_set_requires_grad(true)?;
    let clean = summed_loss(net, &leaf, y, options)?;
    let grad_x = Tensor::f_run_backward(&[&clean], &[&leaf], true, false)?.remove(0);
    Ok((clean, x.f_add(&grad_x.f_sign()?.f_mul(eps)?)?))
}

/// Trains every network on its own rows; `progress` advances once per mini-batch step.
pub fn fit(
    data: &StackedRows,
    nets: &[EnsembleNet],
    options: &EnsembleOptions,
    progress: &dyn Progress,
) -> Result<MemberMlp> {
    let device = data.x.device();
    let k = nets.len();
    let mut rngs: Vec<MemberRng> = nets.iter().map(|m| member_rng(m.seed)).collect();
    let start = torch_default_mlp(device, &options.widths, &mut rngs)?;
    let flat = start.params().flat.shallow_clone().f_set_requires_grad(true)?;
    let params = ParamBuffer::over(flat.shallow_clone(), k, &options.widths)?;
    let rates: Vec<f64> = nets.iter().map(|m| m.lr).collect();
    let mut adam = FlatAdam::with_member_rates(&params, &options.training, &rates)?;
    let eps = options.adversarial.map(|f| input_steps(data, nets, f)).transpose()?;
    let mut batches =
        MemberBatches::new(data.n, options.training.batch_size, nets.iter().map(|m| m.row_offset), device);
    for _ in 0..options.epochs {
        batches.shuffle(&mut rngs)?;
        for begin in batches.starts() {
            let (xb, yb, _) = batches.gather(data, begin)?;
            // Views of the leaf made each step, so the graph always starts from it.
            let net =
                MemberMlp::from_params(ParamBuffer::over(flat.shallow_clone(), k, &options.widths)?, Activation::Relu);
            let loss = match &eps {
                None => summed_loss(&net, &xb, &yb, options)?,
                Some(eps) => {
                    let (clean, x_adv) = loss_and_adversary(&net, &xb, &yb, eps, options)?;
                    clean.f_add(&summed_loss(&net, &x_adv, &yb, options)?)?
                }
            };
            let grad = Tensor::f_run_backward(&[&loss], &[&flat], false, false)?.remove(0);
            tch::no_grad(|| adam.grad.flat.shallow_clone().f_copy_(&grad))?;
            adam.step()?;
            progress.advance(1);
        }
    }
    let detached = flat.f_detach()?;
    Ok(MemberMlp::from_params(ParamBuffer::over(detached, k, &options.widths)?, Activation::Relu))
}
