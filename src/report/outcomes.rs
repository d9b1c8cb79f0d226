//! Tables of the MNIST and CO2 experiments, from their outcome records.

use super::co2_fit::{seasonal_rms, training_fit};
use super::columns::TableFacts;
use super::render::Table;
use crate::metrics::ClassificationScores;
use crate::results::outcome::{Co2Record, MnistEvaluation, ShiftStudy};

fn percent(v: f64) -> String {
    format!("{:.2}", 100.0 * v)
}

fn score_cells(s: &ClassificationScores) -> Vec<String> {
    vec![
        percent(s.accuracy),
        format!("{:.4}", s.nll),
        format!("{:.4}", s.brier),
        percent(s.ece),
        format!("{:.3}", s.entropy),
    ]
}

/// Test-set scores: one row per (experiment, prediction), standard and MC.
pub fn mnist_table(evaluations: &[(String, MnistEvaluation)], profile: &str) -> Table {
    let header =
        ["Experiment", "Model", "Prediction", "Test images", "Accuracy (%)", "NLL", "Brier", "ECE (%)", "Mean entropy"];
    let mut rows = Vec::new();
    for (experiment, e) in evaluations {
        let standard = e.model.standard_prediction();
        for (label, scores) in
            [(standard.to_string(), &e.standard.scores), (format!("MC, T = {}", e.mc_samples), &e.mc.scores)]
        {
            let mut row = vec![experiment.clone(), e.model.to_string(), label, e.n_test.to_string()];
            row.extend(score_cells(scores));
            rows.push(row);
        }
    }
    let mut bins: Vec<String> = evaluations.iter().map(|(_, e)| e.standard.reliability.len().to_string()).collect();
    bins.dedup();
    let title = format!(
        "MNIST test set{profile}: standard vs MC prediction (ECE over {} equal-width confidence bins)",
        bins.join("/")
    );
    Table::of_text(&title, &header, rows)
}

/// The rotated test set: one row per angle, accuracy / NLL / ECE / entropy per prediction.
pub fn shift_table(studies: &[(String, ShiftStudy)], profile: &str) -> Table {
    let mut header: Vec<String> = vec!["Rotation (deg)".into()];
    for (experiment, _) in studies {
        for method in ["std", "MC"] {
            for metric in ["acc %", "NLL", "ECE %", "entropy"] {
                header.push(format!("{experiment} {method} {metric}"));
            }
        }
    }
    let angles: Vec<f64> =
        studies.first().map(|(_, s)| s.angles.iter().map(|a| a.degrees).collect()).unwrap_or_default();
    let rows: Vec<Vec<String>> = angles
        .iter()
        .map(|&deg| {
            let mut row = vec![format!("{deg}")];
            for (_, s) in studies {
                match s.angles.iter().find(|a| a.degrees == deg) {
                    Some(a) => {
                        for scores in [&a.standard, &a.mc] {
                            row.extend([
                                percent(scores.accuracy),
                                format!("{:.3}", scores.nll),
                                percent(scores.ece),
                                format!("{:.3}", scores.entropy),
                            ]);
                        }
                    }
                    None => row.extend(std::iter::repeat_n("-".to_string(), 8)),
                }
            }
            row
        })
        .collect();
    let sizes: Vec<String> =
        studies.iter().map(|(e, s)| format!("{e}: the first {} test images", s.n_images)).collect();
    let title =
        format!("MNIST test images rotated by each angle{profile} ({}): standard vs MC prediction", sizes.join("; "));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    Table::of_text(&title, &header, rows)
}

/// Held-out CO2 weeks: one row per model, with its fit to the training years.
pub fn co2_table(experiment: &str, record: &Co2Record, profile: &str) -> Table {
    let header = [
        "Model",
        "Held-out RMSE (ppmv)",
        "Held-out LL",
        "95% band coverage (%)",
        "Train-years RMSE (ppmv)",
        "Train + predict (s)",
    ];
    let fits: Vec<_> = record.models.iter().map(|m| training_fit(record, m)).collect();
    let rows: Vec<Vec<String>> = record
        .models
        .iter()
        .zip(&fits)
        .map(|(m, fit)| {
            vec![
                m.name.to_string(),
                format!("{:.2}", m.heldout_rmse),
                m.heldout_ll.map_or("-".into(), |v| format!("{v:.3}")),
                m.heldout_coverage95.map_or("-".into(), |v| format!("{:.1}", 100.0 * v)),
                fit.map_or("-".into(), |f| format!("{:.2}", f.rmse)),
                format!("{:.1}", m.wall_seconds),
            ]
        })
        .collect();
    let held = record.observed_years.len() - record.n_train;
    let points = fits.iter().flatten().map(|f| f.points).max().unwrap_or(0);
    let seasonal = seasonal_rms(record).map_or("-".into(), |s| format!("{s:.2}"));
    let title = format!(
        "CO2 extrapolation, experiment `{experiment}`{profile}: trained on {} weeks before {}, scored on the {held} weeks after (Gaussian predictive); train-years RMSE at the {points} grid points before the cutoff against the weekly record there (a curve with the trend but no seasonal cycle scores about {seasonal}, the record's RMS about its centred 1-year mean)",
        record.n_train, record.cutoff
    );
    Table::of_text(&title, &header, rows)
}
