//! The GP as a UCI model family: no grid (the marginal likelihood picks the hyper-parameters),
//! exact Gaussian predictive, scores in original units; beyond `max_rows` training rows the
//! sparse bound (`sparse`) instead of the exact marginal likelihood.

use tch::Kind;

use super::{exact, sparse};
use crate::error::Result;
use crate::metrics::{gaussian_log_likelihood, keys, rmse};
use crate::models::family::{Env, Hyper, Program, RegressionFamily, Scores};
use crate::models::kind::ModelKind;
use crate::models::nn::host::f64_values;
use crate::spec::{GpPlan, UciSetPlan};

/// The GP as a UCI model family: no grid (the marginal likelihood picks the hyper-parameters),
/// exact Gaussian predictive, scores in original units.
pub struct GpFamily {
    pub plan: GpPlan,
}

impl RegressionFamily for GpFamily {
    fn kind(&self) -> ModelKind {
        ModelKind::Gp
    }

    fn grid(&self, _set: &UciSetPlan) -> Vec<Hyper> {
        vec![Vec::new()]
    }

    fn steps(&self, _n: usize, set: &UciSetPlan) -> u64 {
        set.gp_plan(&self.plan).iterations as u64
    }

    /// Kernel entries per step: n x n exact, n x M sparse.
    fn training_work(&self, n: usize, set: &UciSetPlan) -> f64 {
        let plan = set.gp_plan(&self.plan);
        let columns = if n > plan.max_rows { plan.inducing } else { n };
        (n * columns) as f64 * self.steps(n, set) as f64
    }

    fn fit_and_score(&self, program: &Program, set: &UciSetPlan, env: &Env) -> Result<Vec<Scores>> {
        let plan = set.gp_plan(&self.plan);
        let s = program.members.len() as i64;
        let n = program.n() as i64;
        let d = program.held_x.size()[2];
        let x = program.stacked.x.f_view([s, n, d])?.f_to_kind(Kind::Double)?;
        let y = program.stacked.y.f_view([s, n])?.f_to_kind(Kind::Double)?;
        let seeds: Vec<u64> = program.members.iter().map(|m| m.seed).collect();
        let x_star = program.held_x.f_to_kind(Kind::Double)?;
        // Beyond max_rows the n x n kernel is out of budget: Titsias' sparse bound instead.
        let (mean, var, nlml, log_noise_std) = if program.n() > plan.max_rows {
            let (params, bound) = sparse::fit(&x, &y, &seeds, plan, env.progress)?;
            let (mean, var) = sparse::predict(&x, &y, &x_star, &params, plan.noise_floor)?;
            (mean, var, bound, params.kernel.log_noise_std)
        } else {
            let (params, nlml) = exact::fit(&x, &y, &seeds, plan, env.progress)?;
            let (mean, var) = exact::predict(&x, &y, &x_star, &params, plan.noise_floor)?;
            (mean, var, nlml, params.log_noise_std)
        };
        let noise = f64_values(&log_noise_std.f_exp()?)?;
        let (mean, var, nlml) = (f64_values(&mean)?, f64_values(&var)?, f64_values(&nlml)?);
        let m = program.n_held;
        Ok(program
            .members
            .iter()
            .enumerate()
            .map(|(k, member)| {
                let y = &program.held_y[k * m..(k + 1) * m];
                let mu: Vec<f64> = mean[k * m..(k + 1) * m].iter().map(|v| v * member.y_std + member.y_mean).collect();
                let ll = (0..m)
                    .map(|i| gaussian_log_likelihood(y[i], mu[i], var[k * m + i] * member.y_std * member.y_std))
                    .sum::<f64>()
                    / m as f64;
                Scores {
                    rmse: rmse(y, &mu),
                    ll,
                    extra: vec![
                        (keys::NOISE_STD.to_string(), noise[k] * member.y_std),
                        (keys::NLML_PER_ROW.to_string(), nlml[k] / program.n() as f64),
                    ],
                }
            })
            .collect())
    }
}
