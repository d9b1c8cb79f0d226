//! Reports built from records: the published numbers to compare against (`published`) and
//! the per-data-set table of one experiment (`table`) and the Table 1 layout comparing
//! several experiments with the published columns (`compare`).

pub mod compare;
pub mod published;
pub mod table;
