//! CO2: the GP on a tiny 1-D set against a hand computation, a malformed data file through
//! the CLI, and smoke-co2 end to end (finite metrics, table, figure files).

use crate::common;

use mcdrop::models::gp::{predict, GpParams};
use mcdrop::results::outcome::Co2Record;
use predicates::prelude::*;
use tch::{Kind, Tensor};

#[test]
fn gp_predictive_on_two_points_matches_the_hand_computation() {
    // x = (0, 1), y = (1, 2), unit length-scale and signal, noise std 0.1; predict at 0.5.
    let d = |v: &[f64], shape: &[i64]| Tensor::from_slice(v).view(shape).to_kind(Kind::Double);
    let p = GpParams {
        log_lengthscales: d(&[0.0], &[1, 1]),
        log_signal_std: d(&[0.0], &[1]),
        log_noise_std: d(&[0.1f64.ln()], &[1]),
    };
    let (mean, var) =
        predict(&d(&[0.0, 1.0], &[1, 2, 1]), &d(&[1.0, 2.0], &[1, 2]), &d(&[0.5], &[1, 1, 1]), &p, 0.0).unwrap();
    // K = [[a, b], [b, a]] with a = 1.01, b = exp(-1/2); k* = (c, c) with c = exp(-1/8).
    let (a, b, c) = (1.01f64, (-0.5f64).exp(), (-0.125f64).exp());
    let det = a * a - b * b;
    let alpha = [(a * 1.0 - b * 2.0) / det, (a * 2.0 - b * 1.0) / det];
    let hand_mean = c * (alpha[0] + alpha[1]);
    // k** - k*^T K^-1 k* + noise, where K^-1 (c, c) = c (a - b) / det (1, 1).
    let hand_var = 1.0 - 2.0 * c * c * (a - b) / det + 0.01;
    assert!((mean.double_value(&[0, 0]) - hand_mean).abs() < 1e-12, "{} vs {hand_mean}", mean.double_value(&[0, 0]));
    assert!((var.double_value(&[0, 0]) - hand_var).abs() < 1e-12, "{} vs {hand_var}", var.double_value(&[0, 0]));
}

#[test]
fn a_malformed_row_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let co2 = dir.path().join("co2");
    std::fs::create_dir_all(&co2).unwrap();
    std::fs::write(co2.join("co2_weekly_mlo.csv"), "date,co2\n19580329,316.1\n19580405,31x.3\n").unwrap();
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results", "--data-dir", "."])
        .arg(common::repo_file("experiments/smoke-co2.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("co2_weekly_mlo.csv:3: co2 value \"31x.3\" is not a number"));
    assert!(!dir.path().join("results/smoke-co2/outcomes").exists());
}

#[test]
fn smoke_co2_records_finite_metrics_and_draws_the_panels() {
    let dir = tempfile::tempdir().unwrap();
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results"])
        .arg(common::repo_file("experiments/smoke-co2.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-co2: 1 unit(s) written"));
    let text = std::fs::read_to_string(dir.path().join("results/smoke-co2/outcomes/co2.json")).unwrap();
    let record: Co2Record = serde_json::from_str(&text).unwrap();
    let names: Vec<String> = record.models.iter().map(|m| m.name.to_string()).collect();
    assert_eq!(names, ["standard dropout (relu)", "gp", "mc dropout (relu)", "mc dropout (tanh)"]);
    assert!(
        record.observed_years.len() > record.n_train && record.n_train > 1500,
        "cutoff 1992 keeps 1958-1991 for training"
    );
    for m in &record.models {
        assert!(m.heldout_rmse.is_finite() && m.grid_mean.iter().all(|v| v.is_finite()), "{}", m.name);
        if m.name.is_standard_dropout() {
            assert!(m.heldout_ll.is_none() && m.grid_std.iter().all(|&s| s == 0.0));
        } else {
            assert!(m.heldout_ll.unwrap().is_finite() && (0.0..=1.0).contains(&m.heldout_coverage95.unwrap()));
            assert!(m.grid_std.iter().all(|&s| s > 0.0));
        }
    }
    // Resume: with the summary and the GP part gone, a rerun reuses both networks and refits
    // only the GP, which is deterministic.
    let outcomes = dir.path().join("results/smoke-co2/outcomes");
    std::fs::remove_file(outcomes.join("co2.json")).unwrap();
    std::fs::remove_file(outcomes.join("co2-parts/gp.json")).unwrap();
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results"])
        .arg(common::repo_file("experiments/smoke-co2.yaml"))
        .assert()
        .success()
        .stderr(predicate::str::contains("co2 relu network: already recorded"))
        .stderr(predicate::str::contains("co2 tanh network: already recorded"));
    let again: Co2Record = serde_json::from_str(&std::fs::read_to_string(outcomes.join("co2.json")).unwrap()).unwrap();
    for (a, b) in record.models.iter().zip(&again.models) {
        assert_eq!((&a.name, a.heldout_rmse), (&b.name, b.heldout_rmse));
    }
    common::mcdrop(dir.path())
        .args(["plot", "smoke-co2", "--results-dir", "results"])
        .assert()
        .success()
        .stdout(predicate::str::contains("co2-panels.png"))
        .stdout(predicate::str::contains("co2-relu-vs-tanh.svg"));
    for file in ["co2-panels.png", "co2-panels.svg", "co2-relu-vs-tanh.png"] {
        let bytes = std::fs::read(dir.path().join("results/smoke-co2/figures").join(file)).unwrap();
        assert!(bytes.len() > 5_000, "{file} is {} bytes", bytes.len());
    }
    common::mcdrop(dir.path())
        .args(["table", "smoke-co2", "--results-dir", "results"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| mc dropout (tanh) |"))
        .stdout(predicate::str::contains("Train-years RMSE (ppmv)"));
}

#[test]
fn a_gp_row_limit_below_the_training_weeks_is_a_setting_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let co2 = dir.path().join("co2");
    std::fs::create_dir_all(&co2).unwrap();
    // One week a year, 1958-2001: 34 training weeks before the 1992 cutoff.
    let rows: String = (1958..2002).map(|y| format!("{y}0601,{}\n", 300 + y - 1958)).collect();
    std::fs::write(co2.join("co2_weekly_mlo.csv"), format!("date,co2\n{rows}")).unwrap();
    let spec = std::fs::read_to_string(common::repo_file("experiments/smoke-co2.yaml"))
        .unwrap()
        .replace("gp: {restarts: 1, iterations: 30}", "gp: {restarts: 1, iterations: 30, max_rows: 10}")
        .replace("epochs: 40", "epochs: 2");
    std::fs::write(dir.path().join("spec.yaml"), spec).unwrap();
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results", "--data-dir", ".", "spec.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "spec.yaml: task.co2.gp.max_rows = 10: 34 training weeks exceed it; raise it",
        ));
}
