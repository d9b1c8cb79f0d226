//! Which committed programs a verification reruns: the ones holding the units asked for, or a
//! deterministic sample across experiments and sets that fits a time budget, estimated from
//! the recorded wall times. The unit of a rerun is a program (the splits trained together):
//! a member's numbers agree with a one-at-a-time run only to rounding, which training
//! amplifies, so reproducing a record bit for bit takes the program it was trained in.

use crate::data::SetName;
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// A committed program that can be rerun, with what rerunning it is estimated to cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub experiment: String,
    pub dataset: SetName,
    /// The splits of its final program, ascending.
    pub splits: Vec<usize>,
    /// Seconds on the machine that made the records.
    pub recorded_seconds: f64,
}

impl Candidate {
    /// `e yacht:0-9` / `e yacht:0,4,7`.
    pub fn label(&self) -> String {
        format!("{} {}:{}", self.experiment, self.dataset, crate::protocol::shard::splits_label(&self.splits))
    }
}

/// What rerunning a program costs: its final program's wall time, plus its splits' share of
/// each grid program they were searched in (a program's time is roughly linear in members).
/// `grids`: (wall seconds, members, members of this program's splits in it) per grid program.
pub fn program_seconds(final_wall: f64, grids: &[(f64, usize, usize)]) -> f64 {
    final_wall + grids.iter().map(|&(wall, members, mine)| wall * mine as f64 / members.max(1) as f64).sum::<f64>()
}

/// A stable pseudo-random rank of a program, so the sample does not favour low split numbers.
fn rank(c: &Candidate) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(format!("{}/{}/{:?}", c.experiment, c.dataset, c.splits).as_bytes());
    h.finalize().into()
}

/// Candidates in the order a budget takes them: in rounds over (experiment, set), one unit of
/// each group a round (each group's units in a fixed pseudo-random order), a round's units
/// cheapest first, so any budget covers as many sets of as many experiments as it can.
pub fn order(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut groups: BTreeMap<(String, SetName), Vec<Candidate>> = BTreeMap::new();
    for c in candidates {
        groups.entry((c.experiment.clone(), c.dataset.clone())).or_default().push(c);
    }
    for units in groups.values_mut() {
        units.sort_by_key(rank);
        units.reverse(); // popped from the back
    }
    let mut out = Vec::new();
    while groups.values().any(|g| !g.is_empty()) {
        let mut round: Vec<Candidate> = groups.values_mut().filter_map(Vec::pop).collect();
        round.sort_by(|a, b| a.recorded_seconds.total_cmp(&b.recorded_seconds));
        out.extend(round);
    }
    out
}

/// The units of `ordered` that fit `budget` seconds at `factor` times their recorded cost,
/// in order: each unit that still fits is taken, one that does not is passed over.
pub fn fit_budget(ordered: &[Candidate], budget: f64, factor: f64) -> Vec<Candidate> {
    let mut left = budget;
    let mut out = Vec::new();
    for c in ordered {
        let cost = c.recorded_seconds * factor;
        if cost <= left {
            left -= cost;
            out.push(c.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(e: &str, d: &str, k: usize, s: f64) -> Candidate {
        Candidate { experiment: e.into(), dataset: d.into(), splits: vec![k], recorded_seconds: s }
    }

    #[test]
    fn the_sample_spreads_over_sets_is_deterministic_and_fits_the_budget() {
        let all: Vec<Candidate> = (0..20)
            .flat_map(|k| [c("uci-dropout", "yacht", k, 4.0), c("uci-dropout", "bostonHousing", k, 6.0)])
            .chain([c("uci-gp", "protein-tertiary-structure", 0, 2000.0)])
            .collect();
        let ordered = order(all.clone());
        assert_eq!(ordered, order(all.into_iter().rev().collect()), "order does not depend on input order");
        let first: Vec<&str> = ordered.iter().take(3).map(|c| c.dataset.folder()).collect();
        assert_eq!(first, ["yacht", "bostonHousing", "protein-tertiary-structure"]);
        let picked = fit_budget(&ordered, 30.0, 1.0);
        assert!(picked.iter().map(|c| c.recorded_seconds).sum::<f64>() <= 30.0);
        assert!(picked.iter().any(|c| c.dataset == "yacht") && picked.iter().any(|c| c.dataset == "bostonHousing"));
        assert!(picked.iter().all(|c| c.dataset != "protein-tertiary-structure"));
        // A slower machine takes fewer units.
        assert!(fit_budget(&ordered, 30.0, 2.0).len() < picked.len());
    }

    #[test]
    fn a_program_costs_its_retrain_and_its_share_of_the_grid() {
        // Retrain of 10 splits in 100 s; their grid: 60 of the 120 members of a 1200 s program.
        assert_eq!(program_seconds(100.0, &[(1200.0, 120, 60)]), 100.0 + 600.0);
        assert_eq!(program_seconds(50.0, &[]), 50.0);
        let p =
            Candidate { experiment: "e".into(), dataset: "yacht".into(), splits: vec![0, 1, 2], recorded_seconds: 1.0 };
        assert_eq!(p.label(), "e yacht:0-2");
        assert_eq!(Candidate { splits: vec![0, 4], ..p.clone() }.label(), "e yacht:0,4");
        assert_eq!(Candidate { splits: vec![5], ..p }.label(), "e yacht:5");
    }
}
