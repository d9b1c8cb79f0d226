//! What the member-batched network families share, each in one place: the batched MLP and its
//! parameters (`member_mlp`), per-member mini-batches (`batches`), the activation forward and
//! backward (`activation`), Adam (`adam`), Caffe's SGD (`sgd`), CUDA graph replay of epochs
//! (`epoch_replay`), chunked MC prediction (`mc_predictive`), and
//! tensors as host numbers (`host`).

pub mod activation;
pub mod adam;
pub mod batches;
pub mod checkpoint;
pub mod epoch_replay;
pub mod host;
pub mod mc_predictive;
pub mod member_mlp;
pub mod sgd;
