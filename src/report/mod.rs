//! Reports built from records: the published numbers to compare against (`published`) and
//! the per-data-set tables (`table`).

pub mod published;
pub mod table;
