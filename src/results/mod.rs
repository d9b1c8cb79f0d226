//! Results on disk: one JSON record per unit of work, written atomically (`atomic`), with the
//! provenance of the run that made it (`provenance`), under `results/<experiment>/` (`store`,
//! whose manifest knows each run's process: `run_process`);
//! regression baselines of small specs (`baseline`).

pub mod atomic;
pub mod baseline;
pub mod outcome;
pub mod provenance;
pub mod record;
pub mod run_entry;
pub mod run_process;
pub mod store;

pub use provenance::Provenance;
pub use record::{GridPoint, GridRecord, UnitRecord};
pub use store::ExperimentStore;
