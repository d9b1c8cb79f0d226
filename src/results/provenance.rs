//! Where a result came from: code version, spec, seed, device, library versions, time.

use serde::{Deserialize, Serialize};

/// Recorded with every unit and every run of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The commit the binary was built from, with `-dirty` when its sources (src/, build.rs,
    /// Cargo.*, assets/) differed from it; `unknown` when built outside git. Records before
    /// 2026-11-26 hold the checkout's commit at run start instead (dirty on any tracked change).
    pub git_commit: String,
    pub spec_sha256: String,
    pub seed: u64,
    /// `cpu (2 threads)` or `cuda:0 (<GPU name>)`.
    pub device: String,
    pub torch: String,
    pub mcdrop: String,
    /// RFC 3339 UTC time the record was written.
    pub written_at: String,
}

/// PyTorch version libtorch came from (read from the wheel at build time).
pub const TORCH_VERSION: &str = env!("MCDROP_TORCH_VERSION");

impl Provenance {
    pub fn new(spec_sha256: &str, seed: u64, device: &str) -> Self {
        Self {
            git_commit: env!("MCDROP_GIT_COMMIT").to_string(),
            spec_sha256: spec_sha256.to_string(),
            seed,
            device: device.to_string(),
            torch: TORCH_VERSION.to_string(),
            mcdrop: env!("CARGO_PKG_VERSION").to_string(),
            written_at: now(),
        }
    }

    /// A copy stamped with the current time.
    pub fn stamped(&self) -> Self {
        Self { written_at: now(), ..self.clone() }
    }
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
