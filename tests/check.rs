//! `mcdrop check`: passes against the committed baselines, fails (exit 1) when a baseline is
//! moved beyond seed noise and under each of the five mutations (real regressions), and says
//! how to make a missing one. And the pinned numerics it relies on: a default run computes
//! the bits a run on an AVX2-only CPU (emulated by the libraries' own variables) computes.

use crate::common;

use predicates::prelude::*;

#[test]
fn a_perturbed_baseline_makes_check_fail() {
    let baselines = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo_file("results/baselines/smoke-uci.json")).unwrap();
    let mut baseline: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Move boston's test LL by 20 seed deviations: the rerun must now be out of bounds.
    let metric = baseline["metrics"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["dataset"] == "bostonHousing" && m["metric"] == "test_ll")
        .unwrap();
    let shifted = metric["mean"].as_f64().unwrap() + 20.0 * metric["seed_spread"].as_f64().unwrap();
    metric["mean"] = serde_json::json!(shifted);
    std::fs::write(baselines.path().join("smoke-uci.json"), serde_json::to_string_pretty(&baseline).unwrap()).unwrap();
    common::mcdrop(&common::repo_file(""))
        .args(["check", "experiments/smoke-uci.yaml", "--baselines"])
        .arg(baselines.path())
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(r"smoke-uci +bostonHousing +test_ll .* FAIL").unwrap())
        .stdout(predicate::str::is_match(r"smoke-uci +yacht +rmse .* pass").unwrap())
        .stderr(predicate::str::contains("1 metric(s) moved beyond seed noise"));
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

/// Each mutation is a real regression: `mcdrop check` of the smoke specs it touches fails, at
/// the thresholds of the whole suite (the family is every committed baseline).
#[test]
fn each_mutation_makes_check_fail() {
    let cases = [
        // UCI's rates (p <= 0.1) doubled move smoke-uci's metrics less than its seed noise;
        // MNIST's p = 0.5 doubled drops everything.
        ("dropout-twice-p", &["experiments/smoke-mnist.yaml"][..]),
        ("ll-without-constant", &["experiments/smoke-uci.yaml"][..]),
        ("mnist-logit-averaging", &["experiments/smoke-mnist.yaml"][..]),
        ("tau-left-out", &["experiments/smoke-uci.yaml"][..]),
        ("gp-noise-doubled", &["experiments/smoke-gp.yaml"][..]),
    ];
    for (mutation, specs) in cases {
        for spec in specs {
            let out = common::mcdrop(&common::repo_file(""))
                .env("MCDROP_TEST_MUTATION", mutation)
                .args(["check", spec])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{mutation} on {spec} was not caught:\n{stdout}");
            assert!(stdout.contains("FAIL"), "{stdout}");
        }
    }
}

/// A seed the baseline never saw is seed noise, not a regression.
#[test]
fn a_shifted_seed_passes() {
    common::mcdrop(&common::repo_file(""))
        .args(["check", "experiments/smoke-uci.yaml", "experiments/smoke-gp.yaml", "--seed-offset", "7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("seed offset 7"));
}

/// The JSON results under `dir` (records and outcomes), with what is not a result (times,
/// provenance) taken out, by relative path.
fn results_without_provenance(dir: &std::path::Path) -> Vec<(String, serde_json::Value)> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.retain(|k, _| {
                    k != "provenance" && !k.contains("seconds") && k != "written_at" && k != "program_times"
                });
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.join("records"), dir.join("outcomes")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                let mut value: serde_json::Value = common::read_json(&path);
                strip(&mut value);
                out.push((path.strip_prefix(dir).unwrap().display().to_string(), value));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The whole suite as `make check` runs it (no spec named: every experiments/smoke-*.yaml)
/// passes; and its pinned numerics: each smoke spec's first rerun (the spec's own seed) has the
/// bits of a run on an AVX2-only CPU, emulated by the variables the libraries read (native
/// numerics, so nothing of mcdrop's own pinning is involved in the emulated run). One test, so
/// the suite's reruns serve as the default side instead of being run twice.
#[test]
fn smoke_specs_match_their_baselines_with_the_bits_of_an_avx2_only_cpu() {
    let work = tempfile::tempdir().unwrap();
    let kept = work.path().join("check");
    common::mcdrop(&common::repo_file(""))
        .arg("check")
        .arg("--keep-results")
        .arg(&kept)
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"smoke-uci +yacht +rmse .* pass").unwrap())
        .stdout(predicate::str::is_match(r"smoke-vi +bostonHousing +test_ll .* pass").unwrap())
        .stdout(predicate::str::contains("FAIL").not());
    let specs: Vec<std::path::PathBuf> = std::fs::read_dir(common::repo_file("experiments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("smoke-"))
        .collect();
    assert!(specs.len() >= 10, "{specs:?}");
    for spec in &specs {
        let name = spec.file_stem().unwrap().to_string_lossy().into_owned();
        let seed = mcdrop::spec::load(spec).unwrap().seed;
        let default = kept.join(&name).join(format!("seed-{seed}"));
        let emulated = work.path().join("emulated");
        common::mcdrop(work.path())
            .envs(mcdrop::numerics::PINNED_VARS)
            .env(mcdrop::numerics::GLIBC_TUNABLES_VAR, mcdrop::numerics::GLIBC_HWCAPS_MASK)
            .args(["--numerics", "native", "run"])
            .arg(spec)
            .arg("--results-dir")
            .arg(&emulated)
            .assert()
            .success();
        let (a, b) =
            (results_without_provenance(&default.join(&name)), results_without_provenance(&emulated.join(&name)));
        assert!(!a.is_empty(), "{name} wrote no results");
        assert_eq!(a.len(), b.len(), "{name}");
        for ((pa, va), (pb, vb)) in a.iter().zip(&b) {
            assert_eq!(pa, pb);
            assert!(va == vb, "{name}/{pa} differs between the default run and the emulated AVX2 CPU");
        }
    }
    // What the default run recorded of its numerics (this test runs on x86-64 with AVX2).
    let seed = mcdrop::spec::load(&common::repo_file("experiments/smoke-uci.yaml")).unwrap().seed;
    let record =
        std::fs::read_to_string(default_record(&kept.join(format!("smoke-uci/seed-{seed}/smoke-uci")))).unwrap();
    assert!(record.contains("\"numerics\": \"pinned-avx2\""), "{record}");
    assert!(record.contains("\"threads\": 1"), "{record}");
}

fn default_record(experiment: &std::path::Path) -> std::path::PathBuf {
    experiment.join("records/yacht/split-0.json")
}
