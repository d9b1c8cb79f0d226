//! The CO2 extrapolation experiment (paper section 5.1, Figures 2 and 5): train on the
//! weeks before a cutoff year, predict on a grid that runs well past the last observation.
//! Models: standard dropout (the first network with dropout off: a point prediction), a GP
//! with an SE kernel, and one MC dropout network per activation (ReLU, TanH).
//!
//! Inputs are standardized time, targets standardized ppmv, both with training statistics.
//! The MC predictive variance is the variance of T stochastic passes plus 1/tau (paper eq. in
//! section 4). Beyond the paper: RMSE, Gaussian log-likelihood (moment-matched predictive)
//! and 95 % band coverage on the held-out weeks after the cutoff.
//!
//! Units: each network and the GP under `outcomes/co2-parts/`, then `outcomes/co2.json`,
//! written once every model is done (what tables and figures read).

use std::path::Path;
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use super::{RunContext, RunSummary};
use crate::data::co2::Co2;
use crate::data::Standardizer;
use crate::error::{Error, Result};
use crate::metrics::{gaussian_log_likelihood, rmse};
use crate::models::gp;
use crate::models::mc_dropout::{fit, mc_moments, FitOptions, Member};
use crate::models::nn::member_mlp::{mlp_widths, MemberMlp};
use crate::models::{Co2Predictor, Silent, StackedRows};
use crate::results::outcome::{Co2Model, Co2Record, OutcomeFile};
use crate::rng::{derive_seed, member_rng};
use crate::spec::raw::Activation;
use crate::spec::Co2Plan;

pub fn run(ctx: &RunContext, plan: &Co2Plan) -> Result<RunSummary> {
    if !ctx.share.runs_whole(&ctx.spec.name)? {
        return Ok(RunSummary::default());
    }
    let path = ctx.store.outcome(OutcomeFile::Co2);
    if ctx.recorded::<Co2Record>(&path)?.is_some() {
        tracing::info!("co2: already recorded, skipped");
        return Ok(RunSummary { units_written: 0, units_skipped: 1 });
    }
    let data = Co2::find_and_load(ctx.data)?;
    tracing::info!("co2: {} weeks, {} listed without a measurement dropped", data.years.len(), data.missing);
    let co2 = Extrapolation::new(ctx, plan, &data)?;
    // Each network (with its standard-dropout pass) and the GP is a unit of its own under
    // outcomes/co2-parts/, so an interrupted run keeps what finished.
    let parts = ctx.store.outcome_path("co2-parts");
    let (standard, mut models) = co2.networks(&parts)?;
    models.insert(0, co2.gp(&parts.join("gp.json"))?);
    if let Some(s) = standard {
        models.insert(0, s);
    }
    let record = Co2Record {
        experiment: ctx.spec.name.clone(),
        cutoff: plan.cutoff,
        observed_years: data.years.clone(),
        observed_ppm: data.ppm.clone(),
        n_train: co2.n_train,
        grid_years: co2.grid_years,
        models,
        provenance: ctx.provenance.stamped(),
    };
    ctx.store.write_json(&path, &record)?;
    ctx.count_written();
    Ok(RunSummary { units_written: 1, units_skipped: 0 })
}

/// The experiment's data as every model sees it: the training weeks and the query years (the
/// grid, then the held-out weeks), standardized with the training statistics.
struct Extrapolation<'a> {
    ctx: &'a RunContext<'a>,
    plan: &'a Co2Plan,
    /// Weeks before the cutoff.
    n_train: usize,
    grid_years: Vec<f64>,
    held_ppm: &'a [f64],
    y_scale: Standardizer,
    train_x: Vec<f64>,
    train_y: Vec<f64>,
    /// Standardized years of the grid, then of the held-out weeks.
    query: Vec<f64>,
}

impl<'a> Extrapolation<'a> {
    /// Splits `data` at the plan's cutoff (an error naming the spec when either side would be
    /// too short) and standardizes it.
    fn new(ctx: &'a RunContext<'a>, plan: &'a Co2Plan, data: &'a Co2) -> Result<Self> {
        let n_train = data.years.iter().take_while(|&&y| y < plan.cutoff).count();
        if n_train < 2 || n_train == data.years.len() {
            return Err(Error::Spec {
                location: ctx.spec.source.display().to_string(),
                message: format!(
                    "task.co2.cutoff {} leaves {n_train} training weeks and {} held-out ones; pick a year inside the record ({:.1}-{:.1})",
                    plan.cutoff,
                    data.years.len() - n_train,
                    data.years[0],
                    data.years[data.years.len() - 1]
                ),
            });
        }
        let x_scale = Standardizer::fit_vector(&data.years[..n_train]);
        let y_scale = Standardizer::fit_vector(&data.ppm[..n_train]);
        let start = data.years[0];
        let grid_years: Vec<f64> = (0..plan.grid_points)
            .map(|i| start + (plan.predict_until - start) * i as f64 / (plan.grid_points - 1).max(1) as f64)
            .collect();
        let held_years = &data.years[n_train..];
        // Every model predicts at the grid, then at the held-out weeks.
        let query_years: Vec<f64> = grid_years.iter().chain(held_years).copied().collect();
        Ok(Self {
            ctx,
            plan,
            n_train,
            query: x_scale.transform_vector(&query_years),
            train_x: x_scale.transform_vector(&data.years[..n_train]),
            train_y: y_scale.transform_vector(&data.ppm[..n_train]),
            grid_years,
            held_ppm: &data.ppm[n_train..],
            y_scale,
        })
    }

    /// Each activation's network, recorded under `parts` or trained now: the standard-dropout
    /// prediction of the first, and the MC dropout predictive of each.
    fn networks(&self, parts: &Path) -> Result<(Option<Co2Model>, Vec<Co2Model>)> {
        let (mut standard, mut models) = (None, Vec::new());
        for (i, &activation) in self.plan.activations.iter().enumerate() {
            let name = activation.name();
            let part = parts.join(format!("{name}.json"));
            let mut done: Vec<Co2Model> = self.ctx.recorded(&part)?.unwrap_or_default();
            if done.is_empty() {
                done = self.network(activation, i == 0)?;
                self.ctx.store.write_json(&part, &done)?;
                self.ctx.checkpoints(&format!("co2-{name}")).clear()?;
            } else {
                tracing::info!("co2 {name} network: already recorded in {}, reused", part.display());
            }
            for m in done {
                if m.name.is_standard_dropout() {
                    standard = Some(m);
                } else {
                    models.push(m);
                }
            }
        }
        Ok((standard, models))
    }

    /// Trains the network of `activation` and scores its MC dropout predictive, after its
    /// pass with dropout off when `with_standard`.
    fn network(&self, activation: Activation, with_standard: bool) -> Result<Vec<Co2Model>> {
        let (ctx, plan) = (self.ctx, self.plan);
        let mut done = Vec::new();
        let started = Instant::now();
        let net = train_net(ctx, plan, activation, &self.train_x, &self.train_y)?;
        if with_standard {
            let mean = deterministic(&net, &self.query, ctx.device)?;
            done.push(self.score(Co2Predictor::StandardDropout(activation), mean, vec![0.0; self.query.len()], 0.0));
        }
        let seed = derive_seed(ctx.spec.seed, &["co2", activation.name(), "mc"]);
        let (mean, std) = mc_moments(
            &net,
            &column(&self.query, ctx.device)?,
            plan.mlp.dropout_rates[0],
            plan.tau,
            plan.mc_samples,
            ctx.mc_budget,
            &mut member_rng(seed),
        )?;
        done.push(self.score(Co2Predictor::McDropout(activation), mean, std, started.elapsed().as_secs_f64()));
        Ok(done)
    }

    /// The GP, recorded at `part` or fitted now (and recorded there).
    fn gp(&self, part: &Path) -> Result<Co2Model> {
        if let Some(gp) = self.ctx.recorded::<Co2Model>(part)? {
            return Ok(gp);
        }
        let started = Instant::now();
        let (mean, std) = gp_predictive(self.ctx, self.plan, &self.train_x, &self.train_y, &self.query)?;
        let gp = self.score(Co2Predictor::Gp, mean, std, started.elapsed().as_secs_f64());
        self.ctx.store.write_json(part, &gp)?;
        Ok(gp)
    }

    /// A model's outcome from its predictive mean and std at the query years (standardized;
    /// std all zero for a point prediction): the grid in ppmv, and its RMSE, Gaussian
    /// log-likelihood and 95 % band coverage on the held-out weeks.
    fn score(&self, name: Co2Predictor, mean: Vec<f64>, std: Vec<f64>, wall: f64) -> Co2Model {
        let (g, held_ppm, y_scale) = (self.grid_years.len(), self.held_ppm, &self.y_scale);
        let mean: Vec<f64> = mean.iter().map(|m| m * y_scale.std[0] + y_scale.mean[0]).collect();
        let std: Vec<f64> = std.iter().map(|s| s * y_scale.std[0]).collect();
        let point = std.iter().all(|&s| s == 0.0);
        let (held_mean, held_std) = (&mean[g..], &std[g..]);
        let ll = (!point).then(|| {
            held_ppm
                .iter()
                .zip(held_mean)
                .zip(held_std)
                .map(|((y, m), s)| gaussian_log_likelihood(*y, *m, s * s))
                .sum::<f64>()
                / held_ppm.len() as f64
        });
        let coverage = (!point).then(|| {
            held_ppm.iter().zip(held_mean).zip(held_std).filter(|((y, m), s)| (*y - *m).abs() <= 1.96 * *s).count()
                as f64
                / held_ppm.len() as f64
        });
        let heldout_rmse = rmse(held_ppm, held_mean);
        let shown = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        tracing::info!(
            "co2 {name}: held-out rmse {heldout_rmse:.2} ppm, ll {}, 95% coverage {} ({wall:.1} s)",
            shown(ll),
            shown(coverage)
        );
        Co2Model {
            name,
            grid_mean: mean[..g].to_vec(),
            grid_std: std[..g].to_vec(),
            heldout_rmse,
            heldout_ll: ll,
            heldout_coverage95: coverage,
            wall_seconds: wall,
        }
    }
}

fn column(values: &[f64], device: Device) -> Result<Tensor> {
    Ok(Tensor::from_slice(values).f_to_kind(Kind::Float)?.f_view([-1, 1])?.f_to_device(device)?)
}

fn train_net(ctx: &RunContext, plan: &Co2Plan, activation: Activation, x: &[f64], y: &[f64]) -> Result<MemberMlp> {
    let n = x.len();
    let p = plan.mlp.dropout_rates[0];
    let member = Member {
        seed: derive_seed(ctx.spec.seed, &["co2", activation.name()]),
        dropout: p,
        weight_decay: plan.mlp.weight_decay.lambda(p, plan.tau, n),
        row_offset: 0,
    };
    let options = FitOptions {
        widths: mlp_widths(1, plan.hidden_units, plan.mlp.hidden_layers),
        activation,
        epochs: plan.epochs,
        training: plan.training.clone(),
    };
    let data = StackedRows {
        x: column(x, ctx.device)?,
        y: Tensor::from_slice(y).f_to_kind(Kind::Float)?.f_to_device(ctx.device)?,
        n,
    };
    let progress = ctx.progress_bar(options.steps(n), &format!("co2 {}", activation.name()));
    let checkpoints = ctx.checkpoints(&format!("co2-{}", activation.name()));
    let net = fit(&data, &[member], &options, &progress, &checkpoints)?;
    progress.finish_and_clear();
    Ok(net)
}

/// One pass with dropout off (standardized units).
fn deterministic(net: &MemberMlp, query: &[f64], device: Device) -> Result<Vec<f64>> {
    let _guard = tch::no_grad_guard();
    let out = net.forward(&column(query, device)?.f_unsqueeze(0)?, None)?;
    Ok(Vec::<f64>::try_from(&out.f_flatten(0, -1)?.f_to_kind(Kind::Double)?.f_to_device(Device::Cpu)?)?)
}

/// The GP's predictive mean and std (noise included), standardized units.
fn gp_predictive(
    ctx: &RunContext,
    plan: &Co2Plan,
    x: &[f64],
    y: &[f64],
    query: &[f64],
) -> Result<(Vec<f64>, Vec<f64>)> {
    if x.len() > plan.gp.max_rows {
        return Err(Error::Setting {
            location: ctx.spec.source.display().to_string(),
            field: "task.co2.gp.max_rows".into(),
            value: plan.gp.max_rows.to_string(),
            message: format!("{} training weeks exceed it; raise it (the kernel matrix is n x n)", x.len()),
        });
    }
    let dev = ctx.device;
    let as_batch = |v: &[f64]| -> Result<Tensor> { Ok(Tensor::from_slice(v).f_view([1, -1, 1])?.f_to_device(dev)?) };
    let (xt, qt) = (as_batch(x)?, as_batch(query)?);
    let yt = Tensor::from_slice(y).f_view([1, -1])?.f_to_device(dev)?;
    let (params, _) = gp::fit(&xt, &yt, &[derive_seed(ctx.spec.seed, &["co2", "gp"])], &plan.gp, &Silent)?;
    let (mean, var) = gp::predict(&xt, &yt, &qt, &params, plan.gp.noise_floor)?;
    let host =
        |t: &Tensor| -> Result<Vec<f64>> { Ok(Vec::<f64>::try_from(&t.f_flatten(0, -1)?.f_to_device(Device::Cpu)?)?) };
    Ok((host(&mean)?, host(&var.f_sqrt()?)?))
}
