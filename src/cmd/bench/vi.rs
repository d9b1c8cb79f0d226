//! `mcdrop bench vi`: member-epochs per second of the mean-field VI trainer on one set's grid
//! program, its hand-written ELBO gradient against autograd through the same loss, in one run,
//! with how far the two trained posteriors end up apart.

use std::time::Instant;

use super::{load_uci_bench, peak_rss_mib};
use crate::cli::{BenchArgs, Cli};
use crate::device::cuda_graph::{eager_reason, eagerly};
use crate::error::Error;
use crate::models::mfvi::{fit, BnnOptions, ElboGradient, MfviFamily};
use crate::models::Silent;
use crate::spec::ModelPlan;

pub fn bench_vi(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    let bench = load_uci_bench(cli, args, "bench vi")?;
    let ModelPlan::Mfvi(mfvi, net) = &bench.plan.model else {
        return Err(Error::Usage(format!(
            "bench vi times the VI trainer; {} trains another model (try experiments/uci-vi.yaml)",
            args.spec.display()
        ))
        .into());
    };
    let family = MfviFamily { plan: mfvi.clone(), training: net.training.clone(), mc_samples: net.mc_samples };
    let options = BnnOptions { epochs: args.epochs, ..family.options(&bench.set_plan, bench.data.x.cols) };
    let splits = args.splits.or(bench.plan.splits_per_program).unwrap_or(bench.data.splits.len());
    let program = bench.grid_program(&family, splits, "bench vi", args.epochs, &options.widths)?;
    let members = family.members(&program)?;
    let k = members.len();
    // (label, gradient, launch every kernel eagerly)
    let mut runs = vec![("hand-written gradient", ElboGradient::Hand, false)];
    if eager_reason(bench.device).is_none() {
        runs[0].0 = "hand-written gradient, CUDA graph replay";
        runs.push(("hand-written gradient, eager launches", ElboGradient::Hand, true));
    }
    runs.push(("autograd", ElboGradient::Autograd, false));
    let mut timed = Vec::new();
    for (label, gradient, eager) in runs.iter().copied() {
        let start = Instant::now();
        let train = || fit(&program.stacked, &members, &BnnOptions { gradient, ..options.clone() }, &Silent);
        let net = if eager { eagerly(train)? } else { train()? };
        let seconds = start.elapsed().as_secs_f64();
        let rate = (k * args.epochs) as f64 / seconds;
        println!("{label}: {rate:.0} member-epochs/s ({seconds:.2} s)");
        if let Some(peak) = peak_rss_mib() {
            println!("peak memory after {label} (process RSS high-water mark): {peak:.0} MiB");
        }
        timed.push((rate, net.posterior()?));
    }
    let last = timed.len() - 1;
    println!("ratio hand / autograd: {:.2}x", timed[0].0 / timed[last].0);
    if last == 2 {
        println!("ratio CUDA graph replay / eager launches: {:.2}x", timed[0].0 / timed[1].0);
    }
    // Same seeds, same data order and noise: the runs differ only by float rounding.
    for (other, (label, ..)) in runs.iter().enumerate().skip(1) {
        let mut worst: f64 = 0.0;
        for ((a, _), (b, _)) in timed[0].1.iter().zip(&timed[other].1) {
            worst = worst.max(f64::try_from(a.f_sub(b)?.f_abs()?.f_max()?)?);
        }
        println!("largest difference of the trained posterior means, {} vs {label}: {worst:.1e}", runs[0].0);
    }
    Ok(())
}
