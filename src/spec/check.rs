//! Turns a parsed spec into a resolved one (the plans of `plan`): defaults applied, per-set
//! overrides merged, cross-field rules checked. Single-field rules are already enforced while
//! parsing (see `values`), where the error still has its line and column.

use std::path::Path;

use super::identity::identity_hash;
use super::plan::{
    ClassifierPlan, Co2Plan, ConcretePlan, EnsemblePlan, Experiment, GpPlan, LearnedDropout, MfviPlan, MlpPlan,
    MnistPlan, ModelPlan, NetworkTraining, PbpPlan, RotatedDigitPlan, SgdPlan, Spec, TrainingPlan, UciPlan, UciSetPlan,
    WeightDecayRule,
};
use super::raw::{
    Co2Task, DropoutPlacement, Ensemble, Gp, GpOptimizer, GpSetSettings, InducingInit, McDropout, Mfvi, MnistTask,
    Model, Noise, Optimizer, Pbp, RawSpec, Splits, Task, Training, UciTask, WeightDecay,
};
use super::values::{Count, Positive};
use crate::data::regression::RegressionSource;
use crate::error::{Error, Result};

pub(super) fn check(mut raw: RawSpec, path: &Path, text: &str) -> Result<Spec> {
    if let Task::Table(task) = &mut raw.task {
        super::table::record_hashes(task, path, text)?;
    }
    let sha256 = identity_hash(&raw);
    let experiment = match &raw.task {
        Task::Uci(task) => Experiment::UciRegression(uci_plan(&raw, task, path, text)?),
        Task::Table(task) => Experiment::UciRegression(super::table::table_plan(&raw, task, path, text)?),
        Task::Mnist(task) => Experiment::Mnist(mnist_plan(&raw, task, path, text)?),
        Task::Co2(task) => Experiment::Co2(co2_plan(&raw, task, path, text)?),
        Task::Rl(task) => Experiment::Rl(super::rl::rl_plan(&raw, task, path, text)?),
    };
    Ok(Spec {
        name: raw.name.as_str().to_string(),
        description: raw.description.clone(),
        seed: raw.seed,
        device: raw.device,
        source: path.to_path_buf(),
        sha256,
        raw,
        experiment,
    })
}

fn uci_plan(raw: &RawSpec, task: &UciTask, path: &Path, text: &str) -> Result<UciPlan> {
    if task.sets.is_empty() {
        return Err(rule_error(path, text, "sets", "task.uci.sets: list at least one data set"));
    }
    let model = regression_model(raw, "uci", path, text)?;
    let mut sets = Vec::new();
    for (set, settings) in &task.sets {
        let field = format!("task.uci.sets.{}", set.folder());
        let grid = SetGrid {
            tau: &settings.tau,
            hidden_units: settings.hidden_units,
            epochs: settings.epochs,
            gp: settings.gp.as_ref(),
        };
        sets.push(set_plan(&model, RegressionSource::Uci(*set), grid, (&field, set.folder()), path, text)?);
    }
    if let Splits::List(list) = &task.splits {
        if list.is_empty() {
            return Err(rule_error(path, text, "splits", "task.uci.splits.list: list at least one split index"));
        }
    }
    Ok(model.into_plan(raw, sets, task.splits.clone(), "task.uci.splits"))
}

/// The model of a regression task (`uci` or `table`) and what its sets inherit from it.
pub(super) struct RegressionModel {
    plan: ModelPlan,
    hidden_units: Option<Count>,
    needs_tau: bool,
    default_epochs: Option<Count>,
}

impl RegressionModel {
    pub(super) fn into_plan(
        self,
        raw: &RawSpec,
        sets: Vec<UciSetPlan>,
        splits: Splits,
        splits_field: &'static str,
    ) -> UciPlan {
        UciPlan {
            sets,
            splits,
            splits_field,
            model: self.plan,
            validation_fraction: raw.selection.validation_fraction.get(),
            selection_metric: raw.selection.metric,
            splits_per_program: raw.run.splits_per_program.map(|c| c.get()),
        }
    }
}

/// A set's own settings: its tau grid and, where they differ from the model's, width, epochs
/// and the GP's optimizer.
pub(super) struct SetGrid<'a> {
    pub tau: &'a [Positive],
    pub hidden_units: Option<Count>,
    pub epochs: Option<Count>,
    pub gp: Option<&'a GpSetSettings>,
}

/// The model plan of a regression task; `task` (`uci`, `table`) names it in errors.
pub(super) fn regression_model(raw: &RawSpec, task: &str, path: &Path, text: &str) -> Result<RegressionModel> {
    let network = || -> Result<(NetworkTraining, &Training)> {
        let (t, mc_samples) = network_sections(raw, path, text, "model")?;
        Ok((NetworkTraining { training: training_plan(t, path, text)?, mc_samples }, t))
    };
    let (plan, hidden_units, needs_tau, default_epochs) = match &raw.model {
        Model::Lenet(_) => {
            return Err(rule_error(
                path,
                text,
                "lenet",
                &format!("model.lenet: LeNet takes images; use it with `task: {{mnist: ...}}`, not {task}"),
            ))
        }
        Model::DeepQ(_) => {
            return Err(rule_error(
                path,
                text,
                "deep_q",
                &format!("model.deep_q: deep-Q agents act in a world; use them with `task: {{rl: ...}}`, not {task}"),
            ))
        }
        Model::McDropout(model) => {
            let (net, t) = network()?;
            (ModelPlan::McDropout(mlp_plan(model, path, text)?, net), Some(model.hidden_units), true, Some(t.epochs))
        }
        Model::Mfvi(model) => {
            let (net, t) = network()?;
            (
                ModelPlan::Mfvi(mfvi_plan(model, path, text)?, net),
                Some(model.hidden_units),
                model.noise == Noise::Grid,
                Some(t.epochs),
            )
        }
        Model::Gp(gp) => {
            (ModelPlan::Gp(gp_plan(gp, path, text)?), None, false, raw.training.as_ref().map(|t| t.epochs))
        }
        Model::Pbp(Pbp { hidden_layers, hidden_units, epochs }) => {
            (ModelPlan::Pbp(PbpPlan { hidden_layers: hidden_layers.get() }), Some(*hidden_units), false, Some(*epochs))
        }
        Model::ConcreteDropout(c) => {
            let (net, t) = network()?;
            let plan = ConcretePlan {
                hidden_layers: c.hidden_layers.get(),
                length_scale: c.length_scale.get(),
                temperature: c.temperature.get(),
                init_dropout: c.init_dropout.get(),
                noise: c.noise,
            };
            let needs_tau = !plan.noise.is_learned();
            (ModelPlan::ConcreteDropout(plan, net), Some(c.hidden_units), needs_tau, Some(t.epochs))
        }
        Model::Ensemble(e) => {
            (ModelPlan::Ensemble(ensemble_plan(e, path, text)?), Some(e.hidden_units), false, Some(e.epochs))
        }
    };
    Ok(RegressionModel { plan, hidden_units, needs_tau, default_epochs })
}

/// One set's plan: its grid checked against what the model searches, overrides applied.
/// `(field, key)`: the spec field of its settings and the YAML key errors point at.
pub(super) fn set_plan(
    model: &RegressionModel,
    source: RegressionSource,
    grid: SetGrid,
    (field, key): (&str, &str),
    path: &Path,
    text: &str,
) -> Result<UciSetPlan> {
    let taus: Vec<f64> = grid.tau.iter().map(|t| t.get()).collect();
    if model.needs_tau && taus.is_empty() {
        return Err(rule_error(
            path,
            text,
            key,
            &format!("{field}.tau: this model searches tau; list at least one value"),
        ));
    }
    if let Some(dup) = first_duplicate(&taus) {
        return Err(rule_error(path, text, key, &format!("{field}.tau: {dup} is listed twice; list each value once")));
    }
    let gp = match (grid.gp, &model.plan) {
        (None, _) => None,
        (Some(settings), ModelPlan::Gp(model_gp)) => Some(set_gp_plan(model_gp, settings, (field, key), path, text)?),
        (Some(_), _) => {
            return Err(rule_error(
                path,
                text,
                key,
                &format!("{field}.gp: only a GP model (`model: {{gp: ...}}`) takes per-set GP settings; remove it"),
            ))
        }
    };
    Ok(UciSetPlan {
        set: source.name(),
        source,
        hidden_units: grid.hidden_units.or(model.hidden_units).map_or(0, |c| c.get()),
        epochs: grid.epochs.or(model.default_epochs).map_or(0, |c| c.get()),
        taus,
        gp,
    })
}

/// The model's GP plan with one set's settings applied.
fn set_gp_plan(
    model: &GpPlan,
    settings: &GpSetSettings,
    (field, key): (&str, &str),
    path: &Path,
    text: &str,
) -> Result<GpPlan> {
    let mut plan = model.clone();
    if let Some(optimizer) = settings.optimizer {
        plan.optimizer = optimizer;
    }
    if let Some(iterations) = settings.iterations {
        plan.iterations = iterations.get();
    }
    if let Some(lr) = settings.lr {
        plan.lr = lr.get();
    }
    if let Some(init) = settings.inducing_init {
        plan.inducing_init = init;
    }
    if let Some(race) = settings.race_after {
        plan.race_after = Some(race.get());
    } else if plan.optimizer != model.optimizer {
        plan.race_after = None;
    }
    check_inducing_init(&plan, (&format!("{field}.gp"), key), path, text)?;
    Ok(plan)
}

/// Greedy variance starts L-BFGS's inducing inputs only; Adam's start at random rows.
/// `(field, key)`: the settings' spec field and the YAML key errors point at.
fn check_inducing_init(plan: &GpPlan, (field, key): (&str, &str), path: &Path, text: &str) -> Result<()> {
    if plan.inducing_init == InducingInit::GreedyVariance && plan.optimizer != GpOptimizer::Lbfgs {
        return Err(rule_error(
            path,
            text,
            key,
            &format!(
                "{field}: inducing_init greedy_variance starts L-BFGS's inducing inputs only; with adam use `inducing_init: random`"
            ),
        ));
    }
    Ok(())
}

/// The training and evaluation sections a network needs, or an error saying which is missing.
fn network_sections<'a>(raw: &'a RawSpec, path: &Path, text: &str, key: &str) -> Result<(&'a Training, usize)> {
    match (&raw.training, &raw.evaluation) {
        (Some(t), Some(e)) => Ok((t, e.mc_samples.get())),
        (None, _) => {
            Err(rule_error(path, text, key, "training: this model trains a network; add a `training:` section"))
        }
        (_, None) => Err(rule_error(
            path,
            text,
            key,
            "evaluation: this model samples predictions; add `evaluation: {mc_samples: T}`",
        )),
    }
}

/// The Adam plan of a training section; SGD is MNIST's only (`sgd_plan`), refused elsewhere.
fn training_plan(t: &Training, path: &Path, text: &str) -> Result<TrainingPlan> {
    match &t.optimizer {
        Optimizer::Adam(adam) => Ok(TrainingPlan {
            batch_size: t.batch_size.get(),
            lr: adam.lr.get(),
            beta1: adam.beta1.get(),
            beta2: adam.beta2.get(),
            eps: adam.eps.get(),
        }),
        Optimizer::Sgd(_) => Err(rule_error(
            path,
            text,
            "sgd",
            "training.optimizer.sgd: Caffe's SGD trains the MNIST classifiers only; this model trains with `adam: {lr: ...}`",
        )),
    }
}

/// MNIST's training: Adam, or SGD with its base rate in the plan's `lr` (Adam's moments unused).
fn classifier_training(t: &Training, path: &Path, text: &str) -> Result<(TrainingPlan, Option<SgdPlan>)> {
    match &t.optimizer {
        Optimizer::Sgd(sgd) => {
            let plan =
                TrainingPlan { batch_size: t.batch_size.get(), lr: sgd.lr.get(), beta1: 0.9, beta2: 0.999, eps: 1e-7 };
            Ok((plan, Some(SgdPlan { momentum: sgd.momentum.get(), lr_policy: sgd.lr_policy })))
        }
        Optimizer::Adam(_) => Ok((training_plan(t, path, text)?, None)),
    }
}

fn ensemble_plan(e: &Ensemble, path: &Path, text: &str) -> Result<EnsemblePlan> {
    let rates: Vec<f64> = e.lr.iter().map(|r| r.get()).collect();
    if rates.is_empty() {
        return Err(rule_error(path, text, "lr", "model.ensemble.lr: list at least one learning rate"));
    }
    if let Some(dup) = first_duplicate(&rates) {
        return Err(rule_error(
            path,
            text,
            "lr",
            &format!("model.ensemble.lr: {dup} is listed twice; list each value once"),
        ));
    }
    let fraction = e.adversarial.get();
    Ok(EnsemblePlan {
        hidden_layers: e.hidden_layers.get(),
        members: e.members.get(),
        training: TrainingPlan { batch_size: e.batch_size.get(), lr: rates[0], beta1: 0.9, beta2: 0.999, eps: 1e-8 },
        rates,
        loss: e.loss,
        adversarial: (fraction > 0.0).then_some(fraction),
        variance_floor: e.variance_floor.get(),
    })
}

fn gp_plan(gp: &Gp, path: &Path, text: &str) -> Result<GpPlan> {
    let plan = GpPlan {
        restarts: gp.restarts.get(),
        iterations: gp.iterations.get(),
        lr: gp.lr.get(),
        noise_floor: gp.noise_floor.get(),
        max_rows: gp.max_rows.get(),
        inducing: gp.inducing.map_or(500, |c| c.get()),
        optimizer: gp.optimizer.unwrap_or_default(),
        inducing_init: gp.inducing_init.unwrap_or_default(),
        learn_inducing: gp.learn_inducing.unwrap_or(true),
        race_after: gp.race_after.map(|c| c.get()),
    };
    check_inducing_init(&plan, ("model.gp", "inducing_init"), path, text)?;
    Ok(plan)
}

fn mnist_plan(raw: &RawSpec, task: &MnistTask, path: &Path, text: &str) -> Result<MnistPlan> {
    let classifier = match &raw.model {
        Model::Lenet(l) => {
            let learned = match &l.concrete {
                None => None,
                Some(_) if l.placement == DropoutPlacement::All => {
                    return Err(rule_error(
                        path,
                        text,
                        "concrete",
                        "model.lenet.concrete: learned rates sit before the fully connected layers only; use `placement: last`",
                    ))
                }
                Some(_) if l.dropout.get() == 0.0 => {
                    return Err(rule_error(
                        path,
                        text,
                        "dropout",
                        "model.lenet.dropout: with `concrete` this is where the learned rates start; give one above 0 (e.g. 0.1)",
                    ))
                }
                Some(c) => Some(LearnedDropout { length_scale: c.length_scale.get(), temperature: c.temperature.get() }),
            };
            let members = l.members.get();
            if members > 1 && (learned.is_some() || l.placement == DropoutPlacement::All) {
                return Err(rule_error(
                    path,
                    text,
                    "members",
                    "model.lenet.members: ensembles are of the paper's LeNet (`placement: last`, no `concrete`); drop `members` or those settings",
                ));
            }
            ClassifierPlan::Lenet {
                dropout: l.dropout.get(),
                placement: l.placement,
                weight_decay: l.weight_decay.get(),
                learned,
                members,
            }
        }
        Model::Mfvi(m) => {
            if m.prior_scale.len() != 1 {
                return Err(rule_error(
                    path,
                    text,
                    "prior_scale",
                    "model.mfvi.prior_scale: MNIST has no validation search; give exactly one value",
                ));
            }
            ClassifierPlan::Mfvi {
                hidden_layers: m.hidden_layers.get(),
                hidden_units: m.hidden_units.get(),
                activation: m.activation,
                prior_std: m.prior_scale[0].get(),
                init_posterior_std: m.init_posterior_std.get(),
            }
        }
        _ => {
            return Err(rule_error(
                path,
                text,
                "model",
                "model: MNIST trains `lenet` (MC dropout) or `mfvi` (variational MLP)",
            ))
        }
    };
    let (training, mc_samples) = network_sections(raw, path, text, "model")?;
    let digit = &task.rotated_digit;
    if let ClassifierPlan::Lenet { members, .. } = classifier {
        let passes = [("evaluation.mc_samples", mc_samples), ("task.mnist.rotated_digit.samples", digit.samples.get())];
        if let Some((field, n)) = passes.iter().find(|(_, n)| *n < members) {
            return Err(rule_error(
                path,
                text,
                "members",
                &format!(
                    "model.lenet.members: the {members} members share the {n} passes of {field}, at least one each; give at most {n} members or more passes"
                ),
            ));
        }
    }
    if let Some(&c) = digit.classes.iter().find(|&&c| c >= crate::data::mnist::CLASSES) {
        return Err(rule_error(
            path,
            text,
            "classes",
            &format!("task.mnist.rotated_digit.classes: {c} is not a digit 0-9"),
        ));
    }
    if task.shift_angles.is_empty() {
        return Err(rule_error(
            path,
            text,
            "shift_angles",
            "task.mnist.shift_angles: list at least one angle (0 is the unrotated test set)",
        ));
    }
    let (training_plan, sgd) = classifier_training(training, path, text)?;
    Ok(MnistPlan {
        classifier,
        epochs: training.epochs.get(),
        training: training_plan,
        sgd,
        mc_samples,
        train_rows: task.train_rows.map(|c| c.get()),
        test_rows: task.test_rows.map(|c| c.get()),
        shift_rows: task.shift_rows.map(|c| c.get()),
        shift_angles: task.shift_angles.iter().map(|a| a.get()).collect(),
        rotated_digit: RotatedDigitPlan {
            image: digit.image,
            steps: digit.steps.get(),
            max_degrees: digit.max_degrees.get(),
            samples: digit.samples.get(),
            classes: digit.classes.clone(),
        },
        calibration_bins: task.calibration_bins.get(),
    })
}

fn co2_plan(raw: &RawSpec, task: &Co2Task, path: &Path, text: &str) -> Result<Co2Plan> {
    let Model::McDropout(model) = &raw.model else {
        return Err(rule_error(
            path,
            text,
            "model",
            "model: the CO2 experiment trains `mc_dropout` networks (the GP baseline is set under task.co2.gp)",
        ));
    };
    let mlp = mlp_plan(model, path, text)?;
    if mlp.dropout_rates.len() != 1 {
        return Err(rule_error(
            path,
            text,
            "dropout",
            "model.mc_dropout.dropout: CO2 has no validation search; give exactly one rate",
        ));
    }
    if task.activations.is_empty() {
        return Err(rule_error(path, text, "activations", "task.co2.activations: list at least one (relu, tanh)"));
    }
    if task.predict_until.get() <= task.cutoff.get() {
        return Err(rule_error(path, text, "predict_until", "task.co2.predict_until: must be after the cutoff year"));
    }
    let (training, mc_samples) = network_sections(raw, path, text, "model")?;
    Ok(Co2Plan {
        cutoff: task.cutoff.get(),
        predict_until: task.predict_until.get(),
        grid_points: task.grid_points.get(),
        activations: task.activations.clone(),
        tau: task.tau.get(),
        gp: gp_plan(&task.gp, path, text)?,
        mlp,
        hidden_units: model.hidden_units.get(),
        epochs: training.epochs.get(),
        training: training_plan(training, path, text)?,
        mc_samples,
    })
}

fn mlp_plan(model: &McDropout, path: &Path, text: &str) -> Result<MlpPlan> {
    let dropout_rates: Vec<f64> = model.dropout.iter().map(|p| p.get()).collect();
    if dropout_rates.is_empty() {
        return Err(rule_error(path, text, "dropout", "model.mc_dropout.dropout: list at least one rate"));
    }
    if let Some(dup) = first_duplicate(&dropout_rates) {
        return Err(rule_error(
            path,
            text,
            "dropout",
            &format!("model.mc_dropout.dropout: {dup} is listed twice; list each rate once"),
        ));
    }
    Ok(MlpPlan {
        hidden_layers: model.hidden_layers.get(),
        activation: model.activation,
        dropout_rates,
        weight_decay: match model.weight_decay {
            WeightDecay::LengthScale(l) => WeightDecayRule::LengthScale(l.get()),
            WeightDecay::Fixed(lambda) => WeightDecayRule::Fixed(lambda.get()),
        },
    })
}

fn mfvi_plan(model: &Mfvi, path: &Path, text: &str) -> Result<MfviPlan> {
    let prior_scales: Vec<f64> = model.prior_scale.iter().map(|s| s.get()).collect();
    if prior_scales.is_empty() {
        return Err(rule_error(path, text, "prior_scale", "model.mfvi.prior_scale: list at least one value"));
    }
    if let Some(dup) = first_duplicate(&prior_scales) {
        return Err(rule_error(
            path,
            text,
            "prior_scale",
            &format!("model.mfvi.prior_scale: {dup} is listed twice; list each value once"),
        ));
    }
    Ok(MfviPlan {
        hidden_layers: model.hidden_layers.get(),
        activation: model.activation,
        prior_scales,
        learn_noise: model.noise == Noise::Learned,
        init_posterior_std: model.init_posterior_std.get(),
        init_noise_std: model.init_noise_std.get(),
    })
}

fn first_duplicate(values: &[f64]) -> Option<f64> {
    values.iter().enumerate().find(|(i, v)| values[..*i].contains(v)).map(|(_, v)| *v)
}

/// An error for a rule that spans fields; the line is that of the first `key:` in the text.
pub(super) fn rule_error(path: &Path, text: &str, key: &str, message: &str) -> Error {
    let needle = format!("{key}:");
    let location = text
        .lines()
        .enumerate()
        .find_map(|(i, line)| {
            let trimmed = line.trim_start();
            trimmed
                .starts_with(&needle)
                .then(|| format!("{}:{}:{}", path.display(), i + 1, line.len() - trimmed.len() + 1))
        })
        .unwrap_or_else(|| path.display().to_string());
    Error::Spec { location, message: message.to_string() }
}
