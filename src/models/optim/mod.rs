//! The optimisers of the network families, each in one place, all behind one trait
//! (`optimizer::Optimizer`): Adam (`adam`: `FlatAdam` over a flat parameter buffer,
//! `TensorAdam` over a var store's tensors, libtorch's from a plan), Caffe's SGD with momentum
//! (`sgd`), and CUDA graph replay of a training's epochs (`epoch_replay`), which needs an
//! optimiser whose step count can live on the device.

pub mod adam;
pub mod epoch_replay;
pub mod optimizer;
pub mod sgd;

pub use optimizer::Optimizer;
