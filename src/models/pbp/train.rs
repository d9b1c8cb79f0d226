//! PBP training: each member (one network per split) makes its passes over its own rows in
//! its own fresh random order, one ADF update per point, and refines its prior after every
//! pass.
//!
//! Members run side by side on the host, one rayon task each, and meet after every pass (the
//! progress step). ADF is sequential within a member (each update starts from the previous
//! posterior), so the batch dimension is the members; stacking them into tensors would turn
//! every point's few thousand flops into a dozen device launches.

use rayon::prelude::*;

use super::adf::{adf_update, refine_prior};
use super::network::{PbpNet, Tape};
use crate::models::family::Progress;
use crate::rng::{member_rng, shuffle, MemberRng};

/// How the networks are built and trained.
#[derive(Debug, Clone, PartialEq)]
pub struct PbpOptions {
    /// Inputs, hidden layers' units, 1.
    pub widths: Vec<usize>,
    /// Passes over the training rows.
    pub passes: usize,
}

/// One network to train: its random stream and where its rows start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PbpMember {
    pub seed: u64,
    pub row_offset: usize,
}

/// Standardized training rows on the host, `n` per member.
///
/// # Shapes
/// x: [R * d], row-major; y: [R]
pub struct HostRows<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub d: usize,
    pub n: usize,
}

/// A trained member and how many of its weight updates were rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    pub net: PbpNet,
    pub rejected_updates: u64,
}

struct MemberState {
    net: PbpNet,
    rng: MemberRng,
    tape: Tape,
    order: Vec<usize>,
    row_offset: usize,
    rejected_updates: u64,
}

impl MemberState {
    fn pass(&mut self, rows: &HostRows) {
        shuffle(&mut self.rng, &mut self.order);
        for &i in &self.order {
            let r = self.row_offset + i;
            let x = &rows.x[r * rows.d..(r + 1) * rows.d];
            self.rejected_updates += adf_update(&mut self.net, x, rows.y[r], &mut self.tape) as u64;
        }
        refine_prior(&mut self.net);
    }
}

/// Trains every member; advances `progress` once per pass.
pub fn fit(rows: &HostRows, members: &[PbpMember], options: &PbpOptions, progress: &dyn Progress) -> Vec<Trained> {
    let mut states: Vec<MemberState> = members
        .iter()
        .map(|m| {
            let mut rng = member_rng(m.seed);
            let net = PbpNet::new(&options.widths, &mut rng);
            let tape = net.tape();
            MemberState { net, rng, tape, order: (0..rows.n).collect(), row_offset: m.row_offset, rejected_updates: 0 }
        })
        .collect();
    for _ in 0..options.passes {
        states.par_iter_mut().for_each(|s| s.pass(rows));
        progress.advance(1);
    }
    states.into_iter().map(|s| Trained { net: s.net, rejected_updates: s.rejected_updates }).collect()
}
