//! How a report is asked for: the output format of tables and the metric of a comparison.

/// The formats every table renders to (`render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    Markdown,
    Csv,
    Latex,
}

/// Which metric a comparison table or figure shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Metric {
    Rmse,
    Ll,
}

impl Metric {
    /// Whether `a` is better than `b` under this metric.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Metric::Rmse => a < b,
            Metric::Ll => a > b,
        }
    }
}
