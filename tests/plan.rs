//! `mcdrop plan`: units recorded and to train per set, with an estimate from recorded times.

mod common;

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
    // 18 of yacht's 20 splits are there; every other set is untrained and has no estimate.
    assert!(stdout.starts_with("uci-gp: 18 unit(s) recorded, 147 to train, time unknown"), "{stdout}");
    let yacht = stdout.lines().find(|l| l.trim_start().starts_with("Yacht")).unwrap();
    assert!(yacht.contains("18 recorded,   2 to train (") && !yacht.contains("unknown"), "{yacht}");
    assert!(stdout.lines().any(|l| l.trim_start().starts_with("Boston") && l.contains("(unknown)")), "{stdout}");
}
