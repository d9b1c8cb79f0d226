//! Model families. `member_mlp` is the member-batched network every MLP model builds on;
//! `mc_dropout` trains it with dropout and evaluates it by MC dropout.

pub mod mc_dropout;
pub mod member_mlp;
