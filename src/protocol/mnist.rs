//! The MNIST protocol (paper section 5.2 and beyond): train one classifier, then
//! 1. score the test set with dropout off ("standard") and by MC averaging of T passes;
//! 2. rotate one test digit in equal steps and keep every pass's softmax input and output for
//!    the chosen classes (Figure 4);
//! 3. rotate the test images by each shift angle and score both predictions (dataset shift).
//!
//! Each step is a unit with its own file (weights, then one JSON per step; the shift study
//! also one per angle), written atomically; a rerun redoes only the missing ones.

use crate::results::outcome::OutcomeFile;
use std::path::Path;
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use super::{RunContext, RunSummary};
use crate::data::mnist::{rotate, Digits, Mnist, CLASSES, PIXELS, SIDE};
use crate::error::{Error, Result};
use crate::metrics::{classification_scores, reliability};
use crate::models::classifier::{
    fit, predictive_probabilities, Classifier, ClassifierEnsemble, ClassifierFit, ImageClassifier, ImageSet,
};
use crate::models::ModelKind;
use crate::results::outcome::{
    MethodScores, MnistEvaluation, RotatedDigitRecord, ShiftAngle, ShiftStudy, TrainingRecord,
};
use crate::rng::derive_seed;
use crate::spec::{ClassifierPlan, MnistPlan};

/// Images scored per chunk of MC passes (bounds activation memory: T x chunk x 500 floats).
const EVAL_CHUNK: usize = 500;

pub fn run(ctx: &RunContext, plan: &MnistPlan) -> Result<RunSummary> {
    if !ctx.share.runs_whole(&ctx.spec.name)? {
        return Ok(RunSummary::default());
    }
    let mnist = Mnist::find_and_load(ctx.data)?;
    let train = plan.train_rows.map_or_else(|| mnist.train.clone(), |n| mnist.train.truncated(n));
    let test = plan.test_rows.map_or_else(|| mnist.test.clone(), |n| mnist.test.truncated(n));
    // Checked before training, so a bad index does not cost a training run.
    if let Some(i) = plan.rotated_digit.image.filter(|&i| i >= test.len()) {
        return Err(Error::Spec {
            location: ctx.spec.source.display().to_string(),
            message: format!(
                "task.mnist.rotated_digit.image: test image {i} was asked for but only {} test images are used",
                test.len()
            ),
        });
    }
    let digit = match plan.rotated_digit.image {
        Some(i) => i,
        None => test.labels.iter().position(|&l| l == 1).ok_or_else(|| Error::Spec {
            location: ctx.spec.source.display().to_string(),
            message: "task.mnist.rotated_digit: no test image of the digit 1 among the test rows used; name one with `image:`".into(),
        })?,
    };
    let model = model_kind(&plan.classifier);
    let mut summary = RunSummary::default();

    let members = plan.classifier.members();
    let mut data = None;
    let mut trained = Vec::with_capacity(members);
    for k in 0..members {
        let files = MemberFiles::of(k, members);
        trained.push(trained_member(ctx, plan, &train, &files, &mut data, &mut summary)?);
    }
    let ensemble;
    let clf: &dyn Classifier = if members == 1 {
        &trained[0]
    } else {
        ensemble = ClassifierEnsemble::new(trained);
        &ensemble
    };

    unit(ctx, &mut summary, &ctx.store.outcome(OutcomeFile::MnistEvaluation), || {
        evaluate_test(ctx, plan, clf, &test, model)
    })?;
    unit(ctx, &mut summary, &ctx.store.outcome(OutcomeFile::RotatedDigit), || {
        rotated_digit(ctx, plan, clf, &test, digit)
    })?;
    unit(ctx, &mut summary, &ctx.store.outcome(OutcomeFile::Shift), || shift_study(ctx, plan, clf, &test, model))?;
    Ok(summary)
}

/// Where member `index` of a classifier of `members` keeps its weights, training record and
/// checkpoint, and the seed path of its initialization and data order. A single classifier
/// keeps the names it always had, and member 0 of an ensemble its seeds, so that member is the
/// single classifier of the same spec.
struct MemberFiles {
    index: usize,
    members: usize,
}

impl MemberFiles {
    fn of(index: usize, members: usize) -> Self {
        Self { index, members }
    }

    fn name(&self, stem: &str, extension: &str) -> String {
        match self.members {
            1 => format!("{stem}{extension}"),
            _ => format!("{stem}-{}{extension}", self.index),
        }
    }

    fn weights(&self) -> String {
        self.name("model", ".safetensors")
    }

    fn training(&self) -> String {
        self.name("training", ".json")
    }

    fn checkpoint(&self) -> String {
        self.name("mnist-training", "")
    }

    fn seed(&self, ctx: &RunContext, what: &str) -> u64 {
        match self.index {
            0 => derive_seed(ctx.spec.seed, &["mnist", what]),
            k => derive_seed(ctx.spec.seed, &["mnist", what, &k.to_string()]),
        }
    }

    fn progress_label(&self, model: ModelKind) -> String {
        match self.members {
            1 => format!("{model} training"),
            m => format!("{model} member {} of {m} training", self.index + 1),
        }
    }
}

/// The outcome files of a complete MNIST run: each member's training record, then the three
/// evaluations.
pub fn outcome_files(plan: &MnistPlan) -> Vec<String> {
    let members = plan.classifier.members();
    let mut files: Vec<String> = (0..members).map(|k| MemberFiles::of(k, members).training()).collect();
    files.extend(
        [OutcomeFile::MnistEvaluation, OutcomeFile::RotatedDigit, OutcomeFile::Shift].map(|f| f.name().to_string()),
    );
    files
}

/// One member trained (or loaded, when its weights and training record are there); the
/// training images are put on the device the first time a member trains.
fn trained_member(
    ctx: &RunContext,
    plan: &MnistPlan,
    train: &Digits,
    files: &MemberFiles,
    data: &mut Option<ImageSet>,
    summary: &mut RunSummary,
) -> Result<ImageClassifier> {
    let model = model_kind(&plan.classifier);
    let weights = ctx.store.dir().join(files.weights());
    let training_path = ctx.store.outcome_path(&files.training());
    let mut clf = ImageClassifier::new(&plan.classifier, ctx.device, files.seed(ctx, "init"))?;
    if weights.exists() && ctx.recorded::<TrainingRecord>(&training_path)?.is_some() {
        clf.var_store_mut().load(&weights).map_err(|e| Error::Results {
            path: weights.clone(),
            message: format!("cannot load saved weights ({e}); delete it or rerun with --force to retrain"),
        })?;
        tracing::info!("loaded trained weights from {}", weights.display());
        summary.units_skipped += 1;
        return Ok(clf);
    }
    let started = Instant::now();
    let data = match data {
        Some(images) => images,
        None => data.insert(image_set(train, ctx.device)?),
    };
    let options = ClassifierFit {
        epochs: plan.epochs,
        training: plan.training.clone(),
        sgd: plan.sgd,
        seed: files.seed(ctx, "order"),
    };
    let steps = options.steps(train.len());
    let progress = ctx.progress_bar(steps, &files.progress_label(model));
    let checkpoints = ctx.checkpoints(&files.checkpoint());
    let losses = fit(&mut clf, data, &options, &progress, &checkpoints)?;
    progress.finish_and_clear();
    save_weights(clf.var_store(), &weights)?;
    let record = TrainingRecord {
        experiment: ctx.spec.name.clone(),
        model,
        n_train: train.len(),
        epochs: plan.epochs,
        steps: steps as usize,
        epoch_losses: losses,
        learned_dropout: clf.learned_rates()?,
        wall_seconds: started.elapsed().as_secs_f64(),
        provenance: ctx.provenance.stamped(),
    };
    ctx.store.write_json(&training_path, &record)?;
    checkpoints.clear()?;
    written(ctx, summary);
    Ok(clf)
}

/// Runs `make` and writes its record to `path`, unless the record is there already.
fn unit<T: serde::Serialize + serde::de::DeserializeOwned>(
    ctx: &RunContext,
    summary: &mut RunSummary,
    path: &Path,
    make: impl FnOnce() -> Result<T>,
) -> Result<()> {
    if ctx.recorded::<T>(path)?.is_some() {
        summary.units_skipped += 1;
        return Ok(());
    }
    let record = make()?;
    ctx.store.write_json(path, &record)?;
    written(ctx, summary);
    Ok(())
}

/// Standard and MC scores on the (unrotated) test images.
fn evaluate_test(
    ctx: &RunContext,
    plan: &MnistPlan,
    clf: &dyn Classifier,
    test: &Digits,
    model: ModelKind,
) -> Result<MnistEvaluation> {
    let started = Instant::now();
    tch::manual_seed(derive_seed(ctx.spec.seed, &["mnist", "mc-test"]) as i64);
    let images = images_tensor(test, ctx.device)?;
    let (mc, standard) = predictive_probabilities(clf, &images, plan.mc_samples, EVAL_CHUNK)?;
    let bins = plan.calibration_bins;
    let method = |probs: &[f32]| MethodScores {
        scores: classification_scores(probs, &test.labels, CLASSES, bins),
        reliability: reliability(probs, &test.labels, CLASSES, bins),
    };
    let record = MnistEvaluation {
        experiment: ctx.spec.name.clone(),
        model,
        n_test: test.len(),
        mc_samples: plan.mc_samples,
        standard: method(&standard),
        mc: method(&mc),
        wall_seconds: started.elapsed().as_secs_f64(),
        provenance: ctx.provenance.stamped(),
    };
    tracing::info!(
        "test: standard accuracy {:.4} nll {:.4}; MC (T={}) accuracy {:.4} nll {:.4}",
        record.standard.scores.accuracy,
        record.standard.scores.nll,
        plan.mc_samples,
        record.mc.scores.accuracy,
        record.mc.scores.nll
    );
    Ok(record)
}

/// The test images rotated by each shift angle; every angle is saved under
/// `outcomes/shift-parts/` as it finishes, so an interrupted study resumes at the next angle.
fn shift_study(
    ctx: &RunContext,
    plan: &MnistPlan,
    clf: &dyn Classifier,
    test: &Digits,
    model: ModelKind,
) -> Result<ShiftStudy> {
    let shifted = plan.shift_rows.map_or_else(|| test.clone(), |n| test.truncated(n));
    let parts = ctx.store.outcome_path("shift-parts");
    let mut angles = Vec::new();
    let progress = ctx.progress_bar(plan.shift_angles.len() as u64, "rotation shift");
    for &degrees in &plan.shift_angles {
        let part = parts.join(format!("{degrees}.json"));
        if let Some(angle) = ctx.recorded::<ShiftAngle>(&part)? {
            angles.push(angle);
            progress.inc(1);
            continue;
        }
        tch::manual_seed(derive_seed(ctx.spec.seed, &["mnist", "shift", &degrees.to_string()]) as i64);
        let images = rotated_images(&shifted, degrees, ctx.device)?;
        let (mc, standard) = predictive_probabilities(clf, &images, plan.mc_samples, EVAL_CHUNK)?;
        let angle = ShiftAngle {
            degrees,
            standard: classification_scores(&standard, &shifted.labels, CLASSES, plan.calibration_bins),
            mc: classification_scores(&mc, &shifted.labels, CLASSES, plan.calibration_bins),
        };
        tracing::info!(
            "rotated {degrees:>5.1} deg: accuracy standard {:.3} MC {:.3}, entropy standard {:.3} MC {:.3}",
            angle.standard.accuracy,
            angle.mc.accuracy,
            angle.standard.entropy,
            angle.mc.entropy
        );
        ctx.store.write_json(&part, &angle)?;
        angles.push(angle);
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(ShiftStudy {
        experiment: ctx.spec.name.clone(),
        model,
        n_images: shifted.len(),
        mc_samples: plan.mc_samples,
        angles,
        provenance: ctx.provenance.stamped(),
    })
}

fn written(ctx: &RunContext, summary: &mut RunSummary) {
    summary.units_written += 1;
    ctx.count_written();
}

/// The classifier's name in records (`lenet` / `lenet-all` / `lenet-concrete` /
/// `lenet-ensemble-5` / `mfvi-2x400`).
pub fn model_kind(plan: &ClassifierPlan) -> ModelKind {
    match plan {
        ClassifierPlan::Lenet { members, .. } if *members > 1 => ModelKind::LenetEnsemble { members: *members },
        ClassifierPlan::Lenet { learned: Some(_), .. } => ModelKind::ConcreteLenet,
        ClassifierPlan::Lenet { placement, learned: None, .. } => ModelKind::Lenet { placement: *placement },
        ClassifierPlan::Mfvi { hidden_layers, hidden_units, .. } => {
            ModelKind::MfviClassifier { hidden_layers: *hidden_layers, hidden_units: *hidden_units }
        }
    }
}

/// Image `i` as grey levels in [0, 1].
fn grey(digits: &Digits, i: usize) -> Vec<f32> {
    digits.image(i).iter().map(|&p| p as f32 / 255.0).collect()
}

/// Every image as grey levels in [0, 1], [n, 1, 28, 28].
fn images_tensor(digits: &Digits, device: Device) -> Result<Tensor> {
    rotated_images(digits, 0.0, device)
}

fn image_set(digits: &Digits, device: Device) -> Result<ImageSet> {
    let labels: Vec<i64> = digits.labels.iter().map(|&l| l as i64).collect();
    Ok(ImageSet { images: images_tensor(digits, device)?, labels: Tensor::from_slice(&labels).f_to_device(device)? })
}

/// Every image rotated by `degrees` (counter-clockwise), as [n, 1, 28, 28].
fn rotated_images(digits: &Digits, degrees: f64, device: Device) -> Result<Tensor> {
    let mut pixels = Vec::with_capacity(digits.len() * PIXELS);
    for i in 0..digits.len() {
        let image = grey(digits, i);
        pixels.extend(if degrees == 0.0 { image } else { rotate(&image, SIDE, degrees) });
    }
    Ok(Tensor::from_slice(&pixels).f_view([digits.len() as i64, 1, SIDE as i64, SIDE as i64])?.f_to_device(device)?)
}

/// Figure 4's data: test image `index` at steps + 1 angles from 0 to max_degrees.
fn rotated_digit(
    ctx: &RunContext,
    plan: &MnistPlan,
    clf: &dyn Classifier,
    test: &Digits,
    index: usize,
) -> Result<RotatedDigitRecord> {
    let spec = &plan.rotated_digit;
    let upright = grey(test, index);
    let angles: Vec<f64> = (0..=spec.steps).map(|i| spec.max_degrees * i as f64 / spec.steps as f64).collect();
    let images: Vec<Vec<f32>> = angles.iter().map(|&a| rotate(&upright, SIDE, a)).collect();
    let stacked: Vec<f32> = images.concat();
    let x = Tensor::from_slice(&stacked)
        .f_view([angles.len() as i64, 1, SIDE as i64, SIDE as i64])?
        .f_to_device(ctx.device)?;
    tch::manual_seed(derive_seed(ctx.spec.seed, &["mnist", "rotated-digit"]) as i64);
    let _guard = tch::no_grad_guard();
    let logits = clf.sample_logits(&x, spec.samples)?; // [T, angles, 10]
    let probs = logits.f_softmax(-1, Kind::Float)?;
    let classes =
        Tensor::from_slice(&spec.classes.iter().map(|&c| c as i64).collect::<Vec<_>>()).f_to_device(ctx.device)?;
    let n_angles = angles.len();
    // [angles, T, classes]
    let pick = |t: &Tensor| -> Result<Vec<Vec<Vec<f32>>>> {
        let t = t.f_index_select(2, &classes)?.f_transpose(0, 1)?.f_contiguous()?.f_to_device(Device::Cpu)?;
        let flat = Vec::<f32>::try_from(&t.f_flatten(0, -1)?)?;
        let (a, s, c) = (n_angles, spec.samples, spec.classes.len());
        Ok((0..a).map(|i| (0..s).map(|j| flat[(i * s + j) * c..(i * s + j + 1) * c].to_vec()).collect()).collect())
    };
    let mc_prediction: Vec<i64> =
        Vec::<i64>::try_from(&probs.f_mean_dim(0, false, Kind::Float)?.f_argmax(-1, false)?.f_to_device(Device::Cpu)?)?;
    Ok(RotatedDigitRecord {
        experiment: ctx.spec.name.clone(),
        image_index: index,
        label: test.labels[index],
        angles,
        images,
        classes: spec.classes.clone(),
        softmax_input: pick(&logits)?,
        softmax_output: pick(&probs)?,
        mc_prediction: mc_prediction.into_iter().map(|c| c as usize).collect(),
        provenance: ctx.provenance.stamped(),
    })
}

/// Saves a var store atomically (tch picks the format from the extension, which the
/// temporary keeps).
fn save_weights(vs: &tch::nn::VarStore, path: &Path) -> Result<()> {
    crate::results::atomic::write_atomic_via(path, |tmp| Ok(vs.save(tmp)?))
}
