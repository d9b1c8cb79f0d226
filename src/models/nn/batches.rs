//! Mini-batches for member-batched training: every member walks its own `n` rows of the
//! stacked data in its own order, reshuffled every epoch from its own stream (as Keras'
//! `fit(shuffle=True)`), and the k-th slab of each batch holds member k's rows.
//!
//! On a GPU the epoch's whole row order goes over once per epoch, so a step copies nothing
//! from the host (a host-to-device copy per step would cost more than the step's kernels).

use rayon::prelude::*;
use tch::{Device, Tensor};

use crate::error::Result;
use crate::models::family::StackedRows;
use crate::rng::{shuffle, MemberRng};

pub struct MemberBatches {
    orders: Vec<Vec<i64>>,
    device: Device,
    /// Whether the epoch's order goes to the device once per epoch (off the CPU; tests also
    /// take this path on the CPU, to check it gathers the same rows) rather than per step.
    per_epoch: bool,
    /// With `per_epoch`: this epoch's stacked-row index of every member, [K, n] on the device.
    epoch_rows: Option<Tensor>,
    offsets: Vec<i64>,
    index: Vec<i64>,
    n: usize,
    batch: usize,
}

impl MemberBatches {
    /// Members whose rows start at `offsets` in the stacked data, `n` rows each.
    pub fn new(n: usize, batch: usize, offsets: impl IntoIterator<Item = usize>, device: Device) -> Self {
        let offsets: Vec<i64> = offsets.into_iter().map(|o| o as i64).collect();
        let index = Vec::with_capacity(offsets.len() * batch);
        Self {
            orders: vec![(0..n as i64).collect(); offsets.len()],
            device,
            per_epoch: device != Device::Cpu,
            epoch_rows: None,
            offsets,
            index,
            n,
            batch,
        }
    }

    /// Starts an epoch: each member reshuffles its order with its own stream.
    pub fn shuffle(&mut self, rngs: &mut [MemberRng]) -> Result<()> {
        self.orders.par_iter_mut().zip(rngs.par_iter_mut()).for_each(|(order, rng)| shuffle(rng, order));
        if self.per_epoch {
            self.fill_index(0, self.n);
            let rows = Tensor::from_slice(&self.index).f_view([self.offsets.len() as i64, self.n as i64])?;
            // Into the same device buffer every epoch: a CUDA graph reads it from there.
            match &mut self.epoch_rows {
                Some(buffer) => {
                    buffer.f_copy_(&rows)?;
                }
                None => self.epoch_rows = Some(rows.f_to_device(self.device)?),
            }
        }
        Ok(())
    }

    /// Mini-batch steps of `epochs` passes over `n` rows in batches of `batch` (the last one
    /// of each pass may be partial): what every member-batched trainer takes.
    pub fn steps(epochs: usize, n: usize, batch: usize) -> u64 {
        (epochs * n.div_ceil(batch)) as u64
    }

    /// Rows a member's training touches over `epochs` passes over `n` rows: the work measure
    /// of every mini-batch trainer (`RegressionFamily::training_work`).
    pub fn rows_touched(epochs: usize, n: usize) -> f64 {
        (epochs * n) as f64
    }

    /// Every member's current row order (the permutation the next `shuffle` starts from).
    pub fn orders(&self) -> &[Vec<i64>] {
        &self.orders
    }

    /// Continues from a checkpoint's row orders.
    pub fn restore_orders(&mut self, orders: Vec<Vec<i64>>) {
        self.orders = orders;
    }

    /// Start rows of the epoch's batches; the last one may be partial.
    pub fn starts(&self) -> impl Iterator<Item = usize> {
        (0..self.n).step_by(self.batch)
    }

    /// The batch starting at `start`.
    /// # Shapes
    /// returns (x [K, b, D], y [K, b, 1], b)
    pub fn gather(&mut self, data: &StackedRows, start: usize) -> Result<(Tensor, Tensor, usize)> {
        let b = self.batch.min(self.n - start);
        let k = self.offsets.len() as i64;
        let rows = match &self.epoch_rows {
            Some(epoch) => epoch.f_narrow(1, start as i64, b as i64)?.f_reshape([-1])?,
            None => {
                self.fill_index(start, b);
                Tensor::from_slice(&self.index)
            }
        };
        // [K*b, D] -> [K, b, D]
        let x = data.x.f_index_select(0, &rows)?.f_view([k, b as i64, -1])?;
        let y = data.y.f_index_select(0, &rows)?.f_view([k, b as i64, 1])?;
        Ok((x, y, b))
    }

    /// `index` <- every member's rows `start .. start + len` of its order, as rows of the
    /// stacked data, member-major.
    fn fill_index(&mut self, start: usize, len: usize) {
        self.index.clear();
        for (order, offset) in self.orders.iter().zip(&self.offsets) {
            self.index.extend(order[start..start + len].iter().map(|&r| r + offset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::member_rng;

    /// The GPU's per-epoch index upload gathers exactly the rows the per-step path does.
    #[test]
    fn per_epoch_upload_gathers_the_same_batches() {
        let (n, batch, offsets) = (11, 4, [0usize, 11, 22]);
        let data = StackedRows {
            x: Tensor::arange(33 * 2, (tch::Kind::Float, Device::Cpu)).view([33, 2]),
            y: Tensor::arange(33, (tch::Kind::Float, Device::Cpu)),
            n,
        };
        let mut per_step = MemberBatches::new(n, batch, offsets, Device::Cpu);
        let mut per_epoch = MemberBatches::new(n, batch, offsets, Device::Cpu);
        per_epoch.per_epoch = true;
        let mut rngs_a: Vec<_> = (0..3).map(member_rng).collect();
        let mut rngs_b: Vec<_> = (0..3).map(member_rng).collect();
        for _ in 0..3 {
            per_step.shuffle(&mut rngs_a).unwrap();
            per_epoch.shuffle(&mut rngs_b).unwrap();
            assert!(per_epoch.epoch_rows.is_some() && per_step.epoch_rows.is_none());
            for start in per_step.starts() {
                let (xa, ya, ba) = per_step.gather(&data, start).unwrap();
                let (xb, yb, bb) = per_epoch.gather(&data, start).unwrap();
                assert_eq!(ba, bb);
                assert!(xa.equal(&xb) && ya.equal(&yb), "batch at {start} differs");
                // Member k's rows come from its own block of the stacked data.
                let y: Vec<f32> = Vec::try_from(&ya.flatten(0, -1)).unwrap();
                for (i, v) in y.iter().enumerate() {
                    let k = i / ba;
                    assert!((*v as usize) >= offsets[k] && (*v as usize) < offsets[k] + n);
                }
            }
        }
    }
}
