//! What the member-batched networks share, each in one place: the batched MLP and its flat
//! parameters (`member_mlp`), the activation forward and backward (`activation`), per-member
//! mini-batches (`batches`), chunked MC prediction (`mc_predictive`), and tensors as host
//! numbers (`host`).

pub mod activation;
pub mod batches;
pub mod host;
pub mod mc_predictive;
pub mod member_mlp;
