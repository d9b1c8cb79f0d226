//! What the tables show for each model family, kept out of the model layer: the published
//! columns a UCI table prints beside ours (and the one its verdict holds us to), the second
//! metric a family records beside RMSE and test LL, the family's column label, and how the
//! MNIST tables name its deterministic prediction. `ModelKind` (in `models::kind`) only names
//! a family; `TableFacts` says what the reports show for it.

use crate::models::ModelKind;

/// A published column our numbers are held to, in the UCI tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishedColumn {
    /// The paper's Table 1 Dropout column.
    PaperDropout,
    /// The paper's reference code, rerun on these splits (paper.md).
    ReferenceCode,
    /// The paper's Table 1 VI column (Graves 2011).
    PaperVi,
    /// The paper's Table 1 PBP column (Hernández-Lobato & Adams 2015).
    PaperPbp,
    /// Lakshminarayanan et al. (2017), Table 1, standard errors from their deviations.
    DeepEnsembles,
}

impl PublishedColumn {
    /// How a table header names it.
    pub fn label(self) -> &'static str {
        match self {
            PublishedColumn::PaperDropout => "paper",
            PublishedColumn::ReferenceCode => "ref. code",
            PublishedColumn::PaperVi => "paper VI",
            PublishedColumn::PaperPbp => "paper PBP",
            PublishedColumn::DeepEnsembles => "deep ensembles",
        }
    }

    /// Where its numbers come from, for table titles.
    pub fn source(self) -> &'static str {
        match self {
            PublishedColumn::PaperDropout | PublishedColumn::PaperVi | PublishedColumn::PaperPbp => {
                "the paper's Table 1"
            }
            PublishedColumn::ReferenceCode => "the reference code's README",
            PublishedColumn::DeepEnsembles => {
                "Lakshminarayanan et al. 2017, Table 1, NLL as -LL, their ± (a deviation over splits) / sqrt(splits)"
            }
        }
    }
}

/// A metric a family records beside RMSE and test LL, shown as its own table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondaryMetric {
    /// Its key in a record's `metrics`.
    pub key: &'static str,
    /// Its column header.
    pub label: &'static str,
    /// Shown beside the test LL rather than beside the RMSE.
    pub is_log_likelihood: bool,
}

/// What the tables, summaries and figures show for a family: its column label, its second
/// metric, the published columns it is printed beside and held to, and how the MNIST tables
/// name its deterministic prediction. Kept here, not on `ModelKind`, so the model layer knows
/// nothing of the tables.
pub trait TableFacts: Copy {
    /// The column label of the family in comparison tables and figures.
    fn label(self) -> &'static str;

    /// The family's second metric, shown as its own column, when it has one.
    fn secondary_metric(self) -> Option<SecondaryMetric>;

    /// The two published columns a UCI table prints beside ours, and (second) which of them
    /// the verdict holds us to.
    fn published_columns(self) -> ([PublishedColumn; 2], PublishedColumn);

    /// How the MNIST tables name the deterministic prediction.
    fn standard_prediction(self) -> &'static str;

    /// Whether the paper's LeNet bar (> 99 % test accuracy) applies.
    fn is_lenet(self) -> bool;
}

impl TableFacts for ModelKind {
    fn label(self) -> &'static str {
        match self {
            ModelKind::McDropout => "Dropout",
            ModelKind::Mfvi => "VI",
            ModelKind::Gp => "GP",
            ModelKind::Pbp => "PBP",
            ModelKind::Ensemble => "Deep ens.",
            ModelKind::ConcreteDropout => "Concrete dropout",
            ModelKind::Lenet { .. } => "LeNet",
            ModelKind::ConcreteLenet => "Concrete LeNet",
            ModelKind::LenetEnsemble { .. } => "LeNet ensemble",
            ModelKind::MfviClassifier { .. } => "VI MLP",
        }
    }

    /// The family's second metric: the RMSE of the deterministic network (dropout off) for
    /// dropout, of the network of posterior means for VI; the LL of the moment-matched
    /// Gaussian for deep ensembles; none for the GP and PBP.
    fn secondary_metric(self) -> Option<SecondaryMetric> {
        match self {
            ModelKind::McDropout => Some(SecondaryMetric {
                key: crate::metrics::keys::RMSE_STANDARD,
                label: "Std. dropout RMSE (ours)",
                is_log_likelihood: false,
            }),
            ModelKind::Mfvi => Some(SecondaryMetric {
                key: crate::metrics::keys::RMSE_POSTERIOR_MEAN_NET,
                label: "Mean-net RMSE (ours)",
                is_log_likelihood: false,
            }),
            ModelKind::Ensemble => Some(SecondaryMetric {
                key: crate::metrics::keys::TEST_LL_GAUSSIAN,
                label: "Gaussian-approx. LL (ours)",
                is_log_likelihood: true,
            }),
            ModelKind::Gp
            | ModelKind::Pbp
            | ModelKind::ConcreteDropout
            | ModelKind::Lenet { .. }
            | ModelKind::ConcreteLenet
            | ModelKind::LenetEnsemble { .. }
            | ModelKind::MfviClassifier { .. } => None,
        }
    }

    /// The two published columns a UCI table prints beside ours, and (second) which of them
    /// the verdict holds us to: dropout is held to the reference code's numbers (the
    /// reproduction bar), PBP to the paper's PBP column, the other baselines to its VI column.
    fn published_columns(self) -> ([PublishedColumn; 2], PublishedColumn) {
        match self {
            ModelKind::McDropout | ModelKind::ConcreteDropout => {
                ([PublishedColumn::PaperDropout, PublishedColumn::ReferenceCode], PublishedColumn::ReferenceCode)
            }
            ModelKind::Pbp => ([PublishedColumn::PaperPbp, PublishedColumn::PaperDropout], PublishedColumn::PaperPbp),
            ModelKind::Ensemble => {
                ([PublishedColumn::DeepEnsembles, PublishedColumn::PaperPbp], PublishedColumn::DeepEnsembles)
            }
            ModelKind::Mfvi
            | ModelKind::Gp
            | ModelKind::Lenet { .. }
            | ModelKind::ConcreteLenet
            | ModelKind::LenetEnsemble { .. }
            | ModelKind::MfviClassifier { .. } => {
                ([PublishedColumn::PaperVi, PublishedColumn::PaperPbp], PublishedColumn::PaperVi)
            }
        }
    }

    fn standard_prediction(self) -> &'static str {
        match self {
            ModelKind::Mfvi | ModelKind::MfviClassifier { .. } => "posterior-mean net",
            ModelKind::Pbp => "posterior-mean net",
            ModelKind::Ensemble => "mixture mean",
            ModelKind::LenetEnsemble { .. } => "members' mean (dropout off)",
            ModelKind::McDropout
            | ModelKind::ConcreteDropout
            | ModelKind::Gp
            | ModelKind::Lenet { .. }
            | ModelKind::ConcreteLenet => "standard (dropout off)",
        }
    }

    fn is_lenet(self) -> bool {
        matches!(self, ModelKind::Lenet { .. } | ModelKind::ConcreteLenet | ModelKind::LenetEnsemble { .. })
    }
}
