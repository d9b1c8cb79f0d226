//! Where each member-restart's fit starts: Adam's variables at random training rows, and
//! L-BFGS's host points with inducing inputs at random rows or by greedy variance.

use tch::{Kind, Tensor};

use super::super::kernel::{se_ard, GpParams};
use super::super::optimize::{restart_params, restart_starts};
use super::params::SparseParams;
use crate::error::Result;
use crate::rng::{below, shuffle, MemberRng};
use crate::spec::{GpPlan, InducingInit};

/// Starting parameters of S members x R restarts as variables of `vs` (member-restart (i, j)
/// at i * R + j): `restart_params`' kernels, and inducing inputs at M distinct training rows
/// of each member-restart, drawn on the member's own stream.
/// x: [S, n, D] (float64) -> inducing [S * R, M, D]
pub fn initial_params(
    vs: &tch::nn::VarStore,
    x: &Tensor,
    seeds: &[u64],
    r: i64,
    inducing: usize,
) -> Result<SparseParams> {
    let (s, n, d) = (seeds.len() as i64, x.size()[1], x.size()[2]);
    let m = (inducing as i64).min(n);
    let mut rows = Vec::new();
    let kernel = restart_params(vs, seeds, r, d, |i, rng| {
        rows.extend(random_rows(rng, n, m).into_iter().map(|k| i as i64 * n + k));
    })?;
    let index = Tensor::from_slice(&rows).f_to_device(x.device())?;
    let z0 = x.f_reshape([s * n, d])?.f_index_select(0, &index)?.f_view([s * r, m, d])?;
    Ok(SparseParams { kernel, inducing: vs.root().f_var_copy("inducing", &z0)? })
}

/// Where L-BFGS starts each member-restart (member i, restart j at i * R + j): the kernel row
/// of `restart_starts` and the inducing inputs `plan.inducing_init` puts there, [S * R, M, D].
pub fn lbfgs_starts(x: &Tensor, seeds: &[u64], plan: &GpPlan) -> Result<(Vec<Vec<f64>>, Tensor)> {
    let (r, n, d) = (plan.restarts, x.size()[1], x.size()[2]);
    let m = (plan.inducing as i64).min(n);
    let mut picks = Vec::new();
    let starts = restart_starts(seeds, r as i64, d, |_, rng| picks.push(first_pick(plan.inducing_init, rng, n, m)));
    let mut z0 = Vec::with_capacity(starts.len());
    for (k, (start, pick)) in starts.iter().zip(picks).enumerate() {
        let member = x.f_get((k / r) as i64)?;
        let rows = match pick {
            FirstPick::Rows(rows) => rows,
            FirstPick::Pivot(first) => greedy_variance(&member, start, m, first)?,
        };
        z0.push(member.f_index_select(0, &Tensor::from_slice(&rows).f_to_device(x.device())?)?);
    }
    Ok((starts, Tensor::f_stack(&z0, 0)?))
}

/// What a member-restart's draws decide about its inducing inputs: M training rows at random,
/// or the first pivot of the greedy selection.
enum FirstPick {
    Rows(Vec<i64>),
    Pivot(i64),
}

fn first_pick(init: InducingInit, rng: &mut MemberRng, n: i64, m: i64) -> FirstPick {
    match init {
        InducingInit::Random => FirstPick::Rows(random_rows(rng, n, m)),
        InducingInit::GreedyVariance => FirstPick::Pivot(below(rng, n as usize) as i64),
    }
}

/// M distinct rows of n, drawn on a member-restart's stream.
fn random_rows(rng: &mut MemberRng, n: i64, m: i64) -> Vec<i64> {
    let mut order: Vec<i64> = (0..n).collect();
    shuffle(rng, &mut order);
    order.truncate(m as usize);
    order
}

/// M rows of `x` [n, D] chosen by greedy variance (Burt, Rasmussen & van der Wilk 2020): a
/// pivoted Cholesky of the kernel matrix at `start`'s kernel, each pivot the row whose
/// variance the rows chosen so far explain least, beginning at `first`.
pub fn greedy_variance(x: &Tensor, start: &[f64], m: i64, first: i64) -> Result<Vec<i64>> {
    let _guard = tch::no_grad_guard();
    let (n, d) = (x.size()[0], x.size()[1]);
    let kernel = GpParams::from_rows(&[start.to_vec()], d, x.device())?;
    let rows = x.f_unsqueeze(0)?;
    let mut residual = Tensor::f_full([n], (2.0 * start[d as usize]).exp(), (Kind::Double, x.device()))?;
    let factor = Tensor::f_zeros([m, n], (Kind::Double, x.device()))?;
    let mut chosen = vec![first];
    for j in 0..m {
        let pivot = chosen[j as usize];
        let column = se_ard(&rows.f_narrow(1, pivot, 1)?, &rows, &kernel)?.f_view([n])?;
        let explained = if j == 0 {
            column.f_zeros_like()?
        } else {
            let earlier = factor.f_narrow(0, 0, j)?;
            earlier.f_transpose(0, 1)?.f_mv(&earlier.f_select(1, pivot)?)?
        };
        let scale = f64::try_from(residual.f_get(pivot)?)?.max(f64::MIN_POSITIVE).sqrt();
        let next = column.f_sub(&explained)?.f_div_scalar(scale)?;
        factor.f_get(j)?.f_copy_(&next)?;
        // A chosen row is never chosen again: its residual stays -inf through the subtractions.
        residual = residual.f_sub(&next.f_square()?)?;
        residual =
            residual.f_index_fill(0, &Tensor::from_slice(&[pivot]).f_to_device(x.device())?, f64::NEG_INFINITY)?;
        if j + 1 < m {
            chosen.push(i64::try_from(residual.f_argmax(0, false)?)?);
        }
    }
    Ok(chosen)
}
