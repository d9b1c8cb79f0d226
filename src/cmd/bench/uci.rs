//! `mcdrop bench uci`: member-epochs per second of the batched trainer against the same
//! members trained one at a time, and against the PyTorch peer (../shared/bench), in one run
//! on one machine so that only ratios are compared.

use std::time::Instant;

use anyhow::{bail, Context};

use super::{load_uci_bench, peak_rss_mib};
use crate::cli::{BenchArgs, Cli};
use crate::data::uci::UciSet;
use crate::device::cuda_graph::{eager_reason, eagerly};
use crate::error::Error;
use crate::models::checkpoint::NoCheckpoints;
use crate::models::mc_dropout::{self, FitOptions, McDropoutFamily};
use crate::models::Silent;
use crate::spec::ModelPlan;

pub fn bench_uci(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    let bench = load_uci_bench(cli, args, "bench uci")?;
    let ModelPlan::McDropout(mlp, net) = &bench.plan.model else {
        return Err(
            Error::Usage(format!("bench uci times MC dropout; {} trains another model", args.spec.display())).into()
        );
    };
    let Some(set) = bench.set_plan.set.uci_set() else {
        bail!(
            "bench uci sets the PyTorch peer beside mcdrop, and the peer reads the UCI sets only; {} is a table",
            bench.set_plan.set
        );
    };
    let (device, data) = (bench.device, &bench.data);
    let family = McDropoutFamily { mlp: mlp.clone(), training: net.training.clone(), mc_samples: args.mc_samples };
    let options = FitOptions { epochs: args.epochs, ..family.fit_options(&bench.set_plan, data.x.cols) };
    let splits = args.splits.unwrap_or(20).min(data.splits.len());
    let program = bench.grid_program(&family, splits, "bench uci", args.epochs, &options.widths)?;
    let dropout_members = family.members(&program)?;
    let held_out = family.held_out(&program)?;
    let members = program.members.len();

    let start = Instant::now();
    let net = mc_dropout::fit(&program.stacked, &dropout_members, &options, &Silent, &NoCheckpoints)?;
    let batched_s = start.elapsed().as_secs_f64();
    let batched = (members * args.epochs) as f64 / batched_s;
    let launches = eager_reason(device).map_or("CUDA graph replay".to_string(), |why| format!("eager: {why}"));
    println!("batched: {batched:.0} member-epochs/s ({members} members, {batched_s:.2} s; {launches})");
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory after training (process RSS high-water mark): {peak:.0} MiB");
    }
    if eager_reason(device).is_none() {
        // The same training with every kernel launched eagerly: the graph's speed-up and how
        // far its parameters are from the eager ones.
        let start = Instant::now();
        let eager_net =
            eagerly(|| mc_dropout::fit(&program.stacked, &dropout_members, &options, &Silent, &NoCheckpoints))?;
        let eager_s = start.elapsed().as_secs_f64();
        let gap = f64::try_from((&net.params().flat - &eager_net.params().flat).abs().max())?;
        println!(
            "eager launches: {:.0} member-epochs/s ({eager_s:.2} s); CUDA graph replay / eager: {:.2}x; largest parameter difference {gap:.2e}",
            (members * args.epochs) as f64 / eager_s,
            eager_s / batched_s
        );
    }
    let start = Instant::now();
    let (_, chunk) = mc_dropout::evaluate(&net, &dropout_members, &held_out, args.mc_samples, args.mc_budget, device)?;
    let eval_s = start.elapsed().as_secs_f64();
    let passes = (members * program.n_held * args.mc_samples) as f64;
    println!(
        "MC evaluation: T={} on {} validation rows x {members} members in {eval_s:.2} s ({:.1} M member-row-passes/s, chunks of {chunk} samples)",
        args.mc_samples,
        program.n_held,
        passes / eval_s / 1e6
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory after MC evaluation (process RSS high-water mark): {peak:.0} MiB");
    }

    let serial_members = args.serial_members.clamp(1, members);
    let start = Instant::now();
    for member in &dropout_members[..serial_members] {
        mc_dropout::fit(&program.stacked, std::slice::from_ref(member), &options, &Silent, &NoCheckpoints)?;
    }
    let serial_s = start.elapsed().as_secs_f64();
    let serial = (serial_members * args.epochs) as f64 / serial_s;
    println!("one-at-a-time: {serial:.0} member-epochs/s ({serial_members} members timed, {serial_s:.2} s)");
    println!("ratio batched / one-at-a-time: {:.1}x", batched / serial);

    if args.peer == "none" {
        return Ok(());
    }
    let data_root = data.dir.parent().and_then(|p| p.parent()).context("data dir has no parent")?;
    for (mode, peer_splits) in [("batched", splits), ("serial", 1)] {
        match run_peer(args, data_root, set, mode, peer_splits) {
            Ok(rate) if mode == "batched" => {
                println!("pytorch peer batched: {rate:.0} member-epochs/s ({peer_splits} splits); ours batched / peer batched: {:.2}x", batched / rate);
            }
            Ok(rate) => {
                println!(
                    "pytorch peer serial: {rate:.0} member-epochs/s ({peer_splits} split); ours batched / peer serial: {:.1}x; ours one-at-a-time / peer serial: {:.1}x",
                    batched / rate,
                    serial / rate
                );
            }
            Err(e) => println!("pytorch peer {mode}: not run ({e:#})"),
        }
    }
    Ok(())
}

fn run_peer(
    args: &BenchArgs,
    data_root: &std::path::Path,
    set: UciSet,
    mode: &str,
    splits: usize,
) -> anyhow::Result<f64> {
    let peer_args = [
        data_root.display().to_string(),
        set.folder().to_string(),
        "--mode".into(),
        mode.into(),
        "--epochs".into(),
        args.epochs.to_string(),
        "--splits".into(),
        splits.to_string(),
    ];
    let stdout = super::peer::run(&args.python, &args.peer, &peer_args, "torch and numpy")?;
    super::peer::field(&stdout, "member_epochs_per_s")
}
