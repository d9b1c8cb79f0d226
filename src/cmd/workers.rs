//! `mcdrop run SPEC --jobs N`: N local worker processes with their share of the CPU threads,
//! into one results directory, under one progress display. The workers share a claim queue
//! (`protocol::shard::ClaimQueue`, a directory this process makes and removes): each takes the
//! next program when it comes free. A worker that dies leaves its finished records; rerunning
//! the same command resumes what is left.

use std::io::IsTerminal;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::cli::{Cli, RunArgs};
use crate::results::ExperimentStore;

pub fn run_workers(cli: &Cli, args: &RunArgs, experiment: &str, jobs: usize) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cli.threads.map_or(cores, |t| t as usize);
    let per_worker = (threads / jobs).max(1);
    let store = ExperimentStore::new(&cli.results_dir, experiment);
    std::fs::create_dir_all(store.dir()).with_context(|| format!("creating {}", store.dir().display()))?;
    let exe = std::env::current_exe().context("finding the mcdrop executable")?;
    let started = Instant::now();
    let before = store.scan_records()?.readable.len();
    let queue =
        tempfile::Builder::new().prefix("mcdrop-queue-").tempdir().context("making the workers' claim queue")?;
    let mut workers: Vec<(usize, Child, std::path::PathBuf)> = Vec::new();
    for index in 0..jobs {
        let log = store.dir().join(format!("worker-{index}-of-{jobs}.log"));
        let file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(&exe);
        command
            .args(worker_args(cli, args, per_worker))
            .arg("--queue")
            .arg(queue.path())
            .arg("--worker")
            .arg(format!("{index}/{jobs}"))
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        workers.push((index, command.spawn().context("starting a worker")?, log));
    }
    println!("{experiment}: {jobs} worker(s) of {per_worker} thread(s) each; logs in {}", store.dir().display());
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut failed = Vec::new();
    while !workers.is_empty() {
        std::thread::sleep(Duration::from_millis(200));
        let recorded = store.scan_records().map(|s| s.readable.len()).unwrap_or(before);
        bar.set_message(format!(
            "{} worker(s) running, {} unit(s) written, {:.0} s",
            workers.len(),
            recorded.saturating_sub(before),
            started.elapsed().as_secs_f64()
        ));
        bar.tick();
        let mut still = Vec::new();
        for (index, mut child, log) in workers {
            match child.try_wait()? {
                Some(status) if status.success() => {}
                Some(status) => failed.push(format!("worker {index} ({status}; see {})", log.display())),
                None => still.push((index, child, log)),
            }
        }
        workers = still;
    }
    bar.finish_and_clear();
    let written = store.scan_records()?.readable.len().saturating_sub(before);
    println!(
        "{experiment}: {jobs} worker(s): {written} unit(s) written, {:.1} s -> {}",
        started.elapsed().as_secs_f64(),
        store.dir().display()
    );
    if !failed.is_empty() {
        bail!("{} failed; their finished records are kept: rerun the same command to resume", failed.join(", "));
    }
    Ok(())
}

/// A worker's command line: this run's settings, minus `--jobs`, with its thread share.
fn worker_args(cli: &Cli, args: &RunArgs, threads: usize) -> Vec<String> {
    let mut out = vec!["--results-dir".to_string(), cli.results_dir.display().to_string()];
    if let Some(dir) = &cli.data_dir {
        out.extend(["--data-dir".to_string(), dir.display().to_string()]);
    }
    out.extend(["--threads".to_string(), threads.to_string()]);
    out.extend(["--cuda-graphs".to_string(), cli.cuda_graphs.as_str().to_string()]);
    out.extend(std::iter::repeat_n("-v".to_string(), cli.verbose as usize));
    out.extend(["run".to_string(), args.spec.display().to_string()]);
    for set in &args.set {
        out.extend(["--set".to_string(), set.clone()]);
    }
    if let Some(device) = args.device {
        out.extend(["--device".to_string(), format!("{device:?}").to_lowercase()]);
    }
    for set in &args.only {
        out.extend(["--only".to_string(), set.clone()]);
    }
    if let Some(splits) = &args.splits {
        out.extend(["--splits".to_string(), splits.clone()]);
    }
    if args.force {
        out.push("--force".into());
    }
    if let Some(group) = args.splits_per_program {
        out.extend(["--splits-per-program".to_string(), group.to_string()]);
    }
    let speculation = format!("{:?}", args.speculative_retrain).to_lowercase();
    out.extend(["--speculative-retrain".to_string(), speculation]);
    out.extend(["--mc-budget".to_string(), args.mc_budget.to_string()]);
    out.extend(["--checkpoint-every".to_string(), format!("{}s", args.checkpoint_every.as_secs())]);
    out
}
