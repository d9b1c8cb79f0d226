//! CUDA graphs: a sequence of kernel launches recorded once and replayed with one call, for
//! trainings whose GPU steps cost more in launches than in arithmetic. The capture and replay
//! come from libtorch (`at::cuda::CUDAGraph`) through the C shim `cuda_graph.cpp`, which
//! build.rs compiles where the torch wheel is a CUDA build (`cfg(mcdrop_cuda_graph)`).
//!
//! What a graph records must not depend on the host between replays: its tensors keep their
//! storage (inputs are copied into them in place), and no value is read back during capture.
//! libtorch registers its default CUDA generator with every capture, so dropout masks drawn
//! inside a graph are fresh on each replay.

use std::sync::atomic::{AtomicBool, Ordering};

use tch::Device;

use crate::error::{Error, Result};

static ENABLED: AtomicBool = AtomicBool::new(true);

/// `mcdrop --cuda-graphs off` turns capture off for the process.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Runs `work` with capture off (a bench's eager baseline), then restores the setting.
pub fn eagerly<T>(work: impl FnOnce() -> T) -> T {
    let before = ENABLED.swap(false, Ordering::Relaxed);
    let result = work();
    ENABLED.store(before, Ordering::Relaxed);
    result
}

/// Why a training on `device` launches its steps one by one instead of replaying a graph;
/// `None` when it may capture.
pub fn eager_reason(device: Device) -> Option<&'static str> {
    if device == Device::Cpu {
        Some("the CPU has no graphs")
    } else if !cfg!(mcdrop_cuda_graph) {
        Some("this binary was built without the CUDA graph shim (the torch wheel was a CPU build)")
    } else if !ENABLED.load(Ordering::Relaxed) {
        Some("--cuda-graphs off")
    } else {
        None
    }
}

/// A recorded sequence of launches.
pub struct CudaGraph {
    #[cfg_attr(not(mcdrop_cuda_graph), allow(dead_code))]
    handle: *mut std::ffi::c_void,
}

impl CudaGraph {
    /// Records the launches of `record` on a side stream; nothing runs until `replay`. When
    /// `record` fails, or capture does (an operation that cannot be captured), the capture is
    /// ended and the error returned: the caller runs the same work eagerly instead.
    pub fn capture(record: impl FnOnce() -> Result<()>) -> Result<Self> {
        let graph = Self::new()?;
        graph.call("capture_begin", Stage::Begin)?;
        let recorded = record();
        let ended = graph.call("capture_end", Stage::End);
        recorded?;
        ended?;
        Ok(graph)
    }

    /// Runs the recorded launches once, on the current stream.
    pub fn replay(&self) -> Result<()> {
        self.call("replay", Stage::Replay)
    }
}

enum Stage {
    Begin,
    End,
    Replay,
}

#[cfg(mcdrop_cuda_graph)]
mod ffi {
    use std::ffi::{c_char, c_int, c_void};

    extern "C" {
        pub fn mcdrop_cuda_graph_new(out: *mut *mut c_void, error: *mut c_char, length: usize) -> c_int;
        pub fn mcdrop_cuda_graph_capture_begin(graph: *mut c_void, error: *mut c_char, length: usize) -> c_int;
        pub fn mcdrop_cuda_graph_capture_end(graph: *mut c_void, error: *mut c_char, length: usize) -> c_int;
        pub fn mcdrop_cuda_graph_replay(graph: *mut c_void, error: *mut c_char, length: usize) -> c_int;
        pub fn mcdrop_cuda_graph_free(graph: *mut c_void);
    }
}

#[cfg(mcdrop_cuda_graph)]
impl CudaGraph {
    fn new() -> Result<Self> {
        let mut handle = std::ptr::null_mut();
        // SAFETY: the shim writes a fresh handle (or nothing, on failure) and at most `length`
        // bytes of NUL-terminated text into the buffer.
        checked("create", |error, length| unsafe { ffi::mcdrop_cuda_graph_new(&mut handle, error, length) })?;
        Ok(Self { handle })
    }

    fn call(&self, what: &str, stage: Stage) -> Result<()> {
        let entry = match stage {
            Stage::Begin => ffi::mcdrop_cuda_graph_capture_begin,
            Stage::End => ffi::mcdrop_cuda_graph_capture_end,
            Stage::Replay => ffi::mcdrop_cuda_graph_replay,
        };
        // SAFETY: `handle` came from mcdrop_cuda_graph_new and lives until drop.
        checked(what, |error, length| unsafe { entry(self.handle, error, length) })
    }
}

#[cfg(mcdrop_cuda_graph)]
impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: the handle is freed once, here.
        unsafe { ffi::mcdrop_cuda_graph_free(self.handle) }
    }
}

/// Runs a shim entry point, turning its error text into an `Error::Device`.
#[cfg(mcdrop_cuda_graph)]
fn checked(what: &str, call: impl FnOnce(*mut std::ffi::c_char, usize) -> std::ffi::c_int) -> Result<()> {
    let mut error = [0 as std::ffi::c_char; 2048];
    if call(error.as_mut_ptr(), error.len()) == 0 {
        return Ok(());
    }
    // SAFETY: the shim NUL-terminates what it writes; the buffer starts zeroed.
    let text = unsafe { std::ffi::CStr::from_ptr(error.as_ptr()) }.to_string_lossy();
    let first = text.lines().next().unwrap_or("unknown error");
    Err(Error::Device(format!("CUDA graph {what}: {first}")))
}

#[cfg(not(mcdrop_cuda_graph))]
impl CudaGraph {
    fn new() -> Result<Self> {
        Err(Error::Device(eager_reason(Device::Cuda(0)).unwrap_or("no CUDA graph shim").to_string()))
    }

    fn call(&self, _what: &str, _stage: Stage) -> Result<()> {
        Err(Error::Device("no CUDA graph shim".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_trains_eagerly_and_says_why() {
        assert_eq!(eager_reason(Device::Cpu), Some("the CPU has no graphs"));
    }

    /// Without a GPU the shim's libtorch calls fail; that must come back as an error to fall
    /// back on, never as an abort or an unwound C++ exception.
    #[test]
    fn capture_without_a_gpu_is_an_error_to_fall_back_on() {
        if tch::Cuda::is_available() {
            return;
        }
        let mut recorded = false;
        let result = CudaGraph::capture(|| {
            recorded = true;
            Ok(())
        });
        let error = result.err().expect("no GPU: capture cannot succeed").to_string();
        assert!(error.contains("CUDA graph") || error.contains("shim"), "{error}");
        assert!(!recorded || error.contains("capture_end"), "{error}");
    }

    #[test]
    fn turning_graphs_off_is_a_reason_on_a_gpu() {
        let reason = eagerly(|| eager_reason(Device::Cuda(0)));
        assert!(reason.is_some());
        if cfg!(mcdrop_cuda_graph) {
            assert_eq!(reason, Some("--cuda-graphs off"));
            assert_eq!(eager_reason(Device::Cuda(0)), None);
        }
    }
}
