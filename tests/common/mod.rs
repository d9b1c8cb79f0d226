//! Helpers shared by the integration tests: the data mirror and the binary in a temp work dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The read-only data mirror next to the checkout (as in CI).
pub fn mirror() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    assert!(dir.join("uci").is_dir(), "the data mirror is expected at {}", dir.display());
    dir
}

pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `mcdrop` with the mirror as data dir, run inside `workdir`, on one CPU thread: cargo runs
/// tests side by side, and processes that each take every core slow one another down.
pub fn mcdrop(workdir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("mcdrop").expect("binary built");
    cmd.current_dir(workdir).env("MCDROP_DATA", mirror()).env_remove("MCDROP_LOG").env("MCDROP_THREADS", "1");
    cmd
}

/// Copies a UCI set folder of the mirror into `dest/uci/<set>` so a test may break it.
pub fn copy_uci_set(set: &str, dest: &Path) -> PathBuf {
    let from = mirror().join("uci").join(set);
    let to = dest.join("uci").join(set);
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

/// The rows of a `mcdrop table --format csv` output as column name -> cell. Splitting on
/// commas is safe for every column before the last (the quoted verdict, the only one holding
/// commas). `#` lines (a title) are skipped.
pub fn csv_rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = csv.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("a header line").split(',').collect();
    lines
        .map(|line| header.iter().zip(line.split(',')).map(|(h, c)| (h.to_string(), c.to_string())).collect())
        .collect()
}

/// A number of a `csv_rows` row; panics with the row when the column is absent or empty.
pub fn csv_number(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row.get(column).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("no number in column {column}: {row:?}"))
}

/// `mcdrop bench <args> --spec <spec in the repository>` run in `workdir`: its stdout, once
/// it has exited successfully (else a panic with both streams).
pub fn bench_stdout(workdir: &Path, args: &[&str], spec: &str) -> String {
    let out = mcdrop(workdir).arg("bench").args(args).arg("--spec").arg(repo_file(spec)).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The number printed after `prefix` on the first line of `stdout` that starts with it.
pub fn printed_number(stdout: &str, prefix: &str) -> f64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no number after `{prefix}` in {stdout}"))
}

/// A JSON file parsed as `T`, panicking with its path when it is missing or does not parse.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An experiment's records under `results`, as (`<set>/split-<k>.json`, record), sorted.
pub fn unit_records(results: &Path, experiment: &str) -> Vec<(String, mcdrop::results::UnitRecord)> {
    let mut out = Vec::new();
    for set in std::fs::read_dir(results.join(experiment).join("records")).unwrap() {
        for file in std::fs::read_dir(set.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let record = read_json(&path);
            let set = path.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
            out.push((format!("{set}/{}", path.file_name().unwrap().to_string_lossy()), record));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Two runs' records agree field by field: the same units, hyper-parameters, metrics,
/// validation scores and program sizes (wall times and provenance aside).
pub fn assert_same_records(a: &[(String, mcdrop::results::UnitRecord)], b: &[(String, mcdrop::results::UnitRecord)]) {
    assert_eq!(a.len(), b.len());
    for ((pa, ra), (pb, rb)) in a.iter().zip(b) {
        assert_eq!(pa, pb);
        assert_eq!((&ra.hyper, &ra.metrics, &ra.validation), (&rb.hyper, &rb.metrics, &rb.validation), "{pa}");
        assert_eq!((ra.n_train, ra.n_test, ra.program_members), (rb.n_train, rb.n_test, rb.program_members), "{pa}");
    }
}

/// `mcdrop run <spec> <args> --results-dir <work>/results`, which must succeed: the results root.
pub fn run_experiment(work: &Path, spec: &Path, args: &[&str]) -> PathBuf {
    let results = work.join("results");
    mcdrop(work).arg("run").arg(spec).args(args).arg("--results-dir").arg(&results).assert().success();
    results
}

/// `mcdrop table <experiment> --format csv` over `results`.
pub fn table_csv(work: &Path, results: &Path, experiment: &str) -> String {
    let out =
        mcdrop(work).args(["table", experiment, "--format", "csv", "--results-dir"]).arg(results).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `mcdrop run SPEC --results-dir RESULTS --checkpoint-every 1s` in `workdir` and kills
/// it (SIGKILL) half a second after `RESULTS/EXPERIMENT/checkpoints/` first holds a file;
/// panics if the run ends before that, which would leave nothing to resume.
pub fn kill_once_checkpointed(workdir: &Path, spec: &Path, results: &Path, experiment: &str) {
    use std::time::{Duration, Instant};
    let bin = assert_cmd::cargo::cargo_bin("mcdrop");
    let mut child = std::process::Command::new(&bin)
        .current_dir(workdir)
        .env("MCDROP_DATA", mirror())
        .env("MCDROP_THREADS", "1")
        .args(["run", "--checkpoint-every", "1s", "--results-dir"])
        .arg(results)
        .arg(spec)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoints = results.join(experiment).join("checkpoints");
    let has_checkpoint = || std::fs::read_dir(&checkpoints).map(|d| d.count() > 0).unwrap_or(false);
    let start = Instant::now();
    while !has_checkpoint() && start.elapsed() < Duration::from_secs(900) && child.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let ended_early = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    child.wait().unwrap();
    assert!(!ended_early && has_checkpoint(), "the run must be killed while a training has a checkpoint");
}

/// Whether `results/experiment/checkpoints/` holds a file.
pub fn has_checkpoint(results: &Path, experiment: &str) -> bool {
    std::fs::read_dir(results.join(experiment).join("checkpoints")).map(|d| d.count() > 0).unwrap_or(false)
}

/// A variant of the repository spec `repo_spec` written to `dir/file`: each `(from, to)`
/// replaced, each `from` required to be there (a spec edit must not silently stop applying).
/// Returns the path and the text.
pub fn spec_variant(dir: &Path, repo_spec: &str, file: &str, edits: &[(&str, &str)]) -> (PathBuf, String) {
    let mut text = std::fs::read_to_string(repo_file(repo_spec)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{repo_spec} no longer contains {from:?}");
        text = text.replace(from, to);
    }
    let path = dir.join(file);
    std::fs::write(&path, &text).unwrap();
    (path, text)
}
