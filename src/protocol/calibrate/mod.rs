//! What a fresh run of a spec would take on this machine, before anything is recorded
//! (`mcdrop plan --fresh`): per-family cost models whose rates are measured by running a
//! shortened copy of the spec's own work here and now.
//!
//! - UCI specs (`uci`): every set's first program is trained with a few epochs (a GP with a
//!   few iterations) and scored with a few MC passes, as the protocol builds it; the seconds
//!   up to the family's first phase change are training, the rest evaluation. Training scales
//!   with the family's steps, evaluation with the predictive's samples, a program with its
//!   members.
//! - MNIST, CO2 and RL specs (`scaled_run`): the whole spec runs twice into a scratch
//!   directory, with its work (training rows or epochs, test rows, ticks) cut to two small
//!   shares s and 2s; the line through the two wall times, t(s) = fixed + s x scaled, gives
//!   the whole run at s = 1.

mod scaled_run;
mod uci;

use std::sync::OnceLock;
use std::time::Instant;

use tch::Device;

use crate::data::{DataDirs, SetName};
use crate::error::Result;
use crate::models::{regression_family, Progress};
use crate::protocol::shard::{queue_order, uci_programs};
use crate::spec::{Experiment, Spec, UciPlan};

/// One line of an estimate: a UCI set, or a whole MNIST, CO2 or RL experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateLine {
    pub what: String,
    /// The UCI set and its splits, for a set's line.
    pub set: Option<(SetName, usize)>,
    /// Estimated seconds of training (everything, for specs estimated as a whole).
    pub train: f64,
    /// Estimated seconds of the predictive: MC passes, validation and test scoring.
    pub evaluate: f64,
    /// How the line was calibrated, for a person reading it.
    pub how: String,
}

impl EstimateLine {
    pub fn seconds(&self) -> f64 {
        self.train + self.evaluate
    }
}

/// The estimate of a fresh run of one spec.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecEstimate {
    pub experiment: String,
    pub lines: Vec<EstimateLine>,
    /// Wall seconds the calibration itself took.
    pub calibration_seconds: f64,
    /// A caveat that holds for the whole estimate (e.g. an optimiser that may stop early).
    pub caveat: Option<String>,
}

impl SpecEstimate {
    pub fn seconds(&self) -> f64 {
        self.lines.iter().map(EstimateLine::seconds).sum()
    }
}

/// Where and how the calibration runs: as `mcdrop run` would.
pub struct Calibration<'a> {
    pub data: &'a DataDirs,
    pub device: Device,
    pub mc_budget: usize,
}

/// Calibrates and estimates a fresh run of `spec`.
pub fn estimate_fresh(spec: &Spec, calibration: &Calibration) -> Result<SpecEstimate> {
    let started = Instant::now();
    let (lines, caveat) = match &spec.experiment {
        Experiment::UciRegression(plan) => uci::estimate(spec, plan, calibration)?,
        _ => (vec![scaled_run::estimate(spec, calibration)?], None),
    };
    Ok(SpecEstimate {
        experiment: spec.name.clone(),
        lines,
        calibration_seconds: started.elapsed().as_secs_f64(),
        caveat,
    })
}

/// The seconds of `full` units of work from calibrations (work, seconds): through the line of
/// the first two, fixed + rate x work, so that what does not grow with the work is counted
/// once; in proportion to the last one when there is only one, or when noise gives the line
/// a negative rate or fixed part (runs too short to tell them apart).
pub fn extrapolate(points: impl IntoIterator<Item = (f64, f64)>, full: f64) -> f64 {
    let points: Vec<(f64, f64)> = points.into_iter().collect();
    let Some(&(w2, t2)) = points.last() else { return 0.0 };
    if let [(w1, t1), (w2, t2), ..] = points[..] {
        let rate = (t2 - t1) / (w2 - w1);
        let fixed = t1 - rate * w1;
        if w2 > w1 && rate > 0.0 && fixed >= 0.0 {
            return fixed + rate * full;
        }
    }
    if w2 > 0.0 {
        t2 * full / w2
    } else {
        t2
    }
}

/// Wall seconds of a UCI spec run as `mcdrop run --jobs lanes` does: its programs taken from
/// the workers' queue largest first, each at its set's estimated seconds per split, by
/// whichever lane comes free first.
pub fn uci_lanes_wall(plan: &UciPlan, data: &DataDirs, estimate: &SpecEstimate, lanes: usize) -> Result<f64> {
    let family = regression_family(plan);
    let programs = uci_programs(plan, family.as_ref(), data, &[], None)?;
    let per_split = |set: &SetName| {
        estimate
            .lines
            .iter()
            .find_map(|l| match &l.set {
                Some((s, splits)) if s == set => Some(l.seconds() / (*splits).max(1) as f64),
                _ => None,
            })
            .unwrap_or(0.0)
    };
    let seconds: Vec<f64> = queue_order(&programs)
        .into_iter()
        .map(|k| per_split(&programs[k].set) * programs[k].splits.len() as f64)
        .collect();
    Ok(lanes_wall(&seconds, lanes))
}

/// Wall seconds of jobs of `seconds` run `lanes` at a time in the order given, each starting
/// in the first lane to come free (as `xargs -P lanes` runs them).
pub fn lanes_wall(seconds: &[f64], lanes: usize) -> f64 {
    let mut free_at = vec![0.0f64; lanes.max(1)];
    for &s in seconds {
        let first = (0..free_at.len()).min_by(|&a, &b| free_at[a].total_cmp(&free_at[b])).unwrap_or(0);
        free_at[first] += s;
    }
    free_at.into_iter().fold(0.0, f64::max)
}

/// `7 h 05 min`, `0 h 12 min`: the form of the plan's total line.
pub fn hours_and_minutes(seconds: f64) -> String {
    let minutes = (seconds / 60.0).round() as u64;
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

/// `42 s`, `12 min 05 s`, `3 h 07 min`: a line's estimate, as fine as its size warrants.
pub fn short_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => hours_and_minutes(seconds),
    }
}

/// A `Progress` that notes when training ends: a family calls `phase` once its steps are done
/// and its predictive starts.
struct PhaseClock {
    started: Instant,
    evaluation_from: OnceLock<Instant>,
}

impl PhaseClock {
    fn start() -> Self {
        Self { started: Instant::now(), evaluation_from: OnceLock::new() }
    }

    /// (training, evaluation) seconds so far; all training when no phase was announced.
    fn split(&self) -> (f64, f64) {
        let now = Instant::now();
        match self.evaluation_from.get() {
            Some(&at) => ((at - self.started).as_secs_f64(), (now - at).as_secs_f64()),
            None => ((now - self.started).as_secs_f64(), 0.0),
        }
    }
}

impl Progress for PhaseClock {
    fn advance(&self, _steps: u64) {}

    fn phase(&self, _what: &str) {
        self.evaluation_from.get_or_init(Instant::now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extrapolation_counts_the_fixed_part_once() {
        // 2 s of set-up and 0.1 s a step: 100 and 200 steps, then 10,000.
        assert!((extrapolate([(100.0, 12.0), (200.0, 22.0)], 10_000.0) - 1002.0).abs() < 1e-9);
        // One calibration: in proportion.
        assert!((extrapolate([(100.0, 12.0)], 10_000.0) - 1200.0).abs() < 1e-9);
        // Noise that makes the second run no slower, or the fixed part negative: the last in proportion.
        assert!((extrapolate([(100.0, 12.0), (200.0, 11.0)], 1000.0) - 55.0).abs() < 1e-9);
        assert!((extrapolate([(100.0, 2.0), (200.0, 12.0)], 1000.0) - 60.0).abs() < 1e-9);
        // Capped calibrations of the same size, and no work at all.
        assert!((extrapolate([(50.0, 5.0), (50.0, 6.0)], 50.0) - 6.0).abs() < 1e-9);
        assert_eq!(extrapolate([(0.0, 0.0), (0.0, 0.0)], 1.0), 0.0);
        assert_eq!(extrapolate([], 1.0), 0.0);
    }

    #[test]
    fn jobs_in_lanes_start_in_the_first_lane_to_come_free() {
        assert_eq!(lanes_wall(&[62.0, 40.0, 12.0, 10.0, 4.0, 5.0], 1), 133.0);
        // 62 | 40 + 12 + 10, then 4 joins the 62 lane at 62 and 5 the other at 62.
        assert_eq!(lanes_wall(&[62.0, 40.0, 12.0, 10.0, 4.0, 5.0], 2), 67.0);
        assert_eq!(lanes_wall(&[], 2), 0.0);
    }

    #[test]
    fn totals_read_in_hours_and_minutes() {
        assert_eq!(hours_and_minutes(0.0), "0 h 00 min");
        assert_eq!(hours_and_minutes(29.0), "0 h 00 min");
        assert_eq!(hours_and_minutes(7.0 * 3600.0 + 5.0 * 60.0 + 20.0), "7 h 05 min");
        assert_eq!(hours_and_minutes(32.0 * 3600.0 + 59.6 * 60.0), "33 h 00 min");
        assert_eq!(short_duration(41.6), "42 s");
        assert_eq!(short_duration(725.0), "12 min 05 s");
        assert_eq!(short_duration(3.0 * 3600.0 + 7.0 * 60.0), "3 h 07 min");
    }

    #[test]
    fn the_clock_splits_at_the_first_phase_change() {
        let clock = PhaseClock::start();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (train, evaluate) = clock.split();
        assert!(train >= 0.02 && evaluate == 0.0, "{train} {evaluate}");
        clock.phase("MC evaluation");
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.phase("a second phase does not move the split");
        std::thread::sleep(std::time::Duration::from_millis(20));
        let (train, evaluate) = clock.split();
        // Had the second call moved the split, evaluation would be about 20 ms.
        assert!(train >= 0.02 && evaluate >= 0.04, "{train} {evaluate}");
    }
}
