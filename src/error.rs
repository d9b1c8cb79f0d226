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

    /// File-system failure, with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

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
    Torch(#[from] tch::TchError),

    /// A failure inside polars while aggregating records.
    #[error("polars: {0}")]
    Polars(#[from] polars::prelude::PolarsError),

    /// A figure that could not be drawn or written.
    #[error("drawing {}: {message}", path.display())]
    Drawing { path: PathBuf, message: String },

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
            | Error::Report(_) => 1,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
