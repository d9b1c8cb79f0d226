//! Reruns committed UCI programs from scratch in a scratch results directory, each exactly as
//! its records were made (the experiment's saved spec and seed, the same splits trained
//! together), and judges every metric of every unit against the committed record.
//!
//! Records do not name their program's splits; the units of one program share its wall time
//! (one clock reading for the whole program), its size and its commit, which identifies them.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use tch::Device;

pub use super::checks::{MetricCheck, UnitCheck, VerifyReport};
use super::rl::RlCommitted;
use super::sample::{fit_budget, order, program_seconds, Candidate};
use super::threads::{threads_of, with_threads};
use super::verdict::{judge, seed_spread, seed_tolerance, spread, tolerance, Verdict};
use crate::data::DataDirs;
use crate::data::SetName;
use crate::error::{Error, Result};
use crate::protocol::execute::{execute, ExecuteOptions};
use crate::results::{ExperimentStore, GridRecord, UnitRecord};
use crate::spec::{Experiment, Spec};

/// What to rerun and how.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Seconds the reruns may take together (ignored with `units`).
    pub budget_seconds: f64,
    /// The programs holding these (set, split) units, instead of a sample.
    pub units: Option<Vec<(SetName, usize)>>,
    pub device: Device,
    pub mc_budget: usize,
}

/// A committed program with what rerunning and judging it needs.
struct Committed {
    candidate: Candidate,
    records: Vec<UnitRecord>,
    same_grid_grouping: bool,
    spec: std::sync::Arc<Spec>,
}

type Values = BTreeMap<(String, SetName, String), Vec<(usize, f64)>>;

/// The plan: programs to rerun (in order) and the committed experiments' split spreads.
pub struct Plan {
    programs: Vec<Committed>,
    /// Committed rl experiments: their runs are rerun after the UCI programs, budget allowing.
    rl: Vec<RlCommitted>,
    /// (experiment, set, metric) -> (split, committed value) of every committed split.
    values: Values,
    pub skipped: Vec<String>,
    pub budget_seconds: f64,
}

impl Plan {
    /// `experiment set:splits (recorded cost N s)` per program, for the plan a run prints first.
    pub fn lines(&self) -> Vec<String> {
        let rl = self.rl.iter().flat_map(|e| {
            e.sample()
                .into_iter()
                .map(|r| format!("{} (recorded cost at most {:.0} s)", e.label(r), r.program_wall_seconds))
        });
        self.programs
            .iter()
            .map(|p| format!("{} (recorded cost {:.0} s)", p.candidate.label(), p.candidate.recorded_seconds))
            .chain(rl)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.programs.len() + self.rl_runs().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Units the plan reruns.
    pub fn units(&self) -> usize {
        self.programs.iter().map(|p| p.records.len()).sum::<usize>() + self.rl_runs().count()
    }

    pub fn estimated_seconds(&self) -> f64 {
        self.programs.iter().map(|p| p.candidate.recorded_seconds).sum::<f64>()
            + self.rl_runs().map(RlCommitted::cost).sum::<f64>()
    }

    fn rl_runs(&self) -> impl Iterator<Item = &crate::results::outcome::RlRun> {
        self.rl.iter().flat_map(|e| e.sample())
    }
}

/// The committed programs of one experiment: records grouped by (set, program wall time,
/// program size, commit), with their grid programs' share of the cost.
fn programs(store: &ExperimentStore, name: &str, spec: &std::sync::Arc<Spec>) -> Result<Vec<Committed>> {
    let mut groups: BTreeMap<(SetName, u64, usize, String), Vec<UnitRecord>> = BTreeMap::new();
    for r in store.records()? {
        let key = (r.dataset.clone(), r.wall_seconds.to_bits(), r.program_members, r.provenance.git_commit.clone());
        groups.entry(key).or_default().push(r);
    }
    let mut out = Vec::new();
    for ((dataset, ..), mut records) in groups {
        records.sort_by_key(|r| r.split);
        let splits: Vec<usize> = records.iter().map(|r| r.split).collect();
        let mut grids: BTreeMap<u64, (f64, usize, usize, Vec<usize>)> = BTreeMap::new();
        let points = records[0].validation.len();
        for r in &records {
            if let Some(g) = store.read_json::<GridRecord>(&store.grid_path(dataset.folder(), r.split))? {
                let entry =
                    grids.entry(g.wall_seconds.to_bits()).or_insert((g.wall_seconds, g.program_members, 0, vec![]));
                entry.2 += points;
                entry.3.push(r.split);
            }
        }
        // The rerun searches the grid for exactly these splits in one program.
        let same_grid_grouping =
            points <= 1 || (grids.len() == 1 && grids.values().all(|g| g.3 == splits && g.1 == splits.len() * points));
        let shares: Vec<(f64, usize, usize)> = grids.values().map(|g| (g.0, g.1, g.2)).collect();
        let candidate = Candidate {
            experiment: name.to_string(),
            dataset,
            recorded_seconds: program_seconds(records[0].wall_seconds, &shares),
            splits,
        };
        out.push(Committed { candidate, records, same_grid_grouping, spec: spec.clone() });
    }
    Ok(out)
}

/// Reads the committed experiments and chooses the programs to rerun.
pub fn plan(results_dir: &Path, experiments: &[String], options: &VerifyOptions) -> Result<Plan> {
    let mut committed = Vec::new();
    let mut values = Values::new();
    let mut skipped = Vec::new();
    let mut rl = Vec::new();
    for name in experiments {
        let store = ExperimentStore::new(results_dir, name);
        let spec = std::sync::Arc::new(store.saved_spec()?);
        if let Some(committed_rl) = RlCommitted::read(&store, name, &spec)? {
            rl.push(committed_rl);
            continue;
        }
        if !matches!(spec.experiment, Experiment::UciRegression(_)) {
            skipped.push(format!(
                "{name}: verify reruns UCI programs and rl runs; `mcdrop check` reruns the MNIST and CO2 smoke specs"
            ));
            continue;
        }
        for p in programs(&store, name, &spec)? {
            for r in &p.records {
                for (metric, v) in &r.metrics {
                    values.entry((name.clone(), r.dataset.clone(), metric.clone())).or_default().push((r.split, *v));
                }
            }
            committed.push(p);
        }
    }
    let programs = match &options.units {
        Some(wanted) => {
            let mut chosen: Vec<Committed> = Vec::new();
            for (set, split) in wanted {
                let holds = |p: &Committed| p.candidate.dataset == set.folder() && p.candidate.splits.contains(split);
                let an_rl_run = || rl.iter().any(|e| e.runs.iter().any(|run| RlCommitted::named_by(run, set, *split)));
                if chosen.iter().any(holds) {
                    continue;
                }
                let before = chosen.len();
                while let Some(i) = committed.iter().position(holds) {
                    chosen.push(committed.swap_remove(i));
                }
                if chosen.len() == before && !an_rl_run() {
                    return Err(Error::Usage(format!(
                        "--units {}:{split}: no committed record of that unit in {}",
                        set.folder(),
                        experiments.join(", ")
                    )));
                }
            }
            // Named units are rerun whatever the budget: an rl run is one only where named.
            rl.iter_mut().for_each(|e| e.keep_named(wanted));
            chosen
        }
        None => {
            let ordered = order(committed.iter().map(|c| c.candidate.clone()).collect());
            fit_budget(&ordered, options.budget_seconds, 1.0)
                .into_iter()
                .filter_map(|c| committed.iter().position(|u| u.candidate == c).map(|i| committed.swap_remove(i)))
                .collect()
        }
    };
    Ok(Plan { programs, rl, values, skipped, budget_seconds: options.budget_seconds })
}

/// Reruns the plan's programs; `progress(i, n, what)` is told before each one. Programs whose
/// cost, scaled by the time the reruns so far took against their recorded time, no longer fits
/// the budget are left out and listed.
pub fn run(
    plan: Plan,
    data: &DataDirs,
    options: &VerifyOptions,
    experiments: &[String],
    mut progress: impl FnMut(usize, usize, &str),
) -> Result<VerifyReport> {
    let started_at = crate::results::provenance::now();
    let started = Instant::now();
    let (mut recorded, mut measured) = (0.0, 0.0);
    let mut units = Vec::new();
    let mut not_run = Vec::new();
    let total = plan.len();
    // Whether a rerun of `cost` recorded seconds, scaled by the reruns' measured / recorded
    // time so far, still fits the budget (always, for units asked for by name).
    let fits = |cost: f64, recorded: f64, measured: f64| {
        let factor = if recorded > 0.0 { measured / recorded } else { 1.0 };
        options.units.is_some() || started.elapsed().as_secs_f64() + cost * factor <= plan.budget_seconds
    };
    for (i, program) in plan.programs.into_iter().enumerate() {
        let c = &program.candidate;
        if !fits(c.recorded_seconds, recorded, measured) {
            not_run.push(c.label());
            continue;
        }
        progress(i, total, &c.label());
        let began = Instant::now();
        let seed = program.spec.seed;
        let reruns = rerun_program(&program, data, options, seed)?;
        let mut seconds = began.elapsed().as_secs_f64();
        recorded += c.recorded_seconds;
        measured += seconds;
        // Not bit for bit: the tolerance needs the unit's seed-to-seed spread, from a second seed.
        let identical = program.records.iter().zip(&reruns).all(|(r, n)| same_metrics(r, n));
        let second = if !identical && fits(c.recorded_seconds, recorded, measured) {
            progress(i, total, &format!("{} (second seed, for the seed-to-seed spread)", c.label()));
            let began = Instant::now();
            let second = rerun_program(&program, data, options, seed.wrapping_add(1))?;
            let took = began.elapsed().as_secs_f64();
            (recorded, measured, seconds) = (recorded + c.recorded_seconds, measured + took, seconds + took);
            Some((seed.wrapping_add(1), second))
        } else {
            None
        };
        let spreads = second.as_ref().map(|(s, second)| (*s, program_spreads(&reruns, second)));
        for (record, rerun) in program.records.iter().zip(&reruns) {
            units.push(check(&program, record, rerun, &plan.values, seconds, spreads.as_ref()));
        }
    }
    let mut index = total - plan.rl.iter().map(|e| e.runs.len()).sum::<usize>();
    for experiment in &plan.rl {
        for run in experiment.sample() {
            let cost = RlCommitted::cost(run);
            if !fits(cost, recorded, measured) {
                not_run.push(experiment.label(run));
                continue;
            }
            progress(index, total, &experiment.label(run));
            index += 1;
            let unit = experiment.rerun(run, options.device)?;
            (recorded, measured) = (recorded + cost, measured + unit.seconds);
            units.push(unit);
        }
    }
    Ok(VerifyReport {
        started: started_at,
        head_commit: env!("MCDROP_GIT_COMMIT").to_string(),
        device: crate::device::describe(options.device),
        machine: crate::results::provenance::this_machine(),
        budget_seconds: plan.budget_seconds,
        experiments: experiments.to_vec(),
        units,
        not_run,
        skipped: plan.skipped,
        machine_factor: if recorded > 0.0 { measured / recorded } else { 1.0 },
    })
}

/// Trains and tests one program from scratch in a scratch results directory: its splits, as
/// one program, from the saved spec. Returns the new records in the program's split order.
fn rerun_program(program: &Committed, data: &DataDirs, options: &VerifyOptions, seed: u64) -> Result<Vec<UnitRecord>> {
    let scratch = tempfile::tempdir().map_err(Error::io(std::env::temp_dir()))?;
    let mut spec = (*program.spec).clone();
    spec.seed = seed;
    spec.raw.seed = seed;
    let store = ExperimentStore::new(scratch.path(), &spec.name);
    let c = &program.candidate;
    let set = c.dataset.clone();
    if let Experiment::UciRegression(plan) = &mut spec.experiment {
        plan.splits_per_program = Some(c.splits.len());
    }
    let run = ExecuteOptions {
        force: false,
        only: vec![set],
        splits: Some(c.splits.clone()),
        mc_budget: options.mc_budget,
        progress: false,
        checkpoint_every: crate::protocol::execute::CHECKPOINT_EVERY,
        share: Default::default(),
        speculative_retrain: program.records.iter().any(|r| r.speculative_retrain),
    };
    let threads = recorded_threads(&program.records);
    with_threads(options.device, threads, || execute(&spec, &store, data, options.device, run))?;
    c.splits
        .iter()
        .map(|&k| {
            store.read_json::<UnitRecord>(&store.unit_path(c.dataset.folder(), k))?.ok_or_else(|| Error::Results {
                path: store.dir().to_path_buf(),
                message: format!("the rerun of {}:{k} wrote no record", c.dataset),
            })
        })
        .collect()
}

/// The CPU thread count the records of a program were made with, if they say and agree.
fn recorded_threads(records: &[UnitRecord]) -> Option<i32> {
    let first = threads_of(&records.first()?.provenance.device)?;
    records.iter().all(|r| threads_of(&r.provenance.device) == Some(first)).then_some(first)
}

/// Whether two records of a unit hold the same metrics, bit for bit.
fn same_metrics(a: &UnitRecord, b: &UnitRecord) -> bool {
    a.metrics.len() == b.metrics.len()
        && a.metrics.iter().all(|(m, v)| b.metrics.get(m).is_some_and(|w| w.to_bits() == v.to_bits()))
}

/// Per metric, the seed-to-seed deviation estimated from two seeds' reruns of a program's units.
fn program_spreads(first: &[UnitRecord], second: &[UnitRecord]) -> BTreeMap<String, f64> {
    let mut differences: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (a, b) in first.iter().zip(second) {
        for (metric, v) in &a.metrics {
            if let Some(w) = b.metrics.get(metric) {
                differences.entry(metric.clone()).or_default().push(w - v);
            }
        }
    }
    differences.into_iter().filter_map(|(m, d)| seed_spread(&d).map(|s| (m, s))).collect()
}

fn check(
    program: &Committed,
    record: &UnitRecord,
    rerun: &UnitRecord,
    values: &Values,
    seconds: f64,
    second: Option<&(u64, BTreeMap<String, f64>)>,
) -> UnitCheck {
    let c = &program.candidate;
    let metrics: Vec<MetricCheck> = record
        .metrics
        .iter()
        .map(|(metric, &committed)| {
            let key = (c.experiment.clone(), c.dataset.clone(), metric.clone());
            let seed_sd = second.and_then(|(_, spreads)| spreads.get(metric).copied());
            let tolerance = match seed_sd {
                Some(sd) => seed_tolerance(sd),
                None => {
                    // The spread of the other splits: a record judged must not widen its own tolerance.
                    let others: Vec<f64> = values
                        .get(&key)
                        .map(|v| v.iter().filter(|(k, _)| *k != record.split).map(|(_, v)| *v).collect())
                        .unwrap_or_default();
                    tolerance(spread(&others))
                }
            };
            let rerun_value = rerun.metrics.get(metric).copied().unwrap_or(f64::NAN);
            MetricCheck {
                metric: metric.clone(),
                committed,
                rerun: rerun_value,
                tolerance,
                seed_spread: seed_sd,
                verdict: judge(committed, rerun_value, tolerance),
            }
        })
        .collect();
    let verdict = metrics.iter().map(|m| m.verdict).max().unwrap_or(Verdict::Identical);
    UnitCheck {
        experiment: c.experiment.clone(),
        dataset: c.dataset.to_string(),
        split: record.split,
        record_commit: record.provenance.git_commit.clone(),
        record_machine: record.provenance.machine(),
        second_seed: second.map(|(s, _)| *s),
        spec_changed: record.provenance.spec_changed(&program.spec, &c.dataset),
        program: c.splits.clone(),
        same_grid_grouping: program.same_grid_grouping,
        committed_hyper: record.hyper.clone(),
        rerun_hyper: rerun.hyper.clone(),
        metrics,
        verdict,
        estimated_seconds: c.recorded_seconds,
        seconds,
    }
}
