//! `mcdrop bench sparse-gp`: seconds per optimiser step of the sparse GP on one set's real
//! training split size, the two-pass gradient the fit uses against autograd through the
//! whole bound, with the peak memory of each and how far their gradients differ.

use std::time::Instant;

use tch::{Kind, Tensor};

use super::{load_uci_bench, peak_rss_mib, UciBench};
use crate::cli::{BenchArgs, Cli};
use crate::error::Error;
use crate::models::gp::optimize::float64_store;
use crate::models::gp::sparse::{
    bound_and_gradient, initial_params, negative_bound, rows_per_pass, BoundGradient, SparseParams,
};
use crate::protocol::program::{build_program, Phase};
use crate::protocol::splits::final_rows;
use crate::spec::ModelPlan;

pub fn bench_sparse_gp(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    let UciBench { seed, plan, set_plan, data, device } = load_uci_bench(cli, args, "bench sparse-gp")?;
    let ModelPlan::Gp(gp) = &plan.model else {
        return Err(Error::Usage(format!(
            "bench sparse-gp times the GP; {} trains another model (try experiments/uci-gp.yaml)",
            args.spec.display()
        ))
        .into());
    };
    let gp = set_plan.gp_plan(gp);
    let set = set_plan.set.clone();
    // A program as the protocol builds it: its splits' whole training rows.
    let group = args.splits.or(plan.splits_per_program).unwrap_or(data.splits.len());
    let splits: Vec<usize> = (0..group.min(data.splits.len())).collect();
    let rows = final_rows(&data, &splits);
    let configs: Vec<_> = rows.iter().map(|_| vec![Vec::new()]).collect();
    let program = build_program(seed, &set_plan, &data, &rows, &configs, Phase::Final, device)?;
    let (s, n, d) = (program.members.len() as i64, program.n() as i64, program.held_x.size()[2]);
    let x = program.stacked.x.f_view([s, n, d])?.f_to_kind(Kind::Double)?;
    let y = program.stacked.y.f_view([s, n])?.f_to_kind(Kind::Double)?;
    let seeds: Vec<u64> = program.members.iter().map(|m| m.seed).collect();
    let r = gp.restarts as i64;
    let vs = float64_store(device);
    let params = initial_params(&vs, &x, &seeds, r, gp.inducing)?;
    let (xr, yr) = (x.f_repeat_interleave_self_int(r, 0, None)?, y.f_repeat_interleave_self_int(r, 0, None)?);
    let chunk = rows_per_pass(&xr, &params);
    let steps = args.iterations.max(1);
    println!(
        "bench sparse-gp: set={set} members={} ({s} splits x {r} restarts) rows/member={n} inducing={} chunk={chunk} rows steps={steps} device={}",
        s * r,
        params.inducing.size()[1],
        crate::device::describe(device)
    );
    println!(
        "the fit takes: {:?} (memory budget of BoundGradient::for_program)",
        BoundGradient::for_program(&xr, &params)
    );

    let start = Instant::now();
    let mut two_pass = None;
    for _ in 0..steps {
        two_pass = Some(bound_and_gradient(&xr, &yr, &params, gp.noise_floor, chunk)?.1);
    }
    let two_pass_s = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "two-pass gradient: {two_pass_s:.2} s/step; one fit of {} steps: {:.1} min",
        gp.iterations,
        two_pass_s * gp.iterations as f64 / 60.0
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory after two-pass steps (process RSS high-water mark): {peak:.0} MiB");
    }
    if args.two_pass_only {
        return Ok(());
    }
    let vars = [
        &params.kernel.log_lengthscales,
        &params.kernel.log_signal_std,
        &params.kernel.log_noise_std,
        &params.inducing,
    ];
    let start = Instant::now();
    for _ in 0..steps {
        vs.variables().values().for_each(|v| {
            let _ = v.grad().f_zero_();
        });
        negative_bound(&xr, &yr, &params, gp.noise_floor)?.f_sum(Kind::Double)?.f_backward()?;
    }
    let autograd_s = start.elapsed().as_secs_f64() / steps as f64;
    println!(
        "autograd through the bound: {autograd_s:.2} s/step; one fit: {:.1} min",
        autograd_s * gp.iterations as f64 / 60.0
    );
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory after autograd steps (process RSS high-water mark): {peak:.0} MiB");
    }
    println!("ratio autograd / two-pass: {:.1}x", autograd_s / two_pass_s);
    let two_pass = two_pass.expect("at least one step");
    println!("largest relative gradient difference: {:.1e}", largest_difference(&two_pass, &vars)?);
    Ok(())
}

/// max |g_two_pass - g_autograd| / max |g_autograd| over the four parameter tensors.
fn largest_difference(two_pass: &SparseParams, vars: &[&Tensor; 4]) -> anyhow::Result<f64> {
    let ours = [
        &two_pass.kernel.log_lengthscales,
        &two_pass.kernel.log_signal_std,
        &two_pass.kernel.log_noise_std,
        &two_pass.inducing,
    ];
    let mut worst: f64 = 0.0;
    for (g, v) in ours.iter().zip(vars) {
        // The autograd loop ran `steps` times on unchanged parameters after zeroing: one copy.
        let auto = v.grad();
        let diff = f64::try_from(g.f_sub(&auto)?.f_abs()?.f_max()?)?;
        let scale = f64::try_from(auto.f_abs()?.f_max()?)?.max(f64::MIN_POSITIVE);
        worst = worst.max(diff / scale);
    }
    Ok(worst)
}
