//! Pure metric functions on plain slices, used by reports and as the reference the tensor
//! code is tested against.
//!
//! The MC test log-likelihood is the paper's estimator (section 5.3):
//! ll(x, y) = logsumexp_t(-tau/2 (y - y_t)^2) - log T - 1/2 log 2 pi + 1/2 log tau,
//! with y and the T samples y_t in original target units.

use std::f64::consts::PI;

/// The names of the metrics a UCI record holds, one spelling for the families that write them
/// and the reports that read them.
pub mod keys {
    pub const RMSE: &str = "rmse";
    pub const TEST_LL: &str = "test_ll";
    /// MC dropout: the deterministic network's (dropout off, weights scaled).
    pub const RMSE_STANDARD: &str = "rmse_standard";
    /// VI: the network of the posterior means.
    pub const RMSE_POSTERIOR_MEAN_NET: &str = "rmse_posterior_mean_net";
    /// Deep ensembles: the moment-matched Gaussian's.
    pub const TEST_LL_GAUSSIAN: &str = "test_ll_gaussian";
    /// GP, PBP, concrete dropout: the fitted noise standard deviation, original units.
    pub const NOISE_STD: &str = "noise_std";
    /// GP: the final negative log marginal likelihood (or sparse bound) per training row.
    pub const NLML_PER_ROW: &str = "nlml_per_row";
}

/// Root mean squared error.
pub fn rmse(y: &[f64], prediction: &[f64]) -> f64 {
    assert_eq!(y.len(), prediction.len(), "rmse needs paired values");
    let sse: f64 = y.iter().zip(prediction).map(|(a, b)| (a - b) * (a - b)).sum();
    (sse / y.len() as f64).sqrt()
}

/// log(sum(exp(v))) without overflow; -inf for an empty slice.
pub fn logsumexp(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// MC-dropout log-likelihood of one target `y` under T predictive samples with precision `tau`.
pub fn mc_log_likelihood(y: f64, samples: &[f64], tau: f64) -> f64 {
    let terms: Vec<f64> = samples.iter().map(|s| -0.5 * tau * (y - s) * (y - s)).collect();
    logsumexp(&terms) - (samples.len() as f64).ln() - 0.5 * (2.0 * PI).ln() + 0.5 * tau.ln()
}

/// Log density of `y` under N(mean, variance).
pub fn gaussian_log_likelihood(y: f64, mean: f64, variance: f64) -> f64 {
    if crate::mutation::active(crate::mutation::Mutation::LlWithoutConstant) {
        return -0.5 * variance.ln() - 0.5 * (y - mean) * (y - mean) / variance;
    }
    -0.5 * (2.0 * PI * variance).ln() - 0.5 * (y - mean) * (y - mean) / variance
}

/// Classification scores of predictive probabilities: `probs` holds one row of `classes`
/// probabilities per example (row-major), `labels` the true class of each row.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassificationScores {
    pub accuracy: f64,
    /// Mean negative log probability of the true class.
    pub nll: f64,
    /// Mean over examples of sum_c (p_c - [c = y])^2.
    pub brier: f64,
    /// Expected calibration error with equal-width confidence bins.
    pub ece: f64,
    /// Mean entropy of the predictive distribution (nats).
    pub entropy: f64,
}

/// Smallest probability a log is taken of, so a confident mistake costs -ln(1e-12), not inf.
const PROB_FLOOR: f64 = 1e-12;

pub fn classification_scores(probs: &[f32], labels: &[u8], classes: usize, bins: usize) -> ClassificationScores {
    ClassificationScores {
        accuracy: accuracy(probs, labels, classes),
        nll: nll(probs, labels, classes),
        brier: brier(probs, labels, classes),
        ece: ece(probs, labels, classes, bins),
        entropy: mean_entropy(probs, classes),
    }
}

fn rows<'a>(probs: &'a [f32], labels: &'a [u8], classes: usize) -> impl Iterator<Item = (&'a [f32], usize)> {
    assert_eq!(probs.len(), labels.len() * classes, "one row of probabilities per label");
    probs.chunks(classes).zip(labels.iter().map(|&l| l as usize))
}

/// Index and value of the largest probability (the first on ties).
fn top(row: &[f32]) -> (usize, f64) {
    row.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (c, &p)| if (p as f64) > best.1 { (c, p as f64) } else { best })
}

pub fn accuracy(probs: &[f32], labels: &[u8], classes: usize) -> f64 {
    let right = rows(probs, labels, classes).filter(|(row, y)| top(row).0 == *y).count();
    right as f64 / labels.len() as f64
}

pub fn nll(probs: &[f32], labels: &[u8], classes: usize) -> f64 {
    let total: f64 = rows(probs, labels, classes).map(|(row, y)| -(row[y] as f64).max(PROB_FLOOR).ln()).sum();
    total / labels.len() as f64
}

pub fn brier(probs: &[f32], labels: &[u8], classes: usize) -> f64 {
    let total: f64 = rows(probs, labels, classes)
        .map(|(row, y)| {
            row.iter().enumerate().map(|(c, &p)| (p as f64 - if c == y { 1.0 } else { 0.0 }).powi(2)).sum::<f64>()
        })
        .sum();
    total / labels.len() as f64
}

pub fn mean_entropy(probs: &[f32], classes: usize) -> f64 {
    let n = probs.len() / classes;
    let total: f64 = probs
        .chunks(classes)
        .map(|row| row.iter().map(|&p| p as f64).filter(|&p| p > 0.0).map(|p| -p * p.ln()).sum::<f64>())
        .sum();
    total / n as f64
}

/// One bin of a reliability diagram: examples whose top probability lies in (lower, upper].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReliabilityBin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Share of the bin's examples classified correctly (0 when empty).
    pub accuracy: f64,
    /// Mean top probability in the bin (0 when empty).
    pub confidence: f64,
}

/// `bins` equal-width confidence bins over [0, 1]; a confidence of exactly 0 goes in the first.
pub fn reliability(probs: &[f32], labels: &[u8], classes: usize, bins: usize) -> Vec<ReliabilityBin> {
    let mut count = vec![0usize; bins];
    let mut right = vec![0usize; bins];
    let mut confidence = vec![0f64; bins];
    for (row, y) in rows(probs, labels, classes) {
        let (class, p) = top(row);
        let b = ((p * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        count[b] += 1;
        right[b] += usize::from(class == y);
        confidence[b] += p;
    }
    (0..bins)
        .map(|b| {
            let n = count[b].max(1) as f64;
            ReliabilityBin {
                lower: b as f64 / bins as f64,
                upper: (b + 1) as f64 / bins as f64,
                count: count[b],
                accuracy: right[b] as f64 / n,
                confidence: confidence[b] / n,
            }
        })
        .collect()
}

/// Expected calibration error: sum over bins of (bin share) x |accuracy - confidence|.
pub fn ece(probs: &[f32], labels: &[u8], classes: usize, bins: usize) -> f64 {
    let n = labels.len() as f64;
    reliability(probs, labels, classes, bins)
        .iter()
        .map(|b| b.count as f64 / n * (b.accuracy - b.confidence).abs())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mc_log_likelihood_matches_a_hand_computation() {
        // y = 1, samples 0 and 2, tau = 2: each term is -1, so logsumexp = -1 + ln 2 and
        // ll = -1 + ln 2 - ln 2 - 0.5 ln(2 pi) + 0.5 ln 2.
        let ll = mc_log_likelihood(1.0, &[0.0, 2.0], 2.0);
        let hand = -1.0 - 0.5 * (2.0 * PI).ln() + 0.5 * 2f64.ln();
        assert!((ll - hand).abs() < 1e-12, "{ll} vs {hand}");
    }

    #[test]
    fn mc_log_likelihood_with_one_exact_sample_is_the_gaussian_peak() {
        let tau = 4.0;
        let ll = mc_log_likelihood(3.0, &[3.0], tau);
        assert!((ll - gaussian_log_likelihood(3.0, 3.0, 1.0 / tau)).abs() < 1e-12);
    }

    #[test]
    fn mc_log_likelihood_is_not_moment_matching() {
        // Two far-apart samples: the mixture puts mass near each, a moment-matched Gaussian
        // would put it at the middle. At y = 0 (a sample) the mixture is much higher.
        let mixture = mc_log_likelihood(0.0, &[0.0, 10.0], 1.0);
        let moment = gaussian_log_likelihood(0.0, 5.0, 1.0 + 25.0);
        assert!(mixture > moment + 0.5, "{mixture} vs {moment}");
    }

    #[test]
    fn logsumexp_is_stable() {
        assert!((logsumexp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-9);
        assert_eq!(logsumexp(&[]), f64::NEG_INFINITY);
    }

    #[test]
    fn rmse_by_hand() {
        assert!((rmse(&[0.0, 0.0], &[3.0, 4.0]) - 12.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn classification_scores_by_hand() {
        // Two examples, three classes. Row 0: right with p = 0.75; row 1: wrong (top 0.55 on
        // class 0, truth class 2 with 0.1).
        let probs = [0.75f32, 0.15, 0.1, 0.55, 0.35, 0.1];
        let labels = [0u8, 2];
        assert_eq!(accuracy(&probs, &labels, 3), 0.5);
        let nll_hand = -(0.75f64.ln() + 0.1f64.ln()) / 2.0;
        assert!((nll(&probs, &labels, 3) - nll_hand).abs() < 1e-6);
        let brier_hand = ((0.0625 + 0.0225 + 0.01) + (0.3025 + 0.1225 + 0.81)) / 2.0;
        assert!((brier(&probs, &labels, 3) - brier_hand).abs() < 1e-6);
        // 10 bins: row 0 in (0.7, 0.8] (acc 1, conf 0.75), row 1 in (0.5, 0.6] (acc 0, conf 0.55).
        let ece_hand = 0.5 * (1.0 - 0.75) + 0.5 * 0.55;
        assert!((ece(&probs, &labels, 3, 10) - ece_hand).abs() < 1e-6);
        let bins = reliability(&probs, &labels, 3, 10);
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 2);
        assert_eq!((bins[7].count, bins[7].accuracy), (1, 1.0));
        assert_eq!((bins[5].count, bins[5].accuracy), (1, 0.0));
        let h = |p: &[f64]| -p.iter().map(|x| x * x.ln()).sum::<f64>();
        let entropy_hand = (h(&[0.75, 0.15, 0.1]) + h(&[0.55, 0.35, 0.1])) / 2.0;
        assert!((mean_entropy(&probs, 3) - entropy_hand).abs() < 1e-6);
    }

    #[test]
    fn a_perfectly_calibrated_confident_model_has_zero_ece() {
        let probs = [1.0f32, 0.0, 0.0, 1.0];
        let labels = [0u8, 1];
        assert_eq!(ece(&probs, &labels, 2, 15), 0.0);
        assert_eq!(brier(&probs, &labels, 2), 0.0);
    }
}
