//! The UCI cost model: a program's seconds are its training steps times a per-step rate, plus
//! its predictive's samples times a per-sample rate, both measured per set and phase on the
//! set's first program trained briefly (see the parent module).

use super::{extrapolate, Calibration, EstimateLine, PhaseClock};
use crate::error::Result;
use crate::models::checkpoint::NoCheckpoints;
use crate::models::gp::optimize::RacePhases;
use crate::models::nn::mc_predictive::samples_per_chunk;
use crate::models::{regression_family, Env, Hyper, Program, RegressionFamily};
use crate::protocol::program::{build_program, Phase};
use crate::protocol::shard::set_programs;
use crate::protocol::splits::{final_rows, grid_rows, selected_splits, SplitRows};
use crate::spec::raw::GpOptimizer;
use crate::spec::{GpPlan, ModelPlan, Spec, UciPlan, UciSetPlan};

/// Training steps a calibration aims at per program (at least one epoch, and at most
/// `CALIBRATION_SHARE` of the spec's epochs when that is more than one).
const CALIBRATION_STEPS: u64 = 200;
/// The largest share of a set's epochs a calibration trains (PBP's epochs are few and long).
const CALIBRATION_SHARE: f64 = 0.05;
/// MC samples of a calibration's predictive, at least (at most the spec's).
const CALIBRATION_SAMPLES: usize = 50;
/// GP optimiser iterations of a calibration (at most the spec's).
const CALIBRATION_GP_ITERATIONS: usize = 3;

/// One line per set, and a caveat when the GP's L-BFGS may stop before its iterations.
pub fn estimate(spec: &Spec, plan: &UciPlan, calibration: &Calibration) -> Result<(Vec<EstimateLine>, Option<String>)> {
    let family = regression_family(plan);
    let mut lines = Vec::new();
    for set_plan in &plan.sets {
        let race_share = match &plan.model {
            ModelPlan::Gp(gp) => gp_race_share(set_plan.gp_plan(gp)),
            _ => 1.0,
        };
        let data = set_plan.source.load(calibration.data)?;
        let splits = selected_splits(&plan.splits, data.splits.len());
        let programs = set_programs(plan, &splits);
        let Some(first) = programs.first() else { continue };
        let n_train = data.splits[first[0]].train.len();
        let short_set = shortened_set(family.as_ref(), set_plan, n_train);
        let points = family.grid(set_plan);
        // Two calibrations, the second with twice the steps and samples, so that what does not
        // grow with them (set-up, the first pass's allocations) is not scaled up; a GP's
        // iterations are long enough for one.
        let measure = |rows: &[SplitRows], configs: &[Vec<Hyper>], phase: Phase| -> Result<(f64, f64)> {
            let program = build_program(spec.seed, &short_set, &data, rows, configs, phase, calibration.device)?;
            let samples = calibration_samples(plan, &program, set_plan, calibration.mc_budget);
            let sizes: &[usize] = if matches!(plan.model, ModelPlan::Gp(_)) { &[1] } else { &[1, 2] };
            let mut points = Vec::new();
            for &size in sizes {
                let short_set = UciSetPlan { epochs: short_set.epochs * size, ..short_set.clone() };
                let short_plan = shortened(plan, samples * size);
                let short_family = regression_family(&short_plan);
                let (train, evaluate) = timed_fit(short_family.as_ref(), &program, &short_set, calibration)?;
                let steps = short_family.steps(program.n(), &short_set) as f64;
                points.push(((steps, train), (mc_samples(&short_plan) as f64, evaluate)));
            }
            let steps = family.steps(program.n(), set_plan) as f64 * race_share;
            let train = extrapolate(points.iter().map(|p| p.0), steps);
            let evaluate = extrapolate(points.iter().map(|p| p.1), mc_samples(plan) as f64);
            Ok((train, evaluate))
        };
        if stops_on_its_own(plan, set_plan) {
            // One split fitted whole: L-BFGS stops where it converges or its line search
            // ends, for some sets far inside its iteration limit, and how far inside no
            // shortened fit can tell.
            let rows = final_rows(&data, &first[..1]);
            let configs = vec![vec![points[0].clone()]];
            let program = build_program(spec.seed, set_plan, &data, &rows, &configs, Phase::Final, calibration.device)?;
            let (train, evaluate) = timed_fit(family.as_ref(), &program, set_plan, calibration)?;
            let count = splits.len() as f64;
            lines.push(EstimateLine {
                what: set_plan.set.display_name().to_string(),
                set: Some((set_plan.set.clone(), splits.len())),
                train: train * count,
                evaluate: evaluate * count,
                how: format!(
                    "{} program(s) of up to {} split(s); calibrated by split {} fitted whole",
                    programs.len(),
                    first.len(),
                    first[0]
                ),
            });
            continue;
        }
        let (mut train, mut evaluate) = (0.0, 0.0);
        if points.len() > 1 {
            let rows = grid_rows(&data, first, plan.validation_fraction);
            let configs: Vec<Vec<Hyper>> = rows.iter().map(|_| points.clone()).collect();
            let (t, e) = measure(&rows, &configs, Phase::Grid)?;
            (train, evaluate) = (train + t, evaluate + e);
        }
        let rows = final_rows(&data, first);
        let configs: Vec<Vec<Hyper>> = rows.iter().map(|_| vec![points[0].clone()]).collect();
        let (t, e) = measure(&rows, &configs, Phase::Final)?;
        (train, evaluate) = (train + t, evaluate + e);
        // Every program of the set, at the first one's cost per split.
        let per_split = 1.0 / first.len() as f64;
        let count = splits.len() as f64;
        lines.push(EstimateLine {
            what: set_plan.set.display_name().to_string(),
            set: Some((set_plan.set.clone(), splits.len())),
            train: train * per_split * count,
            evaluate: evaluate * per_split * count,
            how: format!(
                "{} program(s) of up to {} split(s); calibrated on splits {}",
                programs.len(),
                first.len(),
                crate::protocol::shard::splits_label(first)
            ),
        });
    }
    let caveat = match &plan.model {
        ModelPlan::Gp(gp) if plan.sets.iter().any(|set| set.gp_plan(gp).optimizer == GpOptimizer::Lbfgs) => Some(
            "L-BFGS stops where each split's fit does: a set's splits are estimated at its first split's time".into(),
        ),
        _ => None,
    };
    Ok((lines, caveat))
}

/// Fits and scores `program` once: the seconds of training and of evaluation.
fn timed_fit(
    family: &dyn RegressionFamily,
    program: &Program,
    set: &UciSetPlan,
    calibration: &Calibration,
) -> Result<(f64, f64)> {
    let clock = PhaseClock::start();
    let env = Env {
        device: calibration.device,
        mc_budget: calibration.mc_budget,
        progress: &clock,
        checkpoints: &NoCheckpoints,
    };
    family.fit_and_score(program, set, &env)?;
    Ok(clock.split())
}

/// MC samples of a calibration of `program`: `CALIBRATION_SAMPLES`, or a whole chunk of the
/// full run's where its family evaluates in chunks of samples (a chunk's size sets the cost
/// of a sample: a large chunk runs out of cache), at most the spec's samples.
fn calibration_samples(plan: &UciPlan, program: &Program, set: &UciSetPlan, budget: usize) -> usize {
    let Some(net) = plan.model.network() else { return CALIBRATION_SAMPLES };
    // On the CPU MC dropout scores on the host, in tasks of a fixed number of samples.
    let chunked = !matches!(plan.model, ModelPlan::McDropout(..)) || program.held_x.device() != tch::Device::Cpu;
    let widest = set.hidden_units.max(program.held_x.size()[2] as usize);
    let chunk = if chunked {
        samples_per_chunk(budget, program.members.len(), program.n_held, widest, net.mc_samples)
    } else {
        0
    };
    chunk.max(CALIBRATION_SAMPLES).min(net.mc_samples)
}

/// The plan with `samples` predictive samples and few GP iterations (epochs are cut per set).
fn shortened(plan: &UciPlan, samples: usize) -> UciPlan {
    let mut short = plan.clone();
    if let Some(net) = short.model.network_mut() {
        net.mc_samples = net.mc_samples.min(samples);
    }
    if let ModelPlan::Gp(gp) = &mut short.model {
        shorten_gp(gp);
    }
    short
}

/// A GP plan of few iterations, every restart running through them (`gp_race_share`
/// accounts for the race of the full run).
fn shorten_gp(gp: &mut GpPlan) {
    gp.iterations = gp.iterations.min(CALIBRATION_GP_ITERATIONS);
    gp.race_after = None;
}

/// The set with the fewest epochs that give `CALIBRATION_STEPS` steps on `n` rows, within
/// `CALIBRATION_SHARE` of its epochs (and its own GP settings, if any, shortened as `shortened`
/// shortens the model's).
fn shortened_set(family: &dyn RegressionFamily, set: &UciSetPlan, n: usize) -> UciSetPlan {
    let per_epoch = family.steps(n, &UciSetPlan { epochs: 1, ..set.clone() });
    let mut short = UciSetPlan { epochs: calibration_epochs(per_epoch, set.epochs), ..set.clone() };
    if let Some(gp) = &mut short.gp {
        shorten_gp(gp);
    }
    short
}

/// Epochs of a calibration with `per_epoch` steps each, of a set trained for `epochs`.
fn calibration_epochs(per_epoch: u64, epochs: usize) -> usize {
    let wanted = CALIBRATION_STEPS.div_ceil(per_epoch.max(1)) as usize;
    let most = ((epochs as f64 * CALIBRATION_SHARE) as usize).max(1);
    wanted.clamp(1, most)
}

/// The predictive's samples (1 for a family without MC passes).
fn mc_samples(plan: &UciPlan) -> usize {
    plan.model.network().map_or(1, |net| net.mc_samples)
}

/// Whether a set's fit may stop before its iteration limit, so that only a whole fit tells
/// its time: a GP fitted by L-BFGS, exact or sparse (naval's sparse fits stop long before
/// the limit, kin8nm's run to it).
fn stops_on_its_own(plan: &UciPlan, set: &UciSetPlan) -> bool {
    matches!(&plan.model, ModelPlan::Gp(gp) if set.gp_plan(gp).optimizer == GpOptimizer::Lbfgs)
}

/// A GP whose restarts race runs all of them only up to `race_after`, then one per member:
/// its iterations cost that share of iterations with every restart.
fn gp_race_share(gp: &GpPlan) -> f64 {
    RacePhases::of(gp).share(gp.restarts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::raw::InducingInit;

    #[test]
    fn a_calibration_trains_about_its_steps_but_a_small_share_of_the_epochs() {
        // Protein (286 steps an epoch, 2000 epochs): one epoch.
        assert_eq!(calibration_epochs(286, 2000), 1);
        // Yacht (3 steps an epoch, 4000 epochs): 67 epochs, 201 steps.
        assert_eq!(calibration_epochs(3, 4000), 67);
        // PBP (one step an epoch, 40 epochs): 5 % of them, 2 epochs.
        assert_eq!(calibration_epochs(1, 40), 2);
        assert_eq!(calibration_epochs(1, 10), 1);
        assert_eq!(calibration_epochs(0, 0), 1);
    }

    #[test]
    fn a_race_leaves_one_restart_in_its_later_iterations() {
        let gp = |restarts, iterations, race_after| GpPlan {
            restarts,
            iterations,
            lr: 0.05,
            noise_floor: 1e-6,
            max_rows: 1000,
            inducing: 10,
            optimizer: GpOptimizer::Lbfgs,
            inducing_init: InducingInit::Random,
            learn_inducing: false,
            race_after,
        };
        // 20 iterations with 3 restarts, 280 with one: (20 + 280 / 3) / 300 of the cost.
        assert!((gp_race_share(&gp(3, 300, Some(20))) - (20.0 + 280.0 / 3.0) / 300.0).abs() < 1e-12);
        assert_eq!(gp_race_share(&gp(3, 300, None)), 1.0);
        assert_eq!(gp_race_share(&gp(1, 300, Some(20))), 1.0);
        assert_eq!(gp_race_share(&gp(3, 10, Some(20))), 1.0);
    }
}
