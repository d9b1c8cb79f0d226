//! End-to-end runs of the binary: the smoke spec trains, records and tables; a rerun resumes;
//! a run killed with SIGKILL loses nothing that was written.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use mcdrop::results::UnitRecord;
use predicates::prelude::*;

fn records(results: &Path, experiment: &str) -> Vec<(std::path::PathBuf, UnitRecord)> {
    let mut out = Vec::new();
    let root = results.join(experiment).join("records");
    for set in std::fs::read_dir(&root).into_iter().flatten() {
        for file in std::fs::read_dir(set.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, serde_json::from_str(&text).expect("every record is complete JSON")));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `mcdrop run SPEC --results-dir RESULTS` in `workdir`.
fn run_into(workdir: &Path, spec: &Path, results: &Path) -> assert_cmd::Command {
    let mut cmd = common::mcdrop(workdir);
    cmd.arg("run").arg(spec).arg("--results-dir").arg(results);
    cmd
}

/// The merged run history (manifest.json and every run's entry file), as JSON.
fn manifest(results: &Path, experiment: &str) -> serde_json::Value {
    let store = mcdrop::results::ExperimentStore::new(results, experiment);
    serde_json::to_value(store.manifest().unwrap().expect("a manifest")).unwrap()
}

fn target_std(set: &str) -> f64 {
    let dirs = mcdrop::data::DataDirs::new(Some(&common::mirror())).unwrap();
    let data = mcdrop::data::uci::UciData::find_and_load(set.parse().unwrap(), &dirs).unwrap();
    let mean = data.y.iter().sum::<f64>() / data.y.len() as f64;
    (data.y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / data.y.len() as f64).sqrt()
}

#[test]
fn smoke_spec_runs_end_to_end_with_sane_numbers_and_resumes() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    run_into(work.path(), &spec, &results)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-uci: 4 unit(s) written, 0 already recorded"));

    let recs = records(&results, "smoke-uci");
    assert_eq!(recs.len(), 4);
    for (path, r) in &recs {
        let rmse = r.metrics["rmse"];
        let ll = r.metrics["test_ll"];
        let sd = target_std(r.dataset.folder());
        assert!(rmse < 0.6 * sd, "{}: rmse {rmse} not well below the target std {sd}", path.display());
        assert!(ll.is_finite() && ll < 0.0, "{}: test ll {ll}", path.display());
        assert!(r.metrics["rmse_standard"].is_finite());
        assert_eq!(r.validation.len(), 12, "the whole 4 x 3 grid is scored");
        assert!(r.provenance.torch.starts_with("2.11.0"), "{}", r.provenance.torch);
        // The chosen point is the best validation LL.
        let best = r.validation.iter().map(|g| g.ll).fold(f64::NEG_INFINITY, f64::max);
        let chosen = r.validation.iter().find(|g| g.hyper == r.hyper).unwrap();
        assert_eq!(chosen.ll, best);
    }
    let manifest = manifest(&results, "smoke-uci");
    assert_eq!(manifest["runs"][0]["outcome"], "complete");
    assert_eq!(manifest["runs"][0]["units_written"], 4);
    assert!(results.join("smoke-uci/spec.yaml").exists());

    // The table: markdown by default, csv and latex on request.
    common::mcdrop(work.path())
        .args(["table", "smoke-uci", "--results-dir"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("| Boston | 2 |"))
        .stdout(predicate::str::contains("| Yacht | 2 |"))
        .stdout(predicate::str::contains("2.97 ± 0.19"));
    let csv = common::mcdrop(work.path())
        .args(["table", "smoke-uci", "--format", "csv", "--results-dir"])
        .arg(&results)
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    // A `#` title line, the header and one row per set.
    assert!(csv.starts_with("# UCI regression, experiment `smoke-uci`"), "{csv}");
    assert_eq!(csv.lines().count(), 4);
    // 2 text columns, 7 mean/se pairs and the verdict (quoted, holding one comma in rows).
    assert_eq!(csv.lines().nth(1).unwrap().split(',').count(), 17, "{csv}");
    assert!(csv.lines().skip(2).all(|l| l.split(',').count() == 18), "{csv}");
    common::mcdrop(work.path())
        .args(["table", "smoke-uci", "--format", "latex", "--results-dir"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("\\begin{tabular}"));

    // Figures from the records, and the summary with its verdicts.
    common::mcdrop(work.path())
        .args(["plot", "smoke-uci", "--results-dir"])
        .arg(&results)
        .arg("--output")
        .arg(work.path().join("figures"))
        .assert()
        .success()
        .stdout(predicate::str::contains("uci-rmse.png"));
    assert!(std::fs::read(work.path().join("figures/uci-ll.png")).unwrap().starts_with(b"\x89PNG"));
    assert!(std::fs::read_to_string(work.path().join("figures/uci-ll.svg")).unwrap().contains("<svg"));
    common::mcdrop(work.path())
        .args(["summary", "smoke-uci", "--results-dir"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("== smoke-uci [profile smoke]"))
        .stdout(predicate::str::contains("last run: complete"))
        .stdout(predicate::str::is_match(r"Yacht +2 splits .* vs ref\. code").unwrap());

    // Resume: a rerun writes nothing; after losing one record it redoes exactly that unit,
    // with the same numbers (its grid record is reused), and leaves the others untouched.
    let before: Vec<Vec<u8>> = recs.iter().map(|(p, _)| std::fs::read(p).unwrap()).collect();
    run_into(work.path(), &spec, &results)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 unit(s) written, 4 already recorded"));
    std::fs::remove_file(&recs[1].0).unwrap();
    run_into(work.path(), &spec, &results)
        .assert()
        .success()
        .stdout(predicate::str::contains("1 unit(s) written, 3 already recorded"));
    let after = records(&results, "smoke-uci");
    for (i, (path, r)) in after.iter().enumerate() {
        if i == 1 {
            // Alone in its retrain program it runs other matmul shapes: float tolerance.
            for (name, v) in &r.metrics {
                let old = recs[1].1.metrics[name];
                assert!((v - old).abs() < 1e-6 * old.abs().max(1.0), "redone {name}: {v} vs {old}");
            }
            assert_eq!(r.hyper, recs[1].1.hyper);
        } else {
            assert_eq!(std::fs::read(path).unwrap(), before[i], "{} was rewritten", path.display());
        }
    }

    // A changed spec may not mix its records with these.
    let changed = work.path().join("changed.yaml");
    std::fs::write(&changed, std::fs::read_to_string(&spec).unwrap().replace("seed: 7", "seed: 8")).unwrap();
    run_into(work.path(), &changed, &results)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("holds results of a different version of spec `smoke-uci`"))
        .stderr(predicate::str::contains("--force"));
}

#[test]
fn a_run_killed_mid_way_loses_nothing_and_resumes() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    // The smoke protocol on four splits of one set, one split per program: records land one
    // by one, so a kill falls between them.
    let spec = work.path().join("kill.yaml");
    let text = std::fs::read_to_string(common::repo_file("experiments/smoke-uci.yaml"))
        .unwrap()
        .replace("name: smoke-uci", "name: kill-test")
        .replace("splits: {first: 2}", "splits: {first: 4}")
        .replace("      bostonHousing: {tau: [0.1, 0.15, 0.2]}\n", "")
        + "run:\n  splits_per_program: 1\n";
    std::fs::write(&spec, text).unwrap();

    let bin = assert_cmd::cargo::cargo_bin("mcdrop");
    let mut child = std::process::Command::new(&bin)
        .current_dir(work.path())
        .env("MCDROP_DATA", common::mirror())
        .arg("run")
        .arg(&spec)
        .arg("--results-dir")
        .arg(&results)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = results.join("kill-test/records/yacht/split-0.json");
    let start = Instant::now();
    // A guard against a hang, not a speed target: generous, because on a 2-core machine this
    // test shares the CPU with the other tests' runs.
    let patience = Duration::from_secs(900);
    while !first.exists() && start.elapsed() < patience && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let ended_early = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL (also before the failures below: no run outlives the test)
    child.wait().unwrap();
    assert!(!ended_early, "the run ended before it could be killed");
    assert!(first.exists(), "no record appeared in {patience:?}");

    let partial = records(&results, "kill-test");
    assert!(!partial.is_empty() && partial.len() < 4, "killed after {} records", partial.len());
    let leftovers: Vec<_> = walk(&results).into_iter().filter(|p| p.to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty() || partial.len() < 4, "temporary files are never records: {leftovers:?}");
    assert_eq!(manifest(&results, "kill-test")["runs"][0]["outcome"], "running", "a killed run stays never finished");

    let done = partial.len();
    run_into(work.path(), &spec, &results)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{} unit(s) written, {done} already recorded", 4 - done)));
    let manifest = manifest(&results, "kill-test");
    assert_eq!(manifest["runs"][0]["outcome"], "interrupted", "the resume found the killed run's process gone");
    assert_eq!(manifest["runs"][0]["process"]["pid"], child.id());
    // The kill may land between a record's rename and the manifest's count of it, so the
    // count is the records written, or one fewer; never more.
    let counted = manifest["runs"][0]["units_written"].as_u64().unwrap() as usize;
    assert!(
        counted == done || counted + 1 == done,
        "the killed run's entry counted {counted} unit(s) as they landed; {done} record(s) exist"
    );
    assert_eq!(manifest["runs"][1]["outcome"], "complete");
    let all = records(&results, "kill-test");
    assert_eq!(all.len(), 4);
    for (p, r) in &partial {
        let now = all.iter().find(|(q, _)| q == p).unwrap();
        assert_eq!(&now.1, r, "a record written before the kill is kept as it was");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn unknown_set_and_bad_range_are_input_errors() {
    let work = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    common::mcdrop(work.path()).arg("run").arg(&spec).args(["--only", "bostn"]).assert().code(2).stderr(
        predicate::str::contains("--only: `bostn` is not a set of this spec; its sets are bostonHousing, yacht"),
    );
    common::mcdrop(work.path())
        .arg("run")
        .arg(&spec)
        .args(["--splits", "3..1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--splits: range 3..1 is empty"));
    common::mcdrop(work.path())
        .args(["table", "nothing-here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no results for experiment `nothing-here`"));
}

#[test]
fn thread_count_comes_from_the_flag_or_the_environment_and_bad_values_are_input_errors() {
    let work = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/uci-dropout.yaml");
    let spec = spec.to_str().unwrap();
    let bench = [
        "bench",
        "uci",
        "--set",
        "yacht",
        "--epochs",
        "1",
        "--splits",
        "1",
        "--serial-members",
        "1",
        "--peer",
        "none",
        "--mc-samples",
        "2",
        "--spec",
        spec,
    ];
    let first_line = |cmd: &mut assert_cmd::Command| {
        String::from_utf8(cmd.output().unwrap().stdout).unwrap().lines().next().unwrap_or("").to_string()
    };
    let flag = first_line(common::mcdrop(work.path()).args(["--threads", "1"]).args(bench).env("MCDROP_THREADS", "2"));
    assert!(flag.ends_with("device=cpu (1 threads)"), "the flag wins over the environment: {flag}");
    let env = first_line(common::mcdrop(work.path()).args(bench).env("MCDROP_THREADS", "1"));
    assert!(env.ends_with("device=cpu (1 threads)"), "{env}");
    common::mcdrop(work.path())
        .args(["list"])
        .env("MCDROP_THREADS", "many")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("MCDROP_THREADS=\"many\" is not a thread count"));
    common::mcdrop(work.path())
        .args(["--threads", "0", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
}

#[test]
fn missing_data_says_where_it_looked() {
    let work = tempfile::tempdir().unwrap();
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    assert_cmd::Command::cargo_bin("mcdrop")
        .unwrap()
        .current_dir(work.path())
        .env("MCDROP_DATA", &empty)
        .arg("run")
        .arg(&spec)
        .arg("--results-dir")
        .arg(work.path().join("r"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("data set `uci/bostonHousing` not found"))
        .stderr(predicate::str::contains("(MCDROP_DATA)"))
        .stderr(predicate::str::contains("scripts/fetch-data uci bostonHousing"));
}

#[test]
fn a_data_dir_that_does_not_exist_is_an_error_not_a_fallback() {
    let work = tempfile::tempdir().unwrap();
    common::mcdrop(work.path())
        .args(["run", "--data-dir", "/nonexistent", "--results-dir", "r"])
        .arg(common::repo_file("experiments/smoke-uci.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--data-dir /nonexistent: no such directory"));
    assert!(!work.path().join("r").exists(), "nothing is written before the data is found");
}

#[test]
fn a_record_cut_in_half_is_redone_and_list_names_corrupt_results() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    run_into(work.path(), &spec, &results).assert().success();
    let cut = results.join("smoke-uci/records/yacht/split-0.json");
    let text = std::fs::read_to_string(&cut).unwrap();
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    // A record of another unit in a unit's place is no record of it either.
    let moved = results.join("smoke-uci/records/bostonHousing/split-1.json");
    std::fs::copy(results.join("smoke-uci/records/bostonHousing/split-0.json"), &moved).unwrap();

    let experiments = work.path().join("experiments");
    std::fs::create_dir_all(&experiments).unwrap();
    std::fs::copy(&spec, experiments.join("smoke-uci.yaml")).unwrap();
    let list = |work: &std::path::Path| {
        let out = common::mcdrop(work).args(["list", "--results-dir"]).arg(&results).output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let listed = list(work.path());
    assert!(listed.contains("1 record(s) corrupt") && listed.contains("yacht/split-0.json"), "{listed}");

    run_into(work.path(), &spec, &results)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-uci: 2 unit(s) written, 2 already recorded"))
        .stderr(predicate::str::contains("yacht/split-0.json: unreadable"))
        .stderr(predicate::str::contains("bostonHousing/split-1.json: a record of another unit"));
    let (_, r) =
        records(&results, "smoke-uci").into_iter().find(|(p, _)| p.ends_with("bostonHousing/split-1.json")).unwrap();
    assert_eq!(r.split, 1);
    assert!(!list(work.path()).contains("corrupt"));

    std::fs::write(results.join("smoke-uci/manifest.json"), "{\"experiment\": ").unwrap();
    let listed = list(work.path());
    assert!(listed.contains("manifest unreadable"), "{listed}");
}

#[test]
fn a_spec_extended_with_splits_keeps_its_records_and_a_changed_setting_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    run_into(work.path(), &spec, &results).assert().success();
    let text = std::fs::read_to_string(&spec).unwrap();
    // One more split of yacht alone: boston's records stay, yacht's two are reused.
    let extended = text
        .replace("splits: {first: 2}", "splits: {first: 3}")
        .replace("      bostonHousing: {tau: [0.1, 0.15, 0.2]}\n", "");
    assert_ne!(extended, text);
    std::fs::write(work.path().join("extended.yaml"), &extended).unwrap();
    run_into(work.path(), &work.path().join("extended.yaml"), &results)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-uci: 1 unit(s) written, 2 already recorded"));
    // The saved spec still describes every record, boston's included.
    let saved = std::fs::read_to_string(results.join("smoke-uci/spec.yaml")).unwrap();
    assert!(saved.contains("bostonHousing") && saved.contains("first: 3"), "{saved}");

    // A field that decides yacht's numbers changed: refused, nothing redone.
    let changed = extended.replace("yacht: {tau: [0.25, 0.5, 0.75]}", "yacht: {tau: [0.25, 0.5]}");
    assert_ne!(changed, extended);
    std::fs::write(work.path().join("changed.yaml"), changed).unwrap();
    run_into(work.path(), &work.path().join("changed.yaml"), &results)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the settings of yacht changed"))
        .stderr(predicate::str::contains("--force"));

    // Every record as a tidy row.
    let out =
        common::mcdrop(work.path()).args(["export", "smoke-uci", "--results-dir"]).arg(&results).output().unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(&header[..4], ["experiment", "model", "dataset", "split"], "{csv}");
    for column in ["hyper_dropout", "hyper_tau", "rmse", "test_ll", "commit", "spec_sha256"] {
        assert!(header.contains(&column), "{column}: {csv}");
    }
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");
    let out = common::mcdrop(work.path())
        .args(["export", "smoke-uci", "--format", "jsonl", "--results-dir"])
        .arg(&results)
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["model"] == "mc_dropout" && r["rmse"].as_f64().is_some()));
}

#[test]
fn a_training_killed_mid_way_resumes_from_its_checkpoint_and_equals_an_uninterrupted_one() {
    let work = tempfile::tempdir().unwrap();
    // One yacht split, a long enough schedule that the kill lands inside a training.
    let (spec, _) = common::spec_variant(
        work.path(),
        "experiments/smoke-uci.yaml",
        "ckpt.yaml",
        &[
            ("name: smoke-uci", "name: ckpt-test"),
            ("splits: {first: 2}", "splits: {first: 1}"),
            ("      bostonHousing: {tau: [0.1, 0.15, 0.2]}\n", ""),
            ("epochs: 500", "epochs: 4000"),
        ],
    );
    let (straight, resumed) = (work.path().join("straight"), work.path().join("resumed"));
    run_into(work.path(), &spec, &straight).assert().success();
    common::kill_once_checkpointed(work.path(), &spec, &resumed, "ckpt-test");
    assert!(!resumed.join("ckpt-test/records/yacht/split-0.json").exists(), "killed before its record");

    run_into(work.path(), &spec, &resumed)
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming from a checkpoint after epoch"));
    let (a, b) = (&records(&straight, "ckpt-test")[0].1, &records(&resumed, "ckpt-test")[0].1);
    assert_eq!(a.hyper, b.hyper);
    assert_eq!(a.metrics, b.metrics, "resumed training must equal the uninterrupted one bit for bit");
    assert_eq!(a.validation, b.validation);
    assert!(!common::has_checkpoint(&resumed, "ckpt-test"), "a finished program leaves no checkpoint behind");
}

/// `--set`: a variant of a spec from the command line, checked like the file (an error names
/// the override), saved with its results and in its identity; under its own `name` it leaves
/// the original's results alone, and a changed override of the same name is refused.
#[test]
fn overrides_from_the_command_line_are_checked_saved_and_named() {
    let work = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    for (set, says) in [
        ("training.epochs=0", "with --set training.epochs=0: training.epochs: must be at least 1"),
        ("model.mc_dropout.hiden_units=3", "unknown field `hiden_units`"),
        ("seed.x=1", "--set seed.x=1: `seed` is a value, not a section"),
        ("training", "--set training: expected PATH=VALUE"),
    ] {
        common::mcdrop(work.path())
            .args(["validate"])
            .arg(&spec)
            .args(["--set", set])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    let identity = |sets: &[&str]| {
        let mut cmd = common::mcdrop(work.path());
        cmd.arg("validate").arg(&spec);
        for s in sets {
            cmd.args(["--set", s]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        text.split("sha256 ").nth(1).unwrap().trim_end_matches([')', '\n']).to_string()
    };
    let variant = ["training.epochs=7", "name=smoke-uci-short"];
    assert_ne!(identity(&variant), identity(&[]));
    assert_eq!(identity(&variant), identity(&["name=smoke-uci-short", "training.epochs=7"]));

    let run = |sets: &[&str]| {
        let mut cmd = common::mcdrop(work.path());
        cmd.arg("run").arg(&spec).args(["--only", "yacht", "--splits", "0..1"]);
        for s in sets {
            cmd.args(["--set", s]);
        }
        cmd.assert()
    };
    run(&variant).success();
    let saved = std::fs::read_to_string(work.path().join("results/smoke-uci-short/spec.yaml")).unwrap();
    assert!(saved.contains("epochs: 7") && saved.contains("name: smoke-uci-short"), "{saved}");
    assert!(!work.path().join("results/smoke-uci").exists(), "the original's results were touched");
    let record: serde_json::Value =
        common::read_json(&work.path().join("results/smoke-uci-short/records/yacht/split-0.json"));
    assert!(identity(&variant).starts_with(&record["provenance"]["spec_sha256"].as_str().unwrap()[..12]));
    // The same name with another value: a changed setting, refused as the file's would be.
    run(&["training.epochs=8", "name=smoke-uci-short"])
        .code(1)
        .stderr(predicate::str::contains("holds results of a different version of spec `smoke-uci-short`"));
}
