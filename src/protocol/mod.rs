//! How experiments are run: each protocol turns a resolved spec into units of work, skips the
//! units already recorded, and writes a record per finished unit.

pub mod co2;
pub mod mnist;
pub mod regression;
pub mod uci;

use std::ops::Range;

use tch::Device;

use crate::data::uci::UciSet;
use crate::data::DataDirs;
use crate::results::{ExperimentStore, Provenance};
use crate::spec::Spec;

/// How often a run without a terminal logs how far its current program has got.
const PROGRESS_LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Logs `bar`'s progress every `interval` until it is finished or dropped.
fn log_progress(bar: &indicatif::ProgressBar, label: &str, interval: std::time::Duration) {
    let weak = bar.downgrade();
    let label = label.to_string();
    std::thread::spawn(move || loop {
        std::thread::sleep(interval);
        match weak.upgrade() {
            Some(bar) if !bar.is_finished() => tracing::info!("{}", progress_line(&label, &bar)),
            _ => return,
        }
    });
}

/// `power-plant grid 10x12: 81000/216000 steps (37 %), 9m elapsed, about 15m left`; once the
/// steps are done, what the bar's message says the program does now (MC evaluation).
fn progress_line(label: &str, bar: &indicatif::ProgressBar) -> String {
    let (done, total) = (bar.position(), bar.length().unwrap_or(0));
    // Whole minutes past the first one: the line is read by a person checking on a long run.
    let shown = |d: std::time::Duration| {
        let seconds = if d.as_secs() < 60 { d.as_secs() } else { d.as_secs() / 60 * 60 };
        humantime::format_duration(std::time::Duration::from_secs(seconds)).to_string()
    };
    let elapsed = bar.elapsed();
    if done == 0 || done >= total {
        let now = bar.message();
        let now = if now == label { String::new() } else { format!(", now {now}") };
        return format!("{label}: {done}/{total} steps{now}, {} elapsed", shown(elapsed));
    }
    let left = elapsed.mul_f64((total - done) as f64 / done as f64);
    format!(
        "{label}: {done}/{total} steps ({} %), {} elapsed, about {} left",
        done * 100 / total,
        shown(elapsed),
        shown(left)
    )
}

/// Everything a protocol needs besides its plan.
pub struct RunContext<'a> {
    pub spec: &'a Spec,
    pub store: &'a ExperimentStore,
    pub data: &'a DataDirs,
    pub device: Device,
    pub provenance: Provenance,
    /// Redo units that already have records.
    pub force: bool,
    /// Restrict to these UCI sets (empty: all of the spec's).
    pub only: Vec<UciSet>,
    /// Restrict to split indices in this range.
    pub splits: Option<Range<usize>>,
    /// Largest activation tensor (elements) one MC chunk may create.
    pub mc_budget: usize,
    /// Show progress bars (a terminal is attached).
    pub progress: bool,
    /// This run's entry in the manifest.
    pub run_index: usize,
    /// Units written so far, readable when the run fails half-way.
    pub written: std::sync::atomic::AtomicUsize,
}

impl RunContext<'_> {
    /// The record at `path`, or `None` when there is none or the run redoes recorded units
    /// (`--force`, which is also what an unreadable record's error tells the user to pass).
    pub fn recorded<T: serde::de::DeserializeOwned>(&self, path: &std::path::Path) -> crate::error::Result<Option<T>> {
        if self.force {
            Ok(None)
        } else {
            self.store.read_json(path)
        }
    }

    /// Counts one unit written and says so in the manifest at once, so the entry of a run
    /// that is later killed still tells how far it got.
    pub fn count_written(&self) {
        let written = self.written.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if let Err(e) = self.store.record_progress(self.run_index, written) {
            // The unit's record is safely written; only the manifest's count lags.
            tracing::warn!("{e}");
        }
    }

    /// A progress bar of `steps`. Without a terminal it is hidden, and its position goes to
    /// the log (and run.log) every few minutes instead: a background run otherwise says
    /// nothing for the hour a large program can take.
    pub fn progress_bar(&self, steps: u64, label: &str) -> indicatif::ProgressBar {
        if !self.progress {
            let bar = indicatif::ProgressBar::with_draw_target(Some(steps), indicatif::ProgressDrawTarget::hidden());
            bar.set_message(label.to_string());
            log_progress(&bar, label, PROGRESS_LOG_INTERVAL);
            return bar;
        }
        let bar = indicatif::ProgressBar::new(steps);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:30} [{bar:30}] {pos}/{len} steps, {elapsed} elapsed, ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(label.to_string());
        bar
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunSummary {
    pub units_written: usize,
    pub units_skipped: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_say_how_far_and_what_now() {
        let bar = indicatif::ProgressBar::with_draw_target(Some(200), indicatif::ProgressDrawTarget::hidden());
        bar.set_message("power-plant grid 10x12");
        assert_eq!(progress_line("power-plant grid 10x12", &bar), "power-plant grid 10x12: 0/200 steps, 0s elapsed");
        bar.inc(50);
        let line = progress_line("power-plant grid 10x12", &bar);
        assert!(line.starts_with("power-plant grid 10x12: 50/200 steps (25 %), 0s elapsed, about "), "{line}");
        bar.inc(150);
        bar.set_message("MC evaluation, T=10000");
        assert_eq!(
            progress_line("power-plant grid 10x12", &bar),
            "power-plant grid 10x12: 200/200 steps, now MC evaluation, T=10000, 0s elapsed"
        );
    }
}
