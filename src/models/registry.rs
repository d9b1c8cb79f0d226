//! The one place that maps a spec's model section to the family that trains it; a new
//! `ModelPlan` variant fails to compile here until its family is named.

use super::concrete_dropout::ConcreteDropoutFamily;
use super::ensemble::EnsembleFamily;
use super::family::RegressionFamily;
use super::gp::GpFamily;
use super::mc_dropout::McDropoutFamily;
use super::mfvi::MfviFamily;
use super::pbp::PbpFamily;
use crate::spec::{ModelPlan, UciPlan};

/// The family that trains `plan`'s model.
pub fn regression_family(plan: &UciPlan) -> Box<dyn RegressionFamily> {
    match &plan.model {
        ModelPlan::McDropout(mlp, net) => {
            Box::new(McDropoutFamily { mlp: mlp.clone(), training: net.training.clone(), mc_samples: net.mc_samples })
        }
        ModelPlan::Mfvi(mfvi, net) => {
            Box::new(MfviFamily { plan: mfvi.clone(), training: net.training.clone(), mc_samples: net.mc_samples })
        }
        ModelPlan::Gp(gp) => Box::new(GpFamily { plan: gp.clone() }),
        ModelPlan::Pbp(pbp) => Box::new(PbpFamily { plan: pbp.clone() }),
        ModelPlan::Ensemble(e) => Box::new(EnsembleFamily { plan: e.clone() }),
        ModelPlan::ConcreteDropout(c, net) => Box::new(ConcreteDropoutFamily {
            plan: c.clone(),
            training: net.training.clone(),
            mc_samples: net.mc_samples,
        }),
    }
}
