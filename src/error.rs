//! The library's error type: every failure a user can cause names the file, line or field
//! involved and what to do about it, so `main` can print it and exit without a backtrace.

use std::path::PathBuf;

/// Everything that can go wrong inside the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A spec that does not parse or breaks a rule; `location` is `file:line:column` when known.
    #[error("{location}: {message}")]
    Spec { location: String, message: String },

    /// A data file whose content is malformed at a known line.
    #[error("{}:{line}: {message}", path.display())]
    DataFormat { path: PathBuf, line: usize, message: String },

    /// A data set that is in none of the places we look.
    #[error("data set `{name}` not found; looked in {looked}. Get it with `scripts/fetch-data {fetch_arg}` or point --data-dir / MCDROP_DATA at a copy")]
    DataMissing { name: String, looked: String, fetch_arg: String },

    /// A data set that is present but inconsistent (index out of range, overlapping splits...).
    #[error("{}: {message}", path.display())]
    DataInvalid { path: PathBuf, message: String },

    /// File-system failure, with the path it happened on. The I/O error is part of the message,
    /// not a `source`: `{:#}` prints a chain, and a source would repeat its text.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },

    /// A results directory that cannot be used as asked (made by another spec, corrupt record...).
    #[error("{}: {message}", path.display())]
    Results { path: PathBuf, message: String },

    /// The requested device cannot be used.
    #[error("{0}")]
    Device(String),

    /// A command-line argument or request that cannot be served as given.
    #[error("{0}")]
    Usage(String),

    /// A spec setting that is valid on its own but out of range for this data or machine:
    /// the user must change it, so it is bad input.
    #[error("{location}: {field} = {value}: {message}")]
    Setting { location: String, field: String, value: String, message: String },

    /// A kernel matrix that no jitter up to `max_jitter` makes positive definite.
    #[error(
        "GP kernel matrix is not positive definite for {members} member(s) even with jitter {max_jitter:e} on its \
         diagonal; raise model.gp.noise_floor (the smallest noise variance) or check the inputs for duplicated \
         rows with different targets"
    )]
    NotPositiveDefinite { members: i64, max_jitter: f64 },

    /// A failure inside libtorch (shape mismatch, out of memory...).
    #[error("libtorch: {0}")]
    Torch(tch::TchError),

    /// A failure inside polars while aggregating records.
    #[error("polars: {0}")]
    Polars(polars::prelude::PolarsError),

    /// A figure that could not be drawn or written.
    #[error("drawing {}: {message}", path.display())]
    Drawing { path: PathBuf, message: String },

    /// A checkpoint a training found but cannot resume from (a tensor it lacks, a header it
    /// cannot write); `path` is its file where the store has one (see
    /// `models::checkpoint::locate`). Deleting the file restarts the unit's training.
    #[error(
        "checkpoint{}: {message}; delete the checkpoint file to restart the unit's training from its start",
        path.as_ref().map_or(String::new(), |p| format!(" {}", p.display()))
    )]
    Checkpoint { path: Option<PathBuf>, message: String },

    /// A report that cannot be built from the records at hand.
    #[error("{0}")]
    Report(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process exit status for this error: 2 for input the user must fix (a spec, a data
    /// file, an argument, a setting out of range), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Spec { .. }
            | Error::DataFormat { .. }
            | Error::DataInvalid { .. }
            | Error::DataMissing { .. }
            | Error::Usage(_)
            | Error::Setting { .. } => 2,
            Error::Io { .. }
            | Error::Results { .. }
            | Error::Device(_)
            | Error::NotPositiveDefinite { .. }
            | Error::Torch(_)
            | Error::Polars(_)
            | Error::Drawing { .. }
            | Error::Checkpoint { .. }
            | Error::Report(_) => 1,
        }
    }

    /// A checkpoint fault, its file not known yet where it is found (an optimiser restoring
    /// its moments); `models::checkpoint::locate` names the file.
    pub fn checkpoint(message: impl Into<String>) -> Error {
        Error::Checkpoint { path: None, message: message.into() }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |error| Error::Io { path, error }
    }
}

// Conversions by hand rather than `#[from]`, which would also make the wrapped error the
// `source` and print its text twice in `{:#}`.
impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        Error::Torch(e)
    }
}

impl From<polars::prelude::PolarsError> for Error {
    fn from(e: polars::prelude::PolarsError) -> Self {
        Error::Polars(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_is_printed_once() {
        let full = std::io::Error::from_raw_os_error(28);
        let text = full.to_string();
        let err = anyhow::Error::from(Error::io("/results/x.json")(full)).context("writing a record");
        let shown = format!("{err:#}");
        assert_eq!(shown.matches(&text).count(), 1, "{shown}");
        assert!(shown.starts_with("writing a record: /results/x.json: "), "{shown}");
        let torch = anyhow::Error::from(Error::from(tch::TchError::Kind("bad kind".into())));
        let shown = format!("{torch:#}");
        assert!(shown.starts_with("libtorch: ") && shown.matches("bad kind").count() == 1, "{shown}");
    }
}
