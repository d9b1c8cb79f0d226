//! `mcdrop bench gp`: one program of a set's final fits (the first `--splits` splits, whole
//! training rows, the seeds of `--spec`) fitted by the GP settings of `--spec` and of each
//! `--against` spec in turn, side by side in one run: wall seconds, and what each fit reached
//! (NLML per row, test RMSE and log-likelihood, means over the program's splits), so a faster
//! optimizer shows what it costs in fit; then fits beside GPyTorch's (`gp_peer`).

use std::time::Instant;

use super::{load_uci_bench, UciBench};
use crate::cli::{BenchArgs, Cli};
use crate::data::SetName;
use crate::error::Error;
use crate::metrics::keys;
use crate::models::checkpoint::NoCheckpoints;
use crate::models::family::{Env, Silent};
use crate::models::gp::GpFamily;
use crate::models::RegressionFamily;
use crate::protocol::program::{build_program, Phase};
use crate::protocol::splits::final_rows;
use crate::spec::{Experiment, GpOptimizer, GpPlan, InducingInit, ModelPlan, UciSetPlan};

pub fn bench_gp(cli: &Cli, args: &BenchArgs) -> anyhow::Result<()> {
    let UciBench { seed, plan, set_plan, data, device } = load_uci_bench(cli, args, "bench gp")?;
    let ModelPlan::Gp(gp) = &plan.model else {
        return Err(Error::Usage(format!(
            "bench gp times the GP; {} trains another model (try experiments/uci-gp.yaml)",
            args.spec.display()
        ))
        .into());
    };
    // The set's own GP settings where it has them; each variant then fits a set that has none.
    let gp = set_plan.gp_plan(gp);
    let bare_set = UciSetPlan { gp: None, ..set_plan.clone() };
    let group = args.splits.or(plan.splits_per_program).unwrap_or(data.splits.len());
    let splits: Vec<usize> = (0..group.min(data.splits.len())).collect();
    let rows = final_rows(&data, &splits);
    let configs: Vec<_> = rows.iter().map(|_| vec![Vec::new()]).collect();
    let program = build_program(seed, &set_plan, &data, &rows, &configs, Phase::Final, device)?;
    let sparse = program.n() > gp.max_rows;
    println!(
        "bench gp: set={} splits={} rows/member={} {} restarts={} device={}",
        set_plan.set,
        splits.len(),
        program.n(),
        if sparse { format!("sparse (M = {})", gp.inducing) } else { "exact".to_string() },
        gp.restarts,
        crate::device::describe(device)
    );
    let mut variants = vec![(label(&args.spec), gp.clone())];
    for other in &args.against {
        variants.push((label(other), other_gp(other, &set_plan.set)?));
    }
    println!("{:<24} {:>9} {:>8} {:>12} {:>10} {:>10}", "spec", "seconds", "ratio", "nlml/row", "rmse", "test ll");
    let mut first_seconds = None;
    for (label, variant) in variants {
        println!("  {}", describe(&variant, sparse));
        let family = GpFamily { plan: variant };
        let env = Env { device, mc_budget: args.mc_budget, progress: &Silent, checkpoints: &NoCheckpoints };
        let start = Instant::now();
        let scores = family.fit_and_score(&program, &bare_set, &env)?;
        let seconds = start.elapsed().as_secs_f64();
        let base = *first_seconds.get_or_insert(seconds);
        let mean = |f: &dyn Fn(&crate::models::Scores) -> f64| scores.iter().map(f).sum::<f64>() / scores.len() as f64;
        let nlml = mean(&|s| s.extra.iter().find(|(k, _)| k == keys::NLML_PER_ROW).map_or(f64::NAN, |(_, v)| *v));
        println!(
            "{label:<24} {seconds:>9.2} {:>7.2}x {nlml:>12.5} {:>10.5} {:>10.5}",
            base / seconds,
            mean(&|s| s.rmse),
            mean(&|s| s.ll)
        );
    }
    super::gp_peer::compare_with_peer(args, &program, gp, &splits)
}

fn label(spec: &std::path::Path) -> String {
    spec.file_stem().map_or_else(|| spec.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// The GP settings another spec fits `set` with.
fn other_gp(path: &std::path::Path, set: &SetName) -> anyhow::Result<GpPlan> {
    let spec = crate::spec::load(path)?;
    let plan = match &spec.experiment {
        Experiment::UciRegression(plan) => plan,
        _ => return Err(Error::Usage(format!("{}: --against takes a UCI GP spec", path.display())).into()),
    };
    let own = plan.sets.iter().find(|s| &s.set == set).and_then(|s| s.gp.clone());
    match &plan.model {
        ModelPlan::Gp(gp) => Ok(own.unwrap_or_else(|| gp.clone())),
        _ => Err(Error::Usage(format!("{}: --against takes a GP spec; this one trains another model", path.display()))
            .into()),
    }
}

/// The optimizer settings, in a line.
fn describe(p: &GpPlan, sparse: bool) -> String {
    let inducing = match (sparse, p.inducing_init, p.learn_inducing) {
        (false, ..) => String::new(),
        (true, InducingInit::Random, learned) => format!(", inducing inputs random rows{}", fixed(learned)),
        (true, InducingInit::GreedyVariance, learned) => format!(", inducing inputs greedy variance{}", fixed(learned)),
    };
    let race = p.race_after.map_or(String::new(), |k| format!(", restarts race for {k} iterations"));
    match p.optimizer {
        GpOptimizer::Adam => format!("adam: {} steps at lr {}{race}{inducing}", p.iterations, p.lr),
        GpOptimizer::Lbfgs => format!("lbfgs: at most {} iterations{race}{inducing}", p.iterations),
    }
}

fn fixed(learned: bool) -> &'static str {
    if learned {
        ", learned"
    } else {
        ", fixed"
    }
}
