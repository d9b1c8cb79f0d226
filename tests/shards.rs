//! `--shard I/N` and `--jobs N`: shards partition a spec's programs, and the records of a
//! sharded run (or of local workers) equal those of one process, field by field.

use crate::common;
use mcdrop::results::run_entry::RunOutcome;

use std::path::{Path, PathBuf};

/// The smoke protocol with one split per program: four programs over two sets.
fn spec(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::repo_file("experiments/smoke-uci.yaml")).unwrap()
        + "run:\n  splits_per_program: 1\n";
    let path = dir.join("sharded.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn shards_and_local_workers_give_the_records_of_one_process() {
    let work = tempfile::tempdir().unwrap();
    let spec = spec(work.path());
    let run = |results: &Path, extra: &[&str]| {
        let out = common::mcdrop(work.path())
            .arg("run")
            .arg(&spec)
            .arg("--results-dir")
            .arg(results)
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let one = work.path().join("one");
    run(&one, &[]);
    let single = common::unit_records(&one, "smoke-uci");
    assert_eq!(single.len(), 4);

    // Two shards, one after the other, into one directory: disjoint, and together the whole.
    let sharded = work.path().join("sharded");
    let first = run(&sharded, &["--shard", "0/2"]);
    let written = |text: &str| -> usize {
        text.split(" unit(s) written").next().unwrap().rsplit(' ').next().unwrap().parse().unwrap()
    };
    let a = written(&first);
    let second = run(&sharded, &["--shard", "1/2"]);
    assert!(second.contains(", 0 already recorded"), "shard 1 reuses nothing of shard 0: {second}");
    assert_eq!(a + written(&second), 4, "{first}{second}");
    assert!(a > 0 && a < 4, "both shards have work: {first}");
    common::assert_same_records(&single, &common::unit_records(&sharded, "smoke-uci"));

    // Two local worker processes.
    let jobs = work.path().join("jobs");
    let out = run(&jobs, &["--jobs", "2"]);
    assert!(out.contains("2 worker(s)"), "{out}");
    // The two workers wrote the manifest at the same time, without a lock: both entries are there.
    let manifest = mcdrop::results::ExperimentStore::new(&jobs, "smoke-uci").manifest().unwrap().unwrap();
    let outcomes: Vec<&RunOutcome> = manifest.runs.iter().map(|r| &r.outcome).collect();
    assert_eq!(outcomes, [&RunOutcome::Complete, &RunOutcome::Complete], "{outcomes:?}");
    assert_eq!(manifest.runs.iter().map(|r| r.units_written).sum::<usize>(), 4);
    let out = common::mcdrop(work.path()).args(["summary", "smoke-uci", "--results-dir"]).arg(&jobs).output().unwrap();
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("worker 0/2: complete") && summary.contains("worker 1/2: complete"), "{summary}");
    common::assert_same_records(&single, &common::unit_records(&jobs, "smoke-uci"));
}

#[test]
fn the_shard_plan_of_a_full_spec_is_balanced_up_to_its_largest_program() {
    let out = common::mcdrop(Path::new("."))
        .args(["plan", "--shards", "3"])
        .arg(common::repo_file("experiments/uci-gp.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let shares: Vec<f64> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("shard "))
        .map(|l| l.split('(').nth(1).unwrap().split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(shares.len(), 3, "{stdout}");
    assert!((shares.iter().sum::<f64>() - 100.0).abs() < 0.5, "{stdout}");
}
