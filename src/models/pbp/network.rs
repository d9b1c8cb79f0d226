//! One PBP network: a factorized Gaussian posterior over every weight, a Gamma over the noise
//! precision and a shared Gamma over the weight prior's precision, with the forward pass of
//! moments and its backward pass.
//!
//! Every layer takes a bias input (mean 1, variance 0) and scales its pre-activation by
//! 1 / sqrt(inputs + 1); hidden layers are ReLU, the output is linear.

use super::moments::{rectified, Rectified};
use crate::rng::MemberRng;

/// A Gamma distribution over a precision, shape `a` and rate `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    pub a: f64,
    pub b: f64,
}

impl Gamma {
    /// E[1 / lambda]: the variance the Gamma stands for.
    pub fn variance(self) -> f64 {
        self.b / (self.a - 1.0)
    }
}

/// The authors' starting Gamma for both precisions: a = b = 6, as if six standardized
/// observations had been seen (prior variance 6 / 5).
pub const START: Gamma = Gamma { a: 6.0, b: 6.0 };

/// One weight layer. Weights are row-major `[outputs x (inputs + 1)]`, the bias weight last
/// in each row; the prior-factor arrays hold the natural parameters of each weight's
/// approximate prior factor (the EP refinement's state).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub inputs: usize,
    pub outputs: usize,
    pub relu: bool,
    pub mean: Vec<f64>,
    pub var: Vec<f64>,
    pub factor_mean_nat: Vec<f64>,
    pub factor_var_nat: Vec<f64>,
    pub factor_a_nat: Vec<f64>,
    pub factor_b_nat: Vec<f64>,
}

impl Layer {
    fn row_len(&self) -> usize {
        self.inputs + 1
    }

    fn scale(&self) -> f64 {
        1.0 / self.row_len() as f64
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PbpNet {
    pub layers: Vec<Layer>,
    pub noise: Gamma,
    pub prior: Gamma,
}

/// The moments one forward pass leaves behind for its backward pass.
///
/// # Shapes
/// input_mean[l], input_var[l]: [inputs_l + 1] (the bias last); rectified[l]: [outputs_l] for
/// hidden layers; pre_mean, pre_var and the backward pass's gradients: scratch of the widest
/// layer.
pub struct Tape {
    input_mean: Vec<Vec<f64>>,
    input_var: Vec<Vec<f64>>,
    rectified: Vec<Vec<Rectified>>,
    pre_mean: Vec<f64>,
    pre_var: Vec<f64>,
    grad_mean: Vec<f64>,
    grad_var: Vec<f64>,
    input_grad_mean: Vec<f64>,
    input_grad_var: Vec<f64>,
}

impl PbpNet {
    /// A network of `widths` (inputs, hidden..., 1) with means randn / sqrt(inputs + 1) drawn
    /// layer by layer in row-major order, variances and factors from the prior `START`.
    pub fn new(widths: &[usize], rng: &mut MemberRng) -> Self {
        use rand_distr::{Distribution, StandardNormal};
        let count = widths.len() - 1;
        let layers = (0..count)
            .map(|l| {
                let (inputs, outputs) = (widths[l], widths[l + 1]);
                let size = outputs * (inputs + 1);
                let scale = 1.0 / ((inputs + 1) as f64).sqrt();
                let mean = (0..size).map(|_| scale * Distribution::<f64>::sample(&StandardNormal, &mut *rng)).collect();
                Layer {
                    inputs,
                    outputs,
                    relu: l + 1 < count,
                    mean,
                    var: vec![START.variance(); size],
                    factor_mean_nat: vec![0.0; size],
                    factor_var_nat: vec![1.0 / START.variance(); size],
                    factor_a_nat: vec![0.0; size],
                    factor_b_nat: vec![0.0; size],
                }
            })
            .collect();
        PbpNet { layers, noise: START, prior: START }
    }

    /// Buffers sized for this network's forward and backward passes.
    pub fn tape(&self) -> Tape {
        let widest = self.layers.iter().map(|l| l.outputs.max(l.inputs + 1)).max().unwrap_or(1);
        Tape {
            input_mean: self.layers.iter().map(|l| vec![0.0; l.row_len()]).collect(),
            input_var: self.layers.iter().map(|l| vec![0.0; l.row_len()]).collect(),
            rectified: self.layers.iter().map(|l| Vec::with_capacity(if l.relu { l.outputs } else { 0 })).collect(),
            pre_mean: vec![0.0; widest],
            pre_var: vec![0.0; widest],
            grad_mean: vec![0.0; widest],
            grad_var: vec![0.0; widest],
            input_grad_mean: vec![0.0; widest],
            input_grad_var: vec![0.0; widest],
        }
    }

    /// Mean and variance of the network's output at `x` (the noise not included).
    pub fn forward(&self, x: &[f64], tape: &mut Tape) -> (f64, f64) {
        let first = &mut tape.input_mean[0];
        first[..x.len()].copy_from_slice(x);
        first[x.len()] = 1.0;
        tape.input_var[0].fill(0.0);
        for (l, layer) in self.layers.iter().enumerate() {
            let s = layer.scale();
            let root = s.sqrt();
            let n1 = layer.row_len();
            let (m_in, v_in) = (&tape.input_mean[l], &tape.input_var[l]);
            // The first layer's inputs are data (variance 0): its variance is V m^2 alone.
            let exact_inputs = l == 0;
            for i in 0..layer.outputs {
                let (w, wv) = (&layer.mean[i * n1..(i + 1) * n1], &layer.var[i * n1..(i + 1) * n1]);
                let (m, v) = if exact_inputs {
                    dot2(w, m_in, wv, m_in, |w, m, wv, _| (w * m, wv * m * m))
                } else {
                    dot2(w, m_in, wv, v_in, |w, m, wv, v| (w * m, w * w * v + wv * (m * m + v)))
                };
                tape.pre_mean[i] = m * root;
                tape.pre_var[i] = v * s;
            }
            if !layer.relu {
                continue;
            }
            tape.rectified[l].clear();
            for i in 0..layer.outputs {
                let r = rectified(tape.pre_mean[i], tape.pre_var[i]);
                tape.input_mean[l + 1][i] = r.mean;
                tape.input_var[l + 1][i] = r.variance;
                tape.rectified[l].push(r);
            }
            tape.input_mean[l + 1][layer.outputs] = 1.0;
            tape.input_var[l + 1][layer.outputs] = 0.0;
        }
        (tape.pre_mean[0], tape.pre_var[0])
    }

    /// The backward pass of the forward pass `tape` holds, from the output's d log Z / d mean
    /// and d log Z / d var. Each layer, from the top, first passes its gradient down and then
    /// hands every weight's (mean, var, d log Z / d mean, d log Z / d var) to `visit`, which
    /// may change the weight: the layers below it already have their gradient.
    pub fn backward(
        &mut self,
        tape: &mut Tape,
        dmean: f64,
        dvar: f64,
        mut visit: impl FnMut(&mut f64, &mut f64, f64, f64),
    ) {
        tape.grad_mean[0] = dmean;
        tape.grad_var[0] = dvar;
        for l in (0..self.layers.len()).rev() {
            let layer = &mut self.layers[l];
            let (s, n1, inputs) = (layer.scale(), layer.row_len(), layer.inputs);
            let root = s.sqrt();
            let (m_in, v_in) = (&tape.input_mean[l], &tape.input_var[l]);
            let below = l > 0;
            let (d_in_mean, d_in_var) = (&mut tape.input_grad_mean[..inputs], &mut tape.input_grad_var[..inputs]);
            d_in_mean.fill(0.0);
            d_in_var.fill(0.0);
            for i in 0..layer.outputs {
                let (gm, gv) = (tape.grad_mean[i] * root, tape.grad_var[i] * s);
                let row = i * n1;
                if below {
                    for j in 0..inputs {
                        let (w, wv) = (layer.mean[row + j], layer.var[row + j]);
                        d_in_mean[j] += gm * w + 2.0 * gv * wv * m_in[j];
                        d_in_var[j] += gv * (w * w + wv);
                    }
                }
                let (means, vars) = (&mut layer.mean[row..row + n1], &mut layer.var[row..row + n1]);
                if below {
                    for (((w, wv), &m), &v) in means.iter_mut().zip(vars.iter_mut()).zip(m_in).zip(v_in) {
                        let (d_w_mean, d_w_var) = (gm * m + 2.0 * gv * *w * v, gv * (m * m + v));
                        visit(w, wv, d_w_mean, d_w_var);
                    }
                } else {
                    // Data inputs have variance 0.
                    for ((w, wv), &m) in means.iter_mut().zip(vars.iter_mut()).zip(m_in) {
                        visit(w, wv, gm * m, gv * m * m);
                    }
                }
            }
            if below {
                let rect = &tape.rectified[l - 1];
                for (i, r) in rect.iter().enumerate() {
                    tape.grad_mean[i] = d_in_mean[i] * r.dmean_dmean + d_in_var[i] * r.dvar_dmean;
                    tape.grad_var[i] = d_in_mean[i] * r.dmean_dvar + d_in_var[i] * r.dvar_dvar;
                }
            }
        }
    }

    /// Number of weights (biases included).
    pub fn weight_count(&self) -> usize {
        self.layers.iter().map(|l| l.mean.len()).sum()
    }
}

/// Two sums over a weight row at once, `term(w, m, wv, v)` giving each element's pair, in four
/// independent lanes so the compiler can keep them in vector registers (a single running sum
/// waits on each addition).
#[inline(always)]
fn dot2(w: &[f64], m: &[f64], wv: &[f64], v: &[f64], term: impl Fn(f64, f64, f64, f64) -> (f64, f64)) -> (f64, f64) {
    let mut a = [0.0f64; 4];
    let mut b = [0.0f64; 4];
    let n = w.len();
    let body = n - n % 4;
    for j in (0..body).step_by(4) {
        for lane in 0..4 {
            let (x, y) = term(w[j + lane], m[j + lane], wv[j + lane], v[j + lane]);
            a[lane] += x;
            b[lane] += y;
        }
    }
    for j in body..n {
        let (x, y) = term(w[j], m[j], wv[j], v[j]);
        a[0] += x;
        b[0] += y;
    }
    ((a[0] + a[1]) + (a[2] + a[3]), (b[0] + b[1]) + (b[2] + b[3]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pbp::moments::log_evidence;
    use crate::rng::member_rng;

    fn small_net() -> PbpNet {
        let mut rng = member_rng(3);
        let mut net = PbpNet::new(&[3, 4, 2, 1], &mut rng);
        // Spread the variances so every term of the variance recursion matters.
        for layer in &mut net.layers {
            for (k, v) in layer.var.iter_mut().enumerate() {
                *v = 0.05 + 0.1 * (k % 7) as f64;
            }
        }
        net
    }

    fn log_z(net: &PbpNet, x: &[f64], y: f64) -> f64 {
        let (m, v) = net.forward(x, &mut net.tape());
        log_evidence(y, m, v + net.noise.variance()).log_z
    }

    #[test]
    fn backward_matches_finite_differences_of_log_z() {
        let mut net = small_net();
        let (x, y) = ([0.3, -1.2, 0.8], 0.9);
        let mut tape = net.tape();
        let (m, v) = net.forward(&x, &mut tape);
        let e = log_evidence(y, m, v + net.noise.variance());
        let mut grads = Vec::new();
        net.backward(&mut tape, e.dmean, e.dvar, |_, _, dm, dv| grads.push((dm, dv)));
        // The visitor sees the top layer first, rows in order.
        let mut expected = Vec::new();
        let h = 1e-6;
        for l in (0..net.layers.len()).rev() {
            for k in 0..net.layers[l].mean.len() {
                let mut probe = net.clone();
                probe.layers[l].mean[k] += h;
                let up = log_z(&probe, &x, y);
                probe.layers[l].mean[k] -= 2.0 * h;
                let dm = (up - log_z(&probe, &x, y)) / (2.0 * h);
                let mut probe = net.clone();
                probe.layers[l].var[k] += h;
                let up = log_z(&probe, &x, y);
                probe.layers[l].var[k] -= 2.0 * h;
                let dv = (up - log_z(&probe, &x, y)) / (2.0 * h);
                expected.push((dm, dv));
            }
        }
        assert_eq!(grads.len(), net.weight_count());
        for (i, ((dm, dv), (em, ev))) in grads.iter().zip(&expected).enumerate() {
            assert!((dm - em).abs() < 1e-6 * (1.0 + em.abs()), "weight {i}: d/dmean {dm} vs {em}");
            assert!((dv - ev).abs() < 1e-6 * (1.0 + ev.abs()), "weight {i}: d/dvar {dv} vs {ev}");
        }
    }

    #[test]
    fn forward_matches_sampled_weights() {
        // Moment propagation is exact for the linear layer and the ReLU given Gaussian inputs;
        // with one hidden unit per input path the network's output moments are checked against
        // sampling its weights.
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = member_rng(5);
        let net = PbpNet::new(&[2, 1, 1], &mut rng);
        let x = [0.7, -0.4];
        let (m, v) = net.forward(&x, &mut net.tape());
        let draws = 300_000;
        let mut out = Vec::with_capacity(draws);
        for _ in 0..draws {
            let mut sample = |layer: &Layer, k: usize| -> f64 {
                let e: f64 = StandardNormal.sample(&mut rng);
                layer.mean[k] + layer.var[k].sqrt() * e
            };
            let (h, o) = (&net.layers[0], &net.layers[1]);
            let pre = (sample(h, 0) * x[0] + sample(h, 1) * x[1] + sample(h, 2)) / 3f64.sqrt();
            let z = pre.max(0.0);
            out.push((sample(o, 0) * z + sample(o, 1)) / 2f64.sqrt());
        }
        let n = draws as f64;
        let mc_m = out.iter().sum::<f64>() / n;
        let mc_v = out.iter().map(|o| (o - mc_m) * (o - mc_m)).sum::<f64>() / n;
        assert!((m - mc_m).abs() < 0.01, "{m} vs {mc_m}");
        assert!((v - mc_v).abs() < 0.02 * mc_v.max(1.0), "{v} vs {mc_v}");
    }
}
