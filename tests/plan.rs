//! `mcdrop plan`: units recorded and to train per set, with an estimate from recorded times.

use crate::common;

#[test]
fn the_plan_counts_recorded_units_and_estimates_the_rest() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    let committed = common::repo_file("results/uci-gp");
    let mine = results.join("uci-gp");
    std::fs::create_dir_all(mine.join("records/yacht")).unwrap();
    std::fs::copy(committed.join("spec.yaml"), mine.join("spec.yaml")).unwrap();
    for k in 2..20 {
        let file = format!("records/yacht/split-{k}.json");
        std::fs::copy(committed.join(&file), mine.join(&file)).unwrap();
    }
    let out = common::mcdrop(work.path())
        .args(["plan", "--results-dir"])
        .arg(&results)
        .arg(common::repo_file("experiments/uci-gp.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    // 18 of yacht's 20 splits are there; every other set is untrained and estimated from them.
    assert!(stdout.starts_with("uci-gp: 18 unit(s) recorded, 147 to train, about"), "{stdout}");
    let yacht = stdout.lines().find(|l| l.trim_start().starts_with("Yacht")).unwrap();
    assert!(yacht.contains("18 recorded,   2 to train (") && !yacht.contains("unknown"), "{yacht}");
    assert!(!yacht.contains("other sets"), "yacht's estimate is its own: {yacht}");
    let boston = stdout.lines().find(|l| l.trim_start().starts_with("Boston")).unwrap();
    assert!(boston.contains("from the other sets' cost)"), "{stdout}");
    // Nothing recorded at all: nothing to estimate from.
    let empty = work.path().join("empty");
    let out = common::mcdrop(work.path())
        .args(["plan", "--results-dir"])
        .arg(&empty)
        .arg(common::repo_file("experiments/uci-gp.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("uci-gp: 0 unit(s) recorded, 165 to train, time unknown"), "{stdout}");
}

#[test]
fn compare_judges_each_set_of_a_rerun_against_the_committed_one() {
    let work = tempfile::tempdir().unwrap();
    let committed = common::repo_file("results/uci-gp");
    let copy = |dir: &std::path::Path, scale: f64| {
        let mine = dir.join("uci-gp");
        std::fs::create_dir_all(mine.join("records/yacht")).unwrap();
        std::fs::copy(committed.join("spec.yaml"), mine.join("spec.yaml")).unwrap();
        for k in 0..20 {
            let file = format!("records/yacht/split-{k}.json");
            let mut r: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(committed.join(&file)).unwrap()).unwrap();
            let rmse = r["metrics"]["rmse"].as_f64().unwrap();
            r["metrics"]["rmse"] = serde_json::json!(rmse * scale);
            std::fs::write(mine.join(&file), serde_json::to_string(&r).unwrap()).unwrap();
        }
    };
    let (a, same, worse) = (work.path().join("a"), work.path().join("same"), work.path().join("worse"));
    copy(&a, 1.0);
    copy(&same, 1.0);
    copy(&worse, 3.0);
    let compare = |other: &std::path::Path| {
        common::mcdrop(work.path())
            .args(["compare", "uci-gp", "--results-dir"])
            .arg(&a)
            .arg("--against")
            .arg(other)
            .output()
            .unwrap()
    };
    let out = compare(&same);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("| uci-gp | yacht | 20 / 20 |") && stdout.contains("| identical |"), "{stdout}");
    let out = compare(&worse);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let row = stdout.lines().find(|l| l.contains("| yacht |")).unwrap();
    assert!(row.contains("| inconsistent |") && row.ends_with("| identical |"), "{row}");
}

#[test]
fn a_fresh_plan_calibrates_every_spec_without_touching_the_results() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    let out = common::mcdrop(work.path())
        .args(["--threads", "1", "plan", "--fresh", "--results-dir"])
        .arg(&results)
        .arg(common::repo_file("experiments/smoke-uci.yaml"))
        .arg(common::repo_file("experiments/smoke-rl.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("Estimate of a run from scratch on this machine (1 threads)"), "{stdout}");
    assert!(lines[1].starts_with("smoke-uci: 0 h "), "{stdout}");
    for set in ["Boston", "Yacht"] {
        let line = lines.iter().find(|l| l.trim_start().starts_with(set)).unwrap();
        assert!(line.contains("calibrated on splits 0-1"), "{line}");
    }
    let rl = lines.iter().position(|l| l.starts_with("smoke-rl: ")).unwrap();
    assert!(
        lines[rl + 1].trim_start().starts_with("RL ") && lines[rl + 1].contains("the whole spec at shares"),
        "{stdout}"
    );
    let total = lines.last().unwrap();
    assert!(total.starts_with("total: 0 h ") && total.ends_with(" min"), "{stdout}");
    // The calibration runs in scratch directories: no records, manifests or logs here.
    assert!(!results.exists(), "the plan wrote into {}", results.display());
}

#[test]
fn a_fresh_plan_in_lanes_shares_uci_programs_and_queues_the_other_specs() {
    let work = tempfile::tempdir().unwrap();
    let out = common::mcdrop(work.path())
        .args(["--threads", "1", "plan", "--fresh", "--jobs", "2"])
        .arg(common::repo_file("experiments/smoke-pbp.yaml"))
        .arg(common::repo_file("experiments/smoke-rl.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("Estimate of a run from scratch on this machine in 2 lanes of 1 thread(s)"), "{stdout}");
    let pbp = stdout.lines().find(|l| l.starts_with("smoke-pbp: ")).unwrap();
    assert!(pbp.contains(" in 2 lanes (calibrated"), "{pbp}");
    let rl = stdout.lines().find(|l| l.starts_with("smoke-rl: ")).unwrap();
    assert!(rl.contains(", in one lane (calibrated"), "{rl}");
    // The shortened runs keep their progress lines to themselves: the estimate is the output.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("INFO"), "{stderr}");
    assert!(stdout.contains("UCI specs one after another: 0 h "), "{stdout}");
    // --jobs only means something for a run from scratch.
    let out = common::mcdrop(work.path())
        .args(["plan", "--jobs", "2"])
        .arg(common::repo_file("experiments/smoke-pbp.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// L-BFGS stops a GP's fit where it converges, for some sets far inside its iteration limit:
/// the plan times one split fitted whole, exact or sparse, instead of extrapolating a few
/// iterations to the limit.
#[test]
fn a_fresh_plan_times_an_lbfgs_gp_by_one_split_fitted_whole() {
    let work = tempfile::tempdir().unwrap();
    // Yacht's 277 training rows exact, boston's 455 by the sparse bound.
    let out = common::mcdrop(work.path())
        .args(["--threads", "1", "plan", "--fresh", "--set", "model.gp.optimizer=lbfgs"])
        .args(["--set", "model.gp.max_rows=300", "--set", "model.gp.inducing=20"])
        .arg(common::repo_file("experiments/smoke-gp.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for set in ["Boston", "Yacht"] {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(set)).unwrap();
        assert!(line.contains("calibrated by split 0 fitted whole"), "{line}");
    }
    // Adam runs its iterations to the end: a few of them, extrapolated.
    let out = common::mcdrop(work.path())
        .args(["--threads", "1", "plan", "--fresh"])
        .arg(common::repo_file("experiments/smoke-gp.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("calibrated on splits 0-1") && !stdout.contains("fitted whole"), "{stdout}");
}
