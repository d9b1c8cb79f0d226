//! `mcdrop check`: passes against the committed baseline of the smoke spec, fails (exit 1)
//! when a baseline value is moved beyond its tolerance, and says how to make a missing one.

mod common;

use predicates::prelude::*;

#[test]
fn smoke_specs_match_their_committed_baselines() {
    // No spec named: every experiments/smoke-*.yaml, as `make check` runs it.
    common::mcdrop(&common::repo_file(""))
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"smoke-uci +yacht +rmse .* pass").unwrap())
        .stdout(predicate::str::is_match(r"smoke-vi +bostonHousing +test_ll .* pass").unwrap())
        .stdout(predicate::str::contains("FAIL").not());
}

#[test]
fn a_perturbed_baseline_makes_check_fail() {
    let baselines = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo_file("results/baselines/smoke-uci.json")).unwrap();
    let mut baseline: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Move boston's test LL by three tolerances: the rerun must now be out of bounds.
    let metric = baseline["metrics"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["dataset"] == "bostonHousing" && m["metric"] == "test_ll")
        .unwrap();
    let shifted = metric["value"].as_f64().unwrap() + 3.0 * metric["tolerance"].as_f64().unwrap();
    metric["value"] = serde_json::json!(shifted);
    std::fs::write(baselines.path().join("smoke-uci.json"), serde_json::to_string_pretty(&baseline).unwrap()).unwrap();
    common::mcdrop(&common::repo_file(""))
        .args(["check", "experiments/smoke-uci.yaml", "--baselines"])
        .arg(baselines.path())
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"smoke-uci +bostonHousing +test_ll .* FAIL").unwrap())
        .stdout(predicate::str::is_match(r"smoke-uci +yacht +rmse .* pass").unwrap())
        .stderr(predicate::str::contains("1 metric(s) drifted beyond their tolerance"));
}

#[test]
fn a_missing_baseline_says_how_to_record_one() {
    let empty = tempfile::tempdir().unwrap();
    common::mcdrop(&common::repo_file(""))
        .args(["check", "experiments/smoke-uci.yaml", "--baselines"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("record one with `mcdrop check --update experiments/smoke-uci.yaml`"));
}
