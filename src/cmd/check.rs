//! `mcdrop check [SPEC...]`: rerun small specs in a scratch directory and compare each
//! metric's mean over splits with `results/baselines/<experiment>.json`.
//! `--update` rewrites the baselines, running extra seeds to set the tolerances.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::cli::{CheckArgs, Cli};
use crate::data::DataDirs;
use crate::error::Error;
use crate::protocol::execute::{execute, ExecuteOptions, CHECKPOINT_EVERY};
use crate::results::baseline::{co2_means, compare, means, metrics_from_seeds, mnist_means, Baseline, TOLERANCE_RULE};
use crate::results::outcome::{Co2Record, MnistEvaluation};
use crate::results::{ExperimentStore, Provenance};
use crate::spec::{Experiment, Spec};

pub fn check(cli: &Cli, args: &CheckArgs) -> anyhow::Result<()> {
    let specs = if args.specs.is_empty() { default_specs()? } else { args.specs.clone() };
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    let mut failures = 0;
    println!(
        "{:<14} {:<22} {:<24} {:>12} {:>12} {:>12}  status",
        "spec", "dataset", "metric", "baseline", "now", "tolerance"
    );
    for path in &specs {
        let spec = crate::spec::load(path)?;
        let baseline_path = args.baselines.join(format!("{}.json", spec.name));
        if args.update {
            let baseline = record_baseline(&spec, path, &data, args.seeds)?;
            crate::results::atomic::write_json_atomic(&baseline_path, &baseline)?;
            for m in &baseline.metrics {
                println!(
                    "{:<14} {:<22} {:<24} {:>12.6} {:>12} {:>12.6}  recorded",
                    spec.name, m.dataset, m.metric, m.value, "", m.tolerance
                );
            }
            continue;
        }
        let text = std::fs::read_to_string(&baseline_path).map_err(|_| {
            Error::Usage(format!(
                "no baseline for `{}` at {}; record one with `mcdrop check --update {}`",
                spec.name,
                baseline_path.display(),
                path.display()
            ))
        })?;
        let baseline: Baseline =
            serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{}: {e}", baseline_path.display())))?;
        if baseline.spec_sha256 != spec.sha256 {
            bail!(
                "{} was recorded for another version of {} (spec sha256 {} vs {}); rerun `mcdrop check --update {}` if the change is meant",
                baseline_path.display(),
                path.display(),
                &baseline.spec_sha256[..12],
                &spec.sha256[..12],
                path.display()
            );
        }
        let now = run_means(&spec, &data)?;
        for row in compare(&baseline, &now) {
            let now = row.now.map(|v| format!("{v:.6}")).unwrap_or_else(|| "missing".into());
            let status = if row.pass { "pass" } else { "FAIL" };
            println!(
                "{:<14} {:<22} {:<24} {:>12.6} {:>12} {:>12.6}  {status}",
                spec.name, row.dataset, row.metric, row.baseline, now, row.tolerance
            );
            failures += usize::from(!row.pass);
        }
    }
    if failures > 0 {
        bail!("{failures} metric(s) drifted beyond their tolerance (see the table above)");
    }
    Ok(())
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

/// Runs `spec` in a scratch results directory and returns its per-(dataset, metric) means.
fn run_means(spec: &Spec, data: &DataDirs) -> anyhow::Result<BTreeMap<(String, String), f64>> {
    let scratch = tempfile::tempdir().context("creating a scratch results directory")?;
    let store = ExperimentStore::new(scratch.path(), &spec.name);
    let device = crate::device::resolve(spec.device)?;
    let options = ExecuteOptions {
        force: false,
        only: Vec::new(),
        splits: None,
        mc_budget: 1 << 25,
        progress: false,
        checkpoint_every: CHECKPOINT_EVERY,
        shard: None,
        // The baselines were made by sequential retrains.
        speculative_retrain: false,
    };
    execute(spec, &store, data, device, options)?;
    let outcome = |file: &str| store.outcome_path(file);
    Ok(match &spec.experiment {
        Experiment::UciRegression(_) => means(&store.records()?),
        Experiment::Mnist(_) => store
            .read_json::<MnistEvaluation>(&outcome("evaluation.json"))?
            .map(|e| mnist_means(&e))
            .unwrap_or_default(),
        Experiment::Co2(_) => {
            store.read_json::<Co2Record>(&outcome("co2.json"))?.map(|r| co2_means(&r)).unwrap_or_default()
        }
    })
}

fn record_baseline(spec: &Spec, path: &Path, data: &DataDirs, seeds: usize) -> anyhow::Result<Baseline> {
    let seeds: Vec<u64> = (0..seeds.max(2) as u64).map(|i| spec.seed + i).collect();
    let mut per_seed = Vec::new();
    for &seed in &seeds {
        let mut variant = spec.clone();
        variant.seed = seed;
        variant.raw.seed = seed;
        per_seed.push(run_means(&variant, data)?);
    }
    let provenance = Provenance::new(&spec.sha256, spec.seed, "");
    Ok(Baseline {
        experiment: spec.name.clone(),
        spec: path.display().to_string(),
        spec_sha256: spec.sha256.clone(),
        seeds,
        tolerance_rule: TOLERANCE_RULE.into(),
        metrics: metrics_from_seeds(&per_seed),
        git_commit: provenance.git_commit,
        written_at: provenance.written_at,
    })
}
