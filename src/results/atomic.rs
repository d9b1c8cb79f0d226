//! Atomic file writes: write a temporary file beside the target, flush it to disk, rename it
//! over the target. A reader (or a run killed half-way) sees the old file or the new one,
//! never a torn one.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically, creating parent directories. The temporary ends in
/// `.tmp`, so readers that take every `*.json` of a folder never see one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary(path, "tmp");
    replace(path, &tmp, || {
        std::fs::File::create(&tmp).and_then(|mut file| file.write_all(bytes)).map_err(Error::io(path))
    })
}

/// Writes `path` atomically through `write`, which fills the temporary path it is given. The
/// temporary keeps `path`'s extension, for writers that pick a format from it (tch's
/// `.safetensors`, plotters' `.png` / `.svg`); not for record folders read by extension.
pub fn write_atomic_via(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("tmp");
    let tmp = temporary(path, &format!("tmp.{ext}"));
    replace(path, &tmp, || write(&tmp))
}

/// `.{file name}.{pid}.{suffix}` beside `path`, its parent created.
fn temporary(path: &Path, suffix: &str) -> std::path::PathBuf {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    parent.join(format!(".{file_name}.{}.{suffix}", std::process::id()))
}

/// Runs `write` (which fills `tmp`), flushes `tmp` to disk and renames it over `path`; on any
/// failure removes `tmp` and reports the error against `path`.
fn replace(path: &Path, tmp: &Path, write: impl FnOnce() -> Result<()>) -> Result<()> {
    let parent = tmp.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let result = write().and_then(|_| {
        std::fs::File::open(tmp)
            .and_then(|f| f.sync_all())
            .and_then(|_| std::fs::rename(tmp, path))
            .map_err(Error::io(path))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

/// Serializes `value` as pretty JSON (with a final newline) and writes it atomically.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("records always serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/record.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("record.json")]);
    }
}
