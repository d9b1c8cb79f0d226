//! How experiments are run: each protocol turns a resolved spec into units of work, skips the
//! units already recorded, and writes a record per finished unit.

pub mod co2;
pub mod mnist;
pub mod regression;
pub mod uci;

use std::ops::Range;

use tch::Device;

use crate::data::DataDirs;
use crate::data::uci::UciSet;
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
    /// Restrict to these UCI sets (empty: all of the spec's).
    pub only: Vec<UciSet>,
    /// Restrict to split indices in this range.
    pub splits: Option<Range<usize>>,
    /// Largest activation tensor (elements) one MC chunk may create.
    pub mc_budget: usize,
    /// Show progress bars (a terminal is attached).
    pub progress: bool,
    /// Units written so far, readable when the run fails half-way.
    pub written: std::sync::atomic::AtomicUsize,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RunSummary {
    pub units_written: usize,
    pub units_skipped: usize,
}
