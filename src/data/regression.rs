//! Where a regression set of the UCI protocol comes from: one of the UCI sets the data
//! mirror carries, or a researcher's own table.

use super::table::TableSource;
use super::uci::{UciData, UciSet};
use super::{DataDirs, SetName};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub enum RegressionSource {
    Uci(UciSet),
    Table(TableSource),
}

impl RegressionSource {
    pub fn name(&self) -> SetName {
        match self {
            RegressionSource::Uci(set) => SetName::uci(*set),
            RegressionSource::Table(table) => SetName::named(&table.name),
        }
    }

    /// A researcher's table, whose splits the results keep (the UCI sets' are in the mirror).
    pub fn is_table(&self) -> bool {
        matches!(self, RegressionSource::Table(_))
    }

    /// Reads and checks the set: a UCI set found through `dirs`, a table from its own path.
    pub fn load(&self, dirs: &DataDirs) -> Result<UciData> {
        match self {
            RegressionSource::Uci(set) => UciData::find_and_load(*set, dirs),
            RegressionSource::Table(table) => table.load(),
        }
    }
}
