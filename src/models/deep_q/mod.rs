//! The deep-Q agents of the paper's section 5.4, as ConvNetJS's deepqlearn.js trains them
//! (karpathy/convnetjs `build/deepqlearn.js`; the Thompson variant from yaringal/
//! DropoutUncertaintyDemos `convnetjs/deepqlearn.js`): `network` the batched Q-networks and
//! their TD step, `replay` the experience memory, `explore` epsilon-greedy and Thompson
//! sampling, `agents` the K learners of one program stepped tick by tick.

pub mod agents;
pub mod explore;
pub mod network;
pub mod replay;

pub use agents::{AgentSettings, Agents, AgentsState, NET_INPUTS};
pub use explore::{EpsilonSchedule, Exploration};
