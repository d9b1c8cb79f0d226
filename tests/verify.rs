//! `mcdrop verify`: a rerun program reproduces its records, a record perturbed beyond the
//! rule fails the verification, and the plan for the committed records fits its budget.

use crate::common;

#[test]
fn a_rerun_matches_its_records_bit_for_bit_and_a_perturbed_record_fails() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    common::mcdrop(work.path())
        .args(["run", "--results-dir"])
        .arg(&results)
        .arg(common::repo_file("experiments/smoke-uci.yaml"))
        .assert()
        .success();
    let verify = |units: &str| {
        common::mcdrop(work.path())
            .args(["verify", "smoke-uci", "--units", units, "--results-dir"])
            .arg(&results)
            .output()
            .unwrap()
    };
    // The same code on the same machine, the same program: the same numbers.
    let out = verify("yacht:0");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Overall verdict: **identical** (2 unit(s) rerun)"), "{stdout}");
    assert!(stdout.contains("- records from commit `"), "{stdout}");

    // Split 1's RMSE three times what was recorded. With one other split there is no spread,
    // so anything but the same number is inconsistent.
    let path = results.join("smoke-uci/records/yacht/split-1.json");
    let mut record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let rmse = record["metrics"]["rmse"].as_f64().unwrap();
    record["metrics"]["rmse"] = serde_json::json!(3.0 * rmse);
    std::fs::write(&path, serde_json::to_string_pretty(&record).unwrap()).unwrap();
    let out = verify("yacht:1");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("1 unit(s) inconsistent with their records"), "{stderr}");
    let verdict = |split: &str, metric: &str| -> String {
        let prefix = format!("| smoke-uci | yacht | {split} | {metric} |");
        let line = stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{prefix}: {stdout}"));
        line.trim_end_matches(" |").rsplit(" | ").next().unwrap().to_string()
    };
    assert_eq!(verdict("0", "rmse"), "identical", "{stdout}");
    assert_eq!(verdict("1", "rmse"), "inconsistent", "{stdout}");
    assert_eq!(verdict("1", "test_ll"), "identical", "only the RMSE was perturbed: {stdout}");
    // Each verification keeps its report beside the results, as markdown and JSON.
    let reports: Vec<_> = std::fs::read_dir(results.join("verify")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(reports.len(), 4, "{reports:?}");
    let json = reports.iter().filter(|p| p.extension().is_some_and(|e| e == "json")).max().unwrap();
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(report["units"].as_array().unwrap().len(), 2);
    assert_eq!(report["units"][1]["program"], serde_json::json!([0, 1]));
}

#[test]
fn the_plan_fits_the_budget_and_names_what_it_reruns() {
    let work = tempfile::tempdir().unwrap();
    let out = common::mcdrop(work.path())
        .args(["verify", "uci-dropout", "uci-gp", "--budget", "5m", "--dry-run", "--results-dir"])
        .arg(common::repo_file("results"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let first = stdout.lines().next().unwrap();
    let cost: f64 = first.split("recorded cost ").nth(1).unwrap().split(" s").next().unwrap().parse().unwrap();
    assert!(cost <= 300.0 && cost > 0.0, "{first}");
    // Programs of both experiments, each named with its splits.
    assert!(stdout.contains("\n  uci-dropout ") && stdout.contains("\n  uci-gp "), "{stdout}");
    assert!(stdout.lines().skip(1).all(|l| l.contains(':') && l.ends_with(" s)")), "{stdout}");
    // A unit that is not committed is an input error.
    common::mcdrop(work.path())
        .args(["verify", "uci-dropout", "--units", "yacht:99", "--dry-run", "--results-dir"])
        .arg(common::repo_file("results"))
        .assert()
        .code(2);
}
