//! Image classifiers for MNIST behind one interface: the dropout LeNet and the mean-field
//! variational MLP (softmax likelihood). The protocol trains them, saves them, and asks each
//! for a deterministic prediction ("standard") and for T stochastic ones (MC dropout masks or
//! posterior draws).
//!
//! Training losses, per mini-batch of a training set of N images:
//! - LeNet: mean cross-entropy + weight_decay / 2 * sum of squared weights (Caffe's L2), or
//!   with learned rates the concrete regularizer for the fully connected weights;
//! - VI: mean cross-entropy under one local-reparameterized draw + KL(q || p) / N (the
//!   negative ELBO per datum).

use tch::{nn, Device, Kind, Tensor};

use super::classify::Classifier;
use super::lenet::{HeadDropout, LeNet};
use crate::data::mnist::{CLASSES, PIXELS};
use crate::error::{Error, Result};
use crate::models::checkpoint::{fingerprint, locate, Checkpoints, TrainingState};
use crate::models::family::Progress;
use crate::models::mfvi::MemberBnn;
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::member_mlp::mlp_widths;
use crate::models::optim::adam::TensorAdam;
use crate::models::optim::sgd::TensorSgd;
use crate::models::optim::Optimizer;
use crate::rng::{derive_seed, member_rng, shuffle};
use crate::spec::{ClassifierPlan, SgdPlan, TrainingPlan};

/// A classifier with its parameters.
// One per training run, never in a collection: boxing LeNet's variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ImageClassifier {
    Lenet { vs: nn::VarStore, net: LeNet, weight_decay: f64 },
    Mfvi { net: MemberBnn, prior_std: f64 },
}

impl ImageClassifier {
    /// A fresh network; `seed` decides its initial weights.
    pub fn new(plan: &ClassifierPlan, device: Device, seed: u64) -> Result<Self> {
        match plan {
            ClassifierPlan::Lenet { dropout, placement, weight_decay, learned, .. } => {
                tch::manual_seed(seed as i64);
                let vs = nn::VarStore::new(device);
                let head = match learned {
                    None => HeadDropout::Fixed(*dropout),
                    Some(l) => HeadDropout::Concrete {
                        init: *dropout,
                        temperature: l.temperature,
                        length_scale: l.length_scale,
                    },
                };
                let net = LeNet::new(&vs.root(), head, *placement);
                Ok(Self::Lenet { vs, net, weight_decay: *weight_decay })
            }
            ClassifierPlan::Mfvi { hidden_layers, hidden_units, activation, prior_std, init_posterior_std } => {
                let mut widths = mlp_widths(PIXELS, *hidden_units, *hidden_layers);
                *widths.last_mut().expect("widths") = CLASSES;
                let mut rngs = vec![member_rng(seed)];
                let net = MemberBnn::new(device, &widths, *activation, *init_posterior_std, None, &mut rngs)?;
                Ok(Self::Mfvi { net, prior_std: *prior_std })
            }
        }
    }

    pub fn var_store(&self) -> &nn::VarStore {
        match self {
            Self::Lenet { vs, .. } => vs,
            Self::Mfvi { net, .. } => &net.vs,
        }
    }

    pub fn var_store_mut(&mut self) -> &mut nn::VarStore {
        match self {
            Self::Lenet { vs, .. } => vs,
            Self::Mfvi { net, .. } => &mut net.vs,
        }
    }

    /// Dropout rates learned in training (concrete dropout), none when they are fixed.
    pub fn learned_rates(&self) -> Result<Option<Vec<f64>>> {
        match self {
            Self::Lenet { net, .. } => net.learned_rates(),
            Self::Mfvi { .. } => Ok(None),
        }
    }

    /// The training loss of one mini-batch (see the module header).
    fn loss(&self, images: &Tensor, labels: &Tensor, n_train: usize) -> Result<Tensor> {
        match self {
            Self::Lenet { net, weight_decay, .. } => {
                let ce = cross_entropy(&net.forward_t(images, true)?, labels)?;
                Ok(ce.f_add(&net.penalty(*weight_decay, n_train)?)?)
            }
            Self::Mfvi { net, prior_std } => {
                let logits = bnn_logits(net, images, 1)?.f_squeeze_dim(0)?;
                let ce = cross_entropy(&logits, labels)?;
                let prior = Tensor::f_full([1], *prior_std, (Kind::Float, images.device()))?;
                Ok(ce.f_add(&net.kl(&prior)?.f_sum(Kind::Float)?.f_div_scalar(n_train as f64)?)?)
            }
        }
    }
}

impl Classifier for ImageClassifier {
    fn standard_logits(&self, images: &Tensor) -> Result<Tensor> {
        match self {
            Self::Lenet { net, .. } => net.standard_logits(images),
            Self::Mfvi { net, .. } => Ok(net.forward(&flat(images)?, None)?.f_squeeze_dim(0)?),
        }
    }

    fn sample_logits(&self, images: &Tensor, samples: usize) -> Result<Tensor> {
        match self {
            Self::Lenet { net, .. } => net.sample_logits(images, samples),
            Self::Mfvi { net, .. } => bnn_logits(net, images, samples),
        }
    }
}

/// Mean cross-entropy of logits [n, C] against labels [n].
fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    Ok(logits.f_cross_entropy_loss::<Tensor>(labels, None, tch::Reduction::Mean, -100, 0.0)?)
}

/// [n, 1, 28, 28] -> [1, n, 784] (one member).
fn flat(images: &Tensor) -> Result<Tensor> {
    Ok(images.f_flatten(1, -1)?.f_unsqueeze(0)?)
}

/// `samples` local-reparameterized passes of the variational net: [samples, n, 10].
fn bnn_logits(net: &MemberBnn, images: &Tensor, samples: usize) -> Result<Tensor> {
    let n = images.size()[0];
    let t = samples as i64;
    let x = flat(images)?.f_expand([t, n, PIXELS as i64], false)?.f_reshape([1, t * n, PIXELS as i64])?;
    let noise = net
        .layer_outputs()
        .iter()
        .map(|&w| Tensor::f_randn([1, t * n, w as i64], (Kind::Float, images.device())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(net.forward(&x, Some(&noise))?.f_view([t, n, CLASSES as i64])?)
}

/// Images and labels on the device.
/// # Shapes
/// images: [n, 1, 28, 28] in [0, 1]; labels: [n] int64
pub struct ImageSet {
    pub images: Tensor,
    pub labels: Tensor,
}

/// How a classifier is trained.
#[derive(Debug, Clone)]
pub struct ClassifierFit {
    pub epochs: usize,
    /// Optimiser and mini-batch size.
    pub training: TrainingPlan,
    /// Caffe's SGD instead of Adam, from the base rate `training.lr`.
    pub sgd: Option<SgdPlan>,
    /// Decides the data order and the masks or noise drawn by torch's generator.
    pub seed: u64,
}

impl ClassifierFit {
    /// Mini-batch steps of training on `n` images, for progress bars.
    pub fn steps(&self, n: usize) -> u64 {
        MemberBatches::steps(self.epochs, n, self.training.batch_size)
    }
}

/// The optimiser a classifier trains with: Adam, or Caffe's SGD.
fn optimizer(vs: &nn::VarStore, options: &ClassifierFit) -> Result<Box<dyn Optimizer>> {
    Ok(match options.sgd {
        Some(plan) => Box::new(TensorSgd::new(vs, options.training.lr, plan)?),
        None => Box::new(TensorAdam::new(vs, &options.training)?),
    })
}

/// Trains `clf` with Adam (or Caffe's SGD) for `options.epochs` passes in mini-batches;
/// `progress` advances once per step. Returns the mean loss of each epoch.
///
/// torch's generator (dropout masks, VI noise) is seeded afresh at the start of each epoch
/// from the fit's seed, because its state cannot be saved: so a training resumed from a
/// checkpoint (taken at the end of an epoch when `checkpoints` says one is due) continues as
/// if it had never stopped.
pub fn fit(
    clf: &mut ImageClassifier,
    data: &ImageSet,
    options: &ClassifierFit,
    progress: &dyn Progress,
    checkpoints: &dyn Checkpoints,
) -> Result<Vec<f64>> {
    let ClassifierFit { epochs, training, seed, .. } = options;
    let (epochs, seed) = (*epochs, *seed);
    let mut optimizer = optimizer(clf.var_store(), options)?;
    let n = data.labels.size()[0] as usize;
    let identity =
        fingerprint(&(options, n, clf.var_store().variables().keys().collect::<std::collections::BTreeSet<_>>()));
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut rng = member_rng(seed);
    let device = data.images.device();
    let mut epoch_losses = Vec::with_capacity(epochs);
    if let Some(state) = checkpoints.load()?.and_then(|b| TrainingState::from_bytes(&b, device)) {
        if state.fingerprint == identity {
            epoch_losses = resume(clf, optimizer.as_mut(), &state).map_err(locate(checkpoints))?;
            (rng, order) = (state.rngs[0].clone(), state.orders[0].clone());
            progress.advance(options.steps(n) / epochs.max(1) as u64 * state.epochs_done as u64);
            tracing::info!("resuming from a checkpoint after epoch {} of {epochs}", state.epochs_done);
        }
    }
    for epoch in epoch_losses.len()..epochs {
        tch::manual_seed(derive_seed(seed, &["epoch", &epoch.to_string()]) as i64);
        shuffle(&mut rng, &mut order);
        let mut total = 0.0;
        let mut steps = 0usize;
        for batch in order.chunks(training.batch_size) {
            let index = Tensor::from_slice(batch).f_to_device(device)?;
            let x = data.images.f_index_select(0, &index)?;
            let y = data.labels.f_index_select(0, &index)?;
            let loss = clf.loss(&x, &y, n)?;
            optimizer.zero_grad();
            loss.f_backward()?;
            optimizer.step()?;
            total += f64::try_from(&loss)?;
            steps += 1;
            progress.advance(1);
        }
        epoch_losses.push(total / steps.max(1) as f64);
        tracing::info!("epoch {}: mean training loss {:.4}", epoch_losses.len(), epoch_losses.last().expect("pushed"));
        if epoch + 1 < epochs && checkpoints.due() {
            let (mut tensors, steps) = optimizer.state();
            tensors.extend(clf.var_store().variables());
            tensors.push(("epoch_losses".into(), Tensor::from_slice(&epoch_losses)));
            let state = TrainingState {
                fingerprint: identity.clone(),
                epochs_done: epoch + 1,
                steps,
                rngs: vec![rng.clone()],
                orders: vec![order.clone()],
                tensors,
            };
            checkpoints.save(&state.to_bytes().map_err(locate(checkpoints))?)?;
        }
    }
    Ok(epoch_losses)
}

/// Copies a checkpoint's parameters and optimiser state into a fresh classifier and
/// optimiser; returns the losses of the epochs it has done.
fn resume(clf: &mut ImageClassifier, optimizer: &mut dyn Optimizer, state: &TrainingState) -> Result<Vec<f64>> {
    let _guard = tch::no_grad_guard();
    for (name, mut theta) in clf.var_store().variables() {
        let saved = state.tensor(&name).ok_or_else(|| Error::checkpoint(format!("lacks parameter `{name}`")))?;
        theta.f_copy_(saved)?;
    }
    optimizer.restore(&|name| state.tensor(name), state.steps)?;
    let losses = state.tensor("epoch_losses").ok_or_else(|| Error::checkpoint("lacks the epoch losses"))?;
    Ok(Vec::<f64>::try_from(losses)?)
}
