//! `mcdrop verify`: rerun committed units from scratch and judge them against their records,
//! so a reader can trust that the committed numbers are what the code computes. `sample`
//! chooses the units (a budget's worth, across sets), `rerun` trains them in a scratch
//! directory, `rl` reruns seeds of the rl experiment, `verdict` states the rule, `checks` holds what they found, `threads` the thread count a rerun
//! takes, `report` writes it down.

pub mod checks;
pub mod report;
pub mod rerun;
pub mod rl;
pub mod sample;
pub mod threads;
pub mod verdict;

pub use rerun::{plan, run, VerifyOptions, VerifyReport};
pub use verdict::Verdict;
