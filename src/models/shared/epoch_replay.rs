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
            adam.replayed(steps);
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
                adam.discard_recorded(steps);
                adam.count_on_device(false)?;
                self.capture_at = None;
                step(progress, adam)
            }
        }
    }
}
