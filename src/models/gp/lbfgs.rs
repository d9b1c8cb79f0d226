//! Limited-memory BFGS (Nocedal & Wright, algorithm 7.4 and 7.5) for the GP's marginal
//! likelihood, as GPflow and scikit-learn fit their GPs through scipy: several independent
//! problems of the same size advance together, so that one call of the objective evaluates
//! every member still moving (a GPU keeps its batch; on the CPU a caller may pass one member).
//!
//! The step is found by backtracking from 1 (the first step from 1 / |g|_1, as PyTorch's LBFGS
//! does) until the Armijo condition holds, with a safeguarded quadratic interpolation; a pair
//! (s, y) enters the memory only where s.y > 0, which keeps the inverse-Hessian estimate
//! positive definite without a Wolfe search. A member stops, as scipy's L-BFGS-B does, when
//! its relative decrease falls below `f_tolerance` or its largest gradient component below
//! `g_tolerance`; or after `max_iterations`; or when no step along its direction decreases it.
//! All of it is host f64 arithmetic in a fixed order, so the same evaluations give the same
//! bits on any machine.

use std::collections::VecDeque;

use crate::error::Result;

/// When the iteration stops and how much it remembers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsSettings {
    pub max_iterations: usize,
    /// Correction pairs kept (scipy's and PyTorch's default: 10).
    pub memory: usize,
    /// Stop when (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) is at most this (scipy's factr 1e7
    /// times machine epsilon).
    pub f_tolerance: f64,
    /// Stop when every gradient component is at most this in magnitude (scipy's pgtol).
    pub g_tolerance: f64,
    /// Restarts of one problem that race: consecutive groups of `restarts` members, of which
    /// only the lowest goes on after `after` iterations.
    pub race: Option<Race>,
}

/// Several starts of one problem sharing their work: after `after` iterations only the
/// lowest of each group of `restarts` consecutive members goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Race {
    pub restarts: usize,
    pub after: usize,
}

impl LbfgsSettings {
    /// scipy's L-BFGS-B defaults with the given iteration cap.
    pub fn scipy(max_iterations: usize) -> Self {
        LbfgsSettings { max_iterations, memory: 10, f_tolerance: 1e7 * f64::EPSILON, g_tolerance: 1e-5, race: None }
    }
}

/// The objective and its gradient at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub value: f64,
    pub gradient: Vec<f64>,
}

/// Why a member stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Its relative decrease fell below `f_tolerance`.
    Decrease,
    /// Its gradient fell below `g_tolerance`.
    Gradient,
    /// `max_iterations` were taken.
    Iterations,
    /// No step along the search direction decreased the objective (the point is as good as
    /// the arithmetic allows).
    LineSearch,
    /// Another restart of its group was lower when the race was decided.
    Outrun,
}

/// Where a member ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
    pub evaluations: usize,
    pub stop: Stop,
}

/// Sufficient decrease: f(x + t d) <= f(x) + ARMIJO t g.d.
const ARMIJO: f64 = 1e-4;
/// Trial steps per line search before the member stops with `Stop::LineSearch`.
const MAX_TRIALS: usize = 30;
/// Largest change of one variable in one step; the variables are logarithms of scales and
/// standardized inputs, and a step beyond this only overflows the kernel.
const MAX_STEP: f64 = 5.0;

struct Member {
    x: Vec<f64>,
    now: Evaluation,
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>,
    iterations: usize,
    evaluations: usize,
    stop: Option<Stop>,
}

/// A line search in progress: the direction, the slope along it, the step being tried.
struct Search {
    member: usize,
    direction: Vec<f64>,
    slope: f64,
    step: f64,
    trials: usize,
}

/// Minimizes from each of `starts` together. `evaluate(members, points)` returns the value
/// and gradient of each listed member's objective at its point (a non-finite value is a
/// point the line search backs away from); `after_iteration(k)` runs once the slowest member
/// has taken k iterations.
pub fn minimize(
    starts: Vec<Vec<f64>>,
    settings: &LbfgsSettings,
    mut evaluate: impl FnMut(&[usize], &[Vec<f64>]) -> Result<Vec<Evaluation>>,
    mut after_iteration: impl FnMut(usize),
) -> Result<Vec<Minimum>> {
    let everyone: Vec<usize> = (0..starts.len()).collect();
    let first = evaluate(&everyone, &starts)?;
    let mut members: Vec<Member> = starts
        .into_iter()
        .zip(first)
        .map(|(x, now)| {
            let stop = settled(&now.gradient, settings).or((settings.max_iterations == 0).then_some(Stop::Iterations));
            Member { x, now, pairs: VecDeque::new(), iterations: 0, evaluations: 1, stop }
        })
        .collect();
    for m in members.iter_mut().filter(|m| m.stop.is_none() && !m.now.value.is_finite()) {
        m.stop = Some(Stop::LineSearch);
    }
    let mut round = 0;
    while members.iter().any(|m| m.stop.is_none()) {
        let mut searches: Vec<Search> =
            members.iter().enumerate().filter(|(_, m)| m.stop.is_none()).map(|(i, m)| start_search(i, m)).collect();
        while !searches.is_empty() {
            let who: Vec<usize> = searches.iter().map(|s| s.member).collect();
            let points: Vec<Vec<f64>> = searches.iter().map(|s| trial_point(&members[s.member].x, s)).collect();
            let results = evaluate(&who, &points)?;
            let mut still = Vec::new();
            for ((mut search, point), result) in searches.into_iter().zip(points).zip(results) {
                let m = &mut members[search.member];
                m.evaluations += 1;
                search.trials += 1;
                if result.value.is_finite() && result.value <= m.now.value + ARMIJO * search.step * search.slope {
                    accept(m, point, result, settings);
                } else if search.trials >= MAX_TRIALS {
                    m.stop = Some(Stop::LineSearch);
                } else {
                    search.step = backtrack(&search, m.now.value, result.value);
                    still.push(search);
                }
            }
            searches = still;
        }
        round += 1;
        if let Some(race) = settings.race.filter(|race| race.after == round) {
            decide(&mut members, race.restarts);
        }
        after_iteration(round);
    }
    Ok(members
        .into_iter()
        .map(|m| Minimum {
            x: m.x,
            value: m.now.value,
            iterations: m.iterations,
            evaluations: m.evaluations,
            stop: m.stop.expect("every member stopped"),
        })
        .collect())
}

/// Stops every member of each group of `restarts` but the lowest (the first of equals; a
/// non-finite value is never lowest).
fn decide(members: &mut [Member], restarts: usize) {
    for group in members.chunks_mut(restarts) {
        let best = lowest(group.iter().map(|m| m.now.value));
        for (i, m) in group.iter_mut().enumerate() {
            if i != best && m.stop.is_none() {
                m.stop = Some(Stop::Outrun);
            }
        }
    }
}

/// The index of the lowest of `values`, the first of equals; a non-finite value is never lower
/// than a finite one.
pub fn lowest(values: impl Iterator<Item = f64>) -> usize {
    let worst = |v: f64| if v.is_finite() { v } else { f64::INFINITY };
    values
        .enumerate()
        .fold((0, f64::NAN), |(b, bv), (i, v)| if i == 0 || worst(v) < bv { (i, worst(v)) } else { (b, bv) })
        .0
}

fn settled(gradient: &[f64], settings: &LbfgsSettings) -> Option<Stop> {
    (max_abs(gradient) <= settings.g_tolerance).then_some(Stop::Gradient)
}

/// The quasi-Newton direction from the memory (steepest descent while it is empty or when
/// the memory's direction does not descend), its slope and the first step to try.
fn start_search(member: usize, m: &Member) -> Search {
    let g = &m.now.gradient;
    let mut direction = two_loop(g, &m.pairs);
    let mut slope = dot(g, &direction);
    let mut step = 1.0;
    if m.pairs.is_empty() || slope >= 0.0 {
        direction = g.iter().map(|v| -v).collect();
        slope = -dot(g, g);
        step = (1.0 / g.iter().map(|v| v.abs()).sum::<f64>()).min(1.0);
    }
    let longest = max_abs(&direction) * step;
    if longest > MAX_STEP {
        step *= MAX_STEP / longest;
    }
    Search { member, direction, slope, step, trials: 0 }
}

/// -H g by the two-loop recursion, H0 = (s.y / y.y) I from the newest pair.
fn two_loop(g: &[f64], pairs: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q = g.to_vec();
    let mut alphas = Vec::with_capacity(pairs.len());
    for (s, y, rho) in pairs.iter().rev() {
        let alpha = rho * dot(s, &q);
        axpy(-alpha, y, &mut q);
        alphas.push(alpha);
    }
    if let Some((s, y, _)) = pairs.back() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for ((s, y, rho), alpha) in pairs.iter().zip(alphas.into_iter().rev()) {
        let beta = rho * dot(y, &q);
        axpy(alpha - beta, s, &mut q);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

fn trial_point(x: &[f64], search: &Search) -> Vec<f64> {
    x.iter().zip(&search.direction).map(|(xi, di)| xi + search.step * di).collect()
}

/// The next, shorter step: the minimizer of the quadratic through f(0), f'(0) and f(t),
/// kept within [t / 10, t / 2]; t / 10 after a non-finite value.
fn backtrack(search: &Search, f0: f64, ft: f64) -> f64 {
    let t = search.step;
    if !ft.is_finite() {
        return t * 0.1;
    }
    let curvature = ft - f0 - search.slope * t;
    let interpolated = if curvature > 0.0 { -search.slope * t * t / (2.0 * curvature) } else { t * 0.5 };
    interpolated.clamp(t * 0.1, t * 0.5)
}

fn accept(m: &mut Member, point: Vec<f64>, result: Evaluation, settings: &LbfgsSettings) {
    let s: Vec<f64> = point.iter().zip(&m.x).map(|(a, b)| a - b).collect();
    let y: Vec<f64> = result.gradient.iter().zip(&m.now.gradient).map(|(a, b)| a - b).collect();
    let sy = dot(&s, &y);
    if sy > f64::EPSILON * dot(&y, &y) {
        if m.pairs.len() == settings.memory {
            m.pairs.pop_front();
        }
        m.pairs.push_back((s, y, 1.0 / sy));
    }
    let (before, after) = (m.now.value, result.value);
    m.x = point;
    m.now = result;
    m.iterations += 1;
    m.stop = if (before - after) / before.abs().max(after.abs()).max(1.0) <= settings.f_tolerance {
        Some(Stop::Decrease)
    } else if let Some(stop) = settled(&m.now.gradient, settings) {
        Some(stop)
    } else if m.iterations >= settings.max_iterations {
        Some(Stop::Iterations)
    } else {
        None
    };
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock's function in `n` dimensions, a classic hard case for quasi-Newton methods.
    fn rosenbrock(x: &[f64]) -> Evaluation {
        let mut value = 0.0;
        let mut gradient = vec![0.0; x.len()];
        for i in 0..x.len() - 1 {
            let (a, b) = (1.0 - x[i], x[i + 1] - x[i] * x[i]);
            value += a * a + 100.0 * b * b;
            gradient[i] += -2.0 * a - 400.0 * x[i] * b;
            gradient[i + 1] += 200.0 * b;
        }
        Evaluation { value, gradient }
    }

    fn run(starts: Vec<Vec<f64>>, settings: &LbfgsSettings) -> (Vec<Minimum>, Vec<usize>) {
        let mut batch_sizes = Vec::new();
        let minima = minimize(
            starts,
            settings,
            |who, points| {
                batch_sizes.push(who.len());
                Ok(points.iter().map(|p| rosenbrock(p)).collect())
            },
            |_| {},
        )
        .unwrap();
        (minima, batch_sizes)
    }

    #[test]
    fn finds_rosenbrocks_minimum_from_several_starts_at_once() {
        let settings = LbfgsSettings { g_tolerance: 1e-8, f_tolerance: 0.0, ..LbfgsSettings::scipy(500) };
        let (minima, batches) = run(vec![vec![-1.2, 1.0], vec![-1.2, 1.0, -1.2, 1.0, 0.5], vec![2.0; 5]], &settings);
        for m in &minima {
            assert!(m.x.iter().all(|v| (v - 1.0).abs() < 1e-5), "{m:?}");
            assert!(m.value < 1e-10, "{m:?}");
            assert!(m.iterations < 200, "{m:?}");
        }
        // Members that stop leave the batch: later calls evaluate fewer points.
        assert_eq!(batches[0], 3);
        assert!(batches.iter().any(|&b| b < 3), "{batches:?}");
    }

    #[test]
    fn a_member_alone_follows_the_same_path_as_in_a_batch() {
        let settings = LbfgsSettings::scipy(100);
        let alone = run(vec![vec![0.3, -0.7, 1.5]], &settings).0;
        let together = run(vec![vec![-1.2, 1.0, 0.0], vec![0.3, -0.7, 1.5]], &settings).0;
        assert_eq!(alone[0], together[1]);
    }

    #[test]
    fn stops_by_the_first_rule_that_holds() {
        let (m, _) = run(vec![vec![-1.2, 1.0]], &LbfgsSettings::scipy(3));
        assert_eq!((m[0].stop, m[0].iterations), (Stop::Iterations, 3));
        let (m, _) = run(vec![vec![1.0, 1.0]], &LbfgsSettings::scipy(100));
        assert_eq!((m[0].stop, m[0].iterations, m[0].evaluations), (Stop::Gradient, 0, 1));
        let (m, _) = run(vec![vec![-1.2, 1.0]], &LbfgsSettings::scipy(1000));
        assert_eq!(m[0].stop, Stop::Decrease, "{:?}", m[0]);
        assert!(m[0].value < 1e-6, "{:?}", m[0]);
    }

    #[test]
    fn a_race_leaves_the_lowest_restart_of_each_group_running() {
        let race = Race { restarts: 2, after: 3 };
        let settings = LbfgsSettings { race: Some(race), ..LbfgsSettings::scipy(200) };
        let starts = vec![vec![-1.2, 1.0], vec![0.9, 0.8], vec![3.0, -2.0], vec![-0.5, 0.5]];
        let free = run(starts.clone(), &LbfgsSettings::scipy(200)).0;
        let (raced, _) = run(starts, &settings);
        for pair in 0..2 {
            let (a, b) = (&raced[2 * pair], &raced[2 * pair + 1]);
            let outrun: Vec<&Minimum> = [a, b].into_iter().filter(|m| m.stop == Stop::Outrun).collect();
            assert_eq!(outrun.len(), 1, "{a:?} {b:?}");
            assert_eq!(outrun[0].iterations, 3);
            // The winner went on exactly as it would have alone.
            let winner = if a.stop == Stop::Outrun { 2 * pair + 1 } else { 2 * pair };
            assert_eq!(raced[winner], free[winner]);
        }
    }

    #[test]
    fn the_lowest_is_the_first_of_equals_and_never_non_finite() {
        assert_eq!(lowest([3.0, 1.0, 1.0, 2.0].into_iter()), 1);
        assert_eq!(lowest([f64::NAN, 5.0, f64::NEG_INFINITY].into_iter()), 1);
        assert_eq!(lowest([f64::NAN, f64::INFINITY].into_iter()), 0);
    }

    #[test]
    fn backs_away_from_non_finite_values() {
        // A quadratic bowl at 3 that is undefined beyond 4: the first steps overshoot into it.
        let settings = LbfgsSettings::scipy(100);
        let minima = minimize(
            vec![vec![-10.0]],
            &settings,
            |_, points| {
                Ok(points
                    .iter()
                    .map(|p| {
                        let x = p[0];
                        let value = if x > 4.0 { f64::NAN } else { (x - 3.0) * (x - 3.0) };
                        Evaluation { value, gradient: vec![2.0 * (x - 3.0)] }
                    })
                    .collect())
            },
            |_| {},
        )
        .unwrap();
        assert!((minima[0].x[0] - 3.0).abs() < 1e-4, "{:?}", minima[0]);
    }
}
