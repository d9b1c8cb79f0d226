//! Published UCI numbers (mean, standard error), transcribed from paper.md.
//!
//! `PAPER` is Table 1 of Gal & Ghahramani (2016) with the Dropout column's standard errors as
//! the reference code's README lists them; `REFERENCE_CODE` is what the public reference code
//! (yaringal/DropoutUncertaintyExps) reports with the full grid search, the bar a faithful
//! reproduction should reach; `DEEP_ENSEMBLES` is Lakshminarayanan et al.'s Table 1.

use super::columns::PublishedColumn;
pub use super::stat::Stat;
use crate::data::uci::UciSet;

/// Half a unit in the last printed place of every published number here: both sources print
/// two decimals, so a published 0.00 +- 0.00 (naval's RMSE) stands for anything under 0.005.
pub const PUBLISHED_ROUNDING: f64 = 0.005;

/// One data set's published row.
#[derive(Debug, Clone, Copy)]
pub struct PaperRow {
    pub set: UciSet,
    pub vi_rmse: Stat,
    pub pbp_rmse: Stat,
    pub dropout_rmse: Stat,
    pub vi_ll: Stat,
    pub pbp_ll: Stat,
    pub dropout_ll: Stat,
}

pub const PAPER: [PaperRow; 9] = [
    PaperRow {
        set: UciSet::Boston,
        vi_rmse: (4.32, 0.29),
        pbp_rmse: (3.01, 0.18),
        dropout_rmse: (2.97, 0.19),
        vi_ll: (-2.90, 0.07),
        pbp_ll: (-2.57, 0.09),
        dropout_ll: (-2.46, 0.06),
    },
    PaperRow {
        set: UciSet::Concrete,
        vi_rmse: (7.19, 0.12),
        pbp_rmse: (5.67, 0.09),
        dropout_rmse: (5.23, 0.12),
        vi_ll: (-3.39, 0.02),
        pbp_ll: (-3.16, 0.02),
        dropout_ll: (-3.04, 0.02),
    },
    PaperRow {
        set: UciSet::Energy,
        vi_rmse: (2.65, 0.08),
        pbp_rmse: (1.80, 0.05),
        dropout_rmse: (1.66, 0.04),
        vi_ll: (-2.39, 0.03),
        pbp_ll: (-2.04, 0.02),
        dropout_ll: (-1.99, 0.02),
    },
    PaperRow {
        set: UciSet::Kin8nm,
        vi_rmse: (0.10, 0.00),
        pbp_rmse: (0.10, 0.00),
        dropout_rmse: (0.10, 0.00),
        vi_ll: (0.90, 0.01),
        pbp_ll: (0.90, 0.01),
        dropout_ll: (0.95, 0.01),
    },
    PaperRow {
        set: UciSet::Naval,
        vi_rmse: (0.01, 0.00),
        pbp_rmse: (0.01, 0.00),
        dropout_rmse: (0.01, 0.00),
        vi_ll: (3.73, 0.12),
        pbp_ll: (3.73, 0.01),
        dropout_ll: (3.80, 0.01),
    },
    PaperRow {
        set: UciSet::Power,
        vi_rmse: (4.33, 0.04),
        pbp_rmse: (4.12, 0.03),
        dropout_rmse: (4.02, 0.04),
        vi_ll: (-2.89, 0.01),
        pbp_ll: (-2.84, 0.01),
        dropout_ll: (-2.80, 0.01),
    },
    PaperRow {
        set: UciSet::Protein,
        vi_rmse: (4.84, 0.03),
        pbp_rmse: (4.73, 0.01),
        dropout_rmse: (4.36, 0.01),
        vi_ll: (-2.99, 0.01),
        pbp_ll: (-2.97, 0.00),
        dropout_ll: (-2.89, 0.00),
    },
    PaperRow {
        set: UciSet::Wine,
        vi_rmse: (0.65, 0.01),
        pbp_rmse: (0.64, 0.01),
        dropout_rmse: (0.62, 0.01),
        vi_ll: (-0.98, 0.01),
        pbp_ll: (-0.97, 0.01),
        dropout_ll: (-0.93, 0.01),
    },
    PaperRow {
        set: UciSet::Yacht,
        vi_rmse: (6.89, 0.67),
        pbp_rmse: (1.02, 0.05),
        dropout_rmse: (1.11, 0.09),
        vi_ll: (-3.43, 0.16),
        pbp_ll: (-1.63, 0.02),
        dropout_ll: (-1.55, 0.03),
    },
];

/// The reference code's README, Dropout with grid search: (set, RMSE, LL).
pub const REFERENCE_CODE: [(UciSet, Stat, Stat); 9] = [
    (UciSet::Boston, (2.90, 0.18), (-2.40, 0.04)),
    (UciSet::Concrete, (4.82, 0.16), (-2.93, 0.02)),
    (UciSet::Energy, (0.54, 0.06), (-1.21, 0.01)),
    (UciSet::Kin8nm, (0.08, 0.00), (1.14, 0.01)),
    (UciSet::Naval, (0.00, 0.00), (4.45, 0.00)),
    (UciSet::Power, (4.01, 0.04), (-2.80, 0.01)),
    (UciSet::Protein, (4.27, 0.02), (-2.87, 0.00)),
    (UciSet::Wine, (0.62, 0.01), (-0.93, 0.01)),
    (UciSet::Yacht, (0.67, 0.05), (-1.25, 0.01)),
];

/// Deep ensembles, Lakshminarayanan, Pritzel & Blundell (NIPS 2017), Table 1 (5 networks,
/// NLL-trained, no adversarial training in that column per their Table 2's caption), on these
/// splits: (set, RMSE, NLL, splits) as printed. Their "±" is a standard deviation over splits
/// (their MC-dropout column prints the paper's first, std-scaled version: 2.97 ± 0.85 for
/// boston's 0.19 standard error), so `column` divides it by sqrt(splits); LL = -NLL.
pub const DEEP_ENSEMBLES: [(UciSet, Stat, Stat, usize); 9] = [
    (UciSet::Boston, (3.28, 1.00), (2.41, 0.25), 20),
    (UciSet::Concrete, (6.03, 0.58), (3.06, 0.18), 20),
    (UciSet::Energy, (2.09, 0.29), (1.38, 0.22), 20),
    (UciSet::Kin8nm, (0.09, 0.00), (-1.20, 0.02), 20),
    (UciSet::Naval, (0.00, 0.00), (-5.63, 0.05), 20),
    (UciSet::Power, (4.11, 0.17), (2.79, 0.04), 20),
    (UciSet::Protein, (4.71, 0.06), (2.83, 0.02), 5),
    (UciSet::Wine, (0.64, 0.04), (0.94, 0.12), 20),
    (UciSet::Yacht, (1.58, 0.48), (1.18, 0.21), 20),
];

/// Their (RMSE, LL) as (mean, standard error).
pub fn deep_ensembles(set: UciSet) -> Option<(Stat, Stat)> {
    DEEP_ENSEMBLES.iter().find(|r| r.0 == set).map(|&(_, rmse, nll, n)| {
        let root = (n as f64).sqrt();
        ((rmse.0, rmse.1 / root), (-nll.0, nll.1 / root))
    })
}

pub fn paper(set: UciSet) -> Option<&'static PaperRow> {
    PAPER.iter().find(|r| r.set == set)
}

pub fn reference_code(set: UciSet) -> Option<(Stat, Stat)> {
    REFERENCE_CODE.iter().find(|r| r.0 == set).map(|r| (r.1, r.2))
}

/// The (RMSE, test LL) of `set` in a published column, if it lists the set.
pub fn column(set: UciSet, column: PublishedColumn) -> Option<(Stat, Stat)> {
    match column {
        PublishedColumn::PaperDropout => paper(set).map(|p| (p.dropout_rmse, p.dropout_ll)),
        PublishedColumn::ReferenceCode => reference_code(set),
        PublishedColumn::PaperVi => paper(set).map(|p| (p.vi_rmse, p.vi_ll)),
        PublishedColumn::PaperPbp => paper(set).map(|p| (p.pbp_rmse, p.pbp_ll)),
        PublishedColumn::DeepEnsembles => deep_ensembles(set),
    }
}
