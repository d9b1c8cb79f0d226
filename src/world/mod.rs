//! The world of the paper's section 5.4: Karpathy's ConvNetJS "rldemo" (karpathy/convnetjs
//! `demo/js/rldemo.js`), as the authors' comparison demo runs it (yaringal/
//! DropoutUncertaintyDemos `convnetjs/rldemo_comparison.js`): a walled room with food and
//! poison, an agent with nine eyes and two wheels, and the reward it is given each tick.
//! `geometry` holds the ray tests, `body` the agent's eyes and wheels, `room` the walls,
//! items and the tick. docs/rl-port.md cites the source line of every constant.

pub mod body;
pub mod geometry;
pub mod room;

pub use body::{ACTIONS, INPUTS};
pub use room::{Reward, World};
