//! `mcdrop bench rl`: the rl experiment's cost, measured side by side in one run: per policy,
//! one program of every seed batched against the same seeds one program each, the split of
//! the batched program's time (rooms, acting, learning), and the full spec's time that the
//! batched rate gives.

use std::time::Instant;

use crate::cli::BenchArgs;
use crate::error::Error;
use crate::models::checkpoint::NoCheckpoints;
use crate::protocol::rl_program::run_program;
use crate::spec::Experiment;

pub fn bench_rl(args: &BenchArgs) -> anyhow::Result<()> {
    let spec = crate::spec::load(&args.spec)?;
    let Experiment::Rl(full) = spec.experiment else {
        return Err(Error::Usage(format!(
            "{}: `bench rl` times an rl spec; this one is not (try experiments/rl.yaml)",
            args.spec.display()
        ))
        .into());
    };
    let device = crate::device::resolve(args.device)?;
    let mut plan = full.clone();
    plan.ticks = args.ticks;
    // The shortened run still spends most of its ticks learning, as the full one does.
    plan.burnin_ticks = (args.ticks / 4).max(1);
    plan.learn_after = plan.learn_after.min(plan.burnin_ticks);
    plan.epsilon_ticks = plan.epsilon_ticks.max(plan.burnin_ticks + 1);
    let seeds: Vec<usize> = (0..full.seeds).collect();
    println!(
        "bench rl: {} seeds, {} ticks per program (burn-in {}), device {}, {} CPU threads",
        seeds.len(),
        plan.ticks,
        plan.burnin_ticks,
        crate::device::describe(device),
        tch::get_num_threads()
    );
    let progress = indicatif::ProgressBar::hidden();
    let mut full_seconds = 0.0;
    for &policy in &full.policies {
        let (_, batched, times) = run_program(&plan, policy, spec.seed, &seeds, device, &NoCheckpoints, &progress)?;
        let started = Instant::now();
        for &seed in &seeds {
            run_program(&plan, policy, spec.seed, &[seed], device, &NoCheckpoints, &progress)?;
        }
        let alone = started.elapsed().as_secs_f64();
        let rate = (seeds.len() * plan.ticks) as f64 / batched;
        println!(
            "{}: batched {rate:.0} run-ticks/s ({batched:.1} s: rooms {:.1} s, acting {:.1} s, learning {:.1} s); one seed at a time {:.0} run-ticks/s ({alone:.1} s); ratio batched / one at a time {:.2}x",
            policy.name(),
            times.world,
            times.act,
            times.learn,
            (seeds.len() * plan.ticks) as f64 / alone,
            alone / batched
        );
        full_seconds += (seeds.len() * full.ticks) as f64 / rate;
    }
    println!(
        "the full spec at the batched rates: {:.1} min ({} policies x {} seeds x {} ticks; burn-in ticks, cheaper for Thompson sampling, counted as learning ones)",
        full_seconds / 60.0,
        full.policies.len(),
        full.seeds,
        full.ticks
    );
    Ok(())
}
