//! The sparse GP's fits: Adam (raced or not) on `SparseParams` variables, and L-BFGS on host
//! points through `BoundObjective`.

use tch::{Kind, Tensor};

use super::super::kernel::GpParams;
use super::super::lbfgs::Evaluation;
use super::super::optimize::{
    evaluate_or_back_away, float64_store, lbfgs_restarts, linear_surrogate, minimize_restarts, phase, variables,
    RacePhases,
};
use super::bound::{negative_bound, rows_per_pass};
use super::gradient::{bound_and_gradient, BoundGradient};
use super::params::SparseParams;
use super::starts::{initial_params, lbfgs_starts};
use crate::error::Result;
use crate::models::family::Progress;
use crate::models::nn::host::f64_values;
use crate::spec::{GpOptimizer, GpPlan};

/// Fits kernel and inducing inputs from `plan.restarts` starts per member and keeps the
/// restart with the lowest final negative bound, by the plan's optimizer; `plan.inducing`
/// inducing inputs, `progress` advances by `plan.iterations` in all; Adam's gradient as
/// `BoundGradient::for_program` picks.
/// x: [S, n, D], y: [S, n] (float64).
pub fn fit(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(SparseParams, Tensor)> {
    match plan.optimizer {
        GpOptimizer::Adam => fit_with(x, y, seeds, plan, progress, None),
        GpOptimizer::Lbfgs => fit_lbfgs(x, y, seeds, plan, progress),
    }
}

/// `fit` by Adam with the gradient chosen by the caller (`None`: by the memory budget, or the
/// passes where the plan races), every restart at once or, where the plan races, every restart
/// for `race_after` steps and then each member's lowest alone (`RacePhases`).
pub fn fit_with(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
    gradient: Option<BoundGradient>,
) -> Result<(SparseParams, Tensor)> {
    let phases = RacePhases::of(plan);
    let vs = float64_store(x.device());
    let starts = initial_params(&vs, x, seeds, plan.restarts as i64, plan.inducing)?;
    // The budget's choice keeps uci-gp's bits; a raced fit has no earlier bits to keep, and the
    // passes cost half autograd's flops.
    let gradient = if phases.alone > 0 { gradient.or(Some(BoundGradient::TwoPass)) } else { gradient };
    let raced = adam_steps(&vs, &starts, x, y, &phase(plan, plan.restarts, phases.raced), progress, gradient)?;
    if phases.alone == 0 {
        return Ok(raced);
    }
    let (chosen, _) = raced;
    let vs = float64_store(x.device());
    let survivors = SparseParams {
        kernel: variables(&vs, &chosen.kernel)?,
        inducing: vs.root().f_var_copy("inducing", &chosen.inducing)?,
    };
    adam_steps(&vs, &survivors, x, y, &phase(plan, 1, phases.alone), progress, gradient)
}

/// Adam on `params` (variables of `vs`, `plan.restarts` per member of x) for
/// `plan.iterations` steps; each member's restart with the lowest final bound, and that bound.
fn adam_steps(
    vs: &tch::nn::VarStore,
    params: &SparseParams,
    x: &Tensor,
    y: &Tensor,
    plan: &GpPlan,
    progress: &dyn Progress,
    gradient: Option<BoundGradient>,
) -> Result<(SparseParams, Tensor)> {
    let (s, r) = (x.size()[0], plan.restarts as i64);
    let xr = x.f_repeat_interleave_self_int(r, 0, None)?;
    let yr = y.f_repeat_interleave_self_int(r, 0, None)?;
    let chunk = rows_per_pass(&xr, params);
    let gradient = gradient.unwrap_or_else(|| BoundGradient::for_program(&xr, params));
    let surrogate = || -> Result<Tensor> {
        if gradient == BoundGradient::Autograd {
            return Ok(negative_bound(&xr, &yr, params, plan.noise_floor)?.f_sum(Kind::Double)?);
        }
        let (_, g) = bound_and_gradient(&xr, &yr, params, plan.noise_floor, chunk)?;
        let k = &params.kernel;
        linear_surrogate(&[
            (&k.log_lengthscales, &g.kernel.log_lengthscales),
            (&k.log_signal_std, &g.kernel.log_signal_std),
            (&k.log_noise_std, &g.kernel.log_noise_std),
            (&params.inducing, &g.inducing),
        ])
    };
    let objective = || negative_bound(&xr, &yr, params, plan.noise_floor);
    let (best, final_bound) = minimize_restarts(vs, plan, s, r, surrogate, objective, progress)?;
    let chosen = SparseParams {
        kernel: params.kernel.pick(&best)?,
        inducing: tch::no_grad(|| params.inducing.f_index_select(0, &best))?.detach(),
    };
    Ok((chosen, final_bound.f_index_select(0, &best)?))
}

/// L-BFGS on each member's restarts, to convergence or `plan.iterations` iterations, over the
/// kernel and (where `plan.learn_inducing`) the inducing inputs, which start where
/// `plan.inducing_init` puts them.
fn fit_lbfgs(
    x: &Tensor,
    y: &Tensor,
    seeds: &[u64],
    plan: &GpPlan,
    progress: &dyn Progress,
) -> Result<(SparseParams, Tensor)> {
    let (r, n, d) = (plan.restarts, x.size()[1], x.size()[2]);
    let m = (plan.inducing as i64).min(n);
    let (mut starts, z0) = lbfgs_starts(x, seeds, plan)?;
    if plan.learn_inducing {
        append_per_point(&mut starts, &z0)?;
    }
    let objective =
        BoundObjective { x, y, fixed: (!plan.learn_inducing).then_some(&z0), m, d, noise_floor: plan.noise_floor };
    let evaluate = |who: &[usize], points: &[Vec<f64>]| -> Result<Vec<Evaluation>> {
        let members: Vec<i64> = who.iter().map(|k| (k / r) as i64).collect();
        let restarts: Vec<i64> = who.iter().map(|&k| k as i64).collect();
        objective.evaluations(&members, &restarts, points)
    };
    let best = lbfgs_restarts(starts, r, plan, x.device(), evaluate, progress)?;
    let rows: Vec<Vec<f64>> = best.iter().map(|b| b.point.clone()).collect();
    let kernel = GpParams::from_rows(&rows, d, x.device())?;
    let inducing = if plan.learn_inducing {
        inducing_of(&rows, m, d, x.device())?
    } else {
        let index: Vec<i64> = best.iter().map(|b| b.index as i64).collect();
        z0.f_index_select(0, &Tensor::from_slice(&index).f_to_device(x.device())?)?
    };
    let values: Vec<f64> = best.iter().map(|b| b.value).collect();
    Ok((SparseParams { kernel, inducing }, Tensor::from_slice(&values).f_to_device(x.device())?))
}

/// The M x D inducing inputs that follow the kernel row in each host point: [points, M, D].
fn inducing_of(points: &[Vec<f64>], m: i64, d: i64, device: tch::Device) -> Result<Tensor> {
    let flat: Vec<f64> = points.iter().flat_map(|p| p[(d + 2) as usize..].iter().copied()).collect();
    Ok(Tensor::from_slice(&flat).f_view([points.len() as i64, m, d])?.f_to_device(device)?)
}

/// Appends to each host point its member's slice of `per_point` ([points, ...]).
fn append_per_point(points: &mut [Vec<f64>], per_point: &Tensor) -> Result<()> {
    let flat = f64_values(per_point)?;
    let per = flat.len() / points.len().max(1);
    points.iter_mut().zip(flat.chunks(per.max(1))).for_each(|(point, values)| point.extend_from_slice(values));
    Ok(())
}

/// The negative bound of members of x and y at host points: each point is the kernel row
/// followed, when `fixed` is `None`, by the M x D inducing inputs, else they are `fixed`'s
/// rows of the member-restart.
struct BoundObjective<'a> {
    x: &'a Tensor,
    y: &'a Tensor,
    fixed: Option<&'a Tensor>,
    m: i64,
    d: i64,
    noise_floor: f64,
}

impl BoundObjective<'_> {
    /// The negative bound and its gradient at `points` for the member-restarts `restarts` (of
    /// the members `members`), as `evaluate_or_back_away` asks for them.
    fn evaluations(&self, members: &[i64], restarts: &[i64], points: &[Vec<f64>]) -> Result<Vec<Evaluation>> {
        evaluate_or_back_away(members.len(), points[0].len(), |range| {
            self.evaluate_together(&members[range.clone()], &restarts[range.clone()], &points[range])
        })
    }

    /// `evaluations` of every point in one batch.
    fn evaluate_together(&self, members: &[i64], restarts: &[i64], points: &[Vec<f64>]) -> Result<Vec<Evaluation>> {
        let BoundObjective { x, y, fixed, m, d, noise_floor } = *self;
        let device = x.device();
        let index = Tensor::from_slice(members).f_to_device(device)?;
        let (xb, yb) = (x.f_index_select(0, &index)?, y.f_index_select(0, &index)?);
        let kernel = GpParams::from_rows(points, d, device)?;
        let inducing = match fixed {
            Some(z) => z.f_index_select(0, &Tensor::from_slice(restarts).f_to_device(device)?)?,
            None => inducing_of(points, m, d, device)?,
        };
        let p = SparseParams { kernel, inducing };
        let (value, g) = bound_and_gradient(&xb, &yb, &p, noise_floor, rows_per_pass(&xb, &p))?;
        let mut rows = g.kernel.to_rows()?;
        if fixed.is_none() {
            append_per_point(&mut rows, &g.inducing)?;
        }
        let values = f64_values(&value)?;
        Ok(rows.into_iter().zip(values).map(|(gradient, value)| Evaluation { value, gradient }).collect())
    }
}
