//! `mcdrop summary EXPERIMENT...`: what ran, how long each experiment took, where its outputs
//! are, and a verdict per published number it can be held to — what `make reproduce` prints
//! at the end.

use crate::cli::{Cli, SummaryArgs};
use crate::data::SetName;
use crate::report::co2_fit::training_fit;
use crate::report::columns::TableFacts;
use crate::report::experiment::{load_experiment, Loaded};
use crate::report::format::duration;
use crate::report::published;
use crate::report::rl::{batches, batches_to_threshold, quantile, runs_of, Comparison};
use crate::report::stat::{format_stat, verdict};
use crate::results::ExperimentStore;

pub fn summary(cli: &Cli, args: &SummaryArgs) -> anyhow::Result<()> {
    println!("Summary of {} experiment(s) under {}:", args.experiments.len(), cli.results_dir.display());
    let mut unreadable = Vec::new();
    for name in &args.experiments {
        // A corrupt record or manifest is reported and the next experiment summarized; the
        // command still fails at the end, so a script notices.
        let (experiment, manifest) = match load_experiment(&cli.results_dir, name)
            .and_then(|e| Ok((e, ExperimentStore::new(&cli.results_dir, name).manifest()?)))
        {
            Ok(loaded) => loaded,
            Err(e @ (crate::Error::Results { .. } | crate::Error::Report(_))) => {
                println!("\n== {name}: unreadable: {e}");
                unreadable.push(name.clone());
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let store = ExperimentStore::new(&cli.results_dir, name);
        let shards = manifest.as_ref().map(shard_progress).unwrap_or_default();
        let (runs, total, last) = manifest.map_or((0, 0.0, None), |m| {
            let walls: Vec<f64> = m.runs.iter().map(|r| r.wall_seconds()).collect();
            let last = m.runs.last().map(|r| {
                let outcome = if r.ended.is_none() {
                    format!("{} (started {})", r.status(), r.started)
                } else {
                    r.outcome.clone()
                };
                (outcome, r.wall_seconds(), r.provenance.device.clone())
            });
            (m.runs.len(), walls.iter().sum::<f64>(), last)
        });
        println!("\n== {name} [profile {}] -> {}", experiment.spec.raw.profile.as_str(), store.dir().display());
        if let Some((outcome, wall, device)) = last {
            println!(
                "   last run: {outcome}, {} on {device}; {runs} run(s), {} in all that ended",
                duration(wall),
                duration(total)
            );
        }
        for line in shards {
            println!("   {line}");
        }
        match &experiment.data {
            Loaded::Uci(summaries) => {
                for s in summaries {
                    let set = SetName::named(&s.dataset);
                    let (_, held_to) = s.model.published_columns();
                    let target = set.uci_set().and_then(|u| published::column(u, held_to));
                    let label = held_to.label();
                    let judged = target.map_or("no published number".to_string(), |(rmse, ll)| {
                        format!("RMSE {} / LL {} vs {label}", verdict(s.rmse, rmse, true), verdict(s.ll, ll, false))
                    });
                    println!(
                        "   {:<10} {:>2} splits  RMSE {}  LL {}  {judged}",
                        set.display_name(),
                        s.splits,
                        format_stat(s.rmse, " ± ", false),
                        format_stat(s.ll, " ± ", false)
                    );
                }
            }
            Loaded::Mnist { evaluation, shift, learned_dropout, .. } => {
                if let Some(rates) = learned_dropout {
                    let rates: Vec<String> = rates.iter().map(|p| format!("{p:.3}")).collect();
                    println!("   learned dropout rates before fc1, fc2: {}", rates.join(", "));
                }
                if let Some(e) = evaluation {
                    println!(
                        "   test accuracy standard {:.2} %, MC {:.2} % (T = {}); NLL {:.4} vs {:.4}; ECE {:.2} % vs {:.2} %",
                        100.0 * e.standard.scores.accuracy,
                        100.0 * e.mc.scores.accuracy,
                        e.mc_samples,
                        e.standard.scores.nll,
                        e.mc.scores.nll,
                        100.0 * e.standard.scores.ece,
                        100.0 * e.mc.scores.ece
                    );
                    if e.model.is_lenet() {
                        let reached = if e.standard.scores.accuracy.max(e.mc.scores.accuracy) >= 0.99 {
                            "reached"
                        } else {
                            "not reached"
                        };
                        println!("   the paper's bar for LeNet (> 99 % test accuracy): {reached}");
                    }
                }
                if let Some(s) = shift.as_ref().and_then(|s| s.angles.last()) {
                    println!(
                        "   rotated {:.0} deg: accuracy {:.1} % / {:.1} %, entropy {:.3} / {:.3} (standard / MC)",
                        s.degrees,
                        100.0 * s.standard.accuracy,
                        100.0 * s.mc.accuracy,
                        s.standard.entropy,
                        s.mc.entropy
                    );
                }
            }
            Loaded::Rl(record) => {
                for policy in ["thompson", "epsilon_greedy"] {
                    let runs = runs_of(record, policy);
                    if runs.is_empty() {
                        continue;
                    }
                    let b: Vec<f64> = runs.iter().map(|r| batches_to_threshold(r)).collect();
                    let reached = runs.iter().filter(|r| r.first_above_threshold_batch.is_some()).count();
                    let final_mean = runs.iter().map(|r| r.final_average_reward).sum::<f64>() / runs.len() as f64;
                    let cap = runs[0].batch_past_end() as f64;
                    println!(
                        "   {policy:<15} {} seeds, {reached} above reward {} (median batch {}), final average reward {final_mean:.3}",
                        runs.len(),
                        runs[0].reward_threshold,
                        batches(quantile(&b, 0.5), cap)
                    );
                }
                if let Some(c) = Comparison::of(record) {
                    println!("   {}", c.sentence());
                }
            }
            Loaded::Co2(record) => {
                for m in &record.models {
                    let extra = match (m.heldout_ll, m.heldout_coverage95) {
                        (Some(ll), Some(c)) => {
                            format!("LL {ll:.3}, 95 % band covers {:.1} % of held-out weeks", 100.0 * c)
                        }
                        _ => "point prediction".to_string(),
                    };
                    let fit = training_fit(record, m).map_or(String::new(), |f| format!(", train years {:.2}", f.rmse));
                    println!("   {:<24} held-out RMSE {:>6.2} ppmv{fit}, {extra}", m.name, m.heldout_rmse);
                }
            }
        }
        let figures = store.dir().join("figures");
        if figures.is_dir() {
            println!("   figures: {}", figures.display());
        }
    }
    if !unreadable.is_empty() {
        anyhow::bail!("unreadable results in {}: rerun them, or see the lines above", unreadable.join(", "));
    }
    Ok(())
}

/// The latest run of each shard (`--shard I/N` in its command), e.g. `shard 1/4: running (pid
/// 812 on node3), 6 unit(s) written`.
fn shard_progress(manifest: &crate::results::store::Manifest) -> Vec<String> {
    let mut latest: std::collections::BTreeMap<String, &crate::results::store::RunEntry> = Default::default();
    for run in &manifest.runs {
        if let Some(i) = run.command.iter().position(|a| a == "--shard") {
            if let Some(shard) = run.command.get(i + 1) {
                latest.insert(shard.clone(), run);
            }
        }
    }
    latest
        .iter()
        .map(|(shard, r)| format!("shard {shard}: {}, {} unit(s) written", r.status(), r.units_written))
        .collect()
}
