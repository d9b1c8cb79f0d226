//! The GPyTorch peer of `mcdrop bench gp` (`scripts/bench/ref_gpytorch_gp.py`): one fit of
//! each of the program's first `--peer-fits` splits, ours and GPyTorch's, with the same data,
//! the same start (restart 0's kernel and inducing inputs), the same model and L-BFGS's
//! iteration cap, one after the other on the same threads; seconds and the NLML per row each
//! reached, and the seconds of one evaluation of the objective and its gradient at that start.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tch::{Kind, Tensor};

use crate::cli::{BenchArgs, PeerStop};
use crate::models::family::Silent;
use crate::models::gp::lbfgs::LbfgsSettings;
use crate::models::gp::optimize::restart_starts;
use crate::models::gp::{exact, sparse, GpParams};
use crate::models::nn::host::f64_values;
use crate::models::Program;
use crate::spec::{GpOptimizer, GpPlan};

/// What the peer reports about its fit.
struct PeerFit {
    seconds: f64,
    evaluations: u64,
    iterations: u64,
    nlml_per_row: f64,
    /// Trial points whose kernel had no Cholesky factor (the peer backs away from them).
    failed: u64,
    /// Objective and gradient at the start, timed before the fit.
    seconds_per_evaluation: f64,
}

/// Evaluations of the objective and its gradient timed at the start, each side.
const TIMED_EVALUATIONS: usize = 5;

/// Fits the first `--peer-fits` members of `program` (splits `splits`) once each by `gp`'s
/// L-BFGS settings (one restart, no race), has the peer fit each the same way, and prints
/// every fit and, over them all, how many times faster ours was per fit and per evaluation.
pub fn compare_with_peer(args: &BenchArgs, program: &Program, gp: &GpPlan, splits: &[usize]) -> anyhow::Result<()> {
    if args.gp_peer == "none" {
        return Ok(());
    }
    if gp.optimizer != GpOptimizer::Lbfgs {
        println!("gpytorch peer: not run (the peer fits by L-BFGS; this spec fits the set by Adam)");
        return Ok(());
    }
    let one = GpPlan { restarts: 1, race_after: None, ..gp.clone() };
    let fits = args.peer_fits.clamp(1, splits.len().min(program.members.len()));
    println!(
        "{fits} fit(s) from restart 0's start, L-BFGS to at most {} iterations, {} thread(s):",
        one.iterations,
        tch::get_num_threads()
    );
    println!(
        "{:<32} {:>9} {:>8} {:>12} {:>14} {:>24}",
        "fit", "seconds", "ratio", "nlml/row", "s/evaluation", "iterations/evaluations"
    );
    let mut ours = Timing::default();
    let mut peers: Vec<(&'static str, Timing)> = Vec::new();
    for (member, split) in splits.iter().enumerate().take(fits) {
        let fit = OneFit::of(program, member, &one)?;
        let (seconds, per_row, per_evaluation) = fit.ours(&one)?;
        ours.add(seconds, per_evaluation);
        println!(
            "{:<32} {seconds:>9.2} {:>7.2}x {per_row:>12.5} {per_evaluation:>14.4} {:>24}",
            format!("mcdrop, split {split}"),
            1.0,
            ""
        );
        for (k, rule) in peer_rules(args.gp_peer_stop, fit.n, per_row).into_iter().enumerate() {
            let peer = match run_peer(args, fit.dir.path(), &one, &rule) {
                Ok(peer) => peer,
                Err(e) => {
                    println!("gpytorch peer: not run ({e:#})");
                    return Ok(());
                }
            };
            if peers.len() <= k {
                peers.push((rule.label, Timing::default()));
            }
            peers[k].1.add(peer.seconds, peer.seconds_per_evaluation);
            println!(
                "{:<32} {:>9.2} {:>7.2}x {:>12.5} {:>14.4} {:>24}",
                format!("{}, split {split}", rule.label),
                peer.seconds,
                seconds / peer.seconds,
                peer.nlml_per_row,
                peer.seconds_per_evaluation,
                format!("{}/{} ({} failed)", peer.iterations, peer.evaluations, peer.failed)
            );
        }
    }
    for (label, peer) in &peers {
        println!(
            "mcdrop is {:.2}x faster per fit than {label} ({fits} fit(s): {:.2} s against {:.2} s), {:.2}x per evaluation",
            peer.seconds / ours.seconds,
            ours.seconds,
            peer.seconds,
            peer.per_evaluation / ours.per_evaluation
        );
    }
    Ok(())
}

/// Seconds summed over fits: whole fits, and one evaluation at each fit's start.
#[derive(Default)]
struct Timing {
    seconds: f64,
    per_evaluation: f64,
}

impl Timing {
    fn add(&mut self, seconds: f64, per_evaluation: f64) {
        self.seconds += seconds;
        self.per_evaluation += per_evaluation;
    }
}

/// One member's data and start, also written where the peer reads them.
/// # Shapes
/// inducing: [1, M, D], the sparse fit's starting inducing inputs; `None` for an exact fit.
struct OneFit {
    x: Tensor,
    y: Tensor,
    seed: u64,
    start: Vec<f64>,
    inducing: Option<Tensor>,
    n: i64,
    dir: tempfile::TempDir,
}

impl OneFit {
    fn of(program: &Program, member: usize, plan: &GpPlan) -> anyhow::Result<OneFit> {
        let (s, n, d) = (program.members.len() as i64, program.n() as i64, program.held_x.size()[2]);
        let pick = |t: &Tensor, shape: &[i64]| t.f_view(shape)?.f_narrow(0, member as i64, 1)?.f_to_kind(Kind::Double);
        let x = pick(&program.stacked.x, &[s, n, d])?;
        let y = pick(&program.stacked.y, &[s, n])?;
        let seed = program.members[member].seed;
        // Each fit's own starts: the exact fit's one restart has no inducing inputs to place.
        let (mut starts, inducing) = if program.n() > plan.max_rows {
            let (starts, z0) = sparse::lbfgs_starts(&x, &[seed], plan)?;
            (starts, Some(z0))
        } else {
            (restart_starts(&[seed], 1, d, |_, _| {}), None)
        };
        let start = starts.swap_remove(0);
        let dir = tempfile::tempdir().context("a scratch folder for the peer's input")?;
        write_rows(&dir.path().join("x.txt"), &x.f_view([n, d])?, d)?;
        write_rows(&dir.path().join("y.txt"), &y.f_view([n, 1])?, 1)?;
        write_rows(&dir.path().join("start.txt"), &Tensor::from_slice(&start).f_view([-1, 1])?, 1)?;
        if let Some(z0) = &inducing {
            write_rows(&dir.path().join("z.txt"), &z0.f_get(0)?, d)?;
        }
        Ok(OneFit { x, y, seed, start, inducing, n, dir })
    }

    /// Our fit: its seconds, NLML per row, and seconds per evaluation at its start.
    fn ours(&self, plan: &GpPlan) -> anyhow::Result<(f64, f64, f64)> {
        let per_evaluation = seconds_per_evaluation(&self.x, &self.y, &self.start, self.inducing.as_ref(), plan)?;
        let began = Instant::now();
        let nlml = if self.inducing.is_some() {
            sparse::fit(&self.x, &self.y, &[self.seed], plan, &Silent)?.1
        } else {
            exact::fit(&self.x, &self.y, &[self.seed], plan, &Silent)?.1
        };
        let seconds = began.elapsed().as_secs_f64();
        Ok((seconds, f64::try_from(nlml.f_get(0)?)? / self.n as f64, per_evaluation))
    }
}

/// When one peer fit stops: torch.optim.LBFGS's two tolerances on the loss per row.
struct PeerRule {
    label: &'static str,
    tolerance_grad: f64,
    tolerance_change: f64,
}

/// The peer fits `stop` asks for. Ours, restated for the loss per row: scipy's pgtol bounds
/// the total's gradient, so the per-row one by pgtol / n; its relative decrease
/// factr eps max(|f|, 1) on the total is an absolute one of factr eps max(|f|, 1 / n) per row,
/// taken at the value our fit ended at (torch's rule has no relative form).
fn peer_rules(stop: PeerStop, n: i64, ours_per_row: f64) -> Vec<PeerRule> {
    let torch = PeerRule { label: "gpytorch", tolerance_grad: 1e-7, tolerance_change: 1e-9 };
    let scipy = LbfgsSettings::scipy(0);
    let rows = n as f64;
    let ours = PeerRule {
        label: "gpytorch, our stop rule",
        tolerance_grad: scipy.g_tolerance / rows,
        tolerance_change: scipy.f_tolerance * ours_per_row.abs().max(1.0 / rows),
    };
    match stop {
        PeerStop::Torch => vec![torch],
        PeerStop::Ours => vec![ours],
        PeerStop::Both => vec![torch, ours],
    }
}

/// Seconds per evaluation of the objective and its gradient at the start (`start`'s kernel
/// row and, for the sparse bound, `inducing`), after one untimed evaluation.
fn seconds_per_evaluation(
    x: &Tensor,
    y: &Tensor,
    start: &[f64],
    inducing: Option<&Tensor>,
    plan: &GpPlan,
) -> anyhow::Result<f64> {
    let kernel = || GpParams::from_rows(&[start.to_vec()], x.size()[2], x.device());
    let evaluate = || -> anyhow::Result<()> {
        if let Some(z0) = inducing {
            let p = sparse::SparseParams { kernel: kernel()?, inducing: z0.shallow_clone() };
            let _ = sparse::bound_and_gradient(x, y, &p, plan.noise_floor, sparse::rows_per_pass(x, &p))?;
        } else {
            let _ = exact::nlml_with_gradient(x, y, &kernel()?, plan.noise_floor)?;
        }
        Ok(())
    };
    evaluate()?;
    let start = Instant::now();
    for _ in 0..TIMED_EVALUATIONS {
        evaluate()?;
    }
    Ok(start.elapsed().as_secs_f64() / TIMED_EVALUATIONS as f64)
}

/// A matrix [rows, columns] as text, one row a line, every value written so that it reads
/// back to the same bits.
fn write_rows(path: &Path, t: &Tensor, columns: i64) -> anyhow::Result<()> {
    let values = f64_values(t)?;
    let mut text = String::with_capacity(values.len() * 24);
    for row in values.chunks(columns as usize) {
        let line: Vec<String> = row.iter().map(|v| format!("{v:?}")).collect();
        let _ = writeln!(text, "{}", line.join(" "));
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn run_peer(args: &BenchArgs, dir: &Path, plan: &GpPlan, rule: &PeerRule) -> anyhow::Result<PeerFit> {
    let peer_args = [
        dir.display().to_string(),
        "--iterations".into(),
        plan.iterations.to_string(),
        "--threads".into(),
        tch::get_num_threads().max(1).to_string(),
        "--noise-floor".into(),
        plan.noise_floor.to_string(),
        "--time-evaluations".into(),
        TIMED_EVALUATIONS.to_string(),
        "--tolerance-grad".into(),
        format!("{:?}", rule.tolerance_grad),
        "--tolerance-change".into(),
        format!("{:?}", rule.tolerance_change),
    ];
    let needs = "gpytorch: `.venv/bin/pip install gpytorch`";
    let stdout = super::peer::run(&args.python, &args.gp_peer, &peer_args, needs)?;
    let field = |key: &str| super::peer::field(&stdout, key);
    Ok(PeerFit {
        seconds: field("seconds")?,
        evaluations: field("evaluations")? as u64,
        iterations: field("iterations")? as u64,
        nlml_per_row: field("nlml_per_row")?,
        failed: field("failed_evaluations").map_or(0, |f| f as u64),
        seconds_per_evaluation: field("seconds_per_evaluation")?,
    })
}
