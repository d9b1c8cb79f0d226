//! PBP as a UCI model family: no grid (the authors' protocol has no search), one ReLU network
//! per split trained by ADF, scored by its Gaussian predictive in original units.

use rayon::prelude::*;

use super::evaluate::{predict, scores};
use super::train::{fit, HostRows, PbpMember, PbpOptions};
use crate::error::Result;
use crate::models::family::{Env, Hyper, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::nn::host::f64_values;
use crate::models::nn::member_mlp::mlp_widths;
use crate::spec::{PbpPlan, UciSetPlan};

pub struct PbpFamily {
    pub plan: PbpPlan,
}

impl PbpFamily {
    pub fn options(&self, set: &UciSetPlan, inputs: usize) -> PbpOptions {
        PbpOptions { widths: mlp_widths(inputs, set.hidden_units, self.plan.hidden_layers), passes: set.epochs }
    }
}

impl RegressionFamily for PbpFamily {
    fn kind(&self) -> ModelKind {
        ModelKind::Pbp
    }

    fn grid(&self, _set: &UciSetPlan) -> Vec<Hyper> {
        vec![Vec::new()]
    }

    /// One step is one pass of every member over its rows.
    fn steps(&self, _n: usize, set: &UciSetPlan) -> u64 {
        set.epochs as u64
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let d = program.held_x.size()[2] as usize;
        let x = f64_values(&program.stacked.x)?;
        let y = f64_values(&program.stacked.y)?;
        let rows = HostRows { x: &x, y: &y, d, n: program.n() };
        let members: Vec<PbpMember> =
            program.members.iter().map(|m| PbpMember { seed: m.seed, row_offset: m.row_offset }).collect();
        let options = self.options(set, d);
        let trained = fit(&rows, &members, &options, env.progress);
        env.progress.phase("Gaussian predictive");
        let held_x = f64_values(&program.held_x)?;
        let (m, per_member) = (program.n_held, program.n_held * d);
        let (held_y, program_members) = (&program.held_y, &program.members);
        let updates = (options.passes * program.n() * trained.first().map_or(0, |t| t.net.weight_count())) as f64;
        Ok(trained
            .par_iter()
            .zip(program_members)
            .enumerate()
            .map(|(k, (t, member))| {
                let rows = &held_x[k * per_member..(k + 1) * per_member];
                let (mean, var) = predict(&t.net, rows, d, member.y_mean, member.y_std);
                let (rmse, ll) = scores(&held_y[k * m..(k + 1) * m], &mean, &var);
                Scores {
                    rmse,
                    ll,
                    extra: vec![
                        (crate::metrics::keys::NOISE_STD.to_string(), t.net.noise.variance().sqrt() * member.y_std),
                        ("prior_std".to_string(), t.net.prior.variance().sqrt()),
                        ("rejected_update_share".to_string(), t.rejected_updates as f64 / updates.max(1.0)),
                    ],
                }
            })
            .collect())
    }
}
