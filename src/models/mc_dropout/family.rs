//! MC dropout as a UCI model family: the grid is dropout rate x tau, the weight decay follows
//! the spec's rule, test scores are MC RMSE, MC log-likelihood and the standard-dropout RMSE.

use super::evaluate::evaluate;
use super::member::Member;
use super::train::{fit, FitOptions};
use crate::error::Result;
use crate::models::family::{Env, Hyper, HyperName, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::mc_predictive::HeldOut;
use crate::models::nn::member_mlp::{mlp_widths, MemberMlp};
use crate::spec::{MlpPlan, TrainingPlan, UciSetPlan};

pub struct McDropoutFamily {
    pub mlp: MlpPlan,
    pub training: TrainingPlan,
    pub mc_samples: usize,
}

impl McDropoutFamily {
    pub fn fit_options(&self, set: &UciSetPlan, inputs: usize) -> FitOptions {
        FitOptions {
            widths: mlp_widths(inputs, set.hidden_units, self.mlp.hidden_layers),
            activation: self.mlp.activation,
            epochs: set.epochs,
            training: self.training.clone(),
        }
    }

    /// The program's held-out rows, with each member's target scaling and precision tau.
    pub fn held_out(&self, program: &Program) -> Result<HeldOut> {
        let taus = program.members.iter().map(|m| m.get(HyperName::Tau)).collect::<Result<_>>()?;
        Ok(HeldOut::of_program(program, taus))
    }

    /// The program's members as dropout networks.
    pub fn members(&self, program: &Program) -> Result<Vec<Member>> {
        program
            .members
            .iter()
            .map(|m| {
                let (p, tau) = (m.get(HyperName::Dropout)?, m.get(HyperName::Tau)?);
                Ok(Member {
                    seed: m.seed,
                    dropout: p,
                    weight_decay: self.mlp.weight_decay.lambda(p, tau, program.n()),
                    row_offset: m.row_offset,
                })
            })
            .collect()
    }
}

impl RegressionFamily for McDropoutFamily {
    fn kind(&self) -> ModelKind {
        ModelKind::McDropout
    }

    fn grid(&self, set: &UciSetPlan) -> Vec<Hyper> {
        let mut points = Vec::new();
        for &p in &self.mlp.dropout_rates {
            for &tau in &set.taus {
                points.push(vec![(HyperName::Dropout, p), (HyperName::Tau, tau)]);
            }
        }
        points
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        self.fit_options(set, 1).steps(n)
    }

    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        MemberBatches::rows_touched(set.epochs, n)
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let mut everyone = || Ok((0..program.members.len()).collect());
        self.fit_and_score_kept(program, set, env, &mut everyone)
    }

    /// MC evaluation is most of a retrain's cost on a device: only the kept networks are
    /// evaluated, as a program of their own. On the CPU each (member, sample) draws from its own
    /// stream, so their scores equal those of a program that trained only them.
    fn fit_and_score_kept(
        &self,
        program: &Program,
        set: &UciSetPlan,
        env: &Env,
        keep: &mut dyn FnMut() -> Result<Vec<usize>>,
    ) -> Result<Vec<Scores>> {
        let options = self.fit_options(set, program.held_x.size()[2] as usize);
        let members = self.members(program)?;
        let net = fit(&program.stacked, &members, &options, env.progress, env.checkpoints)?;
        let kept = keep()?;
        let (net, members, held_out) = if kept.len() == members.len() && kept.iter().enumerate().all(|(i, &k)| i == k) {
            (net, members, self.held_out(program)?)
        } else {
            let index: Vec<i64> = kept.iter().map(|&k| k as i64).collect();
            let net = MemberMlp::from_params(net.params().select_members(&index)?, net.activation());
            let members = kept.iter().map(|&k| members[k].clone()).collect();
            (net, members, self.held_out(program)?.select_members(&kept)?)
        };
        env.progress.phase(&format!("MC evaluation, T={}", self.mc_samples));
        let (scores, _) = evaluate(&net, &members, &held_out, self.mc_samples, env.mc_budget, env.device)?;
        Ok(scores
            .into_iter()
            .map(|s| Scores {
                rmse: s.rmse_mc,
                ll: s.ll,
                extra: vec![(crate::metrics::keys::RMSE_STANDARD.to_string(), s.rmse_standard)],
            })
            .collect())
    }
}
