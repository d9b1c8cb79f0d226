//! Concrete dropout as a UCI model family: the MC-dropout network, epochs and test estimator,
//! but no grid at all: the rates are learned per layer and the noise variance with them (so
//! the validation rows are not needed; the compute is one network per split against the
//! dropout protocol's 12-point grid plus its retrain).

use super::evaluate::evaluate;
use super::train::{fit, ConcreteNet, ConcreteOptions};
use crate::error::Result;
use crate::models::family::{Env, Hyper, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::shared::batches::MemberBatches;
use crate::models::shared::mc_predictive::HeldOut;
use crate::models::shared::member_mlp::mlp_widths;
use crate::spec::{ConcretePlan, TrainingPlan, UciSetPlan};

pub struct ConcreteDropoutFamily {
    pub plan: ConcretePlan,
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

impl ConcreteDropoutFamily {
    pub fn options(&self, set: &UciSetPlan, inputs: usize) -> ConcreteOptions {
        ConcreteOptions {
            widths: mlp_widths(inputs, set.hidden_units, self.plan.hidden_layers),
            epochs: set.epochs,
            training: self.training.clone(),
            length_scale: self.plan.length_scale,
            temperature: self.plan.temperature,
            init_dropout: self.plan.init_dropout,
        }
    }
}

impl RegressionFamily for ConcreteDropoutFamily {
    fn kind(&self) -> ModelKind {
        ModelKind::ConcreteDropout
    }

    fn grid(&self, _set: &UciSetPlan) -> Vec<Hyper> {
        vec![Vec::new()]
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        self.options(set, 1).steps(n)
    }

    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        MemberBatches::rows_touched(set.epochs, n)
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let options = self.options(set, program.held_x.size()[2] as usize);
        let nets: Vec<ConcreteNet> =
            program.members.iter().map(|m| ConcreteNet { seed: m.seed, row_offset: m.row_offset }).collect();
        let trained = fit(&program.stacked, &nets, &options, env.progress)?;
        env.progress.phase(&format!("MC evaluation, T={}", self.mc_samples));
        // The MC estimator's precision: the learned noise, in original units.
        let tau =
            program.members.iter().zip(&trained.noise_variance).map(|(m, v)| 1.0 / (v * m.y_std * m.y_std)).collect();
        let held = HeldOut::of_program(program, tau);
        let seeds: Vec<u64> = nets.iter().map(|n| n.seed).collect();
        let predictive =
            evaluate(&trained, &seeds, &held, self.mc_samples, options.temperature, env.mc_budget, env.device)?;
        let (rmse, ll) = (predictive.rmse()?, predictive.mean_ll()?);
        Ok(program
            .members
            .iter()
            .enumerate()
            .map(|(k, member)| {
                let mut extra: Vec<(String, f64)> = trained
                    .rates
                    .iter()
                    .enumerate()
                    .map(|(l, rates)| (format!("dropout_layer_{l}"), rates[k]))
                    .collect();
                extra.push(("noise_std".to_string(), trained.noise_variance[k].sqrt() * member.y_std));
                Scores { rmse: rmse[k], ll: ll[k], extra }
            })
            .collect())
    }
}
