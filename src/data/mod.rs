//! Data sets: where they are found (`locate`), how they are read (`uci`, `mnist`, `co2`), and the
//! standardization the UCI protocol applies with training statistics (`standardize`).

pub mod co2;
pub mod locate;
pub mod mnist;
pub mod standardize;
pub mod uci;

pub use locate::DataDirs;
pub use standardize::{Matrix, Standardizer};
