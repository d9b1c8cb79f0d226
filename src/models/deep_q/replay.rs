//! The experience memory of one agent (deepqlearn.js `backward`): (s, a, r, s') tuples, a
//! uniform draw with replacement to learn from, and once full a random slot overwritten by
//! each new experience (not the oldest, as the demo does).

use crate::rng::{below, MemberRng};

#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    capacity: usize,
    /// Width of one state (the network's input).
    width: usize,
    pub(crate) states: Vec<f32>,
    pub(crate) next_states: Vec<f32>,
    pub(crate) actions: Vec<i64>,
    pub(crate) rewards: Vec<f32>,
}

impl Replay {
    pub fn new(capacity: usize, width: usize) -> Self {
        Self {
            capacity,
            width,
            states: Vec::with_capacity(capacity * width),
            next_states: Vec::with_capacity(capacity * width),
            actions: Vec::with_capacity(capacity),
            rewards: Vec::with_capacity(capacity),
        }
    }

    /// A memory holding what `parts` (from [`Replay::parts`]) held.
    pub fn from_parts(capacity: usize, width: usize, parts: ReplayParts) -> Option<Self> {
        let n = parts.actions.len();
        let whole = parts.states.len() == n * width && parts.next_states.len() == n * width && parts.rewards.len() == n;
        (whole && n <= capacity).then_some(Self {
            capacity,
            width,
            states: parts.states,
            next_states: parts.next_states,
            actions: parts.actions,
            rewards: parts.rewards,
        })
    }

    /// Its contents, for a checkpoint.
    pub fn parts(&self) -> ReplayParts {
        ReplayParts {
            states: self.states.clone(),
            next_states: self.next_states.clone(),
            actions: self.actions.clone(),
            rewards: self.rewards.clone(),
        }
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Stores one experience; when full, in a slot drawn from `rng`.
    pub fn push(&mut self, state: &[f32], action: usize, reward: f64, next: &[f32], rng: &mut MemberRng) {
        if self.len() < self.capacity {
            self.states.extend_from_slice(state);
            self.next_states.extend_from_slice(next);
            self.actions.push(action as i64);
            self.rewards.push(reward as f32);
        } else {
            let i = below(rng, self.capacity);
            let w = self.width;
            self.states[i * w..(i + 1) * w].copy_from_slice(state);
            self.next_states[i * w..(i + 1) * w].copy_from_slice(next);
            self.actions[i] = action as i64;
            self.rewards[i] = reward as f32;
        }
    }

    /// Experience `i`: (state, action, reward, next state).
    pub fn get(&self, i: usize) -> (&[f32], i64, f32, &[f32]) {
        let w = self.width;
        (&self.states[i * w..(i + 1) * w], self.actions[i], self.rewards[i], &self.next_states[i * w..(i + 1) * w])
    }

    /// `n` indices drawn uniformly with replacement.
    pub fn draw(&self, n: usize, rng: &mut MemberRng) -> Vec<usize> {
        (0..n).map(|_| below(rng, self.len())).collect()
    }
}

/// A memory's contents as flat arrays.
pub struct ReplayParts {
    pub states: Vec<f32>,
    pub next_states: Vec<f32>,
    pub actions: Vec<i64>,
    pub rewards: Vec<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;

    #[test]
    fn a_full_memory_overwrites_a_random_slot() {
        let mut rng = member_rng(3);
        let mut m = Replay::new(4, 2);
        for k in 0..4 {
            m.push(&[k as f32, 0.0], k, k as f64, &[0.0, k as f32], &mut rng);
        }
        assert_eq!(m.len(), 4);
        m.push(&[9.0, 9.0], 4, 9.0, &[9.0, 9.0], &mut rng);
        assert_eq!(m.len(), 4);
        let replaced: Vec<usize> = (0..4).filter(|&i| m.get(i).1 == 4).collect();
        assert_eq!(replaced.len(), 1);
        assert!((0..4).filter(|i| !replaced.contains(i)).all(|i| m.get(i).1 == i as i64));
        assert!(m.draw(100, &mut rng).iter().all(|&i| i < 4));
    }
}
