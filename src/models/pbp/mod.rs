//! Probabilistic backpropagation (Hernández-Lobato & Adams 2015), the paper's PBP column:
//! Gaussian moments through the network (`moments`, `network`), the ADF update and the EP
//! refinement of the prior (`adf`), the member-parallel trainer (`train`), the Gaussian
//! predictive (`evaluate`) and the UCI family (`family`). Plain f64 on the host.

pub mod adf;
pub mod evaluate;
pub mod family;
pub mod moments;
pub mod network;
pub mod train;

pub use family::PbpFamily;
pub use network::PbpNet;
pub use train::{fit, HostRows, PbpMember, PbpOptions, Trained};
