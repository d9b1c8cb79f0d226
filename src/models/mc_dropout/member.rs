//! One dropout network of a batched program, and what it scores.

/// One network of a batched program.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Seeds its weights, data order and dropout masks.
    pub seed: u64,
    pub dropout: f64,
    /// L2 coefficient lambda on its weights.
    pub weight_decay: f64,
    /// Its training rows are `row_offset .. row_offset + n` of the stacked data.
    pub row_offset: usize,
}

/// Per-member regression scores in original units.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegressionScores {
    /// RMSE of the MC predictive mean.
    pub rmse_mc: f64,
    /// RMSE of one deterministic pass with dropout off ("standard dropout").
    pub rmse_standard: f64,
    /// Mean MC test log-likelihood (paper's estimator, see `metrics`).
    pub ll: f64,
}
