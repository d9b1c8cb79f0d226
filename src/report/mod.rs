//! Reports built from records. `columns` says what the tables show for each model family
//! (its label, second metric and published columns). An experiment's results are read by `experiment` and
//! aggregated per data set by `aggregate`; `uci_table` (one experiment) and `compare` (the
//! paper's Table 1 layout) build the UCI tables, `outcomes` the MNIST and CO2 ones (with
//! `co2_fit`, the CO2 fit to the training years), all as one table model that `render` writes
//! as markdown, CSV or LaTeX. `stat` formats a mean and
//! standard error and judges it against `published` numbers; `figures` draws with plotters;
//! `export` writes every record as a tidy row (CSV, JSON lines); `summary` the lines and
//! verdicts `mcdrop summary` prints.

pub mod aggregate;
pub mod agreement;
pub mod co2_fit;
pub mod columns;
pub mod compare;
pub mod experiment;
pub mod export;
pub mod figures;
pub mod format;
pub mod html;
pub mod outcomes;
pub mod published;
pub mod render;
pub mod rl;
pub mod stat;
pub mod summary;
pub mod tables;
pub mod uci_table;

pub use columns::{PublishedColumn, SecondaryMetric, TableFacts};
pub use format::{Metric, TableFormat};
