//! How several processes share a spec's programs (a batched training of many networks, the
//! unit of scheduling). Cluster tasks take shards: a deterministic partition into N shards
//! balanced by an estimated cost known before training, members x
//! `RegressionFamily::training_work`, which every process computes alike from the same spec,
//! so the shards' union is the whole spec and no program belongs to two. Local workers
//! (`run --jobs`) take a queue instead: the programs largest estimated cost first, each
//! claimed by whichever worker comes free first, so an error in the cost estimate (it counts
//! training, not MC evaluation) leaves no worker idle while another has programs waiting.

use std::str::FromStr;

use crate::data::{DataDirs, SetName};
use crate::error::{Error, Result};
use crate::models::RegressionFamily;
use crate::spec::UciPlan;

/// Shard `index` of `count` (`--shard 0/4` .. `--shard 3/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let bad = || format!("expected I/N with 0 <= I < N (e.g. 0/4), got {text:?}");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) =
            (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Which of a spec's programs this process runs.
#[derive(Debug, Clone, Default)]
pub enum Share {
    /// Every program.
    #[default]
    Whole,
    /// The programs of one shard (`--shard I/N`).
    Shard(Shard),
    /// Programs claimed from a queue the processes share (`run --jobs`' workers).
    Queue(ClaimQueue),
}

impl Share {
    /// Whether this process runs a spec that is one program (MNIST, CO2, RL): shard 0, or the
    /// worker that claims it.
    pub fn runs_whole(&self, experiment: &str) -> Result<bool> {
        match self {
            Share::Whole => Ok(true),
            Share::Shard(shard) => Ok(shard.index == 0),
            Share::Queue(queue) => queue.claim(experiment),
        }
    }
}

/// A directory the workers of one run share: a program is a worker's once it has created the
/// program's file there (creation is atomic, so exactly one worker succeeds).
#[derive(Debug, Clone)]
pub struct ClaimQueue {
    pub dir: std::path::PathBuf,
}

impl ClaimQueue {
    /// Claims `name`: true for the one caller that creates its file first.
    pub fn claim(&self, name: &str) -> Result<bool> {
        let path = self.dir.join(format!("{name}.claim"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(error) => Err(Error::Io { path, error }),
        }
    }
}

/// One program of a UCI spec: a set's group of splits (grid search and retrain).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledProgram {
    pub set: SetName,
    pub splits: Vec<usize>,
    /// Estimated cost, members x `RegressionFamily::training_work`, over its grid and final phases.
    pub cost: f64,
}

/// `0-9` for a contiguous run of splits, else `0,4,7`.
pub fn splits_label(splits: &[usize]) -> String {
    match (splits.first(), splits.last()) {
        (Some(a), Some(b)) if a != b && splits.windows(2).all(|w| w[1] == w[0] + 1) => format!("{a}-{b}"),
        _ => splits.iter().map(usize::to_string).collect::<Vec<_>>().join(","),
    }
}

/// A set's selected splits in programs of `splits_per_program` (all in one when unset).
pub fn set_programs(plan: &UciPlan, splits: &[usize]) -> Vec<Vec<usize>> {
    let group = plan.splits_per_program.unwrap_or(splits.len()).max(1);
    splits.chunks(group).map(<[usize]>::to_vec).collect()
}

/// Every program of `plan` (restricted to `only` and `keep` as a run would be), with its cost.
pub fn uci_programs(
    plan: &UciPlan,
    family: &dyn RegressionFamily,
    data: &DataDirs,
    only: &[SetName],
    keep: Option<&[usize]>,
) -> Result<Vec<ScheduledProgram>> {
    let mut out = Vec::new();
    for set_plan in &plan.sets {
        if !only.is_empty() && !only.contains(&set_plan.set) {
            continue;
        }
        let uci = set_plan.source.load(data)?;
        let mut splits = super::splits::selected_splits(&plan.splits, uci.splits.len());
        if let Some(keep) = keep {
            splits.retain(|k| keep.contains(k));
        }
        let (points, networks) = (family.grid(set_plan).len(), family.grid_networks(set_plan));
        let n_train = uci.splits.first().map_or(0, |s| s.train.len());
        let n_fit = super::splits::fit_rows(n_train, plan.validation_fraction);
        let phase = |members: usize, n: usize| members as f64 * family.training_work(n, set_plan);
        for program in set_programs(plan, &splits) {
            let k = program.len();
            let grid = if points > 1 { phase(k * networks, n_fit) } else { 0.0 };
            out.push(ScheduledProgram { set: set_plan.set.clone(), splits: program, cost: grid + phase(k, n_train) });
        }
    }
    Ok(out)
}

/// The shard of each program: largest cost first, each to the least loaded shard so far (the
/// lowest index on ties), so loads stay within one program's cost of each other.
pub fn partition(programs: &[ScheduledProgram], count: usize) -> Vec<usize> {
    let order = queue_order(programs);
    let mut load = vec![0.0f64; count.max(1)];
    let mut shard_of = vec![0; programs.len()];
    for i in order {
        let lightest = (0..load.len()).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).unwrap_or(0);
        load[lightest] += programs[i].cost;
        shard_of[i] = lightest;
    }
    shard_of
}

/// The programs of `shard`, in the spec's order.
pub fn programs_of(programs: &[ScheduledProgram], shard: Shard) -> Vec<ScheduledProgram> {
    let shard_of = partition(programs, shard.count);
    programs.iter().zip(shard_of).filter(|(_, s)| *s == shard.index).map(|(p, _)| p.clone()).collect()
}

/// The order a queue hands programs out: largest estimated cost first (spec order on ties),
/// as list scheduling wants them.
pub fn queue_order(programs: &[ScheduledProgram]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..programs.len()).collect();
    order.sort_by(|&a, &b| programs[b].cost.total_cmp(&programs[a].cost).then(a.cmp(&b)));
    order
}

/// The name a program is claimed by in a `ClaimQueue`.
pub fn claim_name(program: &ScheduledProgram) -> String {
    format!("{}-{}", program.set.folder(), splits_label(&program.splits))
}

/// An error for a shard flag that cannot be parsed.
pub fn parse(text: &str) -> Result<Shard> {
    text.parse().map_err(|e| Error::Usage(format!("--shard: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::uci::UciSet;

    fn p(set: UciSet, k: usize, cost: f64) -> ScheduledProgram {
        let set = SetName::uci(set);
        ScheduledProgram { set, splits: vec![k], cost }
    }

    #[test]
    fn shards_cover_every_program_once_and_balance_cost() {
        let programs: Vec<ScheduledProgram> =
            (0..10).map(|k| p(UciSet::Yacht, k, 1.0 + k as f64)).chain([p(UciSet::Protein, 0, 20.0)]).collect();
        let shard_of = partition(&programs, 3);
        let mut load = [0.0; 3];
        for (prog, s) in programs.iter().zip(&shard_of) {
            load[*s] += prog.cost;
        }
        let (max, min) = (load.iter().cloned().fold(0.0, f64::max), load.iter().cloned().fold(f64::MAX, f64::min));
        assert!(max - min <= 10.0, "{load:?}");
        let all: usize = (0..3).map(|i| programs_of(&programs, Shard { index: i, count: 3 }).len()).sum();
        assert_eq!(all, programs.len());
        assert_eq!(partition(&programs, 3), shard_of, "deterministic");
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert!("3/3".parse::<Shard>().is_err() && "1-3".parse::<Shard>().is_err());
    }

    #[test]
    fn a_queue_hands_each_program_to_one_claimant_largest_first() {
        let dir = tempfile::tempdir().unwrap();
        let queue = ClaimQueue { dir: dir.path().to_path_buf() };
        let (first, second) = (queue.clone(), ClaimQueue { dir: dir.path().to_path_buf() });
        assert!(first.claim("yacht-0-4").unwrap());
        assert!(!second.claim("yacht-0-4").unwrap() && !first.claim("yacht-0-4").unwrap());
        assert!(second.claim("yacht-5-9").unwrap());
        let programs = [p(UciSet::Yacht, 0, 1.0), p(UciSet::Protein, 0, 20.0), p(UciSet::Yacht, 1, 1.0)];
        assert_eq!(queue_order(&programs), [1, 0, 2]);
        assert_eq!(claim_name(&programs[1]), "protein-tertiary-structure-0");
        let missing = ClaimQueue { dir: dir.path().join("gone") };
        assert!(missing.claim("x").is_err(), "a queue that is not there is an error, not a claim");
    }
}
