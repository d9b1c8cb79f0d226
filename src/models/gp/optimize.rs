//! Hyper-parameter optimisation shared by the exact and sparse GP: float64 variables, several
//! restarts per member, Adam on a surrogate loss that carries a gradient computed elsewhere or
//! L-BFGS on host vectors, and the pick of each member's best restart.

use std::ops::Range;

use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::kernel::GpParams;
use super::lbfgs::{lowest, minimize, Evaluation, LbfgsSettings, Race};
use crate::error::{Error, Result};
use crate::models::family::Progress;
use crate::rng::{member_rng, uniform, MemberRng};
use crate::spec::GpPlan;

/// A loss whose gradient is a gradient computed elsewhere, for an optimiser that steps on
/// `backward()`: sum(theta * g) over (theta, g) pairs, linear in each theta, has gradient g.
pub fn linear_surrogate(pairs: &[(&Tensor, &Tensor)]) -> Result<Tensor> {
    let mut total = Tensor::f_zeros([], (Kind::Double, pairs[0].0.device()))?;
    for (theta, g) in pairs {
        total = total.f_add(&theta.f_mul(&g.detach())?.f_sum(Kind::Double)?)?;
    }
    Ok(total)
}

/// A var store whose new variables are float64, like the kernel algebra (a VarStore's
/// variables default to float32).
pub fn float64_store(device: Device) -> nn::VarStore {
    let mut vs = nn::VarStore::new(device);
    vs.set_kind(Kind::Double);
    vs
}

/// Starting log hyper-parameters of S members x R restarts, one row [log l_1..l_D, log s_f,
/// log s_n] per member-restart; member (i, restart j) sits at i * R + j. Restart 0 starts at
/// unit length-scales (inputs are standardized), unit signal and noise std 0.1; the others are
/// perturbed. `after_restart(i, rng)` runs after each member-restart's draws, on the member's
/// own stream (the sparse GP draws its inducing rows there).
pub fn restart_starts(
    seeds: &[u64],
    r: i64,
    d: i64,
    mut after_restart: impl FnMut(usize, &mut MemberRng),
) -> Vec<Vec<f64>> {
    let mut rows = Vec::new();
    for (i, &seed) in seeds.iter().enumerate() {
        let mut rng = member_rng(seed);
        for j in 0..r {
            let jitter = |rng: &mut _, width: f64| if j == 0 { 0.0 } else { (2.0 * uniform(rng) - 1.0) * width };
            let mut row: Vec<f64> = (0..d).map(|_| jitter(&mut rng, 1.0)).collect();
            row.push(jitter(&mut rng, 0.5));
            row.push(0.1f64.ln() + jitter(&mut rng, 1.0));
            after_restart(i, &mut rng);
            rows.push(row);
        }
    }
    rows
}

/// `restart_starts` as variables of `vs`, for Adam.
pub fn restart_params(
    vs: &nn::VarStore,
    seeds: &[u64],
    r: i64,
    d: i64,
    after_restart: impl FnMut(usize, &mut MemberRng),
) -> Result<GpParams> {
    variables(vs, &GpParams::from_rows(&restart_starts(seeds, r, d, after_restart), d, vs.device())?)
}

/// Copies of `values` as variables of `vs`, for Adam.
pub fn variables(vs: &nn::VarStore, values: &GpParams) -> Result<GpParams> {
    let root = vs.root();
    Ok(GpParams {
        log_lengthscales: root.f_var_copy("log_lengthscales", &values.log_lengthscales)?,
        log_signal_std: root.f_var_copy("log_signal_std", &values.log_signal_std)?,
        log_noise_std: root.f_var_copy("log_noise_std", &values.log_noise_std)?,
    })
}

/// How a fit of `plan` spends its iterations: every restart for `raced`, then, when the plan
/// races (`race_after` short of the cap, more than one restart), each member's lowest restart
/// alone for `alone` more (Adam with its moments started afresh; L-BFGS where its cap or
/// convergence stops it first). A race saves the iterations of the restarts that lose it: on
/// protein's sparse GP, 360 of 600 member-steps a split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RacePhases {
    pub raced: usize,
    pub alone: usize,
}

impl RacePhases {
    pub fn of(plan: &GpPlan) -> RacePhases {
        match plan.race_after {
            Some(after) if plan.restarts > 1 && after < plan.iterations => {
                RacePhases { raced: after, alone: plan.iterations - after }
            }
            _ => RacePhases { raced: plan.iterations, alone: 0 },
        }
    }

    /// The share of a fit without a race (every one of `restarts` restarts through every
    /// iteration) that the phases cost at most: 1 without a race.
    pub fn share(&self, restarts: usize) -> f64 {
        if self.alone == 0 {
            return 1.0;
        }
        let alone = self.alone as f64 / restarts as f64;
        (self.raced as f64 + alone) / (self.raced + self.alone) as f64
    }
}

/// `plan` for one phase of a fit: `restarts` starting points, `iterations` steps.
pub fn phase(plan: &GpPlan, restarts: usize, iterations: usize) -> GpPlan {
    GpPlan { restarts, iterations, ..plan.clone() }
}

/// Each member's restarts minimized by L-BFGS from `starts` (member-restart i * R + j, as
/// `restart_starts` orders them), `plan.iterations` iterations at most. On the CPU one
/// member's restarts go through `evaluate` at a time, so that a member's numbers do not depend
/// on which other splits share its program; on a GPU every member at once, to fill it.
/// `evaluate(member_restarts, points)` gives the objective and its gradient. Returns each
/// member's best restart (lowest value; a non-finite value counts as worst); `progress`
/// advances by `plan.iterations` in all.
pub fn lbfgs_restarts(
    starts: Vec<Vec<f64>>,
    r: usize,
    plan: &GpPlan,
    device: Device,
    mut evaluate: impl FnMut(&[usize], &[Vec<f64>]) -> Result<Vec<Evaluation>>,
    progress: &dyn Progress,
) -> Result<Vec<BestRestart>> {
    let s = starts.len() / r;
    let group = if device.is_cuda() { s } else { 1 };
    let phases = RacePhases::of(plan);
    let race = (phases.alone > 0).then_some(Race { restarts: r, after: phases.raced });
    let settings = LbfgsSettings { race, ..LbfgsSettings::scipy(plan.iterations) };
    let mut best = Vec::with_capacity(s);
    let mut starts = starts.into_iter();
    let groups = s.div_ceil(group);
    for g in 0..groups {
        let first = g * group * r;
        let these: Vec<Vec<f64>> = starts.by_ref().take(group * r).collect();
        let minima = minimize(
            these,
            &settings,
            |who, points| {
                let global: Vec<usize> = who.iter().map(|k| first + k).collect();
                evaluate(&global, points)
            },
            |_| {},
        )?;
        for (i, restarts) in minima.chunks(r).enumerate() {
            let j = lowest(restarts.iter().map(|m| m.value));
            let chosen = &restarts[j];
            tracing::debug!(
                "gp lbfgs: {:?}",
                restarts.iter().map(|m| (m.value, m.iterations, m.evaluations, m.stop)).collect::<Vec<_>>()
            );
            best.push(BestRestart { index: first + i * r + j, point: chosen.x.clone(), value: chosen.value });
        }
        let done = |k: usize| (k * plan.iterations / groups) as u64;
        progress.advance(done(g + 1) - done(g));
    }
    Ok(best)
}

/// `evaluate(range)` of the points `range` of a call, all `count` at once; when a kernel no
/// jitter rescues fails the batch, each point alone, and a point that fails alone gets an
/// infinite value (the line search backs away from it). `width`: the variables of a point.
pub fn evaluate_or_back_away(
    count: usize,
    width: usize,
    evaluate: impl Fn(Range<usize>) -> Result<Vec<Evaluation>>,
) -> Result<Vec<Evaluation>> {
    let infinite = || Evaluation { value: f64::INFINITY, gradient: vec![0.0; width] };
    match evaluate(0..count) {
        Err(Error::NotPositiveDefinite { .. }) if count == 1 => Ok(vec![infinite()]),
        Err(Error::NotPositiveDefinite { .. }) => (0..count)
            .map(|i| match evaluate(i..i + 1) {
                Err(Error::NotPositiveDefinite { .. }) => Ok(infinite()),
                alone => Ok(alone?.remove(0)),
            })
            .collect(),
        all => all,
    }
}

/// A member's best restart.
pub struct BestRestart {
    /// Its member-restart index, i * R + j.
    pub index: usize,
    pub point: Vec<f64>,
    pub value: f64,
}

/// Adam on every variable of `vs` for `plan.iterations` steps on `loss` (a scalar whose
/// gradient is that of the sum of `objective`), advancing `progress` after each; then each
/// member's restart with the lowest final `objective` (one value per member-restart, [S * R],
/// member-major; NaN counts as worst). Returns [S] indices into the S * R batch and the
/// final values.
pub fn minimize_restarts(
    vs: &nn::VarStore,
    plan: &GpPlan,
    s: i64,
    r: i64,
    loss: impl Fn() -> Result<Tensor>,
    objective: impl Fn() -> Result<Tensor>,
    progress: &dyn Progress,
) -> Result<(Tensor, Tensor)> {
    let mut adam = nn::Adam::default().build(vs, plan.lr)?;
    for _ in 0..plan.iterations {
        let loss = loss()?;
        adam.zero_grad();
        loss.f_backward()?;
        adam.step();
        progress.advance(1);
    }
    let final_values = tch::no_grad(&objective)?;
    let per_member = final_values.f_view([s, r])?.f_nan_to_num(f64::INFINITY, f64::INFINITY, f64::INFINITY)?;
    let offsets = Tensor::f_arange_start_step(0, s * r, r, (Kind::Int64, final_values.device()))?;
    Ok((per_member.f_argmin(1i64, false)?.f_add(&offsets)?, final_values))
}
