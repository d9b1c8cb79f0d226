//! Mean-field VI as a UCI model family: the grid is prior std (x tau when tau is fixed).

use super::evaluate::{evaluate, noise_precision};
use super::train::{fit, BnnMember, BnnOptions, ElboGradient};
use crate::error::Result;
use crate::models::family::{Env, Hyper, HyperName, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::mc_predictive::HeldOut;
use crate::models::nn::member_mlp::mlp_widths;
use crate::spec::{MfviPlan, TrainingPlan, UciSetPlan};

pub struct MfviFamily {
    pub plan: MfviPlan,
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

impl MfviFamily {
    pub fn options(&self, set: &UciSetPlan, inputs: usize) -> BnnOptions {
        BnnOptions {
            widths: mlp_widths(inputs, set.hidden_units, self.plan.hidden_layers),
            activation: self.plan.activation,
            epochs: set.epochs,
            training: self.training.clone(),
            init_posterior_std: self.plan.init_posterior_std,
            init_noise_std: self.plan.init_noise_std,
            gradient: ElboGradient::Hand,
        }
    }

    /// The program's members as the trainer sees them.
    pub fn members(&self, program: &Program) -> Result<Vec<BnnMember>> {
        program
            .members
            .iter()
            .map(|m| {
                // tau is given in original units; the network sees standardized targets.
                let tau = if self.plan.learn_noise { None } else { Some(m.get(HyperName::Tau)? * m.y_std * m.y_std) };
                Ok(BnnMember { seed: m.seed, prior_std: m.get(HyperName::PriorScale)?, tau, row_offset: m.row_offset })
            })
            .collect()
    }
}

impl RegressionFamily for MfviFamily {
    fn kind(&self) -> ModelKind {
        ModelKind::Mfvi
    }

    fn grid(&self, set: &UciSetPlan) -> Vec<Hyper> {
        let mut points = Vec::new();
        for &s in &self.plan.prior_scales {
            if self.plan.learn_noise {
                points.push(vec![(HyperName::PriorScale, s)]);
            } else {
                for &tau in &set.taus {
                    points.push(vec![(HyperName::PriorScale, s), (HyperName::Tau, tau)]);
                }
            }
        }
        points
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        self.options(set, 1).steps(n)
    }

    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        MemberBatches::rows_touched(set.epochs, n)
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let options = self.options(set, program.held_x.size()[2] as usize);
        let members = self.members(program)?;
        let net = fit(&program.stacked, &members, &options, env.progress)?;
        env.progress.phase(&format!("predictive, T={}", self.mc_samples));
        let held = HeldOut::of_program(program, noise_precision(&net, &members, program)?);
        evaluate(&net, &members, &held, self.mc_samples, env.mc_budget, env.device)
    }
}
