//! `--speculative-retrain on`: the retrain networks of every grid point train beside the grid
//! search and the chosen one is kept. On the CPU the kept network is the one a sequential
//! retrain trains, so the records agree with a sequential run's, and `verify` reruns them
//! the way they were made.

use crate::common;

use std::path::Path;

use mcdrop::results::GridRecord;

#[test]
fn a_speculative_retrain_records_what_the_sequential_one_does() {
    let work = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/smoke-uci.yaml");
    let run = |results: &Path, speculation: &str| {
        let out = common::mcdrop(work.path())
            .args(["run", "--only", "yacht", "--speculative-retrain", speculation, "--results-dir"])
            .arg(results)
            .arg(&spec)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let sequential = work.path().join("sequential");
    let speculative = work.path().join("speculative");
    run(&sequential, "auto");
    run(&speculative, "on");

    let (a, b) = (common::unit_records(&sequential, "smoke-uci"), common::unit_records(&speculative, "smoke-uci"));
    assert_eq!(a.len(), 2);
    let grid = 12; // 4 dropout rates x 3 taus
    for ((path, seq), (_, spec)) in a.iter().zip(&b) {
        assert!(!seq.speculative_retrain, "auto is off on the CPU: {path}");
        assert!(spec.speculative_retrain, "{path}");
        assert_eq!((seq.program_members, spec.program_members), (2, 2 * grid), "{path}");
        assert_eq!((&seq.hyper, &seq.validation), (&spec.hyper, &spec.validation), "{path}");
        for (metric, &x) in &seq.metrics {
            let y = spec.metrics[metric];
            assert!((x - y).abs() <= 1e-6 * x.abs().max(1.0), "{path} {metric}: sequential {x}, speculative {y}");
        }
    }
    // The grid search is the same program either way.
    for k in 0..2 {
        let grid = |results: &Path| -> GridRecord {
            common::read_json(&results.join(format!("smoke-uci/grid/yacht/split-{k}.json")))
        };
        assert_eq!(grid(&sequential).points, grid(&speculative).points);
    }
    // Sequential records leave the field out, so records made before it existed still read.
    let text = std::fs::read_to_string(sequential.join("smoke-uci/records/yacht/split-0.json")).unwrap();
    assert!(!text.contains("speculative_retrain"), "{text}");

    // verify rebuilds the program as the records say it was made: speculatively.
    let out = common::mcdrop(work.path())
        .args(["verify", "smoke-uci", "--units", "yacht:0", "--results-dir"])
        .arg(&speculative)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("Overall verdict: **identical** (2 unit(s) rerun)"), "{stdout}");
}
