//! Data sets: where they are found (`locate`), how they are read (`uci`, `mnist`, `co2`, and a
//! researcher's own `table`), what a regression set is called (`set_name`), and the
//! standardization the UCI protocol applies with training statistics (`standardize`).

pub mod co2;
pub mod locate;
pub mod mnist;
pub mod regression;
pub mod set_name;
pub mod standardize;
pub mod table;
pub mod uci;

pub use locate::DataDirs;
pub use set_name::SetName;
pub use standardize::{Matrix, Standardizer};
