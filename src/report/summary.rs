//! What `mcdrop summary` says of one experiment, as lines for it to print: the runs its
//! manifest lists (the last one, each shard's latest), and its outcomes with a verdict for
//! every published number they can be held to: per UCI set against the published column the
//! family is held to, the paper's LeNet bar on MNIST, Thompson sampling against
//! epsilon-greedy on RL (the statistics of `rl`, as its table has them), and the CO2 fits.

use super::co2_fit::training_fit;
use super::columns::TableFacts;
use super::experiment::Loaded;
use super::format::duration;
use super::published;
use super::rl::{Comparison, PolicyRuns};
use super::stat::{format_stat, verdict};
use crate::data::SetName;
use crate::results::store::{Manifest, RunEntry};

/// The last run of `manifest` (how it ended, its wall time and device, and the runs in all),
/// then the latest run of each shard.
pub fn run_lines(manifest: &Manifest) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(r) = manifest.runs.last() {
        let outcome =
            if r.ended.is_none() { format!("{} (started {})", r.status(), r.started) } else { r.outcome.to_string() };
        let total = manifest.runs.iter().map(|r| r.wall_seconds()).sum::<f64>();
        lines.push(format!(
            "last run: {outcome}, {} on {}; {} run(s), {} in all that ended",
            duration(r.wall_seconds()),
            r.provenance.device,
            manifest.runs.len(),
            duration(total)
        ));
    }
    lines.extend(shard_progress(manifest));
    lines
}

/// The latest run of each shard or `--jobs` worker (`--shard I/N` or `--worker I/N` in its
/// command), e.g. `shard 1/4: running (pid 812 on node3), 6 unit(s) written`.
fn shard_progress(manifest: &Manifest) -> Vec<String> {
    let mut latest: std::collections::BTreeMap<String, &RunEntry> = Default::default();
    for run in &manifest.runs {
        for (flag, kind) in [("--shard", "shard"), ("--worker", "worker")] {
            if let Some(i) = run.command.iter().position(|a| a == flag) {
                if let Some(label) = run.command.get(i + 1) {
                    latest.insert(format!("{kind} {label}"), run);
                }
            }
        }
    }
    latest.iter().map(|(who, r)| format!("{who}: {}, {} unit(s) written", r.status(), r.units_written)).collect()
}

/// What the outcomes of one experiment come to, verdicts included.
pub fn outcome_lines(data: &Loaded) -> Vec<String> {
    match data {
        Loaded::Uci(summaries) => summaries
            .iter()
            .map(|s| {
                let set = SetName::named(&s.dataset);
                let (_, held_to) = s.model.published_columns();
                let target = set.uci_set().and_then(|u| published::column(u, held_to));
                let label = held_to.label();
                let judged = target.map_or("no published number".to_string(), |(rmse, ll)| {
                    format!("RMSE {} / LL {} vs {label}", verdict(s.rmse, rmse, true), verdict(s.ll, ll, false))
                });
                format!(
                    "{:<10} {:>2} splits  RMSE {}  LL {}  {judged}",
                    set.display_name(),
                    s.splits,
                    format_stat(s.rmse, " ± ", false),
                    format_stat(s.ll, " ± ", false)
                )
            })
            .collect(),
        Loaded::Mnist { evaluation, shift, learned_dropout, .. } => {
            let mut lines = Vec::new();
            if let Some(rates) = learned_dropout {
                let rates: Vec<String> = rates.iter().map(|p| format!("{p:.3}")).collect();
                lines.push(format!("learned dropout rates before fc1, fc2: {}", rates.join(", ")));
            }
            if let Some(e) = evaluation {
                lines.push(format!(
                    "test accuracy standard {:.2} %, MC {:.2} % (T = {}); NLL {:.4} vs {:.4}; ECE {:.2} % vs {:.2} %",
                    100.0 * e.standard.scores.accuracy,
                    100.0 * e.mc.scores.accuracy,
                    e.mc_samples,
                    e.standard.scores.nll,
                    e.mc.scores.nll,
                    100.0 * e.standard.scores.ece,
                    100.0 * e.mc.scores.ece
                ));
                if e.model.is_lenet() {
                    let reached = if e.standard.scores.accuracy.max(e.mc.scores.accuracy) >= 0.99 {
                        "reached"
                    } else {
                        "not reached"
                    };
                    lines.push(format!("the paper's bar for LeNet (> 99 % test accuracy): {reached}"));
                }
            }
            if let Some(s) = shift.as_ref().and_then(|s| s.angles.last()) {
                lines.push(format!(
                    "rotated {:.0} deg: accuracy {:.1} % / {:.1} %, entropy {:.3} / {:.3} (standard / MC)",
                    s.degrees,
                    100.0 * s.standard.accuracy,
                    100.0 * s.mc.accuracy,
                    s.standard.entropy,
                    s.mc.entropy
                ));
            }
            lines
        }
        Loaded::Rl(record) => {
            let mut lines = Vec::new();
            for policy in ["thompson", "epsilon_greedy"] {
                let Some(p) = PolicyRuns::of(record, policy) else { continue };
                lines.push(format!(
                    "{policy:<15} {} seeds, {} above reward {} (median batch {}), final average reward {:.3}",
                    p.runs.len(),
                    p.reached,
                    p.first().reward_threshold,
                    p.batches_at(0.5),
                    p.final_mean
                ));
            }
            if let Some(c) = Comparison::of(record) {
                lines.push(c.sentence());
            }
            lines
        }
        Loaded::Co2(record) => record
            .models
            .iter()
            .map(|m| {
                let extra = match (m.heldout_ll, m.heldout_coverage95) {
                    (Some(ll), Some(c)) => format!("LL {ll:.3}, 95 % band covers {:.1} % of held-out weeks", 100.0 * c),
                    _ => "point prediction".to_string(),
                };
                let fit = training_fit(record, m).map_or(String::new(), |f| format!(", train years {:.2}", f.rmse));
                format!("{:<24} held-out RMSE {:>6.2} ppmv{fit}, {extra}", m.name, m.heldout_rmse)
            })
            .collect(),
    }
}
