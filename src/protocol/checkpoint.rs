//! Checkpoint files of long trainings under `results/<experiment>/checkpoints/`, one per
//! program, written atomically at most every `--checkpoint-every` and removed once the
//! program's records are written, so a killed run continues its training where it stopped.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::models::checkpoint::Checkpoints;
use crate::results::atomic::write_atomic;

/// The checkpoint file of one training.
pub struct FileCheckpoints {
    path: PathBuf,
    every: Duration,
    last: Mutex<Instant>,
}

impl FileCheckpoints {
    pub fn new(path: PathBuf, every: Duration) -> Self {
        Self { path, every, last: Mutex::new(Instant::now()) }
    }

    /// Removes the checkpoint once what it would resume is recorded.
    pub fn clear(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::Io { path: self.path.clone(), error: e }),
            _ => Ok(()),
        }
    }
}

impl Checkpoints for FileCheckpoints {
    fn load(&self) -> Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Io { path: self.path.clone(), error: e }),
        }
    }

    fn due(&self) -> bool {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).elapsed() >= self.every
    }

    fn save(&self, bytes: &[u8]) -> Result<()> {
        write_atomic(&self.path, bytes)?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        tracing::debug!("checkpoint written: {}", self.path.display());
        Ok(())
    }

    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }
}
