//! Results on disk: one JSON record per unit of work, written atomically (`atomic`), with the
//! provenance of the run that made it (`provenance`), under `results/<experiment>/` (`store`);
//! regression baselines of small specs (`baseline`).

pub mod atomic;
pub mod baseline;
pub mod outcome;
pub mod provenance;
pub mod record;
pub mod store;

pub use provenance::Provenance;
pub use record::{GridPoint, GridRecord, UnitRecord};
pub use store::ExperimentStore;
