//! What the report says, gathered before any HTML is written.

use crate::report::render::{Cell, Table};
use crate::report::stat::Verdict;

/// A figure as the page shows it: what it shows, and the image (SVG, or PNG where that is
/// smaller) with its MIME type.
pub struct FigureBlock {
    pub title: String,
    pub mime: &'static str,
    pub bytes: Vec<u8>,
}

/// One line of what is recorded: a UCI set, or a whole MNIST, CO2 or RL experiment.
pub struct Coverage {
    pub what: String,
    pub recorded: usize,
    pub to_train: usize,
}

/// One experiment's section.
pub struct ExperimentSection {
    pub name: String,
    pub description: String,
    pub profile: String,
    pub tables: Vec<Table>,
    pub figures: Vec<FigureBlock>,
    /// (label, value) pairs: commits, machine, numerics, threads, device, wall time, when.
    pub provenance: Vec<(String, String)>,
    /// Against the repository's spec of the same name; `Err` says why there is none.
    pub coverage: Result<Vec<Coverage>, String>,
}

/// The latest `mcdrop verify` report: its file, when, and the count of units per verdict
/// for each experiment it reran.
pub struct VerifySummary {
    pub link: String,
    pub started: String,
    pub head_commit: String,
    pub machine: String,
    pub experiments: Vec<(String, [usize; 3])>,
    pub not_run: usize,
    pub skipped: Vec<String>,
}

/// What `make reproduce` would still train of one spec.
pub struct PlanLine {
    pub spec: String,
    pub recorded: usize,
    pub to_train: usize,
    pub estimate: String,
}

/// Everything on the page.
pub struct ReportContent {
    pub title: String,
    /// (label, value) pairs of the page's own provenance: when, binary, machine.
    pub generated: Vec<(String, String)>,
    /// The paper's Table 1 layout over every UCI experiment, and its figures.
    pub overview_tables: Vec<Table>,
    pub overview_figures: Vec<FigureBlock>,
    /// The MNIST models drawn together.
    pub mnist_figures: Vec<FigureBlock>,
    pub experiments: Vec<ExperimentSection>,
    /// Specs of the repository with no results, and why.
    pub not_run: Vec<(String, String)>,
    pub verify: Option<VerifySummary>,
    pub plan: Vec<PlanLine>,
}

/// How many of `tables`' marked cells are within 2 SE, better and worse.
pub fn verdict_counts(tables: &[Table]) -> [usize; 3] {
    let mut counts = [0; 3];
    for cell in tables.iter().flat_map(|t| t.rows.iter().flatten()) {
        if let Cell::Stat { mark: Some(v), .. } = cell {
            counts[match v {
                Verdict::Within => 0,
                Verdict::Better => 1,
                Verdict::Worse => 2,
            }] += 1;
        }
    }
    counts
}
