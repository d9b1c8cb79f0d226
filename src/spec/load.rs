//! Reads a spec file and reports parse errors as `file:line:column: field.path: message`;
//! applies `--set PATH=VALUE` overrides from the command line.
//!
//! Uses `yaml_serde`, the maintained continuation of the archived serde_yaml (same API), which
//! keeps the location and field path in its errors.

use std::path::Path;

use super::check::check;
use super::plan::Spec;
use super::raw::RawSpec;
use crate::error::{Error, Result};

/// Reads and checks the spec at `path`.
pub fn load(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    parse(&text, path)
}

/// Reads the spec at `path`, then applies `overrides` (`PATH=VALUE`, VALUE in YAML: `10`,
/// `relu`, `[0, 1]`) in order, and checks the result as a whole. The file must stand on its
/// own first, so that its own errors keep their lines; an error the overrides cause names
/// them. The overrides become part of the spec (its saved form and identity), `name` too.
pub fn load_with(path: &Path, overrides: &[String]) -> Result<Spec> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let spec = parse(&text, path)?;
    if overrides.is_empty() {
        return Ok(spec);
    }
    let mut document: yaml_serde::Value = yaml_serde::from_str(&text)
        .map_err(|e| Error::Spec { location: path.display().to_string(), message: e.to_string() })?;
    for text in overrides {
        apply(&mut document, text)?;
    }
    let changed = yaml_serde::to_string(&document).expect("a YAML value always serializes");
    parse(&changed, path).map_err(|e| match e {
        Error::Spec { message, .. } => {
            let field = message.split_once(": ").map_or("", |(f, _)| f);
            let blamed: Vec<&str> = overrides
                .iter()
                .map(String::as_str)
                .filter(|o| {
                    let key = o.split_once('=').map_or(*o, |(k, _)| k).trim();
                    field.starts_with(key) || key.starts_with(field) && !field.is_empty()
                })
                .collect();
            let which = if blamed.is_empty() { overrides.iter().map(String::as_str).collect() } else { blamed };
            Error::Spec { location: format!("{} with --set {}", path.display(), which.join(" --set ")), message }
        }
        other => other,
    })
}

/// One `PATH=VALUE` applied to the YAML document: sections on the way that are absent are
/// added; whether the field exists and the value fits is for the spec's own checks.
fn apply(document: &mut yaml_serde::Value, text: &str) -> Result<()> {
    let bad = |message: String| Error::Spec { location: format!("--set {text}"), message };
    let (path, value) = text.split_once('=').ok_or_else(|| {
        bad("expected PATH=VALUE, e.g. training.epochs=10 or model.mc_dropout.hidden_units=100".into())
    })?;
    let keys: Vec<&str> = path.trim().split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(bad(format!("`{path}` is not a field path: keys joined by dots, e.g. training.epochs")));
    }
    let value: yaml_serde::Value =
        yaml_serde::from_str(value).map_err(|e| bad(format!("the value `{value}` is not YAML: {e}")))?;
    let mut node = document;
    for (depth, key) in keys.iter().enumerate() {
        let yaml_serde::Value::Mapping(map) = node else {
            return Err(bad(format!("`{}` is a value, not a section with fields", keys[..depth].join("."))));
        };
        let key = yaml_serde::Value::String((*key).to_string());
        if depth + 1 == keys.len() {
            map.insert(key, value);
            return Ok(());
        }
        node = map.entry(key).or_insert_with(|| yaml_serde::Value::Mapping(Default::default()));
    }
    unreachable!("a path has at least one key")
}

/// Parses and checks spec text; `path` is only used to name the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Spec> {
    // serde_path_to_error keeps the full path of the field that failed: yaml_serde's own mark
    // sits on the first key of the enclosing map when a value's check fails inside serde.
    let raw: RawSpec = serde_path_to_error::deserialize(yaml_serde::Deserializer::from_str(text))
        .map_err(|e| located(path, text, e.inner(), &e.path().to_string()))?;
    check(raw, path, text)
}

/// The canonical YAML form of a raw spec (what is saved next to the results and hashed).
pub fn to_yaml(raw: &RawSpec) -> String {
    yaml_serde::to_string(raw).expect("a parsed spec always serializes")
}

fn located(path: &Path, text: &str, e: &yaml_serde::Error, field: &str) -> Error {
    let mut message = e.to_string();
    let Some(loc) = e.location() else {
        return Error::Spec { location: path.display().to_string(), message };
    };
    // The library appends " at line L column C"; we put the location first instead.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    let (line, column) = sibling_key(text, loc.line(), loc.column(), field).unwrap_or((loc.line(), loc.column()));
    let message = name_the_field(message, text.lines().nth(line.saturating_sub(1)), column);
    Error::Spec { location: format!("{}:{line}:{column}", path.display()), message }
}

/// Where the failing field's own key is when the mark sits on another key of the same block
/// map (the map's first): the line and column of the key `field` ends with, searched among
/// the keys at the mark's indentation from the mark on. `None` when the mark is already on it
/// or the key is not found there (flow maps, sequences).
fn sibling_key(text: &str, line: usize, column: usize, field: &str) -> Option<(usize, usize)> {
    let want = field.rsplit('.').next()?;
    if want.is_empty() || want.contains('[') {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    let key_of = |l: &str| l.trim_start().split(':').next().unwrap_or("").trim().to_string();
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let first = lines.get(line.checked_sub(1)?)?;
    if indent_of(first) + 1 != column || key_of(first) == want {
        return None;
    }
    for (i, l) in lines.iter().enumerate().skip(line) {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if indent_of(l) < indent_of(first) {
            return None;
        }
        if indent_of(l) == indent_of(first) && key_of(l) == want {
            return Some((i + 1, column));
        }
    }
    None
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
