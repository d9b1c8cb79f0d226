//! Reports built from records: the published numbers to compare against (`published`) and
//! the per-data-set table of one experiment (`table`) and the Table 1 layout comparing
//! several experiments with the published columns (`compare`); the MNIST and CO2 tables
//! (`outcomes`, rendered by `text_table`); plotters figures of every experiment (`figures`).

pub mod compare;
pub mod figures;
pub mod outcomes;
pub mod published;
pub mod table;
pub mod text_table;
