//! The rl task's plan (section 5.4): the world's schedule from `task.rl`, the agents from
//! `model.deep_q`, and the rules that tie them.

use std::path::Path;

use super::check::rule_error;
use super::raw::{Model, RawSpec, RlPolicy, RlTask, ThompsonDropout};
use crate::error::Result;

/// Section 5.4: per policy, one program of `seeds` deep-Q agents, each `ticks` ticks in a
/// room of its own.
#[derive(Debug, Clone)]
pub struct RlPlan {
    pub seeds: usize,
    pub ticks: usize,
    pub burnin_ticks: usize,
    pub batch_ticks: usize,
    pub reward_window: usize,
    pub reward_threshold: f64,
    pub policies: Vec<RlPolicy>,
    pub hidden: Vec<usize>,
    pub thompson_dropout: ThompsonDropout,
    pub gamma: f64,
    pub lr: f64,
    pub l2_decay: f64,
    pub batch_size: usize,
    pub replay_size: usize,
    pub learn_after: usize,
    pub epsilon_min: f64,
    pub epsilon_ticks: usize,
}

pub(super) fn rl_plan(raw: &RawSpec, task: &RlTask, path: &Path, text: &str) -> Result<RlPlan> {
    let Model::DeepQ(q) = &raw.model else {
        return Err(rule_error(
            path,
            text,
            "model",
            "model: the rl task trains `deep_q` agents; write `model: {deep_q: {}}`",
        ));
    };
    for (section, present) in [("training", raw.training.is_some()), ("evaluation", raw.evaluation.is_some())] {
        if present {
            return Err(rule_error(
                path,
                text,
                section,
                &format!("{section}: the rl task takes its trainer settings from model.deep_q; remove this section"),
            ));
        }
    }
    if q.policies.is_empty() {
        return Err(rule_error(
            path,
            text,
            "policies",
            "model.deep_q.policies: list at least one (thompson, epsilon_greedy)",
        ));
    }
    if let Some(dup) = q.policies.iter().enumerate().find(|(i, p)| q.policies[..*i].contains(p)).map(|(_, p)| p) {
        return Err(rule_error(
            path,
            text,
            "policies",
            &format!("model.deep_q.policies: {} is listed twice; list each policy once", dup.name()),
        ));
    }
    if q.hidden_units.is_empty() {
        return Err(rule_error(path, text, "hidden_units", "model.deep_q.hidden_units: list at least one layer width"));
    }
    let (ticks, burnin) = (task.ticks.get(), task.burnin_ticks.get());
    if burnin >= ticks {
        return Err(rule_error(
            path,
            text,
            "burnin_ticks",
            &format!("task.rl.burnin_ticks: {burnin} leaves no ticks after burn-in of the {ticks}; make it smaller"),
        ));
    }
    if task.batch_ticks.get() > ticks {
        return Err(rule_error(
            path,
            text,
            "batch_ticks",
            "task.rl.batch_ticks: longer than the run; make it at most `ticks`",
        ));
    }
    if q.epsilon_ticks.get() <= burnin {
        return Err(rule_error(
            path,
            text,
            "epsilon_ticks",
            "model.deep_q.epsilon_ticks: epsilon falls from the end of burn-in to here; make it larger than task.rl.burnin_ticks",
        ));
    }
    if q.learn_after.get() >= q.replay_size.get() {
        return Err(rule_error(
            path,
            text,
            "learn_after",
            "model.deep_q.learn_after: learning would never start; make it smaller than replay_size",
        ));
    }
    Ok(RlPlan {
        seeds: task.seeds.get(),
        ticks,
        burnin_ticks: burnin,
        batch_ticks: task.batch_ticks.get(),
        reward_window: task.reward_window.get(),
        reward_threshold: task.reward_threshold.get(),
        policies: q.policies.clone(),
        hidden: q.hidden_units.iter().map(|c| c.get()).collect(),
        thompson_dropout: q.thompson_dropout,
        gamma: q.gamma.get(),
        lr: q.lr.get(),
        l2_decay: q.l2_decay.get(),
        batch_size: q.batch_size.get(),
        replay_size: q.replay_size.get(),
        learn_after: q.learn_after.get(),
        epsilon_min: q.epsilon_min.get(),
        epsilon_ticks: q.epsilon_ticks.get(),
    })
}
