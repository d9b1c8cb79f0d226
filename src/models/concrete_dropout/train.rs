//! Training of member-batched concrete-dropout MLPs: every network learns its weights, one
//! dropout rate per weight layer (p = sigmoid(logit), started at `init_dropout`) and the log of
//! a homoscedastic noise variance (unless its noise precision is fixed), by Adam on mean
//! Gaussian NLL + regularizer, through autograd (the rates' gradient runs through the relaxed
//! masks). Each network's masks come from its own stream, so it trains the same alone or
//! batched.

use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::relaxation::{regularizer, relaxed_mask, uniforms};
use crate::error::Result;
use crate::models::family::{Progress, StackedRows};
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::host::f64_values;
use crate::models::nn::member_mlp::{MemberMlp, ParamBuffer};
use crate::models::optim::adam::libtorch_adam;
use crate::rng::{member_rng, MemberRng};
use crate::spec::raw::Activation;
use crate::spec::TrainingPlan;

/// One network of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcreteNet {
    pub seed: u64,
    pub row_offset: usize,
    /// The noise precision in standardized units when fixed; `None` learns it. A program's
    /// networks either all fix it or all learn it.
    pub precision: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ConcreteOptions {
    /// Layer widths, input to output: [D, H, ..., 1].
    pub widths: Vec<usize>,
    pub epochs: usize,
    pub training: TrainingPlan,
    /// Prior length-scale l of the weights.
    pub length_scale: f64,
    pub temperature: f64,
    pub init_dropout: f64,
}

impl ConcreteOptions {
    pub fn steps(&self, n: usize) -> u64 {
        MemberBatches::steps(self.epochs, n, self.training.batch_size)
    }
}

/// Trained networks with their rates and noise.
pub struct Trained {
    pub net: MemberMlp,
    /// Learned dropout rate [layers][member].
    pub rates: Vec<Vec<f64>>,
    /// Noise variance per member (learned or 1 / the fixed precision), standardized units.
    pub noise_variance: Vec<f64>,
}

impl Trained {
    /// Networks `index[j]` of these, as member j (members that share a network).
    pub fn select(&self, index: &[i64]) -> Result<Trained> {
        let params = self.net.params().select_members(index)?;
        let pick = |values: &[f64]| index.iter().map(|&i| values[i as usize]).collect::<Vec<_>>();
        Ok(Trained {
            net: MemberMlp::from_params(params, self.net.activation()),
            rates: self.rates.iter().map(|r| pick(r)).collect(),
            noise_variance: pick(&self.noise_variance),
        })
    }
}

/// The rates of every layer from their logits [L, K], as [K, 1, 1] per layer.
fn layer_rates(logits: &Tensor) -> Result<Vec<Tensor>> {
    let p = logits.f_sigmoid()?;
    (0..p.size()[0]).map(|l| Ok(p.f_get(l)?.f_view([-1, 1, 1])?)).collect()
}

/// Relaxed masks for `rows` rows of every stream, one per weight layer.
///
/// # Shapes
/// rates[l]: [S, 1, 1]; returns masks[l]: [S, rows, layer_inputs[l]]
pub fn draw_relaxed_masks(
    rngs: &mut [MemberRng],
    rates: &[Tensor],
    rows: usize,
    layer_inputs: &[usize],
    temperature: f64,
    device: Device,
) -> Result<Vec<Tensor>> {
    layer_inputs
        .iter()
        .zip(rates)
        .map(|(&width, p)| relaxed_mask(p, &uniforms(rngs, rows, width, device)?, temperature))
        .collect()
}

/// The networks' fixed precisions, or `None` when every network learns its noise.
fn fixed_precisions(nets: &[ConcreteNet]) -> Option<Vec<f32>> {
    let fixed: Vec<f32> = nets.iter().filter_map(|n| n.precision.map(|p| p as f32)).collect();
    assert!(fixed.is_empty() || fixed.len() == nets.len(), "a program's networks all learn or all fix their noise");
    (!fixed.is_empty()).then_some(fixed)
}

/// Trains every network on its own rows; `progress` advances once per mini-batch step.
pub fn fit(
    data: &StackedRows,
    nets: &[ConcreteNet],
    options: &ConcreteOptions,
    progress: &dyn Progress,
) -> Result<Trained> {
    let device = data.x.device();
    let k = nets.len() as i64;
    let layers = options.widths.len() - 1;
    let mut rngs: Vec<MemberRng> = nets.iter().map(|m| member_rng(m.seed)).collect();
    let start = MemberMlp::new(device, &options.widths, Activation::Relu, &mut rngs)?;
    let vs = nn::VarStore::new(device);
    let flat = vs.root().var_copy("weights", &start.params().flat);
    let init_logit = (options.init_dropout / (1.0 - options.init_dropout)).ln();
    let logits =
        vs.root().var_copy("dropout_logits", &Tensor::f_full([layers as i64, k], init_logit, (Kind::Float, device))?);
    let fixed = fixed_precisions(nets);
    let log_var = match &fixed {
        None => Some(vs.root().var_copy("log_noise_variance", &Tensor::f_zeros([k], (Kind::Float, device))?)),
        Some(_) => None,
    };
    let fixed = fixed.map(|p| Tensor::from_slice(&p).f_to_device(device)).transpose()?;
    let mut adam = libtorch_adam(&options.training).build(&vs, options.training.lr)?;
    let mut batches =
        MemberBatches::new(data.n, options.training.batch_size, nets.iter().map(|m| m.row_offset), device);
    let layer_inputs = &options.widths[..layers];
    for _ in 0..options.epochs {
        batches.shuffle(&mut rngs)?;
        for begin in batches.starts() {
            let (xb, yb, b) = batches.gather(data, begin)?;
            let params = ParamBuffer::over(flat.shallow_clone(), nets.len(), &options.widths)?;
            let rates = layer_rates(&logits)?;
            let masks = draw_relaxed_masks(&mut rngs, &rates, b, layer_inputs, options.temperature, device)?;
            let net = MemberMlp::from_params(params, Activation::Relu);
            let out = net.forward(&xb, Some(&masks))?;
            // Mean Gaussian NLL per member: (e^-s (y - f)^2 + s) / 2 with s the log noise
            // variance, or tau (y - f)^2 / 2 at a fixed precision tau; constants dropped.
            let r2 = out.f_sub(&yb)?.f_square()?.f_mean_dim([1i64, 2].as_slice(), false, Kind::Float)?;
            let nll = match (&log_var, &fixed) {
                (Some(s), _) => r2.f_mul(&s.f_neg()?.f_exp()?)?.f_add(s)?.f_mul_scalar(0.5)?,
                (None, Some(tau)) => r2.f_mul(tau)?.f_mul_scalar(0.5)?,
                (None, None) => unreachable!("the noise is either learned or fixed"),
            };
            let mut loss = nll;
            for (l, w) in net.params().weights.iter().enumerate() {
                loss = loss.f_add(&regularizer(&rates[l].f_view([-1])?, w, options.length_scale, data.n)?)?;
            }
            adam.backward_step(&loss.f_sum(Kind::Float)?);
            progress.advance(1);
        }
    }
    let p = f64_values(&logits.f_sigmoid()?)?;
    let rates = p.chunks(nets.len()).map(<[f64]>::to_vec).collect();
    let noise_variance = match (&log_var, &fixed) {
        (Some(s), _) => f64_values(&s.f_exp()?)?,
        (None, _) => nets.iter().filter_map(|n| n.precision).map(|p| 1.0 / p).collect(),
    };
    let net =
        MemberMlp::from_params(ParamBuffer::over(flat.f_detach()?, nets.len(), &options.widths)?, Activation::Relu);
    Ok(Trained { net, rates, noise_variance })
}
