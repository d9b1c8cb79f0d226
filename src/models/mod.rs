//! Model families. `member_mlp` is the member-batched network the MLP models build on
//! (`flat_adam` updates its flat parameter tensor);
//! `mc_dropout` trains it with dropout and evaluates it by MC dropout; `mc_host` is the
//! mask-free CPU evaluator; `mc_predictive` the chunked MC scoring both sampling models share; `mfvi` is the mean-field variational BNN baseline, `gp` the Gaussian process (exact,
//! or `sgpr`'s sparse bound beyond a size);
//! `lenet` and `classifier` are the MNIST classifiers (dropout LeNet, variational MLP). `family` picks the family a UCI plan asks for.

pub mod batches;
pub mod classifier;
pub mod flat_adam;
pub mod gp;
pub mod lenet;
pub mod mc_dropout;
pub mod mc_host;
pub mod mc_predictive;
pub mod member_mlp;
pub mod mfvi;
pub mod sgpr;

use crate::protocol::regression::RegressionFamily;
use crate::spec::{ModelPlan, UciPlan};

/// The family that trains `plan`'s model.
pub fn family(plan: &UciPlan) -> Box<dyn RegressionFamily> {
    match &plan.model {
        ModelPlan::McDropout(mlp, net) => Box::new(mc_dropout::McDropoutFamily {
            mlp: mlp.clone(),
            training: net.training.clone(),
            mc_samples: net.mc_samples,
        }),
        ModelPlan::Mfvi(mfvi, net) => Box::new(mfvi::MfviFamily {
            plan: mfvi.clone(),
            training: net.training.clone(),
            mc_samples: net.mc_samples,
        }),
        ModelPlan::Gp(gp) => Box::new(gp::GpFamily { plan: gp.clone() }),
    }
}
