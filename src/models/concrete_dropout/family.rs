//! Concrete dropout as a UCI model family: the MC-dropout network, epochs and test estimator,
//! but no grid over rates: they are learned per layer. The noise (`ConcreteNoise`):
//! - `learned` with the rates; the validation rows are not needed (one network per split
//!   against the dropout protocol's 12-point grid plus its retrain);
//! - `grid`: learned in training, but one network on the fit rows is scored at each of the
//!   set's tau values and the best predicts for the final network (two per split; members of a
//!   program that differ only in tau share one network);
//! - `fixed`: one network per tau value trains at that precision (the regularizer then weighs
//!   l^2 / (tau N) and 2 / (tau N) against the squared error, the authors' homoscedastic form),
//!   and the best on the validation rows is retrained (the set's tau count plus one per split).

use super::evaluate::evaluate;
use super::train::{fit, ConcreteNet, ConcreteOptions};
use crate::error::Result;
use crate::models::family::{Env, Hyper, HyperName, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::mc_predictive::HeldOut;
use crate::models::nn::member_mlp::mlp_widths;
use crate::spec::raw::ConcreteNoise;
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

    fn grid(&self, set: &UciSetPlan) -> Vec<Hyper> {
        match self.plan.noise {
            ConcreteNoise::Learned => vec![Vec::new()],
            ConcreteNoise::Grid | ConcreteNoise::Fixed => {
                set.taus.iter().map(|&tau| vec![(HyperName::Tau, tau)]).collect()
            }
        }
    }

    fn grid_networks(&self, set: &UciSetPlan) -> usize {
        match self.plan.noise {
            ConcreteNoise::Fixed => set.taus.len(),
            ConcreteNoise::Learned | ConcreteNoise::Grid => 1,
        }
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        self.options(set, 1).steps(n)
    }

    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        MemberBatches::rows_touched(set.epochs, n)
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let options = self.options(set, program.held_x.size()[2] as usize);
        // One network per split (row offset) and, when fixed, per tau (its precision in
        // standardized units), seeded by its first member.
        let fixed = self.plan.noise == ConcreteNoise::Fixed;
        let (mut nets, mut net_of) = (Vec::<ConcreteNet>::new(), Vec::<i64>::new());
        for m in &program.members {
            let precision = if fixed { Some(m.get(HyperName::Tau)? * m.y_std * m.y_std) } else { None };
            let same = |n: &ConcreteNet| n.row_offset == m.row_offset && n.precision == precision;
            let index = nets.iter().position(same).unwrap_or_else(|| {
                nets.push(ConcreteNet { seed: m.seed, row_offset: m.row_offset, precision });
                nets.len() - 1
            });
            net_of.push(index as i64);
        }
        let trained = fit(&program.stacked, &nets, &options, env.progress)?;
        let per_member = trained.select(&net_of)?;
        env.progress.phase(&format!("MC evaluation, T={}", self.mc_samples));
        // The MC estimator's precision: the grid point's tau, or the learned noise, in
        // original units.
        let tau = program
            .members
            .iter()
            .zip(&per_member.noise_variance)
            .map(|(m, v)| match self.plan.noise {
                ConcreteNoise::Learned => Ok(1.0 / (v * m.y_std * m.y_std)),
                ConcreteNoise::Grid | ConcreteNoise::Fixed => m.get(HyperName::Tau),
            })
            .collect::<Result<_>>()?;
        let held = HeldOut::of_program(program, tau);
        let seeds: Vec<u64> = net_of.iter().map(|&i| nets[i as usize].seed).collect();
        let predictive =
            evaluate(&per_member, &seeds, &held, self.mc_samples, options.temperature, env.mc_budget, env.device)?;
        let (rmse, ll) = (predictive.rmse()?, predictive.mean_ll()?);
        Ok(program
            .members
            .iter()
            .enumerate()
            .map(|(k, member)| {
                let mut extra: Vec<(String, f64)> = per_member
                    .rates
                    .iter()
                    .enumerate()
                    .map(|(l, rates)| (format!("dropout_layer_{l}"), rates[k]))
                    .collect();
                extra.push((
                    crate::metrics::keys::NOISE_STD.to_string(),
                    per_member.noise_variance[k].sqrt() * member.y_std,
                ));
                Scores { rmse: rmse[k], ll: ll[k], extra }
            })
            .collect())
    }
}
