//! The name a regression set goes by in specs, records, results folders and tables: one of
//! the nine UCI sets' folder names, or the name a spec gives its own table.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::uci::UciSet;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SetName(String);

impl SetName {
    pub fn uci(set: UciSet) -> Self {
        Self(set.folder().to_string())
    }

    /// A set by the name specs and records give it (a table's own name, or a UCI folder name).
    pub fn named(name: &str) -> Self {
        Self(name.to_string())
    }

    /// The folder under `results/<experiment>/` and the `dataset` of records.
    pub fn folder(&self) -> &str {
        &self.0
    }

    /// The UCI set of this name, whose published numbers tables and figures set beside it.
    pub fn uci_set(&self) -> Option<UciSet> {
        self.0.parse().ok()
    }

    /// The name tables show: the paper's for a UCI set, a table's own otherwise.
    pub fn display_name(&self) -> &str {
        match self.uci_set() {
            Some(set) => set.display_name(),
            None => &self.0,
        }
    }
}

impl From<&str> for SetName {
    fn from(name: &str) -> Self {
        Self::named(name)
    }
}

impl PartialEq<str> for SetName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for SetName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for SetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
