//! `mcdrop check [SPEC...]`: rerun small specs in a scratch directory and test each metric's
//! mean over splits against `results/baselines/<experiment>.json` (`results::baseline` has the
//! statistics). `--update` rewrites the baselines from runs with `--seeds` fresh seeds.

use crate::results::outcome::OutcomeFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::cli::{CheckArgs, Cli};
use crate::data::DataDirs;
use crate::error::Error;
use crate::protocol::execute::{execute, ExecuteOptions, CHECKPOINT_EVERY};
use crate::results::baseline::{
    co2_means, compare, means, medians, metrics_from_seeds, mnist_means, rl_means, threshold, Baseline,
    BASELINE_SEED_OFFSET, CHECK_SEED_STRIDE, FAMILYWISE_ALPHA, SEEDS_PER_CHECK, TOLERANCE_RULE,
};
use crate::results::outcome::{Co2Record, MnistEvaluation, RlRecord};
use crate::results::{ExperimentStore, Provenance};
use crate::spec::{Experiment, Spec};

/// Seed groups of a new baseline when `--seeds` does not say.
const DEFAULT_GROUPS: usize = 10;

pub fn check(cli: &Cli, args: &CheckArgs) -> anyhow::Result<()> {
    let specs = if args.specs.is_empty() { default_specs()? } else { args.specs.clone() };
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    if args.update {
        return update(&specs, &data, args);
    }
    let mut checks = Vec::new();
    for path in &specs {
        let spec = crate::spec::load(path)?;
        let baseline = read_baseline(&args.baselines, &spec, path)?;
        checks.push((spec, baseline));
    }
    // The family the false-alarm level holds for: every committed baseline, whichever specs
    // this run names, so that checking a few specs is exactly as strict as the whole suite.
    let metrics = suite_metrics(&args.baselines).max(checks.iter().map(|(_, b)| b.metrics.len()).sum());
    println!(
        "{:<20} {:<22} {:<24} {:>12} {:>10} {:>12} {:>8} {:>6}  status",
        "spec", "dataset", "metric", "mean", "sd", "median", "dev", "limit"
    );
    let mut failures = 0;
    for (spec, baseline) in &checks {
        let q = threshold(baseline.groups(), metrics);
        let runs = (0..baseline.seeds_per_check as u64)
            .map(|j| {
                let seed = spec.seed + args.seed_offset + j * CHECK_SEED_STRIDE;
                let kept = args.keep_results.as_ref().map(|dir| dir.join(&spec.name).join(format!("seed-{seed}")));
                run_means(&with_seed(spec, seed), &data, kept.as_deref())
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let now = medians(&runs);
        for (row, m) in compare(baseline, &now, q).iter().zip(&baseline.metrics) {
            let value = row.now.map(|v| format!("{v:.6}")).unwrap_or_else(|| "missing".into());
            let dev = row.deviations.map(|d| format!("{d:+.2}")).unwrap_or_else(|| "-".into());
            let status = if row.pass { "pass" } else { "FAIL" };
            println!(
                "{:<20} {:<22} {:<24} {:>12.6} {:>10.3e} {:>12} {:>8} {:>6.2}  {status}",
                spec.name, row.dataset, row.metric, row.mean, m.seed_spread, value, dev, q
            );
            failures += usize::from(!row.pass);
        }
    }
    let compared: usize = checks.iter().map(|(_, b)| b.metrics.len()).sum();
    println!(
        "{compared} metric(s) of {} spec(s), seed offset {}; limit: |dev| in seed deviations, the Student t \
         quantile of a {:.0} % family-wise level over the suite's {metrics} metrics (Bonferroni)",
        checks.len(),
        args.seed_offset,
        100.0 * FAMILYWISE_ALPHA
    );
    if failures > 0 {
        bail!("{failures} metric(s) moved beyond seed noise (see the table above)");
    }
    Ok(())
}

/// How many metrics the baselines in `dir` hold together (files that do not parse count 0).
fn suite_metrics(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(|e| parse_baseline(&e.ok()?.path())).map(|b| b.metrics.len()).sum()
}

fn read_baseline(dir: &Path, spec: &Spec, path: &Path) -> anyhow::Result<Baseline> {
    let baseline_path = dir.join(format!("{}.json", spec.name));
    let text = std::fs::read_to_string(&baseline_path).map_err(|_| {
        Error::Usage(format!(
            "no baseline for `{}` at {}; record one with `mcdrop check --update {}`",
            spec.name,
            baseline_path.display(),
            path.display()
        ))
    })?;
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: {e}; a baseline of an older format is rerecorded with `mcdrop check --update {}`",
            baseline_path.display(),
            path.display()
        ))
    })?;
    if baseline.spec_sha256 != spec.sha256 {
        bail!(
            "{} was recorded for another version of {} (spec sha256 {} vs {}); rerun `mcdrop check --update {}` if the change is meant",
            baseline_path.display(),
            path.display(),
            &baseline.spec_sha256[..12.min(baseline.spec_sha256.len())],
            &spec.sha256[..12],
            path.display()
        );
    }
    Ok(baseline)
}

fn update(specs: &[PathBuf], data: &DataDirs, args: &CheckArgs) -> anyhow::Result<()> {
    println!("{:<20} {:<22} {:<24} {:>12} {:>10}  seeds", "spec", "dataset", "metric", "mean", "sd");
    for path in specs {
        let spec = crate::spec::load(path)?;
        let baseline_path = args.baselines.join(format!("{}.json", spec.name));
        let groups = args.seeds.unwrap_or_else(|| committed_groups(&baseline_path));
        let baseline = record_baseline(&spec, path, data, groups)?;
        crate::results::atomic::write_json_atomic(&baseline_path, &baseline)?;
        for m in &baseline.metrics {
            println!(
                "{:<20} {:<22} {:<24} {:>12.6} {:>10.3e}  {}",
                spec.name,
                m.dataset,
                m.metric,
                m.mean,
                m.seed_spread,
                baseline.seeds.len()
            );
        }
    }
    Ok(())
}

/// How many seed groups the committed baseline at `path` was made from: a spec whose metrics
/// need more groups to pin their spread keeps them across `--update`s.
fn committed_groups(path: &Path) -> usize {
    parse_baseline(path).map(|b| b.groups()).unwrap_or(DEFAULT_GROUPS)
}

/// The baseline at `path`, or None where it is missing or of another format.
fn parse_baseline(path: &Path) -> Option<Baseline> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The spec with another root seed (everything else, the hash included, as it was).
fn with_seed(spec: &Spec, seed: u64) -> Spec {
    let mut variant = spec.clone();
    variant.seed = seed;
    variant.raw.seed = seed;
    variant
}

fn default_specs() -> anyhow::Result<Vec<PathBuf>> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir("experiments")
        .context("reading experiments/ (run from the repository root or name the specs)")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("smoke-") && n.ends_with(".yaml"))
        })
        .collect();
    specs.sort();
    Ok(specs)
}

/// Runs `spec` in `keep` (which must not hold results yet), else in a scratch results
/// directory, and returns its per-(dataset, metric) means.
fn run_means(spec: &Spec, data: &DataDirs, keep: Option<&Path>) -> anyhow::Result<BTreeMap<(String, String), f64>> {
    let scratch;
    let results_dir = match keep {
        Some(dir) if dir.join(&spec.name).exists() => bail!(
            "{} already holds results: --keep-results wants a directory of its own, so that nothing is resumed",
            dir.join(&spec.name).display()
        ),
        Some(dir) => dir,
        None => {
            scratch = tempfile::tempdir().context("creating a scratch results directory")?;
            scratch.path()
        }
    };
    let store = ExperimentStore::new(results_dir, &spec.name);
    let device = crate::device::resolve(spec.device)?;
    let options = ExecuteOptions {
        force: false,
        only: Vec::new(),
        splits: None,
        mc_budget: crate::protocol::execute::DEFAULT_MC_BUDGET,
        progress: false,
        checkpoint_every: CHECKPOINT_EVERY,
        share: Default::default(),
        // The baselines were made by sequential retrains.
        speculative_retrain: false,
    };
    execute(spec, &store, data, device, options)?;
    Ok(match &spec.experiment {
        Experiment::UciRegression(_) => means(&store.records()?),
        Experiment::Mnist(_) => store
            .read_json::<MnistEvaluation>(&store.outcome(OutcomeFile::MnistEvaluation))?
            .map(|e| mnist_means(&e))
            .unwrap_or_default(),
        Experiment::Co2(_) => {
            store.read_json::<Co2Record>(&store.outcome(OutcomeFile::Co2))?.map(|r| co2_means(&r)).unwrap_or_default()
        }
        Experiment::Rl(_) => {
            store.read_json::<RlRecord>(&store.outcome(OutcomeFile::Rl))?.map(|r| rl_means(&r)).unwrap_or_default()
        }
    })
}

fn record_baseline(spec: &Spec, path: &Path, data: &DataDirs, seeds: usize) -> anyhow::Result<Baseline> {
    let groups = seeds.max(2) as u64;
    let seeds: Vec<u64> = (0..groups * SEEDS_PER_CHECK as u64).map(|i| spec.seed + BASELINE_SEED_OFFSET + i).collect();
    let mut per_seed = Vec::new();
    for &seed in &seeds {
        per_seed.push(run_means(&with_seed(spec, seed), data, None)?);
    }
    let provenance = Provenance::new(&spec.sha256, spec.seed, "");
    Ok(Baseline {
        experiment: spec.name.clone(),
        spec: path.display().to_string(),
        spec_sha256: spec.sha256.clone(),
        seeds,
        tolerance_rule: TOLERANCE_RULE.into(),
        metrics: metrics_from_seeds(&per_seed, SEEDS_PER_CHECK),
        seeds_per_check: SEEDS_PER_CHECK,
        machine: crate::results::provenance::this_machine(),
        threads: provenance.threads.unwrap_or(1),
        git_commit: provenance.git_commit,
        written_at: provenance.written_at,
    })
}
