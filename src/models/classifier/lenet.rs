//! The paper's LeNet (section 5.2, Caffe's lenet with dropout): conv 20@5x5, max-pool 2,
//! conv 50@5x5, max-pool 2, fc 500, ReLU, fc 10, softmax. Dropout (p = 0.5) sits before the
//! fully connected layers ("last", the paper's lenet-ip); "all" also drops after each
//! convolution block. With concrete dropout (Gal, Hron & Kendall 2017) the rate before each
//! fully connected layer is learned instead: the relaxed mask of
//! `models::concrete_dropout::relaxation`, whose regularizer replaces the L2 penalty of those
//! two layers (the convolutions keep theirs).
//!
//! MC dropout keeps dropout on at test time (`train = true` on purpose). With dropout only
//! before the fully connected layers, the convolutional features are deterministic, so they
//! are computed once and only the head is sampled T times.

use tch::{nn, nn::Module, Kind, Tensor};

use super::classify::Classifier;
use crate::error::Result;
use crate::models::concrete_dropout::relaxation::{regularizer, relaxed_mask};
use crate::spec::raw::DropoutPlacement;

/// Flattened features after the second pooling: 50 channels of 4 x 4.
const FEATURES: i64 = 50 * 4 * 4;

/// The learned rates of the two fully connected layers' inputs.
#[derive(Debug)]
pub struct ConcreteHead {
    /// [2]: sigmoid gives the rates before fc1 and fc2.
    p_logits: Tensor,
    temperature: f64,
    length_scale: f64,
}

/// How the dropout before the fully connected layers is set.
#[derive(Debug, Clone, Copy)]
pub enum HeadDropout {
    Fixed(f64),
    /// Learned rates started at `init`.
    Concrete {
        init: f64,
        temperature: f64,
        length_scale: f64,
    },
}

#[derive(Debug)]
pub struct LeNet {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
    /// The fixed rate (also the convolutions' with placement `all`).
    dropout: f64,
    concrete: Option<ConcreteHead>,
    placement: DropoutPlacement,
}

impl LeNet {
    /// Concrete dropout is only defined here for `placement: last` (the spec check says so).
    pub fn new(vs: &nn::Path, head: HeadDropout, placement: DropoutPlacement) -> Self {
        let (dropout, concrete) = match head {
            HeadDropout::Fixed(p) => (p, None),
            HeadDropout::Concrete { init, temperature, length_scale } => {
                let logit = (init / (1.0 - init)).ln();
                let p_logits = vs.var("p_logits", &[2], nn::Init::Const(logit));
                (init, Some(ConcreteHead { p_logits, temperature, length_scale }))
            }
        };
        Self {
            conv1: nn::conv2d(vs / "conv1", 1, 20, 5, Default::default()),
            conv2: nn::conv2d(vs / "conv2", 20, 50, 5, Default::default()),
            fc1: nn::linear(vs / "fc1", FEATURES, 500, Default::default()),
            fc2: nn::linear(vs / "fc2", 500, 10, Default::default()),
            dropout,
            concrete,
            placement,
        }
    }

    /// The penalty added to the mean cross-entropy of a batch from `rows` training images:
    /// weight_decay / 2 * the sum of squared weights (not biases), except that with learned
    /// rates the fully connected weights carry the concrete regularizer instead.
    pub fn penalty(&self, weight_decay: f64, rows: usize) -> Result<Tensor> {
        let square = |w: &Tensor| w.f_square()?.f_sum(Kind::Float);
        let mut l2 = square(&self.conv1.ws)?.f_add(&square(&self.conv2.ws)?)?;
        let Some(c) = &self.concrete else {
            for w in [&self.fc1.ws, &self.fc2.ws] {
                l2 = l2.f_add(&square(w)?)?;
            }
            return Ok(l2.f_mul_scalar(0.5 * weight_decay)?);
        };
        let mut total = l2.f_mul_scalar(0.5 * weight_decay)?;
        let rates = c.p_logits.f_sigmoid()?;
        for (i, fc) in [&self.fc1, &self.fc2].into_iter().enumerate() {
            // Linear weights are [out, in]; the regularizer takes [members, in, out].
            let w = fc.ws.f_transpose(0, 1)?.f_unsqueeze(0)?;
            let p = rates.f_narrow(0, i as i64, 1)?;
            total = total.f_add(&regularizer(&p, &w, c.length_scale, rows)?.f_sum(Kind::Float)?)?;
        }
        Ok(total)
    }

    /// The learned rates before fc1 and fc2, when they are learned.
    pub fn learned_rates(&self) -> Result<Option<Vec<f64>>> {
        let Some(c) = &self.concrete else { return Ok(None) };
        let rates = c.p_logits.f_sigmoid()?.f_to_kind(Kind::Double)?;
        Ok(Some(Vec::<f64>::try_from(&rates)?))
    }

    /// The convolutional part.
    /// # Shapes
    /// x: [n, 1, 28, 28] -> [n, 800]
    pub fn features(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let drop = train && self.placement == DropoutPlacement::All;
        let h = self.conv1.forward(x).f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?; // [n, 20, 12, 12]
        let h = fixed_dropout(&h, self.dropout, drop)?;
        let h = self.conv2.forward(&h).f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?; // [n, 50, 4, 4]
        let h = fixed_dropout(&h, self.dropout, drop)?;
        Ok(h.f_flatten(1, -1)?) // [n, 800]
    }

    /// The fully connected part, dropout before each layer when `train`.
    /// # Shapes
    /// features: [n, 800] -> logits [n, 10]
    pub fn head(&self, features: &Tensor, train: bool) -> Result<Tensor> {
        let h = self.fc1.forward(&self.drop(features, 0, train)?).f_relu()?;
        Ok(self.fc2.forward(&self.drop(&h, 1, train)?))
    }

    /// Dropout before fully connected layer `layer` (0 or 1): the fixed rate's Bernoulli
    /// mask, or the learned rate's relaxed one (uniforms from torch's generator).
    fn drop(&self, x: &Tensor, layer: i64, train: bool) -> Result<Tensor> {
        match &self.concrete {
            None => fixed_dropout(x, self.dropout, train),
            Some(_) if !train => Ok(x.shallow_clone()),
            Some(c) => {
                let p = c.p_logits.f_sigmoid()?.f_narrow(0, layer, 1)?;
                let u = Tensor::f_rand_like(x)?;
                Ok(x.f_mul(&relaxed_mask(&p, &u, c.temperature)?)?)
            }
        }
    }

    /// Logits with dropout on (`train`) or off.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.head(&self.features(x, train)?, train)
    }
}

impl Classifier for LeNet {
    fn standard_logits(&self, images: &Tensor) -> Result<Tensor> {
        self.forward_t(images, false)
    }

    fn sample_logits(&self, images: &Tensor, samples: usize) -> Result<Tensor> {
        let mut out = Vec::with_capacity(samples);
        match self.placement {
            DropoutPlacement::Last => {
                let features = self.features(images, false)?;
                for _ in 0..samples {
                    out.push(self.head(&features, true)?);
                }
            }
            DropoutPlacement::All => {
                for _ in 0..samples {
                    out.push(self.forward_t(images, true)?);
                }
            }
        }
        Ok(Tensor::f_stack(&out, 0)?) // [T, n, 10]
    }
}

/// Dropout at rate `p` when `train` (torch's own kernel); the check's mutation test draws the
/// mask at 2p instead, keeping the 1 / (1 - p) scale.
fn fixed_dropout(x: &Tensor, p: f64, train: bool) -> Result<Tensor> {
    if train && crate::mutation::active(crate::mutation::Mutation::DropoutTwiceP) {
        let keep = (1.0 - 2.0 * p).max(0.0);
        let mut mask = x.f_empty_like()?;
        let _ = mask.f_bernoulli_float_(keep)?;
        return Ok(x.f_mul(&mask)?.f_div_scalar(1.0 - p)?);
    }
    Ok(x.f_dropout(p, train)?)
}
