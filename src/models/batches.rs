//! Mini-batches for member-batched training: every member walks its own `n` rows of the
//! stacked data in its own order, reshuffled every epoch from its own stream (as Keras'
//! `fit(shuffle=True)`), and the k-th slab of each batch holds member k's rows.

use rayon::prelude::*;
use tch::{Device, Tensor};

use super::mc_dropout::StackedRows;
use crate::error::Result;
use crate::rng::{shuffle, MemberRng};

pub struct MemberBatches {
    orders: Vec<Vec<i64>>,
    offsets: Vec<i64>,
    index: Vec<i64>,
    n: usize,
    batch: usize,
}

impl MemberBatches {
    /// Members whose rows start at `offsets` in the stacked data, `n` rows each.
    pub fn new(n: usize, batch: usize, offsets: impl IntoIterator<Item = usize>) -> Self {
        let offsets: Vec<i64> = offsets.into_iter().map(|o| o as i64).collect();
        let index = Vec::with_capacity(offsets.len() * batch);
        Self { orders: vec![(0..n as i64).collect(); offsets.len()], offsets, index, n, batch }
    }

    /// Starts an epoch: each member reshuffles its order with its own stream.
    pub fn shuffle(&mut self, rngs: &mut [MemberRng]) {
        self.orders.par_iter_mut().zip(rngs.par_iter_mut()).for_each(|(order, rng)| shuffle(rng, order));
    }

    /// Start rows of the epoch's batches; the last one may be partial.
    pub fn starts(&self) -> impl Iterator<Item = usize> {
        (0..self.n).step_by(self.batch)
    }

    /// The batch starting at `start`.
    /// # Shapes
    /// returns (x [K, b, D], y [K, b, 1], b)
    pub fn gather(&mut self, data: &StackedRows, start: usize, device: Device) -> Result<(Tensor, Tensor, usize)> {
        let b = self.batch.min(self.n - start);
        let k = self.offsets.len() as i64;
        self.index.clear();
        for (order, offset) in self.orders.iter().zip(&self.offsets) {
            self.index.extend(order[start..start + b].iter().map(|&r| r + offset));
        }
        let rows = Tensor::from_slice(&self.index).f_to_device(device)?;
        // [K*b, D] -> [K, b, D]
        let x = data.x.f_index_select(0, &rows)?.f_view([k, b as i64, -1])?;
        let y = data.y.f_index_select(0, &rows)?.f_view([k, b as i64, 1])?;
        Ok((x, y, b))
    }
}
