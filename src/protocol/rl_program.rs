//! One program of the rl experiment: the agents of one policy, one per seed, each in its own
//! room, stepped together tick by tick so that their networks run as one batched pass. A
//! checkpoint holds everything (networks, memories, rooms, every random stream, the curves
//! so far), so a killed program continues where it stopped, bit for bit on the CPU.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::Device;

use crate::error::Result;
use crate::models::checkpoint::{decode, encode, fingerprint, Checkpoints};
use crate::models::deep_q::{AgentSettings, Agents, AgentsState, EpsilonSchedule, Exploration};
pub use crate::results::outcome::TimeSplit;
use crate::rng::{derive_seed, member_rng};
use crate::spec::raw::{RlDropoutPlacement, RlPolicy};
use crate::spec::RlPlan;
use crate::world::World;

/// What a program leaves of one seed's run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub seed: usize,
    pub curve: Vec<f64>,
    pub total_reward: f64,
    pub food_eaten: usize,
    pub poison_eaten: usize,
}

/// The agents' settings for `policy` under `plan`.
pub fn agent_settings(plan: &RlPlan, policy: RlPolicy) -> AgentSettings {
    let layers = plan.hidden.len() + 1;
    let (exploration, dropout) = match policy {
        RlPolicy::EpsilonGreedy => (
            Exploration::EpsilonGreedy(EpsilonSchedule {
                burnin: plan.burnin_ticks as u64,
                total: plan.epsilon_ticks as u64,
                min: plan.epsilon_min,
            }),
            vec![0.0; layers],
        ),
        RlPolicy::Thompson => {
            let p = plan.thompson_dropout.rate.get();
            let dropout = match plan.thompson_dropout.placement {
                RlDropoutPlacement::EveryLayer => vec![p; layers],
                // Before the second weight layer: after the first hidden layer's ReLU.
                RlDropoutPlacement::AfterFirstHidden => (0..layers).map(|l| if l == 1 { p } else { 0.0 }).collect(),
            };
            (Exploration::Thompson { burnin: plan.burnin_ticks }, dropout)
        }
    };
    AgentSettings {
        exploration,
        dropout,
        hidden: plan.hidden.clone(),
        gamma: plan.gamma,
        lr: plan.lr,
        l2: plan.l2_decay,
        batch_size: plan.batch_size,
        replay_size: plan.replay_size,
        learn_after: plan.learn_after,
    }
}

/// How a record names the dropout a policy used.
pub fn dropout_label(plan: &RlPlan, policy: RlPolicy) -> String {
    match policy {
        RlPolicy::EpsilonGreedy => "none".into(),
        RlPolicy::Thompson => {
            let d = plan.thompson_dropout;
            let place = match d.placement {
                RlDropoutPlacement::EveryLayer => "every_layer",
                RlDropoutPlacement::AfterFirstHidden => "after_first_hidden",
            };
            format!("{place} p={}", d.rate.get())
        }
    }
}

/// The mean of the last `size` rewards (ConvNetJS's `cnnutil.Window`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RewardWindow {
    size: usize,
    values: Vec<f64>,
    next: usize,
}

impl RewardWindow {
    pub fn new(size: usize) -> Self {
        Self { size, values: Vec::with_capacity(size), next: 0 }
    }

    pub fn push(&mut self, reward: f64) {
        if self.values.len() < self.size {
            self.values.push(reward);
        } else {
            self.values[self.next] = reward;
        }
        self.next = (self.next + 1) % self.size;
    }

    pub fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len().max(1) as f64
    }
}

/// A program's state between ticks, as its checkpoint stores it (the tensors aside).
#[derive(Serialize, Deserialize)]
struct Header {
    fingerprint: String,
    ticks_done: usize,
    seconds_before: f64,
    agents: AgentsState,
    worlds: Vec<World>,
    windows: Vec<RewardWindow>,
    curves: Vec<Vec<f64>>,
    totals: Vec<f64>,
    times: TimeSplit,
}

/// Runs `policy` on `seeds` under `plan` (root seed `root`), resuming from `checkpoints`.
/// Returns each seed's outcome, the program's wall seconds and where they went.
pub fn run_program(
    plan: &RlPlan,
    policy: RlPolicy,
    root: u64,
    seeds: &[usize],
    device: Device,
    checkpoints: &dyn Checkpoints,
    progress: &indicatif::ProgressBar,
) -> Result<(Vec<RunOutcome>, f64, TimeSplit)> {
    let settings = agent_settings(plan, policy);
    let stream = |what: &str, seed: usize| member_rng(derive_seed(root, &["rl", what, &seed.to_string()]));
    let print = fingerprint(&(format!("{plan:?}"), policy, root, seeds));
    let started = Instant::now();
    let mut state = match checkpoints.load()?.and_then(|b| decode::<Header>(&b, device)) {
        Some((header, tensors)) if header.fingerprint == print => {
            let tensor = |name: &str| tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t.shallow_clone());
            match Agents::restore(settings.clone(), device, header.agents.clone(), tensor)? {
                Some(agents) => {
                    tracing::info!("rl {}: resumed at tick {}", policy.name(), header.ticks_done);
                    Some((header, agents))
                }
                None => None,
            }
        }
        _ => None,
    };
    let (mut header, mut agents) = match state.take() {
        Some(resumed) => resumed,
        None => {
            // The room and the first weights are the seed's, whatever the policy: the
            // policies' runs of one seed are paired.
            let mut init: Vec<_> = seeds.iter().map(|&s| stream("init", s)).collect();
            let rngs = seeds.iter().map(|&s| stream(policy.name(), s)).collect();
            let agents = Agents::new(settings.clone(), device, &mut init, rngs)?;
            let (agents_state, _) = agents.state()?;
            let header = Header {
                fingerprint: print,
                ticks_done: 0,
                seconds_before: 0.0,
                agents: agents_state,
                worlds: seeds.iter().map(|&s| World::new(stream("world", s))).collect(),
                windows: vec![RewardWindow::new(plan.reward_window); seeds.len()],
                curves: vec![Vec::new(); seeds.len()],
                totals: vec![0.0; seeds.len()],
                times: TimeSplit::default(),
            };
            (header, agents)
        }
    };
    let prior_seconds = header.seconds_before;
    progress.set_position(header.ticks_done as u64);
    for tick in header.ticks_done..plan.ticks {
        let t0 = Instant::now();
        let eyes: Vec<_> = header.worlds.iter_mut().map(World::sense).collect();
        let t1 = Instant::now();
        let actions = agents.act(&eyes)?;
        let t2 = Instant::now();
        let rewards: Vec<f64> = header.worlds.iter_mut().zip(&actions).map(|(w, &a)| w.act(a).total()).collect();
        let t3 = Instant::now();
        agents.learn(&rewards)?;
        let times = &mut header.times;
        times.world += (t1 - t0 + (t3 - t2)).as_secs_f64();
        times.act += (t2 - t1).as_secs_f64();
        times.learn += t3.elapsed().as_secs_f64();
        for (b, &r) in rewards.iter().enumerate() {
            header.windows[b].push(r);
            header.totals[b] += r;
        }
        if (tick + 1) % plan.batch_ticks == 0 {
            for (curve, window) in header.curves.iter_mut().zip(&header.windows) {
                curve.push(window.mean());
            }
            progress.set_position(tick as u64 + 1);
            if checkpoints.due() && tick + 1 < plan.ticks {
                header.ticks_done = tick + 1;
                header.seconds_before = prior_seconds + started.elapsed().as_secs_f64();
                let (agents_state, tensors) = agents.state()?;
                header.agents = agents_state;
                checkpoints.save(&encode(&header, &tensors)?)?;
            }
        }
    }
    let seconds = prior_seconds + started.elapsed().as_secs_f64();
    let outcomes = seeds
        .iter()
        .enumerate()
        .map(|(b, &seed)| RunOutcome {
            seed,
            curve: header.curves[b].clone(),
            total_reward: header.totals[b],
            food_eaten: header.worlds[b].food_eaten,
            poison_eaten: header.worlds[b].poison_eaten,
        })
        .collect();
    Ok((outcomes, seconds, header.times))
}
