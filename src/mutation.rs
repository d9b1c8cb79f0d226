//! Deliberate faults, for the tests that prove `mcdrop check` catches real regressions.
//!
//! Each names a mistake this field makes in practice; `MCDROP_TEST_MUTATION=<name>` switches
//! one on for a whole process. Unset (every normal run), [`active`] is false everywhere and the
//! numerics are those of the code without this module.

use std::sync::OnceLock;

/// The environment variable the tests set.
pub const VAR: &str = "MCDROP_TEST_MUTATION";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// Dropout masks drawn at twice the rate (the 1 / (1 - p) scaling left as it was).
    DropoutTwiceP,
    /// The Gaussian log-likelihoods without their -1/2 log(2 pi).
    LlWithoutConstant,
    /// MNIST's MC predictive as the softmax of the averaged logits, not the average of the
    /// softmaxes.
    MnistLogitAveraging,
    /// The MC predictive variance without the model precision's 1 / tau: a Gaussian with the
    /// samples' own variance.
    TauLeftOut,
    /// The GP's noise variance doubled in its predictive variance.
    GpNoiseDoubled,
}

impl Mutation {
    pub const ALL: [Mutation; 5] = [
        Mutation::DropoutTwiceP,
        Mutation::LlWithoutConstant,
        Mutation::MnistLogitAveraging,
        Mutation::TauLeftOut,
        Mutation::GpNoiseDoubled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mutation::DropoutTwiceP => "dropout-twice-p",
            Mutation::LlWithoutConstant => "ll-without-constant",
            Mutation::MnistLogitAveraging => "mnist-logit-averaging",
            Mutation::TauLeftOut => "tau-left-out",
            Mutation::GpNoiseDoubled => "gp-noise-doubled",
        }
    }
}

static ACTIVE: OnceLock<Option<Mutation>> = OnceLock::new();

/// Whether `m` is the mutation this process runs with.
pub fn active(m: Mutation) -> bool {
    *ACTIVE.get_or_init(|| {
        let name = std::env::var(VAR).ok()?;
        let found = Mutation::ALL.into_iter().find(|m| m.name() == name);
        if found.is_none() {
            let names: Vec<&str> = Mutation::ALL.iter().map(|m| m.name()).collect();
            eprintln!("warning: {VAR}={name:?} names no mutation (known: {}); running unmutated", names.join(", "));
        }
        found
    }) == Some(m)
}
