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
    let raw: RawSpec = yaml_serde::from_str(text).map_err(|e| located(path, &e))?;
    check(raw, path, text)
}

/// The canonical YAML form of a raw spec (what is saved next to the results and hashed).
pub fn to_yaml(raw: &RawSpec) -> String {
    yaml_serde::to_string(raw).expect("a parsed spec always serializes")
}

fn located(path: &Path, e: &yaml_serde::Error) -> Error {
    let mut message = e.to_string();
    let location = match e.location() {
        Some(loc) => {
            // The library appends " at line L column C"; we put the location first instead.
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
            format!("{}:{}:{}", path.display(), loc.line(), loc.column())
        }
        None => path.display().to_string(),
    };
    Error::Spec { location, message }
}
