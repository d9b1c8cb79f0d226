//! The ensemble's networks: member-batched ReLU MLPs (`MemberMlp`) with Torch's default
//! initialization, as the deep-ensembles paper used, and the Gaussian head on their output.

use tch::{Device, Tensor};

use crate::error::Result;
use crate::models::nn::member_mlp::{MemberMlp, ParamBuffer};
use crate::rng::{uniform, MemberRng};
use crate::spec::raw::Activation;

/// What each network is trained to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// Mean and variance (softplus of the second output plus a floor), Gaussian NLL.
    Gaussian,
    /// The mean alone, squared error; the ensemble's spread is its variance.
    Mean,
}

impl Head {
    pub fn outputs(self) -> usize {
        match self {
            Head::Gaussian => 2,
            Head::Mean => 1,
        }
    }
}

/// K networks of `widths` (input to output), weights and biases uniform in +-1 / sqrt(fan_in)
/// (Torch's `nn.Linear` default), each from its own stream.
pub fn torch_default_mlp(device: Device, widths: &[usize], rngs: &mut [MemberRng]) -> Result<MemberMlp> {
    let k = rngs.len();
    let mut init = vec![0f32; ParamBuffer::len(k, widths)];
    let mut offset = 0;
    for pair in widths.windows(2) {
        let (fan_in, fan_out) = (pair[0], pair[1]);
        let bound = 1.0 / (fan_in as f64).sqrt();
        let mut draw = |count: usize, at: usize, rng: &mut MemberRng| {
            for v in &mut init[at..at + count] {
                *v = ((2.0 * uniform(rng) - 1.0) * bound) as f32;
            }
        };
        for (m, rng) in rngs.iter_mut().enumerate() {
            draw(fan_in * fan_out, offset + m * fan_in * fan_out, rng);
        }
        offset += k * fan_in * fan_out;
        for (m, rng) in rngs.iter_mut().enumerate() {
            draw(fan_out, offset + m * fan_out, rng);
        }
        offset += k * fan_out;
    }
    let flat = Tensor::from_slice(&init).f_to_device(device)?;
    Ok(MemberMlp::from_params(ParamBuffer::over(flat, k, widths)?, Activation::Relu))
}

/// Mean and variance of a network output [K, n, outputs]: for `Head::Gaussian` the variance is
/// softplus(second output) + `floor`; for `Head::Mean` there is none (`None`).
///
/// # Shapes
/// returns (mean [K, n], variance [K, n])
pub fn split_head(out: &Tensor, head: Head, floor: f64) -> Result<(Tensor, Option<Tensor>)> {
    let mean = out.f_select(2, 0)?;
    Ok(match head {
        Head::Gaussian => (mean, Some(out.f_select(2, 1)?.f_softplus()?.f_add_scalar(floor)?)),
        Head::Mean => (mean, None),
    })
}

/// Each network's training loss on its rows: the mean Gaussian NLL (constant dropped) or the
/// mean squared error.
///
/// # Shapes
/// mean, variance, y: [K, b]; returns [K]
pub fn member_loss(mean: &Tensor, variance: Option<&Tensor>, y: &Tensor) -> Result<Tensor> {
    let r2 = mean.f_sub(y)?.f_square()?;
    let per_row = match variance {
        Some(v) => v.f_log()?.f_add(&r2.f_div(v)?)?.f_mul_scalar(0.5)?,
        None => r2,
    };
    Ok(per_row.f_mean_dim([1i64].as_slice(), false, per_row.kind())?)
}
