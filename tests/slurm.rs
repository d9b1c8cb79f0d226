//! `mcdrop slurm --submit` against a real one-node Slurm cluster started by
//! `scripts/slurm-local`: a 2-task array of a smoke spec plus the follow-up job give the records
//! of one process. Under CI (CI=true) Slurm must start; elsewhere, where it cannot be installed
//! or started (not root, no apt-get), the test says so in one line and is skipped.

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

/// `JobState=...` of a job, from scontrol (no slurmdbd here, so no sacct).
fn job_state(conf: &str, id: &str) -> String {
    let out = Command::new("scontrol").env("SLURM_CONF", conf).args(["show", "job", id]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().find_map(|w| w.strip_prefix("JobState=")).unwrap_or("UNKNOWN").to_string()
}

#[test]
fn a_job_array_and_its_follow_up_give_the_records_of_one_process() {
    let script = common::repo_file("scripts/slurm-local");
    let state = std::env::temp_dir().join("mcdrop-slurm");
    let was_running = state.join("pids").exists();
    if !was_running {
        // Another local cluster's leftovers must not stop a fresh start (CLUSTER NAME MISMATCH).
        std::fs::create_dir_all(state.join("state")).unwrap();
        std::fs::write(state.join("state/clustername"), "someone-elses-cluster\n").unwrap();
    }
    let start = Command::new(&script).arg("start").output().unwrap();
    if !start.status.success() {
        let why = String::from_utf8_lossy(&start.stderr).trim().to_string();
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI must run the Slurm test: {why}");
        println!("skipped: no Slurm here ({why})");
        return;
    }
    let conf = state.join("slurm.conf").display().to_string();

    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("sharded.yaml");
    let text = std::fs::read_to_string(common::repo_file("experiments/smoke-uci.yaml")).unwrap()
        + "run:\n  splits_per_program: 1\n";
    std::fs::write(&spec, text).unwrap();
    let one = work.path().join("one");
    common::mcdrop(work.path()).arg("run").arg(&spec).arg("--results-dir").arg(&one).assert().success();

    let cluster = work.path().join("cluster");
    let out = common::mcdrop(work.path())
        .env("SLURM_CONF", &conf)
        .args(["slurm", "--tasks", "2", "--submit", "--results-dir"])
        .arg(&cluster)
        .arg(&spec)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find(|l| l.starts_with("submitted:")).unwrap();
    let ids: Vec<&str> = line.split("job ").skip(1).map(|s| s.split_whitespace().next().unwrap()).collect();
    let (array, finish) = (ids[0], ids[1]);
    let began = Instant::now();
    let state_of_finish = loop {
        let s = job_state(&conf, finish);
        if ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].contains(&s.as_str())
            || began.elapsed() > Duration::from_secs(600)
        {
            break s;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let logs = |name: &str| std::fs::read_to_string(cluster.join("smoke-uci/slurm").join(name)).unwrap_or_default();
    assert_eq!(state_of_finish, "COMPLETED", "array {array}: {}{}", logs("task-0.log"), logs("finish.log"));
    println!("slurm: array and follow-up done in {:.1} s", began.elapsed().as_secs_f64());

    let single = common::unit_records(&one, "smoke-uci");
    assert_eq!(single.len(), 4);
    common::assert_same_records(&single, &common::unit_records(&cluster, "smoke-uci"));
    // The follow-up wrote the table and the summary.
    assert!(cluster.join("smoke-uci/table.md").exists());
    assert!(logs("finish.log").contains("Summary of 1 experiment(s)"), "{}", logs("finish.log"));
    if !was_running {
        assert!(Command::new(&script).arg("stop").status().unwrap().success());
        a_failed_start_stops_what_it_started(&script);
    }
}

/// With slurmctld's port taken, `start` fails (exit 3) and leaves no munged of its own running.
fn a_failed_start_stops_what_it_started(script: &std::path::Path) {
    let Ok(_port) = std::net::TcpListener::bind("0.0.0.0:6817") else {
        println!("port 6817 is in use; the failed-start case is not tried");
        return;
    };
    let out = Command::new(script).arg("start").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("slurmctld exited"), "{stderr}");
    let pid = stderr
        .lines()
        .find_map(|l| l.strip_prefix("slurm-local: stopped munged (")?.strip_suffix(')'))
        .unwrap_or_else(|| panic!("munged was not stopped: {stderr}"));
    let alive = Command::new("kill").args(["-0", pid]).status().unwrap().success();
    assert!(!alive, "munged {pid} still runs after the failed start: {stderr}");
}
