//! The UCI regression sets in the layout of the paper's reference code: `data.txt`
//! (whitespace-separated numbers, one row a line), `index_features.txt`, `index_target.txt`
//! and the fixed splits `index_train_k.txt` / `index_test_k.txt` (0-based row ids).
//!
//! Everything is checked on load (ragged rows, non-numbers, ids out of range, duplicate ids,
//! train/test overlap) and a problem is reported with the file and line.

use std::path::{Path, PathBuf};

use super::locate::DataDirs;
use super::set_name::SetName;
pub use super::set_name::UciSet;
use super::standardize::Matrix;
use crate::error::{Error, Result};

/// One fixed train/test split (row ids into the data matrix).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// A loaded, checked regression set: a UCI set, or a table in the same shape (`data::table`).
#[derive(Debug, Clone)]
pub struct UciData {
    pub set: SetName,
    pub dir: PathBuf,
    /// Feature columns of every row.
    pub x: Matrix,
    /// Target of every row, original units.
    pub y: Vec<f64>,
    pub splits: Vec<Split>,
}

impl UciData {
    /// Finds the set through `dirs` and loads it.
    pub fn find_and_load(set: UciSet, dirs: &DataDirs) -> Result<Self> {
        let dir = dirs.find(&format!("uci/{}", set.folder()), &format!("uci {}", set.folder()))?;
        Self::load(set, &dir)
    }

    /// Loads the set from its folder, checking every file.
    pub fn load(set: UciSet, dir: &Path) -> Result<Self> {
        let table = read_table(&dir.join("data.txt"))?;
        let n_rows = table.rows;
        let features = read_indices(&dir.join("index_features.txt"), table.cols, "column")?;
        let target = read_indices(&dir.join("index_target.txt"), table.cols, "column")?;
        let target = match target.as_slice() {
            [t] => *t,
            other => {
                return Err(Error::DataInvalid {
                    path: dir.join("index_target.txt"),
                    message: format!("expected exactly one target column, found {}", other.len()),
                })
            }
        };
        if features.contains(&target) {
            return Err(Error::DataInvalid {
                path: dir.join("index_features.txt"),
                message: format!("target column {target} is also listed as a feature"),
            });
        }
        let x_values = (0..n_rows)
            .flat_map(|i| features.iter().map(move |&c| (i, c)))
            .map(|(i, c)| table.values[i * table.cols + c])
            .collect();
        let x = Matrix { rows: n_rows, cols: features.len(), values: x_values };
        let y = (0..n_rows).map(|i| table.values[i * table.cols + target]).collect();
        let splits = read_split_folder(dir, n_rows)?;
        Ok(Self { set: SetName::uci(set), dir: dir.to_path_buf(), x, y, splits })
    }
}

/// Parses `data.txt`: whitespace-separated numbers, blank lines skipped, all rows the same width.
pub fn read_table(path: &Path) -> Result<Matrix> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let mut values = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let bad_line = |message: String| Error::DataFormat { path: path.to_path_buf(), line: i + 1, message };
        match cols {
            None => cols = Some(fields.len()),
            Some(c) if c != fields.len() => {
                return Err(bad_line(format!("ragged row: {} values where earlier rows have {c}", fields.len())))
            }
            Some(_) => {}
        }
        for (j, field) in fields.iter().enumerate() {
            let v: f64 = field.parse().map_err(|_| bad_line(format!("value {} ({field:?}) is not a number", j + 1)))?;
            if !v.is_finite() {
                return Err(bad_line(format!("value {} ({field:?}) is not finite", j + 1)));
            }
            values.push(v);
        }
        rows += 1;
    }
    let cols = cols.ok_or_else(|| Error::DataInvalid { path: path.to_path_buf(), message: "no data rows".into() })?;
    Ok(Matrix { rows, cols, values })
}

/// Reads one integer a line (an index file); each must be below `bound`.
fn read_indices(path: &Path, bound: usize, what: &str) -> Result<Vec<usize>> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for field in line.split_ascii_whitespace() {
            let bad = |message: String| Error::DataFormat { path: path.to_path_buf(), line: i + 1, message };
            let id =
                parse_index(field).ok_or_else(|| bad(format!("{field:?} is not a non-negative integer {what} id")))?;
            if id >= bound {
                return Err(bad(format!("{what} id {id} is out of range (the data has {bound} {what}s)")));
            }
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(Error::DataInvalid { path: path.to_path_buf(), message: "file lists no ids".into() });
    }
    Ok(out)
}

/// Integers, also written as floats with a zero fraction (`12.0`), as numpy may save them.
fn parse_index(field: &str) -> Option<usize> {
    if let Ok(v) = field.parse::<usize>() {
        return Some(v);
    }
    let v: f64 = field.parse().ok()?;
    (v >= 0.0 && v.fract() == 0.0 && v < usize::MAX as f64).then_some(v as usize)
}

/// Every split of a folder in the UCI layout, checked against a table of `n_rows` rows.
pub fn read_split_folder(dir: &Path, n_rows: usize) -> Result<Vec<Split>> {
    let n_splits = read_split_count(dir)?;
    (0..n_splits).map(|k| read_split(dir, k, n_rows)).collect()
}

fn read_split_count(dir: &Path) -> Result<usize> {
    let path = dir.join("n_splits.txt");
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        return parse_index(text.trim()).filter(|&n| n > 0).ok_or_else(|| Error::DataFormat {
            path,
            line: 1,
            message: format!("{:?} is not a positive split count", text.trim()),
        });
    }
    // Without n_splits.txt, count the consecutive split files.
    let n = (0..).take_while(|k| dir.join(format!("index_train_{k}.txt")).exists()).count();
    if n == 0 {
        return Err(Error::DataInvalid {
            path: dir.to_path_buf(),
            message: "no index_train_0.txt: not a UCI split folder".into(),
        });
    }
    Ok(n)
}

fn read_split(dir: &Path, k: usize, n_rows: usize) -> Result<Split> {
    let train_path = dir.join(format!("index_train_{k}.txt"));
    let test_path = dir.join(format!("index_test_{k}.txt"));
    let train = read_indices(&train_path, n_rows, "row")?;
    let test = read_indices(&test_path, n_rows, "row")?;
    let mut seen = vec![0u8; n_rows];
    for &i in &train {
        if seen[i] != 0 {
            return Err(Error::DataInvalid { path: train_path, message: format!("row {i} is listed twice") });
        }
        seen[i] = 1;
    }
    for &i in &test {
        match seen[i] {
            1 => {
                return Err(Error::DataInvalid {
                    path: test_path,
                    message: format!("row {i} is also in {} (train/test overlap)", train_path.display()),
                })
            }
            2 => return Err(Error::DataInvalid { path: test_path, message: format!("row {i} is listed twice") }),
            _ => seen[i] = 2,
        }
    }
    Ok(Split { train, test })
}
