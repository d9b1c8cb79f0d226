//! How closely a CO2 model follows the record in the years it was trained on, read from the
//! outcome record alone (no rerun): the model's own predictions at the grid points before the
//! cutoff, against the weekly record interpolated to those dates.
//!
//! The grid step (about 0.13 years for 400 points over 1958-2010) is no simple fraction of a
//! year, so its points fall at phases spread over the seasonal cycle and their RMSE estimates
//! the RMSE over the whole training period. The reference it is read against is the record's
//! seasonal amplitude: the RMS of each week about its centred one-year mean, which is what a
//! curve with the trend but without the cycle scores.

use crate::results::outcome::{Co2Model, Co2Record};

/// Neighbouring weeks further apart than this (years) leave a gap the record does not fill;
/// grid points inside one are not scored.
const LONGEST_GAP_YEARS: f64 = 5.0 / 52.0;

/// A model's fit to the training years.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingFit {
    pub rmse: f64,
    /// Grid points scored (those before the cutoff where the record has neighbours).
    pub points: usize,
}

/// The model's RMSE (ppmv) at the grid points before the cutoff; None when none falls there.
pub fn training_fit(record: &Co2Record, model: &Co2Model) -> Option<TrainingFit> {
    let (years, ppm) = training_weeks(record);
    let mut squares = 0.0;
    let mut points = 0;
    for (&year, &predicted) in record.grid_years.iter().zip(&model.grid_mean) {
        if let Some(observed) = interpolate(years, ppm, year) {
            squares += (predicted - observed).powi(2);
            points += 1;
        }
    }
    (points > 0).then(|| TrainingFit { rmse: (squares / points as f64).sqrt(), points })
}

/// RMS (ppmv) of the training weeks about their centred one-year mean, over the weeks whose
/// whole year-long window lies in the training period; None when the period is shorter.
pub fn seasonal_rms(record: &Co2Record) -> Option<f64> {
    let (years, ppm) = training_weeks(record);
    let (first, last) = (*years.first()?, *years.last()?);
    let (mut lo, mut hi, mut window_sum) = (0, 0, 0.0);
    let mut squares = 0.0;
    let mut weeks = 0;
    for (&year, &value) in years.iter().zip(ppm) {
        if year - 0.5 < first || year + 0.5 > last {
            continue;
        }
        while hi < years.len() && years[hi] < year + 0.5 {
            window_sum += ppm[hi];
            hi += 1;
        }
        while years[lo] < year - 0.5 {
            window_sum -= ppm[lo];
            lo += 1;
        }
        let mean = window_sum / (hi - lo) as f64;
        squares += (value - mean).powi(2);
        weeks += 1;
    }
    (weeks > 0).then(|| (squares / weeks as f64).sqrt())
}

fn training_weeks(record: &Co2Record) -> (&[f64], &[f64]) {
    let n = record.n_train.min(record.observed_years.len()).min(record.observed_ppm.len());
    (&record.observed_years[..n], &record.observed_ppm[..n])
}

/// The record linearly interpolated at `year` (sorted `years`); None outside it or in a gap.
fn interpolate(years: &[f64], ppm: &[f64], year: f64) -> Option<f64> {
    let after = years.partition_point(|&y| y < year);
    if after < years.len() && years[after] == year {
        return Some(ppm[after]);
    }
    if after == 0 || after == years.len() {
        return None;
    }
    let (y0, y1) = (years[after - 1], years[after]);
    if y1 - y0 > LONGEST_GAP_YEARS {
        return None;
    }
    let w = (year - y0) / (y1 - y0);
    Some(ppm[after - 1] * (1.0 - w) + ppm[after] * w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Co2Predictor;
    use crate::results::Provenance;

    /// A weekly record of trend + a 1-year sine of the given amplitude, cutoff at `cutoff`.
    fn record(amplitude: f64, cutoff: f64, grid: &[f64], predict: impl Fn(f64) -> f64) -> Co2Record {
        let years: Vec<f64> = (0..52 * 20).map(|w| 1960.0 + w as f64 / 52.0).collect();
        let truth = |y: f64| 320.0 + 1.5 * (y - 1960.0) + amplitude * (2.0 * std::f64::consts::PI * y).sin();
        let ppm: Vec<f64> = years.iter().map(|&y| truth(y)).collect();
        let n_train = years.iter().take_while(|&&y| y < cutoff).count();
        Co2Record {
            experiment: "test".into(),
            cutoff,
            observed_years: years,
            observed_ppm: ppm,
            n_train,
            grid_years: grid.to_vec(),
            models: vec![Co2Model {
                name: Co2Predictor::Gp,
                grid_mean: grid.iter().map(|&y| predict(y)).collect(),
                grid_std: vec![1.0; grid.len()],
                heldout_rmse: 0.0,
                heldout_ll: None,
                heldout_coverage95: None,
                wall_seconds: 0.0,
            }],
            provenance: Provenance::new("spec", 0, "cpu"),
        }
    }

    fn grid(points: usize) -> Vec<f64> {
        (0..points).map(|i| 1960.0 + 25.0 * i as f64 / (points - 1) as f64).collect()
    }

    #[test]
    fn a_model_that_reproduces_the_record_scores_near_zero() {
        let truth = |y: f64| 320.0 + 1.5 * (y - 1960.0) + 3.0 * (2.0 * std::f64::consts::PI * y).sin();
        let r = record(3.0, 1975.0, &grid(400), truth);
        let fit = training_fit(&r, &r.models[0]).unwrap();
        // Only the interpolation of weekly samples of the sine is left.
        assert!(fit.rmse < 0.01, "{fit:?}");
        // Grid points after the cutoff are not scored.
        assert_eq!(fit.points, r.grid_years.iter().filter(|&&y| y < r.observed_years[r.n_train - 1]).count());
    }

    #[test]
    fn the_trend_alone_scores_the_seasonal_rms() {
        let trend = |y: f64| 320.0 + 1.5 * (y - 1960.0);
        let r = record(3.0, 1975.0, &grid(400), trend);
        let fit = training_fit(&r, &r.models[0]).unwrap();
        let seasonal = seasonal_rms(&r).unwrap();
        // A sine of amplitude 3 has RMS 3 / sqrt(2); both measures see it.
        let expected = 3.0 / 2f64.sqrt();
        assert!((fit.rmse - expected).abs() < 0.1, "{fit:?}");
        assert!((seasonal - expected).abs() < 0.05, "{seasonal}");
    }

    #[test]
    fn gaps_and_points_outside_the_record_are_not_scored() {
        let mut r = record(0.0, 1975.0, &[1950.0, 1962.0, 1962.5, 1990.0], |y| 320.0 + 1.5 * (y - 1960.0) + 1.0);
        // Take out the weeks around 1962.5: a gap of ten weeks.
        let keep: Vec<usize> = (0..r.n_train).filter(|&i| (r.observed_years[i] - 1962.5).abs() > 0.1).collect();
        r.observed_years = keep.iter().map(|&i| r.observed_years[i]).collect();
        r.observed_ppm = keep.iter().map(|&i| r.observed_ppm[i]).collect();
        r.n_train = keep.len();
        let fit = training_fit(&r, &r.models[0]).unwrap();
        assert_eq!(fit.points, 1);
        assert!((fit.rmse - 1.0).abs() < 1e-9, "{fit:?}");
    }

    #[test]
    fn a_record_without_training_weeks_has_no_fit() {
        let mut r = record(1.0, 1975.0, &grid(10), |_| 0.0);
        r.n_train = 0;
        assert_eq!(training_fit(&r, &r.models[0]), None);
        assert_eq!(seasonal_rms(&r), None);
    }
}
