//! The name a regression set goes by in specs, records, results folders and tables: one of
//! the nine UCI sets' folder names (`UciSet`), or the name a spec gives its own table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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

/// The nine UCI sets the paper's Table 1 uses and the data mirror carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UciSet {
    #[serde(rename = "bostonHousing")]
    Boston,
    #[serde(rename = "concrete")]
    Concrete,
    #[serde(rename = "energy")]
    Energy,
    #[serde(rename = "kin8nm")]
    Kin8nm,
    #[serde(rename = "naval-propulsion-plant")]
    Naval,
    #[serde(rename = "power-plant")]
    Power,
    #[serde(rename = "protein-tertiary-structure")]
    Protein,
    #[serde(rename = "wine-quality-red")]
    Wine,
    #[serde(rename = "yacht")]
    Yacht,
}

impl UciSet {
    pub const ALL: [UciSet; 9] = [
        UciSet::Boston,
        UciSet::Concrete,
        UciSet::Energy,
        UciSet::Kin8nm,
        UciSet::Naval,
        UciSet::Power,
        UciSet::Protein,
        UciSet::Wine,
        UciSet::Yacht,
    ];

    /// The folder name under `uci/` (also the name used in specs and records).
    pub fn folder(self) -> &'static str {
        match self {
            UciSet::Boston => "bostonHousing",
            UciSet::Concrete => "concrete",
            UciSet::Energy => "energy",
            UciSet::Kin8nm => "kin8nm",
            UciSet::Naval => "naval-propulsion-plant",
            UciSet::Power => "power-plant",
            UciSet::Protein => "protein-tertiary-structure",
            UciSet::Wine => "wine-quality-red",
            UciSet::Yacht => "yacht",
        }
    }

    /// The name the paper's tables use.
    pub fn display_name(self) -> &'static str {
        match self {
            UciSet::Boston => "Boston",
            UciSet::Concrete => "Concrete",
            UciSet::Energy => "Energy",
            UciSet::Kin8nm => "Kin8nm",
            UciSet::Naval => "Naval",
            UciSet::Power => "Power",
            UciSet::Protein => "Protein",
            UciSet::Wine => "Wine",
            UciSet::Yacht => "Yacht",
        }
    }
}

impl fmt::Display for UciSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

impl FromStr for UciSet {
    type Err = String;
    /// Accepts the folder name or the table name, case-insensitively (`boston`, `bostonHousing`).
    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.to_ascii_lowercase();
        UciSet::ALL
            .into_iter()
            .find(|set| {
                set.folder().to_ascii_lowercase() == wanted || set.display_name().to_ascii_lowercase() == wanted
            })
            .ok_or_else(|| {
                let names: Vec<_> = UciSet::ALL.iter().map(|s| s.folder()).collect();
                format!("unknown UCI set `{s}`; expected one of {}", names.join(", "))
            })
    }
}
