//! MC-dropout evaluation on the CPU without dense masks.
//!
//! Evaluating T = 10,000 stochastic passes with dense masks writes and reads a mask value for
//! every unit of every pass, which dominated the CPU run time. Here each pass visits only the
//! dropped units (`DropStream`): the first layer starts from the precomputed product x W of
//! the row and subtracts the dropped inputs' rows of W; later layers compute their product
//! and subtract the dropped units' contributions. With the UCI rates (p <= 0.1) that is a
//! fraction of the arithmetic of a dense pass, and no mask memory at all.
//!
//! Sample s of a member draws from its own stream (as on the device path), so the scores do
//! not depend on how members or samples are grouped. The streams are consumed row by row
//! here, so the host and device paths see different (equally distributed) masks.

use crate::mutation::{active, Mutation};
use rayon::prelude::*;
use tch::{Device, Kind};

use super::member::{Member, RegressionScores};
use crate::error::Result;
use crate::models::nn::activation;
use crate::models::nn::mc_predictive::{sample_rng, HeldOut};
use crate::models::nn::member_mlp::MemberMlp;
use crate::rng::{derive_seed, DropStream};
use crate::spec::raw::Activation;

/// Samples per parallel task: the unit of work rayon balances across cores.
pub const SAMPLES_PER_TASK: usize = 500;

/// One member's network as plain host arrays.
struct HostNet {
    /// (weights [in x out] row-major, biases [out]) per layer.
    layers: Vec<(Vec<f32>, Vec<f32>)>,
    widths: Vec<usize>,
    activation: Activation,
}

/// Running predictive sum and log-sum-exp of the likelihood kernel, per held-out row.
#[derive(Clone)]
struct RowStats {
    sum: Vec<f64>,
    lse_max: Vec<f64>,
    lse_sum: Vec<f64>,
    /// Sum of squared predictions: only the `TauLeftOut` mutation's score reads it.
    sum_sq: Vec<f64>,
}

impl RowStats {
    fn new(n: usize) -> Self {
        Self { sum: vec![0.0; n], sum_sq: vec![0.0; n], lse_max: vec![f64::NEG_INFINITY; n], lse_sum: vec![0.0; n] }
    }

    fn push(&mut self, row: usize, prediction: f64, log_kernel: f64) {
        self.sum[row] += prediction;
        self.sum_sq[row] += prediction * prediction;
        let (m, s) = (&mut self.lse_max[row], &mut self.lse_sum[row]);
        if log_kernel > *m {
            *s = *s * (*m - log_kernel).exp() + 1.0;
            *m = log_kernel;
        } else {
            *s += (log_kernel - *m).exp();
        }
    }

    fn merge(mut self, other: RowStats) -> RowStats {
        for i in 0..self.sum.len() {
            self.sum[i] += other.sum[i];
            self.sum_sq[i] += other.sum_sq[i];
            let m = self.lse_max[i].max(other.lse_max[i]);
            if m == f64::NEG_INFINITY {
                continue;
            }
            self.lse_sum[i] =
                self.lse_sum[i] * (self.lse_max[i] - m).exp() + other.lse_sum[i] * (other.lse_max[i] - m).exp();
            self.lse_max[i] = m;
        }
        self
    }
}

/// Scores every member with `samples` MC passes on the host (the network may live anywhere).
/// Returns the scores; the samples per parallel task are `SAMPLES_PER_TASK`.
pub fn evaluate_on_host(
    net: &MemberMlp,
    members: &[Member],
    held_out: &HeldOut,
    samples: usize,
) -> Result<Vec<RegressionScores>> {
    let _guard = tch::no_grad_guard();
    let n = held_out.n;
    let d = net.widths()[0];
    let x: Vec<f32> = Vec::try_from(&held_out.x.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?.f_flatten(0, -1)?)?;
    let nets = (0..members.len()).map(|k| host_net(net, k)).collect::<Result<Vec<_>>>()?;
    let tasks: Vec<(usize, usize)> =
        (0..members.len()).flat_map(|k| (0..samples).step_by(SAMPLES_PER_TASK).map(move |s| (k, s))).collect();
    // Plain host data only: tensors may not cross threads.
    let targets: Vec<Targets> = (0..members.len())
        .map(|k| Targets {
            y: &held_out.y[k * n..(k + 1) * n],
            mean: held_out.y_mean[k],
            std: held_out.y_std[k],
            tau: held_out.tau[k],
            mc_seed: derive_seed(members[k].seed, &["mc"]),
            dropout: members[k].dropout,
        })
        .collect();
    let partials: Vec<(usize, RowStats)> = tasks
        .par_iter()
        .map(|&(k, start)| {
            let end = (start + SAMPLES_PER_TASK).min(samples);
            let rows = &x[k * n * d..(k + 1) * n * d];
            (k, run_samples(&nets[k], &targets[k], rows, start..end))
        })
        .collect();
    let mut per_member: Vec<Option<RowStats>> = vec![None; members.len()];
    for (k, stats) in partials {
        per_member[k] = Some(match per_member[k].take() {
            None => stats,
            Some(acc) => acc.merge(stats),
        });
    }
    let t = samples as f64;
    let half_log_2pi = if active(Mutation::LlWithoutConstant) { 0.0 } else { 0.5 * (2.0 * std::f64::consts::PI).ln() };
    let constant = -t.ln() - half_log_2pi;
    Ok(per_member
        .into_iter()
        .enumerate()
        .map(|(k, stats)| {
            let stats = stats.expect("every member has samples");
            let y = &held_out.y[k * n..(k + 1) * n];
            let standard: Vec<f64> = (0..n)
                .map(|r| {
                    forward(&nets[k], &x[(k * n + r) * d..(k * n + r + 1) * d]) as f64 * held_out.y_std[k]
                        + held_out.y_mean[k]
                })
                .collect();
            let mc_mean: Vec<f64> = stats.sum.iter().map(|s| s / t).collect();
            let ll = if active(Mutation::TauLeftOut) {
                // The mutation: N(y | mean, the samples' variance), 1 / tau left out.
                (0..n)
                    .map(|r| {
                        let var = (stats.sum_sq[r] / t - mc_mean[r] * mc_mean[r]).max(1e-12);
                        -0.5 * var.ln() - half_log_2pi - 0.5 * (y[r] - mc_mean[r]).powi(2) / var
                    })
                    .sum::<f64>()
                    / n as f64
            } else {
                (0..n).map(|r| stats.lse_max[r] + stats.lse_sum[r].ln() + constant).sum::<f64>() / n as f64
                    + 0.5 * held_out.tau[k].ln()
            };
            RegressionScores {
                rmse_mc: crate::metrics::rmse(y, &mc_mean),
                rmse_standard: crate::metrics::rmse(y, &standard),
                ll,
            }
        })
        .collect())
}

fn host_net(net: &MemberMlp, k: usize) -> Result<HostNet> {
    let params = net.member_parameters(k);
    let layers = net.widths().len() - 1;
    let to_vec =
        |t: &tch::Tensor| -> Result<Vec<f32>> { Ok(Vec::try_from(&t.f_to_device(Device::Cpu)?.f_flatten(0, -1)?)?) };
    let layers =
        (0..layers).map(|l| Ok((to_vec(&params[l])?, to_vec(&params[layers + l])?))).collect::<Result<Vec<_>>>()?;
    Ok(HostNet { layers, widths: net.widths().to_vec(), activation: net.activation() })
}

/// One member's held-out targets (original units) and sampling settings.
struct Targets<'a> {
    y: &'a [f64],
    mean: f64,
    std: f64,
    tau: f64,
    mc_seed: u64,
    dropout: f64,
}

/// Rows of one sample whose last weight layer runs together. That layer has one output, so a
/// row's pass ends in a dot product whose additions wait on each other; rows side by side
/// keep each row's additions in its own order (the same bits as one row at a time) while
/// the processor adds for many rows at once.
const ROWS_TOGETHER: usize = 32;

/// MC samples `range` of one member on all its held-out rows `x`.
fn run_samples(net: &HostNet, t: &Targets, x: &[f32], range: std::ops::Range<usize>) -> RowStats {
    let n = t.y.len();
    let d = net.widths[0];
    let h = net.widths[1];
    let (w0, _) = &net.layers[0];
    // x W0 of every row, without dropout, scale or bias.
    let mut base = vec![0f32; n * h];
    for r in 0..n {
        matvec(&x[r * d..(r + 1) * d], w0, h, &mut base[r * h..(r + 1) * h]);
    }
    let mut stats = RowStats::new(n);
    let mut scratch = Scratch::new(&net.widths);
    let mut group = LastLayer::new(net.widths[net.widths.len() - 2]);
    let mut outputs = [0f32; ROWS_TOGETHER];
    for s in range {
        let mut rng = sample_rng(t.mc_seed, s);
        let mut drops = DropStream::new(&mut rng, t.dropout);
        for first in (0..n).step_by(ROWS_TOGETHER) {
            let rows = first..(first + ROWS_TOGETHER).min(n);
            for (g, r) in rows.clone().enumerate() {
                let dropped = &mut group.dropped[g];
                let input = pass_to_last(
                    net,
                    &x[r * d..(r + 1) * d],
                    &base[r * h..(r + 1) * h],
                    t.dropout,
                    &mut drops,
                    &mut scratch,
                    dropped,
                );
                group.set_input(g, input);
            }
            group.outputs(net, t.dropout, rows.len(), &mut outputs);
            for (g, r) in rows.enumerate() {
                let prediction = outputs[g] as f64 * t.std + t.mean;
                let err = t.y[r] - prediction;
                stats.push(r, prediction, -0.5 * t.tau * err * err);
            }
        }
    }
    stats
}

struct Scratch {
    a: Vec<f32>,
    b: Vec<f32>,
}

impl Scratch {
    fn new(widths: &[usize]) -> Self {
        let widest = *widths.iter().max().expect("widths");
        Self { a: vec![0.0; widest], b: vec![0.0; widest] }
    }
}

/// The last weight layer's inputs for `ROWS_TOGETHER` rows, input-major so that one input of
/// every row is contiguous, and each row's dropped inputs.
struct LastLayer {
    inputs: Vec<f32>,
    dropped: Vec<Vec<usize>>,
}

impl LastLayer {
    fn new(fan_in: usize) -> Self {
        Self { inputs: vec![0.0; fan_in * ROWS_TOGETHER], dropped: vec![Vec::new(); ROWS_TOGETHER] }
    }

    fn set_input(&mut self, row: usize, input: &[f32]) {
        for (i, &v) in input.iter().enumerate() {
            self.inputs[i * ROWS_TOGETHER + row] = v;
        }
    }

    /// The last layer (one output) of the first `count` rows, each as one row alone would
    /// compute it: the product over every input in order, less the dropped inputs' terms in
    /// order, then the inverted-dropout scale and the bias.
    fn outputs(&self, net: &HostNet, p: f64, count: usize, out: &mut [f32; ROWS_TOGETHER]) {
        let scale = (1.0 / (1.0 - p)) as f32;
        let (w, b) = &net.layers[net.layers.len() - 1];
        let mut acc = [0f32; ROWS_TOGETHER];
        for (column, &wi) in self.inputs.chunks_exact(ROWS_TOGETHER).zip(w.iter()) {
            for (a, &v) in acc.iter_mut().zip(column) {
                *a += v * wi;
            }
        }
        for g in 0..count {
            for &i in &self.dropped[g] {
                acc[g] -= self.inputs[i * ROWS_TOGETHER + g] * w[i];
            }
            out[g] = acc[g] * scale + b[0];
        }
    }
}

/// out[j] = sum_i v[i] W[i, j] for W [v.len() x width], row-major.
fn matvec(v: &[f32], w: &[f32], width: usize, out: &mut [f32]) {
    out.fill(0.0);
    for (i, &vi) in v.iter().enumerate() {
        for (o, &wij) in out.iter_mut().zip(&w[i * width..(i + 1) * width]) {
            *o += vi * wij;
        }
    }
}

/// One stochastic pass of one row up to its last weight layer (inverted dropout before every
/// weight layer): returns that layer's input and sets `dropped` to its dropped inputs, in
/// increasing order. The last layer itself is `LastLayer::outputs`.
fn pass_to_last<'s>(
    net: &HostNet,
    x: &[f32],
    base: &[f32],
    p: f64,
    drops: &mut DropStream,
    s: &'s mut Scratch,
    dropped: &mut Vec<usize>,
) -> &'s [f32] {
    dropped.clear();
    let last = net.layers.len() - 1;
    if last == 0 {
        drops.for_each_drop(x.len(), |i| dropped.push(i));
        s.a[..x.len()].copy_from_slice(x);
        return &s.a[..x.len()];
    }
    let scale = (1.0 / (1.0 - p)) as f32;
    let h = net.widths[1];
    let (w0, b0) = &net.layers[0];
    let z = &mut s.a[..h];
    z.copy_from_slice(base);
    drops.for_each_drop(x.len(), |i| {
        let xi = x[i];
        for (zj, &w) in z.iter_mut().zip(&w0[i * h..(i + 1) * h]) {
            *zj -= xi * w;
        }
    });
    for (zj, &b) in z.iter_mut().zip(b0) {
        *zj = *zj * scale + b;
    }
    activation::forward_host(z, net.activation);
    for l in 1..last {
        let (w, b) = &net.layers[l];
        let (fan_in, fan_out) = (net.widths[l], net.widths[l + 1]);
        let (input, output) = (&s.a[..fan_in], &mut s.b[..fan_out]);
        matvec(input, w, fan_out, output);
        drops.for_each_drop(fan_in, |i| {
            let vi = input[i];
            for (o, &wij) in output.iter_mut().zip(&w[i * fan_out..(i + 1) * fan_out]) {
                *o -= vi * wij;
            }
        });
        for (o, &bj) in output.iter_mut().zip(b) {
            *o = *o * scale + bj;
        }
        activation::forward_host(output, net.activation);
        std::mem::swap(&mut s.a, &mut s.b);
    }
    let fan_in = net.widths[last];
    drops.for_each_drop(fan_in, |i| dropped.push(i));
    &s.a[..fan_in]
}

/// The deterministic pass (dropout off), for the standard-dropout RMSE.
fn forward(net: &HostNet, x: &[f32]) -> f32 {
    let mut v = x.to_vec();
    let last = net.layers.len() - 1;
    for (l, (w, b)) in net.layers.iter().enumerate() {
        let mut out = vec![0f32; net.widths[l + 1]];
        matvec(&v, w, out.len(), &mut out);
        for (o, &bj) in out.iter_mut().zip(b) {
            *o += bj;
        }
        if l < last {
            activation::forward_host(&mut out, net.activation);
        }
        v = out;
    }
    v[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{member_rng, uniform};

    /// The pass of one row at a time that `LastLayer` replaced, kept as the reference.
    fn one_row(net: &HostNet, x: &[f32], p: f64, drops: &mut DropStream) -> f32 {
        let scale = (1.0 / (1.0 - p)) as f32;
        let mut v = x.to_vec();
        for (l, (w, b)) in net.layers.iter().enumerate() {
            let width = net.widths[l + 1];
            let mut out = vec![0f32; width];
            matvec(&v, w, width, &mut out);
            drops.for_each_drop(v.len(), |i| {
                for (o, &wij) in out.iter_mut().zip(&w[i * width..(i + 1) * width]) {
                    *o -= v[i] * wij;
                }
            });
            for (o, &bj) in out.iter_mut().zip(b) {
                *o = *o * scale + bj;
            }
            if l < net.layers.len() - 1 {
                activation::forward_host(&mut out, net.activation);
            }
            v = out;
        }
        v[0]
    }

    #[test]
    fn rows_side_by_side_give_the_bits_of_one_row_at_a_time() {
        let mut rng = member_rng(11);
        let mut draw =
            |count: usize| -> Vec<f32> { (0..count).map(|_| (2.0 * uniform(&mut rng) - 1.0) as f32).collect() };
        // 45 rows: a full group of 32 and a part; no hidden layer, one, and two.
        for widths in [vec![7, 1], vec![7, 50, 1], vec![7, 20, 30, 1]] {
            let layers = widths.windows(2).map(|w| (draw(w[0] * w[1]), draw(w[1]))).collect();
            let net = HostNet { layers, widths: widths.clone(), activation: Activation::Relu };
            let n = 45;
            let x = draw(n * widths[0]);
            let y: Vec<f64> = draw(n).into_iter().map(f64::from).collect();
            for p in [0.005, 0.1, 0.5] {
                let t = Targets { y: &y, mean: 0.3, std: 2.0, tau: 4.0, mc_seed: 5, dropout: p };
                let grouped = run_samples(&net, &t, &x, 0..4);
                let mut reference = RowStats::new(n);
                for s in 0..4 {
                    let mut rng = sample_rng(t.mc_seed, s);
                    let mut drops = DropStream::new(&mut rng, p);
                    for r in 0..n {
                        let prediction = one_row(&net, &x[r * widths[0]..(r + 1) * widths[0]], p, &mut drops) as f64
                            * t.std
                            + t.mean;
                        let err = y[r] - prediction;
                        reference.push(r, prediction, -0.5 * t.tau * err * err);
                    }
                }
                assert_eq!(grouped.sum, reference.sum, "{widths:?} p={p}");
                assert_eq!(grouped.lse_max, reference.lse_max, "{widths:?} p={p}");
                assert_eq!(grouped.lse_sum, reference.lse_sum, "{widths:?} p={p}");
            }
        }
    }
}
