//! How experiments are run: each protocol turns a resolved spec into units of work, skips the
//! units already recorded, and writes a record per finished unit.

pub mod calibrate;
pub mod checkpoint;
pub mod co2;
pub mod cost;
pub mod execute;
pub mod mnist;
pub mod program;
pub mod progress;
pub mod rl;
pub mod rl_program;
pub mod shard;
pub mod splits;
pub mod survey;
pub mod uci;

use tch::Device;

use crate::data::DataDirs;
use crate::data::SetName;
use crate::results::store::Recorded;
use crate::results::{ExperimentStore, Provenance};
use crate::spec::Spec;

/// Everything a protocol needs besides its plan.
pub struct RunContext<'a> {
    pub spec: &'a Spec,
    pub store: &'a ExperimentStore,
    pub data: &'a DataDirs,
    pub device: Device,
    pub provenance: Provenance,
    /// Redo units that already have records.
    pub force: bool,
    /// Restrict to these regression sets (empty: all of the spec's).
    pub only: Vec<SetName>,
    /// Restrict to split indices in this range.
    pub splits: Option<Vec<usize>>,
    /// Largest activation tensor (elements) one MC chunk may create.
    pub mc_budget: usize,
    /// How often a long training writes its checkpoint.
    pub checkpoint_every: std::time::Duration,
    /// Which programs this process runs (`--shard I/N`, a worker's queue, or all).
    pub share: shard::Share,
    /// Show progress bars (a terminal is attached).
    pub progress: bool,
    /// Retrain every grid point's network beside the grid search (UCI).
    pub speculative_retrain: bool,
    /// This run's entry in the manifest.
    pub run: crate::results::store::RunId,
    /// Units written so far, readable when the run fails half-way.
    pub written: std::sync::atomic::AtomicUsize,
}

impl RunContext<'_> {
    /// The record at `path` when the unit is done: `None` when there is none, when the run
    /// redoes recorded units (`--force`), and when the file does not parse or `belongs` says it
    /// is another unit's: those are named in the log and redone, so a record cut in half by a
    /// crash is never taken for a finished unit.
    pub fn recorded_unit<T: serde::de::DeserializeOwned>(
        &self,
        path: &std::path::Path,
        belongs: impl Fn(&T) -> bool,
    ) -> crate::error::Result<Option<T>> {
        if self.force {
            return Ok(None);
        }
        Ok(match self.store.inspect::<T>(path)? {
            Recorded::Absent => None,
            Recorded::Valid(record) if belongs(&record) => Some(record),
            Recorded::Valid(_) => {
                tracing::warn!("{}: a record of another unit or experiment; redoing this unit", path.display());
                None
            }
            Recorded::Unreadable(why) => {
                tracing::warn!("{}: unreadable ({why}); redoing this unit", path.display());
                None
            }
        })
    }

    /// `recorded_unit` for records that carry no identity of their own.
    pub fn recorded<T: serde::de::DeserializeOwned>(&self, path: &std::path::Path) -> crate::error::Result<Option<T>> {
        self.recorded_unit(path, |_: &T| true)
    }

    /// Counts one unit written and says so in the manifest at once, so the entry of a run
    /// that is later killed still tells how far it got.
    pub fn count_written(&self) {
        let written = self.written.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if let Err(e) = self.store.record_progress(&self.run, written) {
            // The unit's record is safely written; only the manifest's count lags.
            tracing::warn!("{e}");
        }
    }

    /// The checkpoint file of the training named `name` (see `checkpoint`).
    pub fn checkpoints(&self, name: &str) -> checkpoint::FileCheckpoints {
        let path = self.store.dir().join("checkpoints").join(format!("{name}.ckpt"));
        checkpoint::FileCheckpoints::new(path, self.checkpoint_every)
    }

    /// A progress bar of `steps` (see `progress::bar`).
    pub fn progress_bar(&self, steps: u64, label: &str) -> indicatif::ProgressBar {
        progress::bar(steps, label, self.progress)
    }
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunSummary {
    pub units_written: usize,
    pub units_skipped: usize,
}
