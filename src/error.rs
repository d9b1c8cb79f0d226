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

    /// A failure inside libtorch (shape mismatch, out of memory...).
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),

    /// A report that cannot be built from the records at hand.
    #[error("{0}")]
    Report(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
