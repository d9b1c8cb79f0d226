//! How an agent picks its action: epsilon-greedy with deepqlearn.js's schedule, or Thompson
//! sampling with dropout (yaringal/DropoutUncertaintyDemos' `deepqlearn.js`, `thompson`).

/// The exploration policy of one program's agents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exploration {
    /// A random action with probability epsilon(age), else the argmax of the deterministic
    /// network.
    EpsilonGreedy(EpsilonSchedule),
    /// Random actions until the memory holds `burnin` experiences, then the argmax of one
    /// pass with dropout masks drawn for it.
    Thompson { burnin: usize },
}

/// deepqlearn.js line 183: epsilon = min(1, max(min, 1 - (age - burnin) / (total - burnin))).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpsilonSchedule {
    pub burnin: u64,
    pub total: u64,
    pub min: f64,
}

impl EpsilonSchedule {
    /// Epsilon at `age` learning steps taken.
    pub fn at(&self, age: u64) -> f64 {
        let decayed = 1.0 - (age as f64 - self.burnin as f64) / (self.total as f64 - self.burnin as f64);
        decayed.clamp(self.min, 1.0)
    }
}

/// The first index of the largest value (deepqlearn.js's strict `>` scan).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (k, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = k;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_is_one_through_burnin_then_falls_linearly_to_its_floor() {
        let s = EpsilonSchedule { burnin: 3000, total: 200_000, min: 0.05 };
        assert_eq!(s.at(0), 1.0);
        assert_eq!(s.at(3000), 1.0);
        let midway = 3000 + 197_000 / 2;
        assert!((s.at(midway) - 0.5).abs() < 1e-12);
        // 0.05 is reached at 3000 + 0.95 x 197000 = 190150 and held.
        assert!((s.at(190_150) - 0.05).abs() < 1e-12);
        assert!(s.at(190_000) > 0.05);
        assert_eq!(s.at(200_000), 0.05);
        assert_eq!(s.at(1_000_000), 0.05);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_values() {
        assert_eq!(argmax(&[0.0, 2.0, 2.0, -1.0]), 1);
        assert_eq!(argmax(&[3.0]), 0);
    }
}
