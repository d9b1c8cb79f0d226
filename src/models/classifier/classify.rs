//! What the MNIST evaluation needs of a trained classifier, and the MC predictive built from
//! it: the interface both the dropout LeNet and the variational MLP implement.

use tch::{Device, Kind, Tensor};

use crate::error::Result;

/// What the evaluation needs of a trained classifier.
pub trait Classifier {
    /// One deterministic pass: dropout off, or the network of posterior means.
    /// # Shapes
    /// images: [n, 1, 28, 28] -> [n, 10]
    fn standard_logits(&self, images: &Tensor) -> Result<Tensor>;
    /// `samples` stochastic passes (torch's generator: seed it with `tch::manual_seed`).
    /// # Shapes
    /// images: [n, 1, 28, 28] -> [samples, n, 10]
    fn sample_logits(&self, images: &Tensor, samples: usize) -> Result<Tensor>;
}

/// Softmax probabilities averaged over `samples` stochastic passes (the MC predictive), and
/// those of the standard pass, in chunks of `chunk` images. Both [n * 10] row-major, host.
pub fn predictive_probabilities(
    clf: &dyn Classifier,
    images: &Tensor,
    samples: usize,
    chunk: usize,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let _guard = tch::no_grad_guard();
    let n = images.size()[0];
    let (mut mc, mut standard) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < n {
        let len = (chunk as i64).min(n - start);
        let x = images.f_narrow(0, start, len)?;
        let logits = clf.sample_logits(&x, samples)?;
        let probs = if crate::mutation::active(crate::mutation::Mutation::MnistLogitAveraging) {
            logits.f_mean_dim(0, false, Kind::Float)?.f_softmax(-1, Kind::Float)?
        } else {
            logits.f_softmax(-1, Kind::Float)?.f_mean_dim(0, false, Kind::Float)?
        };
        mc.extend(Vec::<f32>::try_from(&probs.f_flatten(0, -1)?.f_to_device(Device::Cpu)?)?);
        let probs = clf.standard_logits(&x)?.f_softmax(-1, Kind::Float)?;
        standard.extend(Vec::<f32>::try_from(&probs.f_flatten(0, -1)?.f_to_device(Device::Cpu)?)?);
        start += len;
    }
    Ok((mc, standard))
}
