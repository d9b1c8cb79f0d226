//! Logs: `tracing` to stderr, and, once a run knows its results directory, the same lines
//! appended to `results/<experiment>/run.log`, so a record's history travels with it.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

use crate::error::{Error, Result};

static RUN_LOG: Mutex<Option<File>> = Mutex::new(None);

/// Sets up logging; `verbosity` 0 = info, 1 = debug, more = trace; `MCDROP_LOG` overrides.
pub fn init(verbosity: u8) {
    let level = match verbosity {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCDROP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mcdrop={level}")));
    let file = tracing_subscriber::fmt::layer().with_writer(RunLog).with_ansi(false).with_target(false);
    tracing_subscriber::registry().with(filter).with(stderr_lines()).with(file).init();
}

/// Log lines on stderr, coloured on a terminal.
fn stderr_lines<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
}

/// Runs `f` with only warnings and errors logged from this thread (all of `MCDROP_LOG` when it
/// is set): a plan's calibration runs shortened experiments whose progress lines would bury
/// the estimate it prints.
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MCDROP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("mcdrop=warn"));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(filter).with(stderr_lines()), f)
}

/// From now on, log lines are also appended to `path`.
pub fn attach_run_log(path: &Path) -> Result<()> {
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(Error::io(path))?;
    *RUN_LOG.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
    Ok(())
}

/// Writes to the attached run log, or nowhere before one is attached.
struct RunLog;

impl<'a> MakeWriter<'a> for RunLog {
    type Writer = RunLog;
    fn make_writer(&'a self) -> RunLog {
        RunLog
    }
}

impl Write for RunLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match RUN_LOG.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(file) => file.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match RUN_LOG.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}
