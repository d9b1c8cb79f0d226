//! Finds the data directory. An explicit one (`--data-dir`, else `MCDROP_DATA`) is taken at
//! its word: it must exist, and a set it lacks is an error naming it, so a typo never runs on
//! other data found elsewhere. With neither set, `./data` then `../shared/data` (the read-only
//! mirror next to a checkout) are searched: the first that holds the set wins, and a miss
//! lists every place looked at.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The candidate data directories, in the order they are searched, with where each came from.
#[derive(Debug, Clone)]
pub struct DataDirs {
    candidates: Vec<(PathBuf, &'static str)>,
}

impl DataDirs {
    /// The search order from the CLI flag and the environment; an explicit directory that
    /// does not exist is an error naming it.
    pub fn new(cli: Option<&Path>) -> Result<Self> {
        let env = std::env::var_os("MCDROP_DATA").filter(|v| !v.is_empty()).map(PathBuf::from);
        let explicit = match (cli, env) {
            (Some(dir), _) => Some((dir.to_path_buf(), "--data-dir")),
            (None, Some(dir)) => Some((dir, "MCDROP_DATA")),
            (None, None) => None,
        };
        if let Some((dir, from)) = explicit {
            if !dir.is_dir() {
                return Err(Error::Usage(format!(
                    "{from} {}: no such directory; point it at a folder holding uci/, mnist/ and co2/ \
                     (scripts/fetch-data fills one), or unset it to search ./data and ../shared/data",
                    dir.display()
                )));
            }
            return Ok(Self { candidates: vec![(dir, from)] });
        }
        Ok(Self {
            candidates: vec![(PathBuf::from("data"), "./data"), (PathBuf::from("../shared/data"), "../shared/data")],
        })
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
