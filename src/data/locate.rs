//! Finds the data directory: `--data-dir`, then `MCDROP_DATA`, then `./data`, then
//! `../shared/data` (the read-only mirror next to a checkout). The first candidate that holds
//! the requested set wins; a miss lists every place looked at.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The candidate data directories, in the order they are searched, with where each came from.
#[derive(Debug, Clone)]
pub struct DataDirs {
    candidates: Vec<(PathBuf, &'static str)>,
}

impl DataDirs {
    /// Builds the search order from the CLI flag and the environment.
    pub fn new(cli: Option<&Path>) -> Self {
        let mut candidates = Vec::new();
        if let Some(dir) = cli {
            candidates.push((dir.to_path_buf(), "--data-dir"));
        }
        if let Some(dir) = std::env::var_os("MCDROP_DATA").filter(|v| !v.is_empty()) {
            candidates.push((PathBuf::from(dir), "MCDROP_DATA"));
        }
        candidates.push((PathBuf::from("data"), "./data"));
        candidates.push((PathBuf::from("../shared/data"), "../shared/data"));
        Self { candidates }
    }

    /// The first candidate holding `relative` (e.g. `uci/yacht`), or an error naming every
    /// place looked at and how to fetch the set.
    pub fn find(&self, relative: &str, fetch_arg: &str) -> Result<PathBuf> {
        for (dir, _) in &self.candidates {
            let path = dir.join(relative);
            if path.exists() {
                return Ok(path);
            }
        }
        let looked = self
            .candidates
            .iter()
            .map(|(dir, from)| format!("{} ({from})", dir.join(relative).display()))
            .collect::<Vec<_>>()
            .join(", ");
        Err(Error::DataMissing { name: relative.to_string(), looked, fetch_arg: fetch_arg.to_string() })
    }

    /// Candidates with their origin, for `mcdrop list`.
    pub fn candidates(&self) -> &[(PathBuf, &'static str)] {
        &self.candidates
    }
}
