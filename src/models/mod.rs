//! Model families. `member_mlp` is the member-batched network every MLP model builds on;
//! `mc_dropout` trains it with dropout and evaluates it by MC dropout; `mc_host` is the
//! mask-free CPU evaluator.

pub mod mc_dropout;
pub mod mc_host;
pub mod member_mlp;
