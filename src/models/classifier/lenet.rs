//! The paper's LeNet (section 5.2, Caffe's lenet with dropout): conv 20@5x5, max-pool 2,
//! conv 50@5x5, max-pool 2, fc 500, ReLU, fc 10, softmax. Dropout (p = 0.5) sits before the
//! fully connected layers ("last", the paper's lenet-ip); "all" also drops after each
//! convolution block.
//!
//! MC dropout keeps dropout on at test time (`train = true` on purpose). With dropout only
//! before the fully connected layers, the convolutional features are deterministic, so they
//! are computed once and only the head is sampled T times.

use tch::{nn, nn::Module, Tensor};

use super::classify::Classifier;
use crate::error::Result;
use crate::spec::raw::DropoutPlacement;

/// Flattened features after the second pooling: 50 channels of 4 x 4.
const FEATURES: i64 = 50 * 4 * 4;

#[derive(Debug)]
pub struct LeNet {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    fc1: nn::Linear,
    fc2: nn::Linear,
    dropout: f64,
    placement: DropoutPlacement,
}

impl LeNet {
    pub fn new(vs: &nn::Path, dropout: f64, placement: DropoutPlacement) -> Self {
        Self {
            conv1: nn::conv2d(vs / "conv1", 1, 20, 5, Default::default()),
            conv2: nn::conv2d(vs / "conv2", 20, 50, 5, Default::default()),
            fc1: nn::linear(vs / "fc1", FEATURES, 500, Default::default()),
            fc2: nn::linear(vs / "fc2", 500, 10, Default::default()),
            dropout,
            placement,
        }
    }

    /// Sum of squared weights (not biases), for the L2 penalty.
    pub fn weights_l2(&self) -> Result<Tensor> {
        let mut total = self.conv1.ws.f_square()?.f_sum(tch::Kind::Float)?;
        for w in [&self.conv2.ws, &self.fc1.ws, &self.fc2.ws] {
            total = total.f_add(&w.f_square()?.f_sum(tch::Kind::Float)?)?;
        }
        Ok(total)
    }

    /// The convolutional part.
    /// # Shapes
    /// x: [n, 1, 28, 28] -> [n, 800]
    pub fn features(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let drop = train && self.placement == DropoutPlacement::All;
        let h = self.conv1.forward(x).f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?; // [n, 20, 12, 12]
        let h = h.f_dropout(self.dropout, drop)?;
        let h = self.conv2.forward(&h).f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)?; // [n, 50, 4, 4]
        let h = h.f_dropout(self.dropout, drop)?;
        Ok(h.f_flatten(1, -1)?) // [n, 800]
    }

    /// The fully connected part, dropout before each layer when `train`.
    /// # Shapes
    /// features: [n, 800] -> logits [n, 10]
    pub fn head(&self, features: &Tensor, train: bool) -> Result<Tensor> {
        let h = self.fc1.forward(&features.f_dropout(self.dropout, train)?).f_relu()?;
        Ok(self.fc2.forward(&h.f_dropout(self.dropout, train)?))
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
