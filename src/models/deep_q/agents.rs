//! The agents of one program: K deep-Q learners with one exploration policy, each with its own
//! network (batched in `QNetworks`), experience memory and random stream, stepped in lockstep
//! one world tick at a time (deepqlearn.js's `forward` and `backward`).

use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use super::explore::{argmax, Exploration};
use super::network::{td_targets, QNetworks};
use super::replay::{Replay, ReplayParts};
use crate::error::Result;
use crate::models::nn::member_mlp::per_stream_tensor;
use crate::rng::{below, fill_dropout_mask, uniform, MemberRng};
use crate::world::{ACTIONS, INPUTS};

/// The network's input (deepqlearn.js `getNetInput`, temporal window 1): this tick's eyes,
/// the previous tick's eyes, and the previous action one-hot with the value 27 (the demo
/// scales it by the number of eye inputs so that weight decay does not drown it).
pub const NET_INPUTS: usize = 2 * INPUTS + ACTIONS.len();

/// What a program's agents are and how they learn (the demo's Brain options).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSettings {
    pub exploration: Exploration,
    /// Inverted-dropout rate before each weight layer (0: none); all 0 for epsilon-greedy.
    pub dropout: Vec<f64>,
    pub hidden: Vec<usize>,
    pub gamma: f64,
    pub lr: f64,
    pub l2: f64,
    pub batch_size: usize,
    pub replay_size: usize,
    /// Learning starts once the memory holds more than this many experiences.
    pub learn_after: usize,
}

impl AgentSettings {
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![NET_INPUTS];
        w.extend(&self.hidden);
        w.push(ACTIONS.len());
        w
    }
}

/// One agent's short memory between ticks (deepqlearn.js's windows of length 2).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Windows {
    /// Learning steps taken (`backward` calls).
    pub age: u64,
    forward_passes: u64,
    last_eyes: Vec<f32>,
    /// Net inputs of the last two ticks, the older first; empty on the first tick.
    net_inputs: [Vec<f32>; 2],
    actions: [usize; 2],
    rewards: [f64; 2],
}

/// Everything but the tensors, for a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentsState {
    pub rngs: Vec<MemberRng>,
    pub windows: Vec<Windows>,
}

pub struct Agents {
    settings: AgentSettings,
    device: Device,
    net: QNetworks,
    rngs: Vec<MemberRng>,
    windows: Vec<Windows>,
    replays: Vec<Replay>,
}

impl Agents {
    /// K agents: initial weights from `init` (one stream each), everything after from `rngs`.
    pub fn new(settings: AgentSettings, device: Device, init: &mut [MemberRng], rngs: Vec<MemberRng>) -> Result<Self> {
        let net = QNetworks::new(device, &settings.widths(), init)?;
        let k = rngs.len();
        Ok(Self {
            replays: (0..k).map(|_| Replay::new(settings.replay_size, NET_INPUTS)).collect(),
            windows: vec![Windows::default(); k],
            settings,
            device,
            net,
            rngs,
        })
    }

    pub fn len(&self) -> usize {
        self.rngs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rngs.is_empty()
    }

    pub fn network(&self) -> &QNetworks {
        &self.net
    }

    /// Experiences held by agent `k`.
    pub fn experiences(&self, k: usize) -> usize {
        self.replays[k].len()
    }

    /// Each agent's action for its eyes' inputs (deepqlearn.js `forward`).
    pub fn act(&mut self, eyes: &[[f32; INPUTS]]) -> Result<Vec<usize>> {
        let k = self.len();
        let mut actions = vec![0usize; k];
        let mut inputs = vec![0f32; k * NET_INPUTS];
        let mut needs_net = vec![false; k];
        for b in 0..k {
            let (w, rng) = (&mut self.windows[b], &mut self.rngs[b]);
            w.forward_passes += 1;
            let input = if w.forward_passes > 1 { net_input(&eyes[b], &w.last_eyes, w.actions[1]) } else { Vec::new() };
            let random = input.is_empty()
                || match self.settings.exploration {
                    Exploration::EpsilonGreedy(schedule) => uniform(rng) < schedule.at(w.age),
                    Exploration::Thompson { burnin } => self.replays[b].len() < burnin,
                };
            if random {
                actions[b] = below(rng, ACTIONS.len());
            } else {
                needs_net[b] = true;
                inputs[b * NET_INPUTS..(b + 1) * NET_INPUTS].copy_from_slice(&input);
            }
            w.net_inputs.swap(0, 1);
            w.net_inputs[1] = input;
            w.last_eyes = eyes[b].to_vec();
        }
        if needs_net.iter().any(|&n| n) {
            let x = upload(&inputs, [k as i64, 1, NET_INPUTS as i64], self.device)?;
            let masks = self.masks(1, &needs_net)?;
            let q = self.net.q_values(&x, &masks)?;
            let q = Vec::<f32>::try_from(&q.f_flatten(0, -1)?.f_to_device(Device::Cpu)?)?;
            for b in (0..k).filter(|&b| needs_net[b]) {
                actions[b] = argmax(&q[b * ACTIONS.len()..(b + 1) * ACTIONS.len()]);
            }
        }
        for (w, &a) in self.windows.iter_mut().zip(&actions) {
            w.actions = [w.actions[1], a];
        }
        Ok(actions)
    }

    /// Each agent's reward for its last action (deepqlearn.js `backward`): store the previous
    /// tick's experience, then one SGD step on `batch_size` replayed experiences.
    pub fn learn(&mut self, rewards: &[f64]) -> Result<()> {
        for (b, &reward) in rewards.iter().enumerate() {
            let w = &mut self.windows[b];
            w.rewards = [w.rewards[1], reward];
            w.age += 1;
            if w.forward_passes > 2 {
                self.replays[b].push(&w.net_inputs[0], w.actions[0], w.rewards[0], &w.net_inputs[1], &mut self.rngs[b]);
            }
        }
        // Every agent of a program has lived the same ticks, so all learn or none does.
        if self.replays[0].len() <= self.settings.learn_after {
            return Ok(());
        }
        let (k, n) = (self.len(), self.settings.batch_size);
        let picks: Vec<Vec<usize>> =
            self.replays.iter().zip(&mut self.rngs).map(|(replay, rng)| replay.draw(n, rng)).collect();
        let (mut states, mut next_states) = (vec![0f32; k * n * NET_INPUTS], vec![0f32; k * n * NET_INPUTS]);
        let (mut actions, mut rewards) = (Vec::with_capacity(k * n), Vec::with_capacity(k * n));
        for (b, picked) in picks.iter().enumerate() {
            for (j, &i) in picked.iter().enumerate() {
                let (s, a, r, s1) = self.replays[b].get(i);
                let row = (b * n + j) * NET_INPUTS..(b * n + j + 1) * NET_INPUTS;
                states[row.clone()].copy_from_slice(s);
                next_states[row].copy_from_slice(s1);
                actions.push(a);
                rewards.push(r);
            }
        }
        let shape = |width: usize| [k as i64, n as i64, width as i64];
        let states = upload(&states, shape(NET_INPUTS), self.device)?;
        let next_states = upload(&next_states, shape(NET_INPUTS), self.device)?;
        let actions = upload(&actions, shape(1), self.device)?;
        let rewards = upload(&rewards, shape(1), self.device)?;
        let all = vec![true; k];
        // The target comes from one pass with masks of its own, the prediction from another.
        let target_masks = self.masks(n, &all)?;
        let targets = td_targets(&self.net, &next_states, &rewards, &target_masks, self.settings.gamma)?;
        let masks = self.masks(n, &all)?;
        self.net.td_gradient(&states, &actions, &targets, &masks, self.settings.l2)?;
        self.net.sgd_step(self.settings.lr)
    }

    /// Inverted-dropout masks for `rows` rows of every agent that `draws` names (ones for the
    /// others, drawing nothing), `None` for layers without dropout.
    fn masks(&mut self, rows: usize, draws: &[bool]) -> Result<Vec<Option<Tensor>>> {
        let Self { settings, rngs, device, net, .. } = self;
        settings
            .dropout
            .iter()
            // Each rate's layer takes the width before it (zip stops at the last weight layer).
            .zip(net.params().widths())
            .map(|(&p, &width)| {
                if p == 0.0 {
                    return Ok(None);
                }
                let mask = per_stream_tensor(rngs, rows, width, *device, |b, rng, out| {
                    if draws[b] {
                        fill_dropout_mask(rng, p, out)
                    } else {
                        out.fill(1.0)
                    }
                })?;
                Ok(Some(mask))
            })
            .collect()
    }

    /// The state to checkpoint: the header's part, and the tensors (parameters, memories).
    pub fn state(&self) -> Result<(AgentsState, Vec<(String, Tensor)>)> {
        let mut tensors = vec![("params".to_string(), self.net.params().flat.shallow_clone())];
        for (b, replay) in self.replays.iter().enumerate() {
            let parts = replay.parts();
            tensors.push((format!("replay{b}.states"), Tensor::from_slice(&parts.states)));
            tensors.push((format!("replay{b}.next_states"), Tensor::from_slice(&parts.next_states)));
            tensors.push((format!("replay{b}.actions"), Tensor::from_slice(&parts.actions)));
            tensors.push((format!("replay{b}.rewards"), Tensor::from_slice(&parts.rewards)));
        }
        Ok((AgentsState { rngs: self.rngs.clone(), windows: self.windows.clone() }, tensors))
    }

    /// Agents continued from `state()`'s output; `None` when it does not fit these settings.
    pub fn restore(
        settings: AgentSettings,
        device: Device,
        state: AgentsState,
        tensor: impl Fn(&str) -> Option<Tensor>,
    ) -> Result<Option<Self>> {
        let k = state.rngs.len();
        let widths = settings.widths();
        let Some(flat) = tensor("params") else { return Ok(None) };
        if state.windows.len() != k || flat.numel() != crate::models::nn::member_mlp::ParamBuffer::len(k, &widths) {
            return Ok(None);
        }
        let mut replays = Vec::with_capacity(k);
        for b in 0..k {
            let host = |name: &str| tensor(&format!("replay{b}.{name}"));
            let (Some(s), Some(s1), Some(a), Some(r)) =
                (host("states"), host("next_states"), host("actions"), host("rewards"))
            else {
                return Ok(None);
            };
            let parts = ReplayParts {
                states: Vec::try_from(&s)?,
                next_states: Vec::try_from(&s1)?,
                actions: Vec::try_from(&a)?,
                rewards: Vec::try_from(&r)?,
            };
            let Some(replay) = Replay::from_parts(settings.replay_size, NET_INPUTS, parts) else { return Ok(None) };
            replays.push(replay);
        }
        let net = QNetworks::from_flat(flat.f_to_device(device)?, k, &widths)?;
        Ok(Some(Self { settings, device, net, rngs: state.rngs, windows: state.windows, replays }))
    }
}

fn upload<T: tch::kind::Element>(values: &[T], shape: [i64; 3], device: Device) -> Result<Tensor> {
    Ok(Tensor::from_slice(values).f_view(shape)?.f_to_device(device)?)
}

/// deepqlearn.js `getNetInput` for temporal window 1.
fn net_input(eyes: &[f32; INPUTS], last_eyes: &[f32], last_action: usize) -> Vec<f32> {
    let mut x = Vec::with_capacity(NET_INPUTS);
    x.extend_from_slice(eyes);
    x.extend_from_slice(last_eyes);
    let mut one_hot = [0f32; ACTIONS.len()];
    one_hot[last_action] = INPUTS as f32;
    x.extend_from_slice(&one_hot);
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::deep_q::EpsilonSchedule;
    use crate::rng::member_rng;

    fn settings(exploration: Exploration, dropout: Vec<f64>) -> AgentSettings {
        AgentSettings {
            exploration,
            dropout,
            hidden: vec![8, 8],
            gamma: 0.7,
            lr: 0.01,
            l2: 0.01,
            batch_size: 4,
            replay_size: 50,
            learn_after: 5,
        }
    }

    fn agents(s: AgentSettings, k: usize) -> Agents {
        let mut init: Vec<_> = (0..k).map(|i| member_rng(100 + i as u64)).collect();
        let rngs = (0..k).map(|i| member_rng(200 + i as u64)).collect();
        Agents::new(s, Device::Cpu, &mut init, rngs).unwrap()
    }

    fn eyes(t: usize) -> [f32; INPUTS] {
        let mut x = [1.0f32; INPUTS];
        x[t % INPUTS] = 0.25;
        x
    }

    #[test]
    fn experiences_start_at_the_third_tick_and_learning_once_more_than_learn_after_are_held() {
        let schedule = EpsilonSchedule { burnin: 3, total: 30, min: 0.05 };
        let mut a = agents(settings(Exploration::EpsilonGreedy(schedule), vec![0.0; 3]), 2);
        let start = a.network().params().flat.copy();
        for t in 1..=8 {
            a.act(&[eyes(t), eyes(t + 1)]).unwrap();
            a.learn(&[0.5, 1.0]).unwrap();
            assert_eq!(a.experiences(0), t.saturating_sub(2), "tick {t}");
            // More than 5 experiences from tick 8 on.
            let moved = a.network().params().flat != start;
            assert_eq!(moved, t >= 8, "tick {t}");
        }
    }

    #[test]
    fn the_net_input_is_this_tick_the_last_tick_and_the_last_action_scaled_by_27() {
        let x = net_input(&eyes(0), &eyes(1), 3);
        assert_eq!(x.len(), NET_INPUTS);
        assert_eq!(&x[..INPUTS], &eyes(0));
        assert_eq!(&x[INPUTS..2 * INPUTS], &eyes(1));
        assert_eq!(&x[2 * INPUTS..], &[0.0, 0.0, 0.0, 27.0, 0.0]);
    }

    #[test]
    fn each_agent_gets_the_same_numbers_alone_or_batched() {
        let run = |k: usize| {
            let mut a = agents(settings(Exploration::Thompson { burnin: 6 }, vec![0.1; 3]), k);
            let mut actions = Vec::new();
            for t in 1..=30 {
                let acts = a.act(&vec![eyes(t); k]).unwrap();
                actions.push(acts[0]);
                a.learn(&vec![0.3; k]).unwrap();
            }
            (actions, a.network().params().weights[0].get(0).copy())
        };
        let (alone, w_alone) = run(1);
        let (batched, w_batched) = run(3);
        assert_eq!(alone, batched);
        assert!(w_alone.allclose(&w_batched, 1e-6, 1e-7, false));
    }
}
