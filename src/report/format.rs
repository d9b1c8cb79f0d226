//! How a report is asked for: the output format of tables and the metric of a comparison.

/// The formats every table renders to (`render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    Markdown,
    Csv,
    Latex,
    /// A `<table>` fragment with verdict marks, as the HTML report shows it.
    Html,
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

/// A wall time as a person reads it: `12.3 s`, `4.5 min`, `2.1 h`.
pub fn duration(seconds: f64) -> String {
    if seconds >= 3600.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else if seconds >= 60.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{seconds:.1} s")
    }
}
