//! The layout of `results/<experiment>/`:
//!
//! ```text
//! spec.yaml                          the resolved spec the records came from
//! manifest.json                      the experiment, its latest spec hash, and runs from before
//!                                    entry files existed
//! runs/<start>-<host>-<pid>.json     one entry per run (provenance, start, end, outcome), written
//!                                    only by that run
//! checkpoints/<program>.ckpt         a long training's checkpoint, removed once recorded
//! records/<dataset>/split-<k>.json   final record of a unit (what tables read)
//! grid/<dataset>/split-<k>.json      grid-search scores, so resume skips finished searches
//! ```
//!
//! A unit whose record exists is done: a rerun skips it unless forced.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::atomic::{write_atomic, write_json_atomic};
use super::provenance::Provenance;
use super::record::UnitRecord;
pub use super::run_entry::{RunEntry, RunOutcome, Timestamp};
use super::run_process::RunProcess;
use crate::error::{Error, Result};
use crate::spec::Spec;

/// What a record file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded<T> {
    Absent,
    Valid(T),
    /// It exists but does not parse as the record it should be: why.
    Unreadable(String),
}

/// The final records of an experiment, read one by one.
#[derive(Debug, Default)]
pub struct RecordScan {
    /// Sorted by data set and split.
    pub readable: Vec<UnitRecord>,
    /// (file, why it does not parse).
    pub unreadable: Vec<(PathBuf, String)>,
}

pub struct ExperimentStore {
    dir: PathBuf,
}

/// `manifest.json`: the history of runs into this directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub experiment: String,
    pub spec_sha256: String,
    pub runs: Vec<RunEntry>,
}

/// A run's own manifest entry file, which only that run writes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunId(pub PathBuf);

impl ExperimentStore {
    pub fn new(results_root: &Path, experiment: &str) -> Self {
        Self { dir: results_root.join(experiment) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn unit_path(&self, dataset: &str, split: usize) -> PathBuf {
        self.dir.join("records").join(dataset).join(format!("split-{split}.json"))
    }

    pub fn grid_path(&self, dataset: &str, split: usize) -> PathBuf {
        self.dir.join("grid").join(dataset).join(format!("split-{split}.json"))
    }

    /// Where experiments that are not per-split (MNIST, CO2) keep their outcome records:
    /// `outcomes/<name>` (a file, or a folder of parts).
    pub fn outcome_path(&self, name: &str) -> PathBuf {
        self.dir.join("outcomes").join(name)
    }

    /// The path of one of the outcome files records are read from.
    pub fn outcome(&self, file: crate::results::outcome::OutcomeFile) -> PathBuf {
        self.outcome_path(file.name())
    }

    /// Claims the directory for `spec` and saves the spec its records come from.
    ///
    /// A UCI spec may extend the one saved here: sets and splits may be added (or left out)
    /// as long as every field that decides a set's numbers (`spec::identity::set_identity`) is
    /// unchanged for the sets both name; the saved spec then keeps the settings of sets only it
    /// names, so it still describes every record. Any other difference mixes records of two
    /// specs and is refused unless `force`.
    pub fn prepare(&self, spec: &Spec, force: bool) -> Result<()> {
        let mut saved_raw = spec.raw.clone();
        let saved = self.dir.join("spec.yaml");
        if self.manifest()?.is_some() && saved.exists() && !force {
            let before = crate::spec::load(&saved)?;
            saved_raw = crate::spec::extend(&before.raw, &spec.raw).map_err(|why| Error::Results {
                path: self.dir.clone(),
                message: format!(
                    "holds results of a different version of spec `{}` (sha256 {} here, {} now): {why}; \
                     rerun with --force to redo the units, or give the changed spec a new name",
                    spec.name,
                    &before.sha256[..12],
                    &spec.sha256[..12]
                ),
            })?;
        }
        let sha256 = crate::spec::identity_hash(&saved_raw);
        let mut yaml = format!(
            "# Resolved spec of experiment `{}` (from {}, sha256 {sha256}).\n",
            spec.name,
            spec.source.display(),
        );
        yaml.push_str(&crate::spec::to_yaml(&saved_raw));
        write_atomic(&saved, yaml.as_bytes())
    }

    /// The spec saved with the records, which says what they are; an error naming the
    /// experiment when there is none.
    pub fn saved_spec(&self) -> Result<Spec> {
        let path = self.dir.join("spec.yaml");
        if !path.exists() {
            let name = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let root = self.dir.parent().map(|p| p.display().to_string()).unwrap_or_default();
            return Err(Error::Usage(format!(
                "no results for experiment `{name}` under {root} (run it first, or pass --results-dir)"
            )));
        }
        crate::spec::load(&path)
    }

    /// Records a new run in a manifest entry file of its own and returns it for `finish_run`.
    /// Entries still `running` whose process is gone (killed, machine rebooted) are marked
    /// `interrupted`. No lock is taken: each run writes only its own file (temp + rename),
    /// and readers merge them, so shards on a network file system that ignores `flock`
    /// never lose each other's entries.
    pub fn start_run(&self, spec: &Spec, provenance: &Provenance) -> Result<RunId> {
        std::fs::create_dir_all(self.runs_dir()).map_err(Error::io(self.runs_dir()))?;
        // The header: which experiment, and the spec of its latest run. Every writer writes the
        // same legacy entries back, so two at once lose nothing.
        let legacy = self.read_json::<Manifest>(&self.manifest_path())?;
        let header = Manifest {
            experiment: spec.name.clone(),
            spec_sha256: spec.sha256.clone(),
            runs: legacy.map(|m| m.runs).unwrap_or_default(),
        };
        write_json_atomic(&self.manifest_path(), &header)?;
        for (path, mut entry) in self.run_files()? {
            if entry.process_gone() {
                entry.outcome = RunOutcome::Interrupted;
                write_json_atomic(&path, &entry)?;
            }
        }
        let process = RunProcess::current();
        let started = Timestamp::now();
        let id = RunId(self.runs_dir().join(format!(
            "{}-{}-{}.json",
            started.as_str().replace(':', ""),
            process.host.replace(['/', ' '], "_"),
            process.pid
        )));
        let entry = RunEntry {
            provenance: provenance.clone(),
            command: std::env::args().collect(),
            profile: Some(spec.raw.profile),
            started,
            ended: None,
            outcome: RunOutcome::Running,
            units_written: 0,
            process: Some(process),
        };
        write_json_atomic(&id.0, &entry)?;
        Ok(id)
    }

    pub fn finish_run(&self, run: &RunId, outcome: RunOutcome, units_written: usize) -> Result<()> {
        self.update_entry(run, |entry| {
            entry.ended = Some(Timestamp::now());
            entry.outcome = outcome;
            entry.units_written = units_written;
        })
    }

    /// Updates a running entry's count of units written.
    pub fn record_progress(&self, run: &RunId, units_written: usize) -> Result<()> {
        self.update_entry(run, |entry| entry.units_written = units_written)
    }

    /// Only the run that owns an entry file writes it.
    fn update_entry(&self, run: &RunId, change: impl FnOnce(&mut RunEntry)) -> Result<()> {
        let mut entry = self.read_json::<RunEntry>(&run.0)?.ok_or_else(|| Error::Results {
            path: run.0.clone(),
            message: "this run's manifest entry vanished during the run".into(),
        })?;
        change(&mut entry);
        write_json_atomic(&run.0, &entry)
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join("manifest.json")
    }

    fn runs_dir(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// The entry files of runs (`runs/*.json`), oldest first.
    fn run_files(&self) -> Result<Vec<(PathBuf, RunEntry)>> {
        let dir = self.runs_dir();
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::Io { path: dir, error: e }),
        };
        paths.sort();
        let mut out = Vec::new();
        for path in paths {
            if let Some(entry) = self.read_json::<RunEntry>(&path)? {
                out.push((path, entry));
            }
        }
        Ok(out)
    }

    /// The run history: `manifest.json`'s entries (runs before entry files existed) and every
    /// run's own entry file, by start time; `None` before the first run.
    pub fn manifest(&self) -> Result<Option<Manifest>> {
        let header = self.read_json::<Manifest>(&self.manifest_path())?;
        let files = self.run_files()?;
        let Some(mut manifest) = header.or_else(|| {
            files.last().map(|(_, e)| Manifest {
                experiment: self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                spec_sha256: e.provenance.spec_sha256.clone(),
                runs: Vec::new(),
            })
        }) else {
            return Ok(None);
        };
        manifest.runs.extend(files.into_iter().map(|(_, e)| e));
        manifest.runs.sort_by(|a, b| a.started.cmp(&b.started));
        Ok(Some(manifest))
    }

    /// What the JSON file at `path` holds: nothing, a record, or something unreadable (with why).
    /// Only a failure to read an existing file is an error.
    pub fn inspect<T: DeserializeOwned>(&self, path: &Path) -> Result<Recorded<T>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(match serde_json::from_str(&text) {
                Ok(value) => Recorded::Valid(value),
                Err(e) => Recorded::Unreadable(e.to_string()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Recorded::Absent),
            Err(e) => Err(Error::Io { path: path.to_path_buf(), error: e }),
        }
    }

    /// Every final record that reads, and the record files that do not.
    pub fn scan_records(&self) -> Result<RecordScan> {
        let mut scan = RecordScan::default();
        for path in self.record_files()? {
            match self.inspect::<UnitRecord>(&path)? {
                Recorded::Valid(r) => scan.readable.push(r),
                Recorded::Unreadable(why) => scan.unreadable.push((path, why)),
                Recorded::Absent => {}
            }
        }
        scan.readable.sort_by(|a, b| (&a.dataset, a.split).cmp(&(&b.dataset, b.split)));
        Ok(scan)
    }

    /// Reads a JSON file; `None` when absent, an error naming the file when unreadable.
    pub fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        match self.inspect(path)? {
            Recorded::Absent => Ok(None),
            Recorded::Valid(value) => Ok(Some(value)),
            Recorded::Unreadable(e) => Err(Error::Results {
                path: path.to_path_buf(),
                message: format!("unreadable ({e}); delete it or rerun with --force to redo that unit"),
            }),
        }
    }

    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<()> {
        write_json_atomic(path, value)
    }

    /// Saves the splits a table's run used as `splits/<set>/index_{train,test}_k.txt` (the UCI
    /// layout, which `splits: {index_files: ...}` reads back), so the rows of every record can
    /// be found, and used outside mcdrop, without the spec's split source.
    pub fn write_splits(&self, set: &str, splits: &[crate::data::uci::Split]) -> Result<()> {
        let dir = self.dir.join("splits").join(set);
        std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
        let lines = |rows: &[usize]| rows.iter().map(|r| format!("{r}\n")).collect::<String>();
        for (k, split) in splits.iter().enumerate() {
            write_atomic(&dir.join(format!("index_train_{k}.txt")), lines(&split.train).as_bytes())?;
            write_atomic(&dir.join(format!("index_test_{k}.txt")), lines(&split.test).as_bytes())?;
        }
        write_atomic(&dir.join("n_splits.txt"), format!("{}\n", splits.len()).as_bytes())
    }

    /// Every final record, sorted by data set and split; an unreadable one is an error naming
    /// its file (tables must not silently drop a split).
    pub fn records(&self) -> Result<Vec<UnitRecord>> {
        match self.scan_records()? {
            RecordScan { readable, unreadable } if unreadable.is_empty() => Ok(readable),
            RecordScan { unreadable: bad, .. } => Err(Error::Results {
                path: bad[0].0.clone(),
                message: format!(
                    "unreadable ({}); {} record(s) unreadable in all; rerun the experiment to redo them",
                    bad[0].1,
                    bad.len()
                ),
            }),
        }
    }

    /// The `records/<set>/*.json` files.
    fn record_files(&self) -> Result<Vec<PathBuf>> {
        let root = self.dir.join("records");
        let mut out = Vec::new();
        let sets = match std::fs::read_dir(&root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::Io { path: root, error: e }),
        };
        for set in sets {
            let set = set.map_err(Error::io(&root))?.path();
            if !set.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&set).map_err(Error::io(&set))? {
                let path = entry.map_err(Error::io(&set))?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    out.push(path);
                }
            }
        }
        Ok(out)
    }
}
