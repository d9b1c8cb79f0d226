//! Where a result came from: code version, spec, seed, device, library versions, time.

use serde::{Deserialize, Serialize};

/// Recorded with every unit and every run of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// `git rev-parse HEAD`, with `-dirty` when tracked files had changes; `unknown` outside git.
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
            git_commit: git_commit(),
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

fn git_commit() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{commit}-dirty")
            } else {
                commit
            }
        }
        None => "unknown".into(),
    }
}
