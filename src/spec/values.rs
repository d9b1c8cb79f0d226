//! Validated scalar types for spec fields.
//!
//! Each type checks its rule while serde deserializes it, so a bad value is reported by the
//! YAML parser with its `line:column` and field path instead of by a later pass that has lost
//! the location.

use serde::{Deserialize, Serialize};

/// A probability in [0, 1): a dropout rate (1 would drop everything).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct DropoutRate(f64);

impl TryFrom<f64> for DropoutRate {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if (0.0..1.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!("dropout rate must be in [0, 1), got {v}"))
        }
    }
}

impl From<DropoutRate> for f64 {
    fn from(v: DropoutRate) -> f64 {
        v.0
    }
}

impl DropoutRate {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A finite number strictly above zero (precision, learning rate, length-scale...).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Positive(f64);

impl TryFrom<f64> for Positive {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 0.0 {
            Ok(Self(v))
        } else {
            Err(format!("must be a finite number > 0, got {v}"))
        }
    }
}

impl From<Positive> for f64 {
    fn from(v: Positive) -> f64 {
        v.0
    }
}

impl Positive {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A finite number >= 0 (a fixed weight decay; 0 turns it off).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct NonNegative(f64);

impl TryFrom<f64> for NonNegative {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && v >= 0.0 {
            Ok(Self(v))
        } else {
            Err(format!("must be a finite number >= 0, got {v}"))
        }
    }
}

impl From<NonNegative> for f64 {
    fn from(v: NonNegative) -> f64 {
        v.0
    }
}

impl NonNegative {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A factor in [0, 1) by which a running average keeps its past (SGD momentum).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct DecayFactor(f64);

impl TryFrom<f64> for DecayFactor {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if (0.0..1.0).contains(&v) {
            Ok(Self(v))
        } else {
            Err(format!("must be in [0, 1) (0: no momentum), got {v}"))
        }
    }
}

impl From<DecayFactor> for f64 {
    fn from(v: DecayFactor) -> f64 {
        v.0
    }
}

impl DecayFactor {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A fraction strictly inside (0, 1), e.g. the share of training rows held out for validation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct OpenFraction(f64);

impl TryFrom<f64> for OpenFraction {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v > 0.0 && v < 1.0 {
            Ok(Self(v))
        } else {
            Err(format!("must be strictly between 0 and 1, got {v}"))
        }
    }
}

impl From<OpenFraction> for f64 {
    fn from(v: OpenFraction) -> f64 {
        v.0
    }
}

impl OpenFraction {
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A count of at least one (epochs, units, samples...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Count(usize);

impl TryFrom<u64> for Count {
    type Error = String;
    fn try_from(v: u64) -> Result<Self, String> {
        if v >= 1 {
            usize::try_from(v).map(Self).map_err(|_| format!("{v} is too large"))
        } else {
            Err("must be at least 1, got 0".to_string())
        }
    }
}

impl From<Count> for u64 {
    fn from(v: Count) -> u64 {
        v.0 as u64
    }
}

impl Count {
    pub fn get(self) -> usize {
        self.0
    }

    pub fn is_one(&self) -> bool {
        self.0 == 1
    }
}

/// An experiment name: it becomes a directory under results/, so only `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExperimentName(String);

impl TryFrom<String> for ExperimentName {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        let ok = !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(v))
        } else {
            Err(format!(
                "experiment name must be non-empty and use only letters, digits, '-' and '_' (it names a results directory), got {v:?}"
            ))
        }
    }
}

impl From<ExperimentName> for String {
    fn from(v: ExperimentName) -> String {
        v.0
    }
}

impl ExperimentName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
