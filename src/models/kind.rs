//! Which model a record comes from, as one enum instead of strings compared in every layer:
//! records store it under today's names (`mc_dropout`, `mfvi`, `gp`, `pbp`, `ensemble`, `concrete_dropout`, `lenet`, `lenet-all`,
//! `lenet-concrete`, `lenet-ensemble-5`, `mfvi-2x400`). It only names a family and parses and prints that name; what tables,
//! summaries and figures show for it is `report::columns::TableFacts`. Adding a family adds a variant here; every `match` that
//! must handle it then fails to compile until it does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::spec::raw::{Activation, DropoutPlacement};

/// A model family, with the architecture where the name carries it (the MNIST VI MLP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ModelKind {
    /// MC dropout networks on UCI regression (and CO2).
    McDropout,
    /// The mean-field variational BNN on UCI regression.
    Mfvi,
    /// The Gaussian process (exact, or sparse beyond a size) on UCI regression.
    Gp,
    /// Probabilistic backpropagation on UCI regression.
    Pbp,
    /// Deep ensembles (M Gaussian-output networks) on UCI regression.
    Ensemble,
    /// Concrete dropout (learned rates) on UCI regression.
    ConcreteDropout,
    /// The dropout LeNet on MNIST.
    Lenet { placement: DropoutPlacement },
    /// LeNet with concrete dropout (rates learned) on MNIST.
    ConcreteLenet,
    /// An ensemble of dropout LeNets (placement last) on MNIST.
    LenetEnsemble { members: usize },
    /// The mean-field variational MLP classifier on MNIST.
    MfviClassifier { hidden_layers: usize, hidden_units: usize },
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelKind::McDropout => f.write_str("mc_dropout"),
            ModelKind::Mfvi => f.write_str("mfvi"),
            ModelKind::Gp => f.write_str("gp"),
            ModelKind::Pbp => f.write_str("pbp"),
            ModelKind::Ensemble => f.write_str("ensemble"),
            ModelKind::ConcreteDropout => f.write_str("concrete_dropout"),
            ModelKind::Lenet { placement: DropoutPlacement::Last } => f.write_str("lenet"),
            ModelKind::Lenet { placement: DropoutPlacement::All } => f.write_str("lenet-all"),
            ModelKind::ConcreteLenet => f.write_str("lenet-concrete"),
            ModelKind::LenetEnsemble { members } => write!(f, "lenet-ensemble-{members}"),
            ModelKind::MfviClassifier { hidden_layers, hidden_units } => {
                write!(f, "mfvi-{hidden_layers}x{hidden_units}")
            }
        }
    }
}

impl FromStr for ModelKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        let unknown = || {
            format!("unknown model `{name}` (known: mc_dropout, mfvi, gp, pbp, ensemble, concrete_dropout, lenet, lenet-all, lenet-concrete, lenet-ensemble-M, mfvi-LxU)")
        };
        Ok(match name {
            "mc_dropout" => ModelKind::McDropout,
            "mfvi" => ModelKind::Mfvi,
            "gp" => ModelKind::Gp,
            "pbp" => ModelKind::Pbp,
            "ensemble" => ModelKind::Ensemble,
            "concrete_dropout" => ModelKind::ConcreteDropout,
            "lenet" => ModelKind::Lenet { placement: DropoutPlacement::Last },
            "lenet-all" => ModelKind::Lenet { placement: DropoutPlacement::All },
            "lenet-concrete" => ModelKind::ConcreteLenet,
            other if other.starts_with("lenet-ensemble-") => {
                ModelKind::LenetEnsemble { members: other["lenet-ensemble-".len()..].parse().map_err(|_| unknown())? }
            }
            other => {
                let (layers, units) =
                    other.strip_prefix("mfvi-").and_then(|a| a.split_once('x')).ok_or_else(unknown)?;
                ModelKind::MfviClassifier {
                    hidden_layers: layers.parse().map_err(|_| unknown())?,
                    hidden_units: units.parse().map_err(|_| unknown())?,
                }
            }
        })
    }
}

impl TryFrom<String> for ModelKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        name.parse()
    }
}

impl From<ModelKind> for String {
    fn from(kind: ModelKind) -> String {
        kind.to_string()
    }
}

/// One predictor of the CO2 experiment, stored as `standard dropout (relu)`, `gp`,
/// `mc dropout (tanh)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Co2Predictor {
    /// The first network with dropout off: a point prediction.
    StandardDropout(Activation),
    Gp,
    McDropout(Activation),
}

impl Co2Predictor {
    pub fn is_mc_dropout(self) -> bool {
        matches!(self, Co2Predictor::McDropout(_))
    }

    pub fn is_standard_dropout(self) -> bool {
        matches!(self, Co2Predictor::StandardDropout(_))
    }
}

impl fmt::Display for Co2Predictor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Co2Predictor::StandardDropout(a) => write!(f, "standard dropout ({})", a.name()),
            Co2Predictor::Gp => f.write_str("gp"),
            Co2Predictor::McDropout(a) => write!(f, "mc dropout ({})", a.name()),
        }
    }
}

impl FromStr for Co2Predictor {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        let unknown = || format!("unknown CO2 model `{name}` (known: standard dropout (A), gp, mc dropout (A))");
        let activation = |rest: &str| -> Result<Activation, String> {
            let inner = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')).ok_or_else(unknown)?;
            Activation::from_name(inner).ok_or_else(unknown)
        };
        if name == "gp" {
            Ok(Co2Predictor::Gp)
        } else if let Some(rest) = name.strip_prefix("standard dropout ") {
            Ok(Co2Predictor::StandardDropout(activation(rest)?))
        } else if let Some(rest) = name.strip_prefix("mc dropout ") {
            Ok(Co2Predictor::McDropout(activation(rest)?))
        } else {
            Err(unknown())
        }
    }
}

impl TryFrom<String> for Co2Predictor {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        name.parse()
    }
}

impl From<Co2Predictor> for String {
    fn from(p: Co2Predictor) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_name_round_trips() {
        for name in [
            "mc_dropout",
            "mfvi",
            "gp",
            "pbp",
            "ensemble",
            "concrete_dropout",
            "lenet",
            "lenet-all",
            "lenet-concrete",
            "lenet-ensemble-5",
            "mfvi-2x400",
        ] {
            let kind: ModelKind = name.parse().unwrap();
            assert_eq!(kind.to_string(), name);
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{name}\""));
        }
        for name in ["standard dropout (relu)", "gp", "mc dropout (relu)", "mc dropout (tanh)"] {
            assert_eq!(name.parse::<Co2Predictor>().unwrap().to_string(), name);
        }
    }

    #[test]
    fn unknown_names_are_errors_not_defaults() {
        assert!("dropout".parse::<ModelKind>().is_err());
        assert!("mfvi-2by400".parse::<ModelKind>().is_err());
        assert!("lenet-ensemble-five".parse::<ModelKind>().is_err());
        assert!(serde_json::from_str::<ModelKind>("\"bagging\"")
            .unwrap_err()
            .to_string()
            .contains("unknown model `bagging`"));
        assert!("mc dropout (sigmoid)".parse::<Co2Predictor>().is_err());
    }
}
