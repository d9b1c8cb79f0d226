//! Reads a spec file and reports parse errors as `file:line:column: field.path: message`.
//!
//! Uses `yaml_serde`, the maintained continuation of the archived serde_yaml (same API), which
//! keeps the location and field path in its errors.

use std::path::Path;

use super::check::{check, Spec};
use super::raw::RawSpec;
use crate::error::{Error, Result};

/// Reads and checks the spec at `path`.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    parse(&text, path)
}

/// Parses and checks spec text; `path` is only used to name the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Spec> {
    let raw: RawSpec = yaml_serde::from_str(text).map_err(|e| located(path, text, &e))?;
    check(raw, path, text)
}

/// The canonical YAML form of a raw spec (what is saved next to the results and hashed).
pub fn to_yaml(raw: &RawSpec) -> String {
    yaml_serde::to_string(raw).expect("a parsed spec always serializes")
}

fn located(path: &Path, text: &str, e: &yaml_serde::Error) -> Error {
    let mut message = e.to_string();
    let Some(loc) = e.location() else {
        return Error::Spec { location: path.display().to_string(), message };
    };
    // The library appends " at line L column C"; we put the location first instead.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let message = name_the_field(message, text.lines().nth(loc.line().saturating_sub(1)), loc.column());
    Error::Spec { location: format!("{}:{}:{}", path.display(), loc.line(), loc.column()), message }
}

/// The checks in `values` run inside serde, where the reported path is the enclosing map's
/// and the mark sits on the field's key: add that key so the message names the field
/// (`training: must be at least 1` -> `training.epochs: must be at least 1`).
fn name_the_field(message: String, line: Option<&str>, column: usize) -> String {
    const OURS: [&str; 3] = ["must be", "must list", "experiment name"];
    let Some(line) = line else { return message };
    let indent = line.len() - line.trim_start().len();
    let key = line.trim_start().split(':').next().unwrap_or("").trim();
    let is_key =
        column == indent + 1 && !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
    let (prefix, rest) = match message.split_once(": ") {
        Some((p, r)) if !p.contains(' ') => (Some(p), r),
        _ => (None, message.as_str()),
    };
    if !is_key || !OURS.iter().any(|o| rest.starts_with(o) || rest.starts_with(&format!("dropout rate {o}"))) {
        return message;
    }
    match prefix {
        Some(p) if p.rsplit('.').next() == Some(key) => message,
        Some(p) => format!("{p}.{key}: {rest}"),
        None => format!("{key}: {rest}"),
    }
}
