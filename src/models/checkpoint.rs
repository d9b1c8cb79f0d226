//! Checkpoints of a long training: everything a member-batched trainer needs to continue as if
//! it had never stopped (parameters, optimiser moments and step count, every member's RNG
//! stream and data order, the epochs done), as one byte string a `Checkpoints` store keeps.
//!
//! A trainer saves at the end of an epoch when its store says one is due, and on start resumes
//! from the store's last checkpoint if that was taken by the same training (its `fingerprint`:
//! members, architecture, schedule and rows). On the CPU a resumed run equals an uninterrupted
//! one bit for bit; on a GPU the dropout masks come from the device generator, whose state is
//! not saved, so a resumed GPU run continues with other (equally distributed) masks.

use std::io::Cursor;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::rng::MemberRng;

/// Where a training keeps its checkpoint, and when it writes one.
pub trait Checkpoints: Sync {
    /// The last checkpoint saved, if any.
    fn load(&self) -> Result<Option<Vec<u8>>>;
    /// Whether one is due now (asked at the end of each epoch).
    fn due(&self) -> bool;
    /// Replaces the checkpoint, atomically.
    fn save(&self, bytes: &[u8]) -> Result<()>;
    /// The file it keeps the checkpoint in, for error messages; `None` for a store without one.
    fn path(&self) -> Option<&Path> {
        None
    }
}

/// Names the file of `checkpoints` in a checkpoint fault (`Error::Checkpoint`) raised while
/// resuming from it or saving to it, since the optimiser or trainer that finds the fault does
/// not know the file; other errors pass unchanged. Use as `.map_err(locate(checkpoints))`.
pub fn locate(checkpoints: &dyn Checkpoints) -> impl Fn(Error) -> Error + '_ {
    move |error| match error {
        Error::Checkpoint { path: None, message } => {
            Error::Checkpoint { path: checkpoints.path().map(Path::to_path_buf), message }
        }
        other => other,
    }
}

/// A training that keeps no checkpoints (tests, benches, short fits).
pub struct NoCheckpoints;

impl Checkpoints for NoCheckpoints {
    fn load(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn due(&self) -> bool {
        false
    }
    fn save(&self, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// The state of a training at the end of an epoch.
pub struct TrainingState {
    /// Identifies the training (see `fingerprint`); a checkpoint of another is ignored.
    pub fingerprint: String,
    pub epochs_done: usize,
    /// Optimiser steps taken.
    pub steps: i32,
    pub rngs: Vec<MemberRng>,
    pub orders: Vec<Vec<i64>>,
    /// Named tensors: parameters and optimiser moments.
    pub tensors: Vec<(String, Tensor)>,
}

/// What `TrainingState` writes before its tensors.
#[derive(Serialize, Deserialize)]
struct Header {
    fingerprint: String,
    epochs_done: usize,
    steps: i32,
    rngs: Vec<MemberRng>,
    orders: Vec<Vec<i64>>,
}

/// A fingerprint of a training from what decides it.
pub fn fingerprint(parts: &impl std::fmt::Debug) -> String {
    use sha2::{Digest, Sha256};
    crate::spec::hex(&Sha256::digest(format!("{parts:?}").as_bytes()))
}

/// `[u64 header length][JSON header][tensors in libtorch's multi-tensor format]`: the byte
/// form of every checkpoint, whatever its header holds.
pub fn encode(header: &impl Serialize, tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let header =
        serde_json::to_vec(header).map_err(|e| Error::checkpoint(format!("its header cannot be written: {e}")))?;
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    let host: Vec<(String, Tensor)> =
        tensors.iter().map(|(n, t)| Ok((n.clone(), t.f_to_device(Device::Cpu)?))).collect::<Result<_>>()?;
    let mut stream = Cursor::new(Vec::new());
    Tensor::save_multi_to_stream(&host, &mut stream)?;
    out.extend_from_slice(&stream.into_inner());
    Ok(out)
}

/// The header and tensors `encode` wrote, the tensors on `device`; `None` when the bytes are
/// not a whole checkpoint (a corrupt one is started over, not trusted).
pub fn decode<H: DeserializeOwned>(bytes: &[u8], device: Device) -> Option<(H, Vec<(String, Tensor)>)> {
    let len = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let header: H = serde_json::from_slice(bytes.get(8..8 + len)?).ok()?;
    let tensors = Tensor::load_multi_from_stream_with_device(Cursor::new(bytes.get(8 + len..)?), device).ok()?;
    Some((header, tensors))
}

impl TrainingState {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = Header {
            fingerprint: self.fingerprint.clone(),
            epochs_done: self.epochs_done,
            steps: self.steps,
            rngs: self.rngs.clone(),
            orders: self.orders.clone(),
        };
        encode(&header, &self.tensors)
    }

    /// The state in `bytes`, its tensors on `device` (see `decode`).
    pub fn from_bytes(bytes: &[u8], device: Device) -> Option<TrainingState> {
        let (header, tensors): (Header, _) = decode(bytes, device)?;
        Some(TrainingState {
            fingerprint: header.fingerprint,
            epochs_done: header.epochs_done,
            steps: header.steps,
            rngs: header.rngs,
            orders: header.orders,
            tensors,
        })
    }

    /// The tensor named `name`.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A store that only has a file name.
    struct At(PathBuf);

    impl Checkpoints for At {
        fn load(&self) -> Result<Option<Vec<u8>>> {
            Ok(None)
        }
        fn due(&self) -> bool {
            false
        }
        fn save(&self, _bytes: &[u8]) -> Result<()> {
            Ok(())
        }
        fn path(&self) -> Option<&Path> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_fault_names_the_checkpoint_file_and_the_fix() {
        let store = At(PathBuf::from("results/e/checkpoints/yacht-final.ckpt"));
        let fault = locate(&store)(Error::checkpoint("lacks the Adam moments of `w0`"));
        assert_eq!(
            fault.to_string(),
            "checkpoint results/e/checkpoints/yacht-final.ckpt: lacks the Adam moments of `w0`; delete the \
             checkpoint file to restart the unit's training from its start"
        );
        assert_eq!(fault.exit_code(), 1);
        let other = locate(&store)(Error::Usage("not a checkpoint fault".into()));
        assert_eq!(other.to_string(), "not a checkpoint fault");
        assert!(locate(&NoCheckpoints)(Error::checkpoint("x")).to_string().starts_with("checkpoint: x; delete"));
    }
}
