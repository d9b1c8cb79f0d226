//! The one shape every optimiser of ours has, in the manner of candle-nn's `Optimizer`: built
//! over its parameters (a flat `ParamBuffer`, or a var store's tensors), it updates them in
//! place from their gradients one `step` at a time, and gives a checkpoint its state as named
//! tensors so that a resumed training continues it. Trainers and their checkpoints are written
//! against this trait, not against Adam or SGD.
//!
//! Unlike candle's, `step` takes no gradient store: a var store's gradients are the ones
//! autograd leaves on its tensors, and `FlatAdam`'s the buffer the trainer writes before each
//! step (the hand-written gradient, into memory a CUDA graph can record).

use tch::Tensor;

use crate::error::Result;

pub trait Optimizer {
    /// Clears the gradients a backward pass accumulates into; a no-op where the trainer
    /// overwrites the whole gradient before each step (`FlatAdam`).
    fn zero_grad(&mut self);

    /// One update of every parameter in place from its gradient.
    fn step(&mut self) -> Result<()>;

    /// The state a checkpoint keeps (moments or velocities) as named tensors, and the steps
    /// taken.
    fn state(&self) -> (Vec<(String, Tensor)>, i32);

    /// Continues from `state`'s tensors and step count; `find` looks a named tensor up. A
    /// tensor missing is an `Error::Checkpoint`.
    fn restore<'a>(&mut self, find: &dyn Fn(&str) -> Option<&'a Tensor>, steps: i32) -> Result<()>;
}
