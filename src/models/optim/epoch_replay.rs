//! Training epochs replayed from a CUDA graph on a GPU (see `device::cuda_graph`): the MC
//! dropout and VI trainers hand it the closure that launches one epoch's steps.

use tch::Device;

use super::adam::ReplayedSteps;
use crate::device::cuda_graph::{eager_reason, CudaGraph};
use crate::error::Result;
use crate::models::family::{Progress, Silent};

/// On a GPU, an epoch's steps recorded once as a CUDA graph and replayed each epoch after: one
/// launch instead of about 30 a step. The first epoch of a training (or of a resumed one) runs
/// eagerly and warms libtorch's caches; the next is recorded. Where graphs are unavailable, or
/// the capture fails, every epoch runs eagerly, and the log says why once.
pub struct EpochReplay {
    graph: Option<CudaGraph>,
    /// Capture at this epoch; `None`: eager for good.
    capture_at: Option<usize>,
    steps: usize,
}

impl EpochReplay {
    pub fn new(device: Device, steps: usize, first_epoch: usize) -> Self {
        let capture_at = match eager_reason(device) {
            None => Some(first_epoch + 1),
            Some(reason) => {
                if device != Device::Cpu {
                    tracing::info!("training with eager launches: {reason}");
                }
                None
            }
        };
        Self { graph: None, capture_at, steps }
    }

    /// Runs one epoch: `step` launches its steps (advancing the progress it is given) and is
    /// what gets recorded.
    pub fn epoch<O: ReplayedSteps>(
        &mut self,
        epoch: usize,
        progress: &dyn Progress,
        step: &mut dyn FnMut(&dyn Progress, &mut O) -> Result<()>,
        adam: &mut O,
    ) -> Result<()> {
        let steps = self.steps as i32;
        if let Some(graph) = &self.graph {
            graph.replay()?;
            adam.add_steps(steps);
            progress.advance(self.steps as u64);
            return Ok(());
        }
        if self.capture_at != Some(epoch) {
            return step(progress, adam);
        }
        if let Err(e) = adam.count_on_device(true) {
            tracing::warn!("training with eager launches: {e}");
            self.capture_at = None;
            return step(progress, adam);
        }
        let before = adam.steps_taken();
        match CudaGraph::capture(|| step(&Silent, adam)) {
            Ok(graph) => {
                graph.replay()?;
                progress.advance(self.steps as u64);
                tracing::info!("training with CUDA graph replay: {} steps an epoch in one launch", self.steps);
                self.graph = Some(graph);
                Ok(())
            }
            Err(e) => {
                tracing::warn!("training with eager launches: the capture failed ({e})");
                // Only what was recorded before the failure (nothing when capture never began).
                adam.add_steps(before - adam.steps_taken());
                adam.count_on_device(false)?;
                self.capture_at = None;
                step(progress, adam)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::nn::member_mlp::ParamBuffer;
    use crate::models::optim::adam::FlatAdam;
    use crate::models::optim::Optimizer;
    use crate::spec::TrainingPlan;
    use tch::{Kind, Tensor};

    const WIDTHS: [usize; 2] = [3, 2];

    impl EpochReplay {
        /// Tries to capture at `epoch` whatever the device (a test of the fallback).
        fn capturing_at(epoch: usize, steps: usize) -> Self {
            Self { graph: None, capture_at: Some(epoch), steps }
        }
    }

    /// Three epochs of four Adam steps on a quadratic from `start`: the parameters and the
    /// step count.
    fn train(replay: &mut EpochReplay, start: &Tensor) -> (Tensor, i32) {
        let plan = TrainingPlan { batch_size: 1, lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
        let params = ParamBuffer::over(start.copy(), 1, &WIDTHS).unwrap();
        let mut adam = FlatAdam::new(&params, &plan).unwrap();
        for epoch in 0..3 {
            let mut step = |_: &dyn Progress, adam: &mut FlatAdam| -> Result<()> {
                for _ in 0..4 {
                    adam.grad.flat.shallow_clone().f_copy_(&(params.flat.f_mul_scalar(2.0)?.f_add_scalar(1.0)?))?;
                    adam.step()?;
                }
                Ok(())
            };
            replay.epoch(epoch, &Silent, &mut step, &mut adam).unwrap();
        }
        (params.flat.copy(), adam.steps_taken())
    }

    /// Without a GPU the capture fails; the epoch then runs eagerly, and the step count (which
    /// sets Adam's bias corrections) counts no step twice and loses none.
    #[test]
    fn a_failed_capture_falls_back_to_the_eager_epochs_result() {
        // One start for both trainings, drawn once: reseeding libtorch's global generator in
        // each let a test on another thread draw between the seed and the draw.
        tch::manual_seed(3);
        let start = Tensor::randn([ParamBuffer::len(1, &WIDTHS) as i64], (Kind::Float, Device::Cpu));
        let (eager, eager_steps) = train(&mut EpochReplay::new(Device::Cpu, 4, 0), &start);
        let (fallback, fallback_steps) = train(&mut EpochReplay::capturing_at(1, 4), &start);
        assert_eq!((eager_steps, fallback_steps), (12, 12));
        assert!(eager.equal(&fallback), "the fallback epochs trained differently");
    }
}
