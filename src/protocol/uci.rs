//! The UCI regression protocol of the paper's reference code (see paper.md, "UCI protocol"):
//!
//! for each data set and split: hold out the LAST `validation_fraction` of the training rows,
//! train one model per grid point (for dropout: rate p x precision tau) on the rest, pick the
//! setting with the best validation score, retrain it on the whole training split and test
//! it. X and y are standardized with the statistics of the rows each model trains on; scores
//! are in original target units. The model family (`models::RegressionFamily`) decides
//! the grid, the training and the predictive scores.
//!
//! All models of a phase (every split of a group x every grid point) train as one batched
//! program. Grid scores are saved per split before the retrain, and each split's final record
//! as soon as its program ends, so an interrupted run loses at most one program.

use crate::metrics::keys;
use std::collections::BTreeMap;
use std::time::Instant;

use super::checkpoint::FileCheckpoints;
use super::program::{build_program, Phase};
use super::shard::{
    claim_name, programs_of, queue_order, set_programs, splits_label, uci_programs, ScheduledProgram, Share,
};
use super::splits::{final_rows, grid_rows, selected_splits, SplitRows};
use super::{RunContext, RunSummary};
use crate::data::uci::UciData;
use crate::data::SetName;
use crate::error::{Error, Result};
use crate::models::{regression_family, Env, Hyper, HyperName, RegressionFamily, Scores};
use crate::results::{GridPoint, GridRecord, Provenance, UnitRecord};
use crate::spec::raw::{SelectionMetric, Splits};
use crate::spec::{set_identity, UciPlan, UciSetPlan};

/// Runs the plan's sets (restricted by `ctx.only`), skipping finished units.
pub fn run(ctx: &RunContext, plan: &UciPlan) -> Result<RunSummary> {
    let family = regression_family(plan);
    let mut summary = RunSummary::default();
    // Every set is loaded and its splits checked before anything trains.
    let mut sets = Vec::new();
    for set_plan in &plan.sets {
        if !ctx.only.is_empty() && !ctx.only.contains(&set_plan.set) {
            continue;
        }
        let data = set_plan.source.load(ctx.data)?;
        if set_plan.source.is_table() {
            ctx.store.write_splits(set_plan.set.folder(), &data.splits)?;
        }
        let programs = set_programs(plan, &select_splits(plan, ctx, &data)?);
        sets.push((set_plan, data, programs));
    }
    // (set, program) pairs in the order this process takes them.
    let mut work: Vec<(usize, Vec<usize>)> = sets
        .iter()
        .enumerate()
        .flat_map(|(i, (_, _, programs))| programs.iter().map(move |p| (i, p.clone())))
        .collect();
    let queue = match &ctx.share {
        Share::Whole => None,
        Share::Shard(shard) => {
            let all = uci_programs(plan, family.as_ref(), ctx.data, &ctx.only, ctx.splits.as_deref())?;
            let mine = programs_of(&all, *shard);
            tracing::info!("shard {}/{}: {} of {} programs", shard.index, shard.count, mine.len(), all.len());
            work.retain(|(i, p)| mine.iter().any(|q| q.set == sets[*i].0.set && &q.splits == p));
            None
        }
        Share::Queue(queue) => {
            let all = uci_programs(plan, family.as_ref(), ctx.data, &ctx.only, ctx.splits.as_deref())?;
            let position = |i: usize, p: &Vec<usize>| all.iter().position(|q| q.set == sets[i].0.set && &q.splits == p);
            let order = queue_order(&all);
            work.sort_by_key(|(i, p)| position(*i, p).and_then(|k| order.iter().position(|&o| o == k)));
            tracing::info!("taking programs from the queue in {}, largest first", queue.dir.display());
            Some(queue)
        }
    };
    for (i, program) in work {
        let (set_plan, data, _) = &sets[i];
        let folder = set_plan.set.folder();
        if let Some(queue) = queue {
            let name = claim_name(&ScheduledProgram { set: set_plan.set.clone(), splits: program.clone(), cost: 0.0 });
            if !queue.claim(&name)? {
                continue;
            }
        }
        // Programs are the spec's groups of splits, whichever of their splits are left, so a
        // sharded run trains exactly the programs one process would.
        let mut left = Vec::new();
        for &k in &program {
            let belongs = |r: &UnitRecord| r.experiment == ctx.spec.name && r.dataset == folder && r.split == k;
            match ctx.recorded_unit(&ctx.store.unit_path(folder, k), belongs)? {
                Some(_) => summary.units_skipped += 1,
                None => left.push(k),
            }
        }
        if left.len() < program.len() {
            tracing::info!(
                "{} splits {}: {} already recorded, skipped",
                set_plan.set,
                splits_label(&program),
                program.len() - left.len()
            );
        }
        if !left.is_empty() {
            let set_run = SetRun { ctx, plan, family: family.as_ref(), set_plan, data, points: family.grid(set_plan) };
            summary.units_written += set_run.run_group(&left)?;
        }
    }
    Ok(summary)
}

/// The split indices selected by the spec and the command line, checked against the data.
fn select_splits(plan: &UciPlan, ctx: &RunContext, data: &UciData) -> Result<Vec<usize>> {
    let selection = &plan.splits;
    let available = data.splits.len();
    if let Splits::First(n) = selection {
        if n.get() > available {
            return Err(Error::Setting {
                location: ctx.spec.source.display().to_string(),
                field: format!("{}.first", plan.splits_field),
                value: n.get().to_string(),
                message: format!("{} has {available} splits; ask for at most {available}, or `all`", data.set),
            });
        }
    }
    let mut splits = selected_splits(selection, available);
    if let Some(&bad) = splits.iter().find(|&&k| k >= available) {
        return Err(Error::DataInvalid {
            path: data.dir.clone(),
            message: format!("split {bad} was asked for but {} has {available} splits (0..{available})", data.set),
        });
    }
    if let Some(keep) = &ctx.splits {
        splits.retain(|k| keep.contains(k));
    }
    Ok(splits)
}

fn hyper_map(hyper: &Hyper) -> BTreeMap<String, f64> {
    hyper.iter().map(|(n, v)| (n.as_str().to_string(), *v)).collect()
}

/// ` p=0.1 tau=0.5` (empty for a model without a grid).
fn describe(hyper: &Hyper) -> String {
    hyper.iter().map(|(n, v)| format!(" {n}={v}")).collect()
}

/// A split's choice: the grid point the validation picked and every point's validation score.
struct Choice {
    split: usize,
    best: Hyper,
    validation: Vec<GridPoint>,
}

/// One UCI set's run: what every phase of its programs needs, so that each phase is a method.
struct SetRun<'a> {
    ctx: &'a RunContext<'a>,
    plan: &'a UciPlan,
    family: &'a dyn RegressionFamily,
    set_plan: &'a UciSetPlan,
    data: &'a UciData,
    /// The family's grid for this set (one point: no search).
    points: Vec<Hyper>,
}

impl SetRun<'_> {
    /// Grid search (when the grid has more than one point) and retrain for a group of splits.
    fn run_group(&self, splits: &[usize]) -> Result<usize> {
        let (ctx, set) = (self.ctx, &self.set_plan.set);
        // Grid phase: one record per split, reused when already there.
        let mut chosen: Vec<Choice> = Vec::new();
        let mut pending = Vec::new();
        for &k in splits {
            if self.points.len() == 1 {
                chosen.push(Choice { split: k, best: self.points[0].clone(), validation: Vec::new() });
                continue;
            }
            let belongs = |g: &GridRecord| g.experiment == ctx.spec.name && g.dataset == set.folder() && g.split == k;
            match ctx.recorded_unit(&ctx.store.grid_path(set.folder(), k), belongs)? {
                Some(record) => {
                    let best = best_point(&self.points, &record.points, self.plan.selection_metric);
                    chosen.push(Choice { split: k, best, validation: record.points });
                }
                None => pending.push(k),
            }
        }
        let mut written = 0;
        if !pending.is_empty() {
            if ctx.speculative_retrain {
                written += self.search_and_retrain_at_once(&pending)?;
            } else {
                chosen.extend(self.search_grid(&pending)?);
            }
        }
        if !chosen.is_empty() {
            chosen.sort_by_key(|c| c.split);
            written += self.retrain(chosen)?;
        }
        Ok(written)
    }

    /// Trains the grid of `pending` splits on their fit rows, scores it on their validation
    /// rows and saves a grid record per split. Returns each split's choice, in `pending`'s order.
    fn search_grid(&self, pending: &[usize]) -> Result<Vec<Choice>> {
        let (ctx, set, points) = (self.ctx, &self.set_plan.set, &self.points);
        let rows = grid_rows(self.data, pending, self.plan.validation_fraction);
        let label = format!("{set} grid {}x{}", rows.len(), points.len());
        let start = Instant::now();
        let configs: Vec<Vec<Hyper>> = rows.iter().map(|_| points.to_vec()).collect();
        let checkpoints = ctx.checkpoints(&checkpoint_name(set.folder(), "grid", &rows));
        let scores = self.train_and_score(&rows, &configs, Phase::Grid, &label, &checkpoints, None)?;
        let wall = start.elapsed().as_secs_f64();
        let members = rows.len() * points.len();
        let mut chosen = Vec::new();
        for (r, split_scores) in rows.iter().zip(scores.chunks(points.len())) {
            let validation: Vec<GridPoint> = points
                .iter()
                .zip(split_scores)
                .map(|(h, s)| GridPoint { hyper: hyper_map(h), rmse: s.rmse, ll: s.ll })
                .collect();
            let record = GridRecord {
                experiment: ctx.spec.name.clone(),
                dataset: set.clone(),
                split: r.split,
                n_fit: r.fit.len(),
                n_validation: r.held_out.len(),
                points: validation.clone(),
                wall_seconds: wall,
                program_members: members,
                provenance: set_provenance(ctx, set),
            };
            ctx.store.write_json(&ctx.store.grid_path(set.folder(), r.split), &record)?;
            let best = best_point(points, &validation, self.plan.selection_metric);
            chosen.push(Choice { split: r.split, best, validation });
        }
        checkpoints.clear()?;
        Ok(chosen)
    }

    /// Retrain phase: one model per split on all its training rows (the chosen setting),
    /// scored on its test rows.
    fn retrain(&self, chosen: Vec<Choice>) -> Result<usize> {
        let set = &self.set_plan.set;
        let splits: Vec<usize> = chosen.iter().map(|c| c.split).collect();
        let rows = final_rows(self.data, &splits);
        let configs: Vec<Vec<Hyper>> = chosen.iter().map(|c| vec![c.best.clone()]).collect();
        // Without a grid (the GP) there was no search: the one fit is not a "retrain".
        let phase = if self.points.len() == 1 { "fit" } else { "retrain" };
        let label = format!("{set} {phase} {}", rows.len());
        let start = Instant::now();
        let checkpoints = self.ctx.checkpoints(&checkpoint_name(set.folder(), "final", &rows));
        let scores = self.train_and_score(&rows, &configs, Phase::Final, &label, &checkpoints, None)?;
        let wall = start.elapsed().as_secs_f64();
        let made = Made { wall_seconds: wall, program_members: rows.len(), speculative: false };
        self.write_units(&rows, chosen, scores, made)?;
        checkpoints.clear()?;
        Ok(rows.len())
    }

    /// The speculative retrain (`--speculative-retrain`): while the grid searches on one
    /// thread, another trains the retrain network of every grid point on every split's whole
    /// training rows, and keeps the one the validation picks. The critical path is then the
    /// longer of the two phases instead of their sum, for the grid's size in extra training.
    /// Each member draws from its own stream seeded by its identity (set, split, phase,
    /// setting), so on the CPU the kept network is the one a sequential retrain trains.
    fn search_and_retrain_at_once(&self, pending: &[usize]) -> Result<usize> {
        let (set, points) = (&self.set_plan.set, &self.points);
        let rows = final_rows(self.data, pending);
        let configs: Vec<Vec<Hyper>> = rows.iter().map(|_| points.to_vec()).collect();
        let (choice_sent, choice) = std::sync::mpsc::channel::<Vec<usize>>();
        let (searched, scores, wall) = std::thread::scope(|scope| {
            let grid = scope.spawn(move || -> Result<Vec<Choice>> {
                let chosen = self.search_grid(pending)?;
                let kept = chosen
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let at = points.iter().position(|h| hyper_map(h) == hyper_map(&c.best)).unwrap_or(0);
                        i * points.len() + at
                    })
                    .collect();
                // The retrain thread only waits for this when its training succeeded.
                let _ = choice_sent.send(kept);
                Ok(chosen)
            });
            let label = format!("{set} speculative retrain {}x{}", rows.len(), points.len());
            let start = Instant::now();
            let checkpoints = self.ctx.checkpoints(&checkpoint_name(set.folder(), "speculative", &rows));
            let mut keep =
                || choice.recv().map_err(|_| Error::Report(format!("{set}: the grid search ended without a choice")));
            let scores = self
                .train_and_score(&rows, &configs, Phase::Final, &label, &checkpoints, Some(&mut keep))
                .and_then(|s| checkpoints.clear().map(|_| s));
            let wall = start.elapsed().as_secs_f64();
            // The grid's own error says more than "ended without a choice".
            let searched = grid.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (searched, scores, wall)
        });
        let (chosen, scores) = (searched?, scores?);
        let made = Made { wall_seconds: wall, program_members: rows.len() * points.len(), speculative: true };
        self.write_units(&rows, chosen, scores, made)?;
        Ok(rows.len())
    }

    /// Saves one unit record per split: its choice and its test scores.
    fn write_units(&self, rows: &[SplitRows], chosen: Vec<Choice>, scores: Vec<Scores>, made: Made) -> Result<()> {
        let (ctx, set) = (self.ctx, &self.set_plan.set);
        for ((r, choice), s) in rows.iter().zip(chosen).zip(scores) {
            let mut metrics = BTreeMap::from([(keys::RMSE.to_string(), s.rmse), (keys::TEST_LL.to_string(), s.ll)]);
            metrics.extend(s.extra.iter().cloned());
            let record = UnitRecord {
                experiment: ctx.spec.name.clone(),
                dataset: set.clone(),
                split: r.split,
                model: self.family.kind(),
                hyper: hyper_map(&choice.best),
                metrics,
                n_train: r.fit.len(),
                n_test: r.held_out.len(),
                validation: choice.validation,
                wall_seconds: made.wall_seconds,
                program_members: made.program_members,
                speculative_retrain: made.speculative,
                provenance: set_provenance(ctx, set),
            };
            ctx.store.write_json(&ctx.store.unit_path(set.folder(), r.split), &record)?;
            ctx.count_written();
            tracing::info!("{set} split {}:{} rmse={:.4} test_ll={:.4}", r.split, describe(&choice.best), s.rmse, s.ll);
        }
        Ok(())
    }

    /// Trains one member per (split, config) as one program and scores each on its held-out
    /// rows. Scores come back split-major, in the order of `configs`; with `keep`, only the
    /// members it names once the training is done, in its order.
    fn train_and_score(
        &self,
        rows: &[SplitRows],
        configs: &[Vec<Hyper>],
        phase: Phase,
        label: &str,
        checkpoints: &FileCheckpoints,
        keep: Option<&mut dyn FnMut() -> Result<Vec<usize>>>,
    ) -> Result<Vec<Scores>> {
        let ctx = self.ctx;
        let program = build_program(ctx.spec.seed, self.set_plan, self.data, rows, configs, phase, ctx.device)?;
        let steps = self.family.steps(program.n(), self.set_plan);
        tracing::info!("{label}: {} members, {steps} steps of {} rows", program.members.len(), program.n());
        let started = Instant::now();
        let bar = ctx.progress_bar(steps, label);
        let env = Env { device: ctx.device, mc_budget: ctx.mc_budget, progress: &bar, checkpoints };
        let scores = match keep {
            Some(keep) => self.family.fit_and_score_kept(&program, self.set_plan, &env, keep)?,
            None => self.family.fit_and_score(&program, self.set_plan, &env)?,
        };
        bar.finish_and_clear();
        tracing::info!("{label}: trained and scored in {:.0} s", started.elapsed().as_secs_f64());
        Ok(scores)
    }
}

/// How the program that trained a group of units ran.
struct Made {
    wall_seconds: f64,
    program_members: usize,
    speculative: bool,
}

/// The run's provenance for a record of `set`, with the set's own identity.
fn set_provenance(ctx: &RunContext, set: &SetName) -> Provenance {
    let set_sha256 = set.uci_set().and_then(|s| set_identity(&ctx.spec.raw, s));
    Provenance { set_sha256, ..ctx.provenance.stamped() }
}

/// `yacht-grid-0_1_2`: the checkpoint of one stage (grid, final, speculative) of one program.
fn checkpoint_name(set: &str, stage: &str, rows: &[SplitRows]) -> String {
    let splits: Vec<String> = rows.iter().map(|r| r.split.to_string()).collect();
    format!("{set}-{stage}-{}", splits.join("_"))
}

/// The grid point with the best validation score (first one on ties), as the grid's `Hyper`.
fn best_point(grid: &[Hyper], scored: &[GridPoint], metric: SelectionMetric) -> Hyper {
    let score = |g: &GridPoint| match metric {
        SelectionMetric::Ll => g.ll,
        SelectionMetric::Rmse => -g.rmse,
    };
    let best = scored.iter().fold(None::<&GridPoint>, |best, g| match best {
        Some(b) if score(b) >= score(g) || score(g).is_nan() => Some(b),
        _ => Some(g),
    });
    let best = best.expect("a grid has points");
    grid.iter()
        .find(|h| hyper_map(h) == best.hyper)
        .cloned()
        .unwrap_or_else(|| best.hyper.iter().filter_map(|(k, v)| Some((HyperName::parse(k)?, *v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_point_prefers_highest_ll_and_first_on_ties() {
        let h = |p: f64| vec![(HyperName::Dropout, p), (HyperName::Tau, 1.0)];
        let grid = vec![h(0.1), h(0.2), h(0.3)];
        let g = |p: f64, ll: f64, rmse: f64| GridPoint { hyper: hyper_map(&h(p)), rmse, ll };
        let scored = vec![g(0.1, -2.0, 3.0), g(0.2, -1.0, 4.0), g(0.3, -1.0, 2.0)];
        assert_eq!(best_point(&grid, &scored, SelectionMetric::Ll), h(0.2));
        assert_eq!(best_point(&grid, &scored, SelectionMetric::Rmse), h(0.3));
    }
}
