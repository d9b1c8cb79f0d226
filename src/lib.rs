//! mcdrop: Gal & Ghahramani (2016), "Dropout as a Bayesian Approximation", reproduced end to end.
//!
//! YAML specs (`spec`) drive protocols (`protocol`) that train models (`models`) on data sets
//! (`data`), write one record per unit of work (`results`) and turn records into tables (`report`).

pub mod cli;
pub mod cmd;
pub mod data;
pub mod device;
pub mod error;
pub mod logging;
pub mod metrics;
pub mod models;
pub mod mutation;
pub mod numerics;
pub mod protocol;
pub mod report;
pub mod results;
pub mod rng;
pub mod runtime;
pub mod spec;
pub mod verify;
pub mod world;

pub use error::{Error, Result};
