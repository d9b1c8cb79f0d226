//! One run's entry in an experiment's manifest: what ran, when, with which profile, and how it
//! ended, each as a type rather than a string, written as manifests have always spelled them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::provenance::Provenance;
use super::run_process::RunProcess;
use crate::spec::raw::Profile;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub provenance: Provenance,
    /// The command line, for reruns.
    pub command: Vec<String>,
    /// The spec's profile; absent in manifests written before profiles existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    pub started: Timestamp,
    /// Unset while running, and forever when the run was killed.
    pub ended: Option<Timestamp>,
    pub outcome: RunOutcome,
    /// Units this run recorded. A unit's record lands before the manifest counts it, so the
    /// entry of a killed run may lag its records by one (never the other way round): the
    /// records are the truth, the count a lower bound.
    pub units_written: usize,
    /// Absent in manifests written before runs recorded their process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<RunProcess>,
}

impl RunEntry {
    /// The outcome as a reader should see it now: a `running` entry is checked against its
    /// process, since a killed run never closes its entry.
    pub fn status(&self) -> String {
        if self.outcome != RunOutcome::Running {
            return self.outcome.to_string();
        }
        if self.process_gone() {
            return RunOutcome::Interrupted.to_string();
        }
        match &self.process {
            Some(p) => format!("running (pid {} on {})", p.pid, p.host),
            None => "running, or interrupted".into(),
        }
    }

    /// Seconds from start to end; 0 for a run still going or killed (no end to count).
    pub fn wall_seconds(&self) -> f64 {
        self.ended.as_ref().map_or(0.0, |end| self.started.seconds_until(end))
    }

    /// Still `running`, but its process is known to be gone: the run was killed.
    pub(super) fn process_gone(&self) -> bool {
        self.outcome == RunOutcome::Running && self.process.as_ref().is_some_and(|p| !p.may_be_alive())
    }
}

/// How a run ended, spelled `running`, `complete`, `interrupted` (a later run found its
/// process gone) or `failed: <error>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RunOutcome {
    Running,
    Complete,
    Interrupted,
    Failed(String),
}

const FAILED: &str = "failed: ";

impl fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunOutcome::Running => f.write_str("running"),
            RunOutcome::Complete => f.write_str("complete"),
            RunOutcome::Interrupted => f.write_str("interrupted"),
            RunOutcome::Failed(why) => write!(f, "{FAILED}{why}"),
        }
    }
}

impl TryFrom<String> for RunOutcome {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "running" => RunOutcome::Running,
            "complete" => RunOutcome::Complete,
            "interrupted" => RunOutcome::Interrupted,
            _ => match s.strip_prefix(FAILED) {
                Some(why) => RunOutcome::Failed(why.to_string()),
                None => {
                    return Err(format!(
                        "unknown run outcome `{s}`; expected running, complete, interrupted or `failed: <why>`"
                    ))
                }
            },
        })
    }
}

impl From<RunOutcome> for String {
    fn from(o: RunOutcome) -> String {
        o.to_string()
    }
}

/// A moment in UTC as RFC 3339 text to the second (`2026-12-07T02:20:00Z`): checked when read,
/// kept as written (so a manifest rewritten is the same bytes), ordered as time is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(String);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(super::provenance::now())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Seconds from this moment to `later` (0 when `later` is earlier).
    pub fn seconds_until(&self, later: &Timestamp) -> f64 {
        let parse = |t: &Timestamp| humantime::parse_rfc3339(&t.0).expect("checked when read or made");
        parse(later).duration_since(parse(self)).map_or(0.0, |d| d.as_secs_f64())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Timestamp {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        humantime::parse_rfc3339(&s).map_err(|e| format!("`{s}` is not an RFC 3339 time in UTC ({e})"))?;
        Ok(Timestamp(s))
    }
}

impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_and_write_as_manifests_spell_them() {
        for text in ["running", "complete", "interrupted", "failed: GP kernel matrix is not positive definite"] {
            let outcome: RunOutcome = serde_json::from_str(&format!("\"{text}\"")).unwrap();
            assert_eq!(serde_json::to_string(&outcome).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(RunOutcome::try_from("failed: x".to_string()), Ok(RunOutcome::Failed("x".into())));
        let unknown = serde_json::from_str::<RunOutcome>("\"done\"").unwrap_err().to_string();
        assert!(unknown.contains("unknown run outcome `done`"), "{unknown}");
    }

    #[test]
    fn timestamps_are_checked_kept_as_written_and_measure_seconds() {
        let start: Timestamp = serde_json::from_str("\"2026-12-07T02:20:00Z\"").unwrap();
        let end = Timestamp::try_from("2026-12-07T03:21:30Z".to_string()).unwrap();
        assert_eq!(start.seconds_until(&end), 3690.0);
        assert_eq!(end.seconds_until(&start), 0.0);
        assert!(start < end);
        assert_eq!(serde_json::to_string(&start).unwrap(), "\"2026-12-07T02:20:00Z\"");
        assert!(Timestamp::try_from("yesterday".to_string()).is_err());
    }
}
