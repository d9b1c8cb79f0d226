//! The room and its tick. Line numbers are of karpathy/convnetjs `demo/js/rldemo.js` at
//! 4c3358a; yaringal/DropoutUncertaintyDemos' `convnetjs/rldemo_comparison.js` has the same
//! lines, except that it drops the reward's clip (its line 364), as the paper's runs did.
//!
//! One agent per world: each (policy, seed) run has a room of its own, and the two policies'
//! rooms of one seed start from the same items and draw from the same stream (the demo puts
//! both agents in one room, where they compete for food and the first one listed wins ties).

use serde::{Deserialize, Serialize};

use super::body::{Body, Sight, AGENT_RADIUS, EYES};
use super::geometry::{item_hit, segment_hit, Hit, Vec2};
use crate::rng::{below, uniform, MemberRng};

/// The canvas the demo's world is sized from (rldemo.html line 123).
pub const WIDTH: f64 = 700.0;
pub const HEIGHT: f64 = 500.0;
/// Items in the room at the start, and the count respawning refills to (lines 101, 259).
pub const ITEMS: usize = 30;
/// An item's radius (line 78).
pub const ITEM_RADIUS: f64 = 10.0;
/// What eating an item adds to the tick's reward (lines 237-238).
pub const FOOD_REWARD: f64 = 5.0;
pub const POISON_REWARD: f64 = -6.0;

/// A wall segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Wall(pub Vec2, pub Vec2);

/// Food (kind 1) or poison (kind 2) on the floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub position: Vec2,
    pub kind: u8,
    pub age: u64,
}

/// The ten walls (lines 92-97): the outer box 10 in from the canvas, and two inner boxes whose
/// last-added (left, -x) sides the demo pops, leaving two U shapes open toward -x.
pub fn walls() -> Vec<Wall> {
    // `util_add_box`: top, right, bottom, left.
    fn add_box(walls: &mut Vec<Wall>, x: f64, y: f64, w: f64, h: f64) {
        let (a, b, c, d) = (Vec2::new(x, y), Vec2::new(x + w, y), Vec2::new(x + w, y + h), Vec2::new(x, y + h));
        walls.extend([Wall(a, b), Wall(b, c), Wall(c, d), Wall(d, a)]);
    }
    let mut walls = Vec::with_capacity(10);
    let pad = 10.0;
    add_box(&mut walls, pad, pad, WIDTH - 2.0 * pad, HEIGHT - 2.0 * pad);
    add_box(&mut walls, 100.0, 100.0, 200.0, 300.0);
    walls.pop();
    add_box(&mut walls, 400.0, 100.0, 200.0, 300.0);
    walls.pop();
    walls
}

/// The reward of one tick (lines 347-372, without the clip as in the comparison demo), in
/// its three parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reward {
    /// Mean over the eyes of the proximity of a seen wall (1 for an item or nothing).
    pub proximity: f64,
    /// 0.1 x proximity when the action was straight on and proximity exceeds 0.75.
    pub forward: f64,
    /// +5 per food and -6 per poison eaten this tick.
    pub digestion: f64,
}

impl Reward {
    pub fn total(&self) -> f64 {
        self.proximity + self.forward + self.digestion
    }

    /// The reward for the eyes' readings at the start of the tick, the action taken and what
    /// the move let the agent eat.
    pub fn of(eyes: &[Sight; EYES], action: usize, digestion: f64) -> Reward {
        let proximity = eyes.iter().map(|s| if let Sight::Wall { .. } = s { s.proximity() } else { 1.0 }).sum::<f64>()
            / EYES as f64;
        let forward = if action == 0 && proximity > 0.75 { 0.1 * proximity } else { 0.0 };
        Reward { proximity, forward, digestion }
    }
}

/// One room with one agent, and the stream its items are drawn from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub walls: Vec<Wall>,
    pub items: Vec<Item>,
    pub body: Body,
    /// Ticks begun; the first tick is clock 1 (lines 88, 152).
    pub clock: u64,
    /// Food and poison eaten so far.
    pub food_eaten: usize,
    pub poison_eaten: usize,
    rng: MemberRng,
}

impl World {
    /// The room with its first 30 items (lines 100-107), the agent at its start.
    pub fn new(mut rng: MemberRng) -> Self {
        let items = (0..ITEMS).map(|_| random_item(&mut rng)).collect();
        Self { walls: walls(), items, body: Body::default(), clock: 0, food_eaten: 0, poison_eaten: 0, rng }
    }

    /// Starts a tick: advances the clock and lets the eyes look (lines 152-174). Returns what
    /// the network sees.
    pub fn sense(&mut self) -> [f32; super::INPUTS] {
        self.clock += 1;
        for k in 0..EYES {
            let end = self.body.eye_end(k);
            self.body.eyes[k] = match self.closest(self.body.position, end, true) {
                None => Sight::Nothing,
                Some((hit, 0)) => Sight::Wall { distance: hit.point.dist_from(self.body.position) },
                Some((hit, kind)) => Sight::Item { kind, distance: hit.point.dist_from(self.body.position) },
            };
        }
        self.body.inputs()
    }

    /// Ends the tick begun by `sense` with `action`: the agent moves (lines 182-219), the
    /// items age, are eaten, expire and respawn (lines 221-265), and the reward is computed
    /// from the eyes' readings taken before the move (lines 347-368).
    pub fn act(&mut self, action: usize) -> Reward {
        let before = self.body.position;
        let (mut position, angle) = self.body.driven(action);
        // Only the centre's path is tested against walls; a blocked move still turns.
        if self.closest(before, position, false).is_some() {
            position = before;
        }
        position.x = position.x.clamp(0.0, WIDTH);
        position.y = position.y.clamp(0.0, HEIGHT);
        self.body.position = position;
        self.body.angle = angle;
        let digestion = self.tick_items();
        Reward::of(&self.body.eyes, action, digestion)
    }

    /// Items: aging, eating, expiry, one respawn at most; returns what was eaten's reward.
    fn tick_items(&mut self) -> f64 {
        let (mut digestion, mut removed) = (0.0, vec![false; self.items.len()]);
        let agent = self.body.position;
        for (i, item) in self.items.iter_mut().enumerate() {
            item.age += 1;
            if agent.dist_from(item.position) < ITEM_RADIUS + AGENT_RADIUS
                && !self.walls.iter().any(|w| segment_hit(agent, item.position, w.0, w.1).is_some())
            {
                if item.kind == 1 {
                    digestion += FOOD_REWARD;
                    self.food_eaten += 1;
                } else {
                    digestion += POISON_REWARD;
                    self.poison_eaten += 1;
                }
                removed[i] = true;
            }
            // The draw happens only when the first two conditions hold (JS short-circuits).
            if item.age > 5000 && self.clock.is_multiple_of(100) && uniform(&mut self.rng) < 0.1 {
                removed[i] = true;
            }
        }
        let mut kept = removed.iter().map(|r| !r);
        self.items.retain(|_| kept.next().unwrap_or(true));
        if self.items.len() < ITEMS && self.clock.is_multiple_of(10) && uniform(&mut self.rng) < 0.25 {
            let item = random_item(&mut self.rng);
            self.items.push(item);
        }
        digestion
    }

    /// The closest wall (kind 0) or item on the segment a-b (`stuff_collide_`, lines 112-149):
    /// walls first, then items, each replacing the best only when strictly closer.
    fn closest(&self, a: Vec2, b: Vec2, with_items: bool) -> Option<(Hit, u8)> {
        let mut best: Option<(Hit, u8)> = None;
        let mut consider = |hit: Option<Hit>, kind: u8| {
            if let Some(hit) = hit {
                if best.is_none_or(|(b, _)| hit.ua < b.ua) {
                    best = Some((hit, kind));
                }
            }
        };
        for wall in &self.walls {
            consider(segment_hit(a, b, wall.0, wall.1), 0);
        }
        if with_items {
            for item in &self.items {
                consider(item_hit(a, b, item.position, ITEM_RADIUS), item.kind);
            }
        }
        best
    }
}

/// A new item anywhere in [20, W - 20) x [20, H - 20), inner walls ignored, food or poison with
/// even odds (lines 102-104; draws in the order x, y, kind).
fn random_item(rng: &mut MemberRng) -> Item {
    let x = 20.0 + (WIDTH - 40.0) * uniform(rng);
    let y = 20.0 + (HEIGHT - 40.0) * uniform(rng);
    let kind = 1 + below(rng, 2) as u8;
    Item { position: Vec2::new(x, y), kind, age: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;

    fn empty_world() -> World {
        let mut w = World::new(member_rng(1));
        w.items.clear();
        w
    }

    #[test]
    fn there_are_ten_walls_and_the_inner_boxes_open_toward_minus_x() {
        let w = walls();
        assert_eq!(w.len(), 10);
        assert_eq!(w[6], Wall(Vec2::new(300.0, 400.0), Vec2::new(100.0, 400.0)));
        assert!(!w.iter().any(|w| w.0.x == 100.0 && w.1.x == 100.0), "inner box A's left side is popped");
    }

    #[test]
    fn an_eye_reports_the_wall_ahead_at_its_distance() {
        let mut w = empty_world();
        // Facing +y from (50, 460): the outer bottom wall (y = 490) is 30 ahead of eye 3.
        w.body.position = Vec2::new(50.0, 460.0);
        let x = w.sense();
        assert!(matches!(w.body.eyes[3], Sight::Wall { distance } if (distance - 30.0).abs() < 1e-9));
        assert!((x[9] - 30.0 / 85.0).abs() < 1e-6);
        assert_eq!(&x[10..12], &[1.0, 1.0]);
    }

    #[test]
    fn an_item_in_front_of_a_wall_hides_it_and_the_farther_one_is_not_reported() {
        let mut w = empty_world();
        w.body.position = Vec2::new(50.0, 410.0);
        // 40 ahead of eye 3, the bottom wall 80 ahead.
        w.items.push(Item { position: Vec2::new(50.0, 450.0), kind: 2, age: 0 });
        w.sense();
        assert_eq!(w.body.eyes[3], Sight::Item { kind: 2, distance: 40.0 });
        // Behind the wall (83 ahead): the wall is closer.
        w.items[0].position = Vec2::new(50.0, 493.0);
        w.sense();
        assert!(matches!(w.body.eyes[3], Sight::Wall { distance } if (distance - 80.0).abs() < 1e-9));
    }

    #[test]
    fn the_reward_counts_walls_in_view_going_straight_and_eating() {
        let mut eyes = [Sight::Nothing; EYES];
        // All clear, straight on: 1 + 0.1.
        assert!((Reward::of(&eyes, 0, 0.0).total() - 1.1).abs() < 1e-12);
        // Turning gets no forward bonus.
        assert_eq!(Reward::of(&eyes, 1, 0.0).total(), 1.0);
        // Three eyes see a wall at half range, an item is ignored: (6 + 3 * 0.5) / 9.
        eyes[0] = Sight::Wall { distance: 42.5 };
        eyes[1] = Sight::Wall { distance: 42.5 };
        eyes[2] = Sight::Wall { distance: 42.5 };
        eyes[5] = Sight::Item { kind: 1, distance: 10.0 };
        let r = Reward::of(&eyes, 0, 0.0);
        assert!((r.proximity - 7.5 / 9.0).abs() < 1e-12);
        assert!((r.forward - 0.075 / 0.9).abs() < 1e-12, "0.1 x 0.8333");
        // Proximity below 0.75: no bonus.
        eyes[3] = Sight::Wall { distance: 0.0 };
        eyes[4] = Sight::Wall { distance: 0.0 };
        assert_eq!(Reward::of(&eyes, 0, 0.0).forward, 0.0);
        assert_eq!(Reward::of(&[Sight::Nothing; EYES], 2, FOOD_REWARD + POISON_REWARD).total(), 0.0);
    }

    #[test]
    fn moving_onto_food_eats_it_and_poison_costs_six() {
        for (kind, reward) in [(1u8, FOOD_REWARD), (2, POISON_REWARD)] {
            let mut w = empty_world();
            w.body.position = Vec2::new(200.0, 30.0);
            // 22 ahead: out of reach now (20), within reach after a straight step of 4.2.
            w.items.push(Item { position: Vec2::new(200.0, 52.0), kind, age: 0 });
            w.sense();
            let r = w.act(0);
            assert_eq!(r.digestion, reward);
            assert!(w.items.len() <= 1 && w.items.iter().all(|i| i.age == 0), "eaten (a respawn may follow)");
        }
    }

    #[test]
    fn food_behind_a_wall_is_not_eaten_and_a_wall_blocks_the_move_but_not_the_turn() {
        let mut w = empty_world();
        // Just above inner box A's top wall (y = 100), facing +y, food just below it.
        w.body.position = Vec2::new(200.0, 98.0);
        w.items.push(Item { position: Vec2::new(200.0, 110.0), kind: 1, age: 0 });
        w.sense();
        let r = w.act(1);
        assert_eq!(w.body.position, Vec2::new(200.0, 98.0), "the step crosses the wall");
        assert!((w.body.angle - 0.2).abs() < 1e-12);
        assert_eq!(r.digestion, 0.0);
        assert_eq!(w.items.len(), 1);
    }

    #[test]
    fn the_same_stream_gives_the_same_room() {
        let (a, b) = (World::new(member_rng(7)), World::new(member_rng(7)));
        assert_eq!(a.items, b.items);
        assert!(a.items.iter().all(|i| (20.0..680.0).contains(&i.position.x) && (1..=2).contains(&i.kind)));
    }
}
