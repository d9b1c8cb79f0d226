//! `mcdrop bench vi`: member-epochs per second of the mean-field VI trainer on one set's grid
//! program, its hand-written ELBO gradient against autograd through the same loss, in one run,
//! with how far the two trained posteriors end up apart.

use std::time::Instant;

use indicatif::ProgressBar;

use super::{load_uci_bench, peak_rss_mib, UciBench};
use crate::cli::{BenchArgs, Cli};
use crate::cmd::BadInput;
use crate::models::mfvi::{fit_with, ElboGradient, MfviFamily};
use crate::protocol::regression::RegressionFamily;
use crate::protocol::uci::{build_program, grid_rows};
use crate::spec::ModelPlan;

pub fn bench_vi(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    let UciBench { seed, plan, set_plan, data, device } = load_uci_bench(cli, args, "bench vi")?;
    let ModelPlan::Mfvi(mfvi, net) = &plan.model else {
        return Err(BadInput(format!("bench vi times the VI trainer; {} trains another model (try experiments/uci-vi.yaml)", args.spec.display())).into());
    };
    let family = MfviFamily { plan: mfvi.clone(), training: net.training.clone(), mc_samples: net.mc_samples };
    let splits: Vec<usize> = (0..args.splits.or(plan.splits_per_program).unwrap_or(data.splits.len()).min(data.splits.len())).collect();
    let points = family.grid(&set_plan);
    let rows = grid_rows(&data, &splits, plan.validation_fraction);
    let configs: Vec<_> = rows.iter().map(|_| points.clone()).collect();
    let program = build_program(seed, &set_plan, &data, &rows, &configs, "grid", device)?;
    let options = crate::models::mfvi::BnnOptions { epochs: args.epochs, ..family.options(&set_plan, data.x.cols) };
    let members = family.members(&program);
    let k = members.len();
    println!(
        "bench vi: set={} members={k} ({} splits x {} grid points) epochs={} rows/member={} widths={:?} device={}",
        set_plan.set,
        splits.len(),
        points.len(),
        args.epochs,
        program.n,
        options.widths,
        crate::device::describe(device)
    );
    let hidden = ProgressBar::hidden();
    let mut timed = Vec::new();
    for (label, gradient) in [("hand-written gradient", ElboGradient::Hand), ("autograd", ElboGradient::Autograd)] {
        let start = Instant::now();
        let net = fit_with(&program.stacked, program.n, &members, &options, device, &hidden, gradient)?;
        let seconds = start.elapsed().as_secs_f64();
        let rate = (k * args.epochs) as f64 / seconds;
        println!("{label}: {rate:.0} member-epochs/s ({seconds:.2} s)");
        if let Some(peak) = peak_rss_mib() {
            println!("peak memory after {label} (process RSS high-water mark): {peak:.0} MiB");
        }
        timed.push((rate, net.posterior()?));
    }
    println!("ratio hand / autograd: {:.2}x", timed[0].0 / timed[1].0);
    // Same seeds, same data order and noise: the two differ only by float rounding.
    let mut worst: f64 = 0.0;
    for ((a, _), (b, _)) in timed[0].1.iter().zip(&timed[1].1) {
        worst = worst.max(f64::try_from(a.f_sub(b)?.f_abs()?.f_max()?)?);
    }
    println!("largest difference of the trained posterior means: {worst:.1e}");
    Ok(())
}
