//! A researcher's own table (`task: table`): the same rows and splits give the numbers the
//! `uci` task gives; every UCI family runs on the shipped example; the example file is what
//! its script makes; CSV and Parquet read alike; bad tables are refused with file, line and
//! column; a run on a changed file is refused.

use crate::common;

use std::path::{Path, PathBuf};

use predicates::prelude::*;

/// The mirror's yacht set as a CSV table (columns c0..c6, c6 the target, cells as written
/// in data.txt) in `dir`.
fn yacht_csv(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::mirror().join("uci/yacht/data.txt")).unwrap();
    let rows: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>().join(","))
        .collect();
    let path = dir.join("yacht.csv");
    std::fs::write(&path, format!("c0,c1,c2,c3,c4,c5,c6\n{}\n", rows.join("\n"))).unwrap();
    path
}

const TINY_DROPOUT: &str = "
seed: 3
model:
  mc_dropout: {hidden_units: 20, dropout: [0.01, 0.1], weight_decay: {length_scale: 0.01}}
training: {epochs: 30, batch_size: 32, optimizer: {adam: {lr: 0.001}}}
evaluation: {mc_samples: 20}
";

fn write_spec(dir: &Path, file: &str, text: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn yacht_as_a_table_gives_the_uci_tasks_numbers_metric_for_metric() {
    let work = tempfile::tempdir().unwrap();
    yacht_csv(work.path());
    let splits = common::mirror().join("uci/yacht");
    let uci = write_spec(
        work.path(),
        "uci.yaml",
        &format!("name: as-uci\ntask:\n  uci: {{sets: {{yacht: {{tau: [0.25, 0.5]}}}}, splits: {{first: 2}}}}\n{TINY_DROPOUT}"),
    );
    let table = write_spec(
        work.path(),
        "table.yaml",
        &format!(
            "name: as-table\ntask:\n  table:\n    name: yacht\n    path: yacht.csv\n    target: c6\n    splits: {{index_files: {}}}\n    run_splits: {{first: 2}}\n    tau: [0.25, 0.5]\n{TINY_DROPOUT}",
            splits.display()
        ),
    );
    let results = common::run_experiment(work.path(), &uci, &[]);
    common::run_experiment(work.path(), &table, &[]);
    let (a, b) = (common::unit_records(&results, "as-uci"), common::unit_records(&results, "as-table"));
    assert_eq!(a.len(), 2);
    common::assert_same_records(&a, &b);
    // The table's saved spec records the content it ran on.
    let saved = std::fs::read_to_string(results.join("as-table/spec.yaml")).unwrap();
    assert!(saved.contains("sha256: ") && saved.contains("splits_sha256: "), "{saved}");
}

/// `mcdrop run <smoke spec> --set task=<the example table, shrunk>`: each family's smoke
/// settings, on the example table.
fn run_family_on_example(work: &Path, smoke: &str, extra: &[&str]) -> PathBuf {
    let task = "task={table: {path: experiments/tables/example.csv, target: y, features: [x1, x2, x3, x4], \
                missing: drop_rows, splits: {random: {count: 2}}, tau: [5, 10]}}";
    let mut args = vec!["--set", task, "--set", "name=on-table"];
    for e in extra {
        args.extend(["--set", e]);
    }
    let results = work.join("results");
    common::mcdrop(common::repo_file("").as_path())
        .arg("run")
        .arg(common::repo_file(&format!("experiments/{smoke}.yaml")))
        .args(&args)
        .arg("--results-dir")
        .arg(&results)
        .assert()
        .success();
    results
}

#[test]
fn every_uci_family_runs_on_the_example_table() {
    let families: [(&str, &[&str]); 6] = [
        ("smoke-uci", &["training.epochs=20", "evaluation.mc_samples=10"]),
        ("smoke-vi", &["training.epochs=20", "evaluation.mc_samples=10"]),
        ("smoke-gp", &["model.gp.iterations=20"]),
        ("smoke-pbp", &["model.pbp.epochs=2"]),
        ("smoke-ensemble", &["model.ensemble.epochs=3"]),
        ("smoke-concrete", &["training.epochs=20", "evaluation.mc_samples=10"]),
    ];
    for (smoke, extra) in families {
        let work = tempfile::tempdir().unwrap();
        let results = run_family_on_example(work.path(), smoke, extra);
        let records = common::unit_records(&results, "on-table");
        assert_eq!(records.len(), 2, "{smoke}");
        for (path, r) in &records {
            assert!(path.starts_with("example/"), "{smoke}: {path}");
            // 397 usable rows (3 dropped), 10 % tested.
            assert_eq!(r.n_train + r.n_test, 397, "{smoke}: {path}");
            let (rmse, ll) = (r.metrics["rmse"], r.metrics["test_ll"]);
            // y's standard deviation is 1.02: every family must beat predicting the mean.
            assert!(rmse.is_finite() && rmse > 0.0 && rmse < 1.0, "{smoke}: {path}: rmse {rmse}");
            assert!(ll.is_finite(), "{smoke}: {path}: test_ll {ll}");
        }
        let csv = common::table_csv(work.path(), &results, "on-table");
        assert!(csv.contains("example"), "{smoke}: {csv}");
    }
}

#[test]
fn the_shipped_example_table_is_what_its_script_makes() {
    let work = tempfile::tempdir().unwrap();
    let made = work.path().join("example.csv");
    let status = std::process::Command::new("python3")
        .arg(common::repo_file("scripts/make-example-table"))
        .arg(&made)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let shipped = std::fs::read(common::repo_file("experiments/tables/example.csv")).unwrap();
    assert!(std::fs::read(&made).unwrap() == shipped, "rerun scripts/make-example-table and commit the file");
}

#[test]
fn a_parquet_table_gives_the_csv_tables_numbers() {
    use polars_io::prelude::{CsvReadOptions, ParquetWriter};
    use polars_io::SerReader;
    let work = tempfile::tempdir().unwrap();
    let csv = yacht_csv(work.path());
    let mut frame = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let file = std::fs::File::create(work.path().join("yacht.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
    let spec = |name: &str, file: &str| {
        format!(
            "name: {name}\ntask:\n  table: {{name: boat, path: {file}, target: c6, splits: {{random: {{count: 1}}}}, tau: [0.5]}}\n{TINY_DROPOUT}"
        )
    };
    let a = write_spec(work.path(), "a.yaml", &spec("from-csv", "yacht.csv"));
    let b = write_spec(work.path(), "b.yaml", &spec("from-parquet", "yacht.parquet"));
    let results = common::run_experiment(work.path(), &a, &[]);
    common::run_experiment(work.path(), &b, &[]);
    let (ra, rb) = (common::unit_records(&results, "from-csv"), common::unit_records(&results, "from-parquet"));
    assert_eq!(ra.len(), 1);
    common::assert_same_records(&ra, &rb);
}

/// `mcdrop run` of a one-split table spec over `csv` (written into a fresh work dir), which
/// must fail with exit status 2 and an error containing every one of `expected`.
fn refused(csv: &str, task_extra: &str, expected: &[&str]) {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("t.csv"), csv).unwrap();
    let spec = write_spec(
        work.path(),
        "t.yaml",
        &format!(
            "name: t\ntask:\n  table: {{path: t.csv, target: y, splits: {{random: {{count: 1}}}}, tau: [1]{task_extra}}}\n{TINY_DROPOUT}"
        ),
    );
    let mut assert = common::mcdrop(work.path()).arg("run").arg(&spec).assert().code(2);
    for text in expected {
        assert = assert.stderr(predicate::str::contains(*text));
    }
    assert.stderr(predicate::str::contains("panicked").not());
    assert!(!work.path().join("results/t/records").exists(), "nothing may be trained on a refused table");
}

/// `rows` rows of two varying features and a target, after `header`.
fn table(header: &str, rows: usize) -> String {
    let body: Vec<String> = (0..rows).map(|i| format!("{i},{},{}", (i * 7) % 5, i as f64 * 0.5)).collect();
    format!("{header}\n{}\n", body.join("\n"))
}

#[test]
fn bad_tables_are_refused_with_file_line_and_column() {
    let good = table("a,b,y", 30);
    // A cell that is not a number: its line (the header is line 1) and column.
    refused(&good.replace("\n4,3,2\n", "\n4,four,2\n"), "", &["t.csv:6:", "column `b`", "\"four\" is not a number"]);
    // An empty cell, refused unless drop_rows.
    refused(&good.replace("\n4,3,2\n", "\n4,,2\n"), "", &["t.csv:6:", "column `b`", "missing: drop_rows"]);
    // Columns the spec names that the file lacks, or names twice.
    refused(&good, ", features: [a, c]", &["no column `c`", "a, b, y"]);
    refused(&good.replace("a,b,y", "a,b,z"), "", &["no column `y` (task.table.target)"]);
    refused(&good.replace("a,b,y", "a,a,y"), "", &["t.csv:1:", "`a` is named twice"]);
    refused(&good.replace("\n4,3,2\n", "\n4,3,2,1\n"), "", &["t.csv:6:", "4 fields where the header names 3"]);
    refused(&good, ", features: [a, y]", &["`y` is the target"]);
    // A column that never changes, too few rows, no rows at all.
    refused(
        &table("a,b,y", 30).replace(",", ",1,").replace("a,1,b,1,y", "a,c,b,d,y"),
        "",
        &["same value in every row"],
    );
    refused(&table("a,b,y", 5), "", &["5 usable rows", "at least 10"]);
    refused("a,b,y\n", "", &["no data rows"]);
    refused("", "", &["t.csv"]);
}

#[test]
fn a_missing_file_is_named_when_the_spec_is_read() {
    let work = tempfile::tempdir().unwrap();
    let spec = write_spec(
        work.path(),
        "t.yaml",
        &format!("name: t\ntask:\n  table: {{path: nowhere.csv, target: y, splits: {{random: {{}}}}, tau: [1]}}\n{TINY_DROPOUT}"),
    );
    common::mcdrop(work.path())
        .arg("run")
        .arg(&spec)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("t.yaml:").and(predicate::str::contains("nowhere.csv")));
}

#[test]
fn a_run_on_a_changed_table_is_refused_and_keeps_the_records() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("t.csv"), table("a,b,y", 30)).unwrap();
    let spec = write_spec(
        work.path(),
        "t.yaml",
        &format!("name: t\ntask:\n  table: {{path: t.csv, target: y, splits: {{random: {{count: 1}}}}, tau: [1]}}\n{TINY_DROPOUT}"),
    );
    let results = common::run_experiment(work.path(), &spec, &[]);
    let before = common::unit_records(&results, "t");
    assert_eq!(before.len(), 1);
    std::fs::write(work.path().join("t.csv"), table("a,b,y", 31)).unwrap();
    common::mcdrop(work.path())
        .arg("run")
        .arg(&spec)
        .arg("--results-dir")
        .arg(&results)
        .assert()
        .failure()
        .stderr(predicate::str::contains("the table's content changed"));
    // The saved spec pins the old content: reading the records' own spec names the change.
    let saved = results.join("t/spec.yaml");
    common::mcdrop(work.path())
        .arg("run")
        .arg(&saved)
        .arg("--results-dir")
        .arg(work.path().join("elsewhere"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("changed since the spec recorded it"));
    common::assert_same_records(&before, &common::unit_records(&results, "t"));
}

#[test]
fn drawn_splits_are_saved_in_the_uci_layout_and_read_back_to_the_same_numbers() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("t.csv"), table("a,b,y", 40)).unwrap();
    let spec = |name: &str, splits: &str| {
        format!("name: {name}\ntask:\n  table: {{name: t, path: t.csv, target: y, splits: {splits}, tau: [1]}}\n{TINY_DROPOUT}")
    };
    let drawn = write_spec(work.path(), "drawn.yaml", &spec("drawn", "{random: {count: 2}}"));
    let results = common::run_experiment(work.path(), &drawn, &[]);
    let saved = results.join("drawn/splits/t");
    assert_eq!(std::fs::read_to_string(saved.join("index_test_1.txt")).unwrap().lines().count(), 4);
    let read = write_spec(work.path(), "read.yaml", &spec("read", &format!("{{index_files: {}}}", saved.display())));
    common::run_experiment(work.path(), &read, &[]);
    let (a, b) = (common::unit_records(&results, "drawn"), common::unit_records(&results, "read"));
    assert_eq!(a.len(), 2);
    common::assert_same_records(&a, &b);
}
