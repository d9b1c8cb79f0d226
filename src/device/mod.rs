//! The single place that turns a device choice into a `tch::Device` (and, in `cuda_graph`,
//! records kernel launches to replay on it).
//!
//! Everything below receives the resolved device; nothing else asks whether CUDA exists.

pub mod cuda_graph;

use serde::{Deserialize, Serialize};
use tch::Device;

use crate::error::{Error, Result};

/// What the user asked for, in a spec or with `--device`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// The first GPU when libtorch sees one, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

/// Resolves the choice; asking for CUDA where there is none is an error, not a silent fallback.
pub fn resolve(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::Cpu),
        DeviceChoice::Auto => Ok(Device::cuda_if_available()),
        DeviceChoice::Cuda if tch::Cuda::is_available() => Ok(Device::Cuda(0)),
        DeviceChoice::Cuda => Err(Error::Device(
            "--device cuda was asked for but libtorch sees no CUDA device; use --device cpu or auto".into(),
        )),
    }
}

/// A short description for provenance: `cpu (2 threads)` or `cuda:0 (NVIDIA H100 ...)`.
pub fn describe(device: Device) -> String {
    match device {
        Device::Cuda(i) => {
            let name = std::process::Command::new("nvidia-smi")
                .args(["--query-gpu=name", "--format=csv,noheader", &format!("--id={i}")])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_else(|| "unknown GPU".into());
            format!("cuda:{i} ({name})")
        }
        _ => format!("cpu ({} threads)", tch::get_num_threads()),
    }
}
