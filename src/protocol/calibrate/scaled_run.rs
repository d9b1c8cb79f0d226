//! The cost model of specs estimated as a whole (MNIST, CO2, RL): wall time is a fixed part
//! plus a part proportional to the work, t(s) = fixed + s x scaled, where s is the share of the
//! spec's work (training steps, scored rows, ticks) a shortened copy does. Two shortened runs,
//! at s and about 2s, give both parts; the estimate is t(1).

use std::time::Instant;

use super::{extrapolate, Calibration, EstimateLine};
use crate::data::mnist::Mnist;
use crate::error::{Error, Result};
use crate::protocol::execute::{execute, ExecuteOptions, CHECKPOINT_EVERY};
use crate::results::ExperimentStore;
use crate::spec::{Experiment, Spec};

/// Training steps of the smaller MNIST calibration run (the larger has twice as many).
const MNIST_STEPS: usize = 40;
/// The share of its epochs, MC passes and GP iterations the smaller CO2 calibration run does
/// (one GP iteration of the paper's 300).
const CO2_SHARE: f64 = 1.0 / 300.0;
/// Batches of ticks of the smaller RL calibration run.
const RL_BATCHES: usize = 5;

pub fn estimate(spec: &Spec, calibration: &Calibration) -> Result<EstimateLine> {
    // MNIST's training and test images, counted once for both calibrations.
    let mnist_rows = match &spec.experiment {
        Experiment::Mnist(_) => {
            let mnist = Mnist::find_and_load(calibration.data)?;
            Some((mnist.train.len(), mnist.test.len()))
        }
        _ => None,
    };
    let mut points = Vec::new();
    for size in [1, 2] {
        let (short, share) = shortened(spec, size, mnist_rows);
        points.push((share, timed_run(&short, calibration)?));
    }
    let [(s1, t1), (s2, t2)] = [points[0], points[1]];
    let seconds = extrapolate(points, 1.0);
    let what = match &spec.experiment {
        Experiment::Mnist(_) => "MNIST",
        Experiment::Co2(_) => "CO2",
        Experiment::Rl(_) => "RL",
        Experiment::UciRegression(_) => unreachable!("UCI specs are calibrated per set"),
    };
    Ok(EstimateLine {
        what: what.to_string(),
        set: None,
        train: seconds,
        evaluate: 0.0,
        how: format!("the whole spec at shares {s1:.2e} and {s2:.2e} of its work took {t1:.1} s and {t2:.1} s"),
    })
}

/// The spec with its work cut to about `size` times the smallest calibration share, and that
/// share; `mnist_rows` are MNIST's training and test images, for an MNIST spec.
fn shortened(spec: &Spec, size: usize, mnist_rows: Option<(usize, usize)>) -> (Spec, f64) {
    let mut short = spec.clone();
    let share = match &mut short.experiment {
        Experiment::Mnist(plan) => {
            let (all_train, all_test) = mnist_rows.expect("an MNIST spec's rows are counted first");
            let train = plan.train_rows.unwrap_or(all_train).min(all_train);
            let test = plan.test_rows.unwrap_or(all_test).min(all_test);
            let shift = plan.shift_rows.unwrap_or(test).min(test);
            let batch = plan.training.batch_size.max(1);
            let full_steps = plan.epochs * train.div_ceil(batch);
            let steps = (size * MNIST_STEPS).min(train.div_ceil(batch));
            let share = steps as f64 / full_steps as f64;
            let rows = |n: usize| ((n as f64 * share).round() as usize).max(1);
            plan.epochs = 1;
            plan.train_rows = Some(steps * batch);
            // The rotated digit must stay among the test rows.
            let digit = plan.rotated_digit.image.map_or(0, |i| i + 1);
            plan.test_rows = Some(rows(test).max(digit).min(test));
            plan.shift_rows = Some(rows(shift));
            share
        }
        Experiment::Co2(plan) => {
            // The networks' epochs and MC passes and the GP's iterations, all cut alike.
            let share = CO2_SHARE * size as f64;
            let cut = |n: usize| ((n as f64 * share).round() as usize).clamp(1, n.max(1));
            plan.epochs = cut(plan.epochs);
            plan.mc_samples = cut(plan.mc_samples);
            plan.gp.iterations = cut(plan.gp.iterations);
            share
        }
        Experiment::Rl(plan) => {
            let ticks = (RL_BATCHES * size * plan.batch_ticks).min(plan.ticks);
            let share = ticks as f64 / plan.ticks as f64;
            let cut = |n: usize| (n as f64 * share).round() as usize;
            plan.burnin_ticks = cut(plan.burnin_ticks);
            plan.learn_after = cut(plan.learn_after);
            plan.epsilon_ticks = cut(plan.epsilon_ticks).max(1);
            plan.reward_window = plan.reward_window.min(ticks);
            plan.ticks = ticks;
            share
        }
        Experiment::UciRegression(_) => unreachable!("UCI specs are calibrated per set"),
    };
    (short, share)
}

/// Wall seconds of running `spec` from scratch into a scratch directory.
fn timed_run(spec: &Spec, calibration: &Calibration) -> Result<f64> {
    let scratch =
        tempfile::Builder::new().prefix("mcdrop-calibration-").tempdir().map_err(Error::io(std::env::temp_dir()))?;
    let store = ExperimentStore::new(scratch.path(), &spec.name);
    let options = ExecuteOptions {
        force: true,
        only: Vec::new(),
        splits: None,
        mc_budget: calibration.mc_budget,
        progress: false,
        checkpoint_every: CHECKPOINT_EVERY,
        share: Default::default(),
        speculative_retrain: false,
    };
    let started = Instant::now();
    crate::logging::quietly(|| execute(spec, &store, calibration.data, calibration.device, options))?;
    Ok(started.elapsed().as_secs_f64())
}
