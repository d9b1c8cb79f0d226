//! What the member-batched network families share, each in one place: the batched MLP and its
//! parameters (`member_mlp`), per-member mini-batches (`batches`), the activation forward and
//! backward (`activation`), Adam (`adam`), and chunked MC prediction (`mc_predictive`).

pub mod activation;
pub mod adam;
pub mod batches;
pub mod checkpoint;
pub mod mc_predictive;
pub mod member_mlp;
