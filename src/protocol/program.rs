//! One batched training program of a UCI set: every (split, setting) member's rows,
//! standardized with its own fit rows, stacked for the model family to train at once.

use tch::Tensor;

use super::splits::SplitRows;
use crate::data::uci::UciData;
use crate::data::Standardizer;
use crate::error::{Error, Result};
use crate::models::{Hyper, Program, ProgramMember, StackedRows};
use crate::rng::derive_seed;
use crate::spec::UciSetPlan;

/// Which training of the protocol a program does. Its label is part of every member's seed,
/// so the grid's and the final phase's networks draw different streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Fit rows of each split, one member per grid point, scored on the validation rows.
    Grid,
    /// Whole training split, scored on its test rows.
    Final,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Grid => "grid",
            Phase::Final => "final",
        }
    }
}

/// Standardizes each split with its own fit rows and lays out one member per (split, config):
/// member seeds derive from the root seed, set, split, phase and hyper-parameter values.
pub fn build_program(
    seed: u64,
    set_plan: &UciSetPlan,
    data: &UciData,
    rows: &[SplitRows],
    configs: &[Vec<Hyper>],
    phase: Phase,
    device: tch::Device,
) -> Result<Program> {
    let n = rows[0].fit.len();
    let n_held = rows[0].held_out.len();
    // Every split of a set has the same size, which lets members share one program.
    if let Some(r) = rows.iter().find(|r| r.fit.len() != n || r.held_out.len() != n_held) {
        return Err(Error::DataInvalid {
            path: data.dir.clone(),
            message: format!(
                "split {} has a different size from split {}; splits must be equal-sized to batch",
                r.split, rows[0].split
            ),
        });
    }
    let mut fit_x = Vec::new();
    let mut fit_y = Vec::new();
    let mut members = Vec::new();
    let mut held_x = Vec::new();
    let mut held_y = Vec::new();
    for (i, (r, split_configs)) in rows.iter().zip(configs).enumerate() {
        let x = data.x.select_rows(&r.fit);
        let y: Vec<f64> = r.fit.iter().map(|&j| data.y[j]).collect();
        let sx = Standardizer::fit(&x);
        let sy = Standardizer::fit_vector(&y);
        fit_x.extend(sx.transform(&x).values.iter().map(|&v| v as f32));
        fit_y.extend(sy.transform_vector(&y).iter().map(|&v| v as f32));
        let hx = sx.transform(&data.x.select_rows(&r.held_out));
        let hy: Vec<f64> = r.held_out.iter().map(|&j| data.y[j]).collect();
        for hyper in split_configs {
            let mut labels = vec![set_plan.set.folder().to_string(), r.split.to_string(), phase.label().to_string()];
            labels.extend(hyper.iter().map(|(_, v)| v.to_string()));
            let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
            members.push(ProgramMember {
                seed: derive_seed(seed, &labels),
                row_offset: i * n,
                hyper: hyper.clone(),
                y_mean: sy.mean[0],
                y_std: sy.std[0],
            });
            held_x.extend(hx.values.iter().map(|&v| v as f32));
            held_y.extend_from_slice(&hy);
        }
    }
    let d = data.x.cols as i64;
    let stacked = StackedRows {
        x: Tensor::from_slice(&fit_x).f_view([(rows.len() * n) as i64, d])?.f_to_device(device)?,
        y: Tensor::from_slice(&fit_y).f_to_device(device)?,
        n,
    };
    let held_x = Tensor::from_slice(&held_x).f_view([members.len() as i64, n_held as i64, d])?.f_to_device(device)?;
    Ok(Program { stacked, members, held_x, held_y, n_held })
}
