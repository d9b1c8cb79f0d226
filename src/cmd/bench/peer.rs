//! Running a bench's Python peer (`../shared/bench`, `scripts/bench`) and reading the
//! `key=value` numbers it prints.

use std::path::Path;

use anyhow::{bail, Context};

/// Runs `python script args...` and returns its standard output; when it fails, an error with
/// its exit status, what it `needs` installed, and its last line of standard error.
pub fn run(python: &Path, script: &str, args: &[String], needs: &str) -> anyhow::Result<String> {
    let output = std::process::Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .with_context(|| format!("starting {} {script}", python.display()))?;
    if !output.status.success() {
        bail!(
            "{script} exited with {} (it needs {needs}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).lines().last().unwrap_or("")
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The number a peer printed as `key=value`.
pub fn field(stdout: &str, key: &str) -> anyhow::Result<f64> {
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no {key}= in the peer's output: {stdout}"))
}
