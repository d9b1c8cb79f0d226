//! Deep ensembles as a UCI model family: the grid is Adam's learning rate (the paper's printed
//! 0.1 is doubtful, so it is chosen on the validation rows), each grid point of each split is
//! an ensemble of M networks, scored as the mixture of their Gaussians.

use tch::Tensor;

use super::mixture::mixture_scores;
use super::network::{split_head, Head};
use super::train::{fit, EnsembleNet, EnsembleOptions};
use crate::error::Result;
use crate::models::family::{Env, Hyper, HyperName, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::nn::batches::MemberBatches;
use crate::models::nn::host::f64_values;
use crate::models::nn::member_mlp::mlp_widths;
use crate::rng::derive_seed;
use crate::spec::raw::EnsembleLoss;
use crate::spec::{EnsemblePlan, UciSetPlan};

pub struct EnsembleFamily {
    pub plan: EnsemblePlan,
}

impl EnsembleFamily {
    pub fn options(&self, set: &UciSetPlan, inputs: usize) -> EnsembleOptions {
        let mut widths = mlp_widths(inputs, set.hidden_units, self.plan.hidden_layers);
        *widths.last_mut().expect("an output layer") = self.head().outputs();
        EnsembleOptions {
            widths,
            head: self.head(),
            epochs: set.epochs,
            training: self.plan.training.clone(),
            adversarial: self.plan.adversarial,
            variance_floor: self.plan.variance_floor,
        }
    }

    pub fn head(&self) -> Head {
        match self.plan.loss {
            EnsembleLoss::Nll => Head::Gaussian,
            EnsembleLoss::Mse => Head::Mean,
        }
    }

    /// The networks of a program: M per program member, network m seeded from the member's
    /// seed and m, so an ensemble's networks do not depend on what else the program holds.
    pub fn networks(&self, program: &Program) -> Result<Vec<EnsembleNet>> {
        let mut out = Vec::new();
        for member in &program.members {
            let lr = member.get(HyperName::Lr)?;
            out.extend((0..self.plan.members).map(|m| EnsembleNet {
                seed: derive_seed(member.seed, &["network", &m.to_string()]),
                row_offset: member.row_offset,
                lr,
            }));
        }
        Ok(out)
    }
}

/// A [K * M, n] tensor as host rows.
fn host_rows(t: &Tensor) -> Result<Vec<Vec<f64>>> {
    let n = t.size()[1] as usize;
    Ok(f64_values(t)?.chunks(n).map(<[f64]>::to_vec).collect())
}

impl RegressionFamily for EnsembleFamily {
    fn kind(&self) -> ModelKind {
        ModelKind::Ensemble
    }

    fn grid(&self, _set: &UciSetPlan) -> Vec<Hyper> {
        self.plan.rates.iter().map(|&lr| vec![(HyperName::Lr, lr)]).collect()
    }

    fn steps(&self, n: usize, set: &UciSetPlan) -> u64 {
        self.options(set, 1).steps(n)
    }

    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        MemberBatches::rows_touched(set.epochs, n)
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let options = self.options(set, program.held_x.size()[2] as usize);
        let nets = self.networks(program)?;
        let net = fit(&program.stacked, &nets, &options, env.progress)?;
        env.progress.phase("mixture predictive");
        let m = self.plan.members;
        let held_x = program.held_x.f_repeat_interleave_self_int(m as i64, Some(0), None)?;
        let (mean, var) = tch::no_grad(|| -> Result<_> {
            split_head(&net.forward(&held_x, None)?, options.head, options.variance_floor)
        })?;
        let (mean, var) = (host_rows(&mean)?, var.as_ref().map(host_rows).transpose()?);
        let n = program.n_held;
        Ok(program
            .members
            .iter()
            .enumerate()
            .map(|(k, member)| {
                let (scale, shift) = (member.y_std, member.y_mean);
                let means: Vec<Vec<f64>> =
                    mean[k * m..(k + 1) * m].iter().map(|r| r.iter().map(|v| v * scale + shift).collect()).collect();
                let vars: Option<Vec<Vec<f64>>> = var.as_ref().map(|v| {
                    v[k * m..(k + 1) * m].iter().map(|r| r.iter().map(|v| v * scale * scale).collect()).collect()
                });
                let floor = options.variance_floor * scale * scale;
                let s = mixture_scores(&program.held_y[k * n..(k + 1) * n], &means, vars.as_deref(), floor);
                Scores {
                    rmse: s.rmse,
                    ll: s.ll,
                    extra: vec![(crate::metrics::keys::TEST_LL_GAUSSIAN.to_string(), s.ll_gaussian)],
                }
            })
            .collect())
    }
}
