//! The agent's body in the rldemo world: where it is, which way it faces, what its nine eyes
//! report and how its two wheels move it. Line numbers are of karpathy/convnetjs
//! `demo/js/rldemo.js` at 4c3358a (the same in yaringal/DropoutUncertaintyDemos'
//! `convnetjs/rldemo_comparison.js`).

use serde::{Deserialize, Serialize};

use super::geometry::Vec2;

/// Eyes per agent, their angles `(k - 3) * 0.25` rad from the heading (line 300): the fan is
/// lopsided, -0.75 to +1.25 rad, as in the demo.
pub const EYES: usize = 9;
/// How far an eye sees (line 277).
pub const EYE_RANGE: f64 = 85.0;
/// The agent's radius (line 298): how close it must come to eat.
pub const AGENT_RADIUS: f64 = 10.0;
/// Where every agent starts, facing angle 0 (+y) (lines 286-288).
pub const START: Vec2 = Vec2::new(50.0, 50.0);
/// The five actions as (left, right) wheel rotations (lines 290-295): straight on, two gentle
/// turns, two sharp ones.
pub const ACTIONS: [(f64, f64); 5] = [(1.0, 1.0), (0.8, 1.0), (1.0, 0.8), (0.5, 0.0), (0.0, 0.5)];
/// Inputs the eyes give the network: per eye a wall, a food and a poison slot (lines 321-333).
pub const INPUTS: usize = 3 * EYES;

/// What an eye sees: the nearest thing on its ray.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Sight {
    Nothing,
    Wall {
        distance: f64,
    },
    /// `kind` 1 is food, 2 poison (the demo's item types).
    Item {
        kind: u8,
        distance: f64,
    },
}

impl Sight {
    /// Distance over the eye's range; 1 when nothing is seen.
    pub fn proximity(self) -> f64 {
        match self {
            Sight::Nothing => 1.0,
            Sight::Wall { distance } | Sight::Item { distance, .. } => distance / EYE_RANGE,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Body {
    pub position: Vec2,
    /// Radians in [0, 2 pi) up to the demo's single-step wrap; 0 faces +y.
    pub angle: f64,
    pub eyes: [Sight; EYES],
}

impl Default for Body {
    fn default() -> Self {
        Self { position: START, angle: 0.0, eyes: [Sight::Nothing; EYES] }
    }
}

impl Body {
    /// The end of eye `k`'s ray (lines 162-163).
    pub fn eye_end(&self, k: usize) -> Vec2 {
        let a = self.angle + (k as f64 - 3.0) * 0.25;
        Vec2::new(self.position.x + EYE_RANGE * a.sin(), self.position.y + EYE_RANGE * a.cos())
    }

    /// The network's 27 inputs (lines 321-333): every slot 1, except the slot of the kind an
    /// eye sees (0 wall, 1 food, 2 poison), which holds its proximity.
    pub fn inputs(&self) -> [f32; INPUTS] {
        let mut x = [1.0f32; INPUTS];
        for (k, sight) in self.eyes.iter().enumerate() {
            let slot = match sight {
                Sight::Nothing => continue,
                Sight::Wall { .. } => 0,
                Sight::Item { kind, .. } => *kind as usize,
            };
            x[3 * k + slot] = sight.proximity() as f32;
        }
        x
    }

    /// Where the wheels take the body (lines 186-205), before any wall check: the position
    /// moves and the heading turns by `right - left`, wrapped once each way as in the demo.
    pub fn driven(&self, action: usize) -> (Vec2, f64) {
        let (rot1, rot2) = ACTIONS[action];
        let p = self.position;
        let v = Vec2::new(0.0, AGENT_RADIUS / 2.0).rotate(self.angle + std::f64::consts::FRAC_PI_2);
        let (w1p, w2p) = (p.plus(v), p.minus(v));
        let vv = p.minus(w2p).rotate(-rot1);
        let vv2 = p.minus(w1p).rotate(rot2);
        let np = w2p.plus(vv).scale(0.5);
        let np2 = w1p.plus(vv2).scale(0.5);
        let mut angle = self.angle - rot1;
        if angle < 0.0 {
            angle += 2.0 * std::f64::consts::PI;
        }
        angle += rot2;
        if angle > 2.0 * std::f64::consts::PI {
            angle -= 2.0 * std::f64::consts::PI;
        }
        (np.plus(np2), angle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_on_moves_five_sin_one_along_the_heading_without_turning() {
        let body = Body::default();
        let (p, angle) = body.driven(0);
        // 0 - 1 wraps to 2 pi - 1, and + 1 gives 2 pi, which the demo's `>` test keeps.
        assert_eq!(angle, 2.0 * std::f64::consts::PI);
        // Heading 0 is +y.
        assert!((p.y - START.y - 5.0 * 1f64.sin()).abs() < 1e-12, "{p:?}");
        assert!((p.x - START.x).abs() < 1e-12);
    }

    #[test]
    fn each_turn_changes_the_heading_by_right_minus_left() {
        let body = Body { angle: 1.0, ..Body::default() };
        for (action, (left, right)) in ACTIONS.iter().enumerate() {
            let (p, angle) = body.driven(action);
            assert!((angle - (1.0 + right - left)).abs() < 1e-12);
            // Closed form of the step: (h/2) (cos(a - l) - cos(a + r), sin(a + r) - sin(a - l)), h = 5.
            let (a, h) = (1.0f64, 2.5);
            let expect =
                Vec2::new(h * ((a - left).cos() - (a + right).cos()), h * ((a + right).sin() - (a - left).sin()));
            assert!((p.minus(START).minus(expect)).length() < 1e-12, "action {action}: {p:?}");
        }
    }

    #[test]
    fn inputs_put_each_eyes_proximity_in_the_slot_of_what_it_sees() {
        let mut body = Body::default();
        body.eyes[0] = Sight::Wall { distance: 42.5 };
        body.eyes[4] = Sight::Item { kind: 2, distance: 17.0 };
        let x = body.inputs();
        assert_eq!(&x[0..3], &[0.5, 1.0, 1.0]);
        assert_eq!(&x[12..15], &[1.0, 1.0, 0.2]);
        assert!(x.iter().enumerate().all(|(i, &v)| [0, 14].contains(&i) || v == 1.0));
    }
}
