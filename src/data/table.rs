//! A researcher's own regression table: a CSV file with a header row, or a Parquet file, one
//! row an example. The spec names the target column and (optionally) the feature columns;
//! the splits are drawn at random from a seed, as the reference code's
//! `split_data_train_test.py` drew the UCI ones, or read from index files in the UCI layout.
//!
//! Every cell is checked on load and a bad one is reported with its file, column and line
//! (CSV) or row (Parquet): the run never starts on data it would have to guess about.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_io::prelude::{CsvReadOptions, ParquetReader};
use polars_io::SerReader;
use sha2::{Digest, Sha256};

use super::standardize::Matrix;
use super::uci::{read_split_folder, Split, UciData};
use crate::error::{Error, Result};
use crate::rng;

/// Where a table is and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSource {
    /// The set's name in records, tables and the results folder.
    pub name: String,
    pub path: PathBuf,
    pub target: String,
    /// `None`: every column but the target.
    pub features: Option<Vec<String>>,
    pub splits: SplitSource,
    /// Rows with an empty cell (`""`, `NA`, `NaN`, `?`, or a null) in a used column.
    pub missing: MissingCells,
    /// What the file's and the split folder's SHA-256 must be (the spec's record of them).
    pub sha256: Option<String>,
    pub splits_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SplitSource {
    /// `count` random permutations; the first `round(n (1 - test_fraction))` rows of each train.
    Random { count: usize, test_fraction: f64, seed: u64 },
    /// `index_train_k.txt` / `index_test_k.txt` (0-based data rows) in this folder.
    IndexFiles(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingCells {
    /// A missing cell is an error naming it.
    Refuse,
    /// Rows with a missing cell are left out before the splits are drawn or read.
    DropRows,
}

/// Fewest rows a table may have: a split needs training rows to standardize with and to
/// hold a validation part out of, and test rows to score.
const MIN_ROWS: usize = 10;

/// Cells read as missing besides nulls (case-insensitive).
const MISSING_MARKS: [&str; 6] = ["", "na", "nan", "n/a", "null", "?"];

impl TableSource {
    /// Reads and checks the table and makes (or reads) its splits.
    pub fn load(&self) -> Result<UciData> {
        self.check_unchanged()?;
        let frame = read_frame(&self.path)?;
        let columns = self.columns(&frame)?;
        let table = numeric_rows(&self.path, &frame, &columns, self.missing, is_csv(&self.path))?;
        let (x, y) = table.into_xy();
        check_varies(&self.path, &columns, &x, &y)?;
        let splits = match &self.splits {
            SplitSource::Random { count, test_fraction, seed } => random_splits(y.len(), *count, *test_fraction, *seed),
            SplitSource::IndexFiles(dir) => read_split_folder(dir, y.len())?,
        };
        for (k, split) in splits.iter().enumerate() {
            if split.train.len() < 2 || split.test.is_empty() {
                return Err(self.invalid(format!(
                    "split {k} has {} training and {} test rows; each split needs at least 2 training rows and 1 test row",
                    split.train.len(),
                    split.test.len()
                )));
            }
        }
        Ok(UciData { set: super::SetName::named(&self.name), dir: self.path.clone(), x, y, splits })
    }

    /// The feature columns then the target, each named once and present in the file.
    fn columns(&self, frame: &DataFrame) -> Result<Vec<String>> {
        let names: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
        let present = |c: &str| names.iter().any(|n| n == c);
        let listing = || names.join(", ");
        if !present(&self.target) {
            return Err(self.invalid(format!(
                "no column `{}` (task.table.target); the file's columns are: {}",
                self.target,
                listing()
            )));
        }
        let features = match &self.features {
            Some(features) => {
                for (i, f) in features.iter().enumerate() {
                    if !present(f) {
                        return Err(self.invalid(format!(
                            "no column `{f}` (task.table.features); the file's columns are: {}",
                            listing()
                        )));
                    }
                    if features[..i].contains(f) {
                        return Err(self.invalid(format!("task.table.features lists `{f}` twice; list it once")));
                    }
                    if *f == self.target {
                        return Err(self.invalid(format!(
                            "`{f}` is the target (task.table.target) and also listed in task.table.features; leave it out of features"
                        )));
                    }
                }
                features.clone()
            }
            None => names.iter().filter(|n| **n != self.target).cloned().collect(),
        };
        if features.is_empty() {
            return Err(self.invalid(format!(
                "no feature columns: the file has only the target `{}`; a table needs at least one feature",
                self.target
            )));
        }
        Ok(features.into_iter().chain([self.target.clone()]).collect())
    }

    /// The file (and split folder) still hash to what the spec recorded.
    fn check_unchanged(&self) -> Result<()> {
        let folder = match &self.splits {
            SplitSource::IndexFiles(dir) => Some(dir),
            SplitSource::Random { .. } => None,
        };
        let pairs = [(Some(&self.path), &self.sha256, "sha256"), (folder, &self.splits_sha256, "splits_sha256")];
        for (path, expected, field) in pairs {
            let (Some(path), Some(expected)) = (path, expected) else { continue };
            if !path.exists() {
                return Err(Error::DataInvalid {
                    path: path.clone(),
                    message: "not found (task.table.path and index_files are relative to the directory mcdrop runs in)"
                        .into(),
                });
            }
            let actual = if field == "sha256" { file_sha256(path)? } else { split_folder_sha256(path)? };
            if &actual != expected {
                return Err(Error::DataInvalid {
                    path: path.clone(),
                    message: format!(
                        "changed since the spec recorded it: task.table.{field} is {expected} but the content now hashes to {actual}; \
                         results of the old content would mix with new ones, so run the new data under a new experiment name \
                         (or set task.table.{field} to the new hash if the change is intended)"
                    ),
                });
            }
        }
        Ok(())
    }

    fn invalid(&self, message: String) -> Error {
        Error::DataInvalid { path: self.path.clone(), message }
    }
}

/// SHA-256 (hex) of a file's bytes: what identifies a table's content in the spec's hash.
pub fn file_sha256(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    Ok(crate::spec::hex(&Sha256::digest(&bytes)))
}

/// SHA-256 (hex) of the index files of a split folder, in name order.
pub fn split_folder_sha256(dir: &Path) -> Result<String> {
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let name = entry.map_err(Error::io(dir))?.file_name().to_string_lossy().into_owned();
        if name.starts_with("index_train_") || name.starts_with("index_test_") || name == "n_splits.txt" {
            names.push(name);
        }
    }
    names.sort();
    let mut hasher = Sha256::new();
    for name in &names {
        let path = dir.join(name);
        hasher.update(name.as_bytes());
        hasher.update(std::fs::read(&path).map_err(Error::io(&path))?);
    }
    Ok(crate::spec::hex(&hasher.finalize()))
}

fn is_csv(path: &Path) -> bool {
    !is_parquet(path)
}

fn is_parquet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

/// The whole file as a frame: a CSV with every column read as text (cells are parsed here, so
/// that a bad one is named), a Parquet file with its own column types.
fn read_frame(path: &Path) -> Result<DataFrame> {
    if !path.is_file() {
        return Err(Error::DataInvalid {
            path: path.to_path_buf(),
            message: "no such file (task.table.path is relative to the directory mcdrop runs in)".into(),
        });
    }
    let unreadable = |e: PolarsError, what: &str| Error::DataInvalid {
        path: path.to_path_buf(),
        message: format!("not a readable {what} file: {e}"),
    };
    let frame = if is_parquet(path) {
        let file = std::fs::File::open(path).map_err(Error::io(path))?;
        ParquetReader::new(file).finish().map_err(|e| unreadable(e, "Parquet"))?
    } else {
        check_csv_shape(path)?;
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|reader| reader.finish())
            .map_err(|e| unreadable(e, "CSV"))?
    };
    if frame.height() == 0 {
        return Err(Error::DataInvalid { path: path.to_path_buf(), message: "the table has no data rows".into() });
    }
    Ok(frame)
}

/// The header row has unique, non-empty names (polars would rename repeats silently), and
/// every row has as many fields as it names (polars' error would not say which row).
fn check_csv_shape(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let Some(header) = text.lines().next().filter(|l| !l.trim().is_empty()) else {
        return Err(Error::DataInvalid {
            path: path.to_path_buf(),
            message: "the file is empty; a CSV table starts with a header row naming its columns".into(),
        });
    };
    let names: Vec<&str> = header.split(',').map(|n| n.trim().trim_matches('"')).collect();
    for (i, name) in names.iter().enumerate() {
        let bad = |message: String| Error::DataFormat { path: path.to_path_buf(), line: 1, message };
        if name.is_empty() {
            return Err(bad(format!("column {} of the header has no name; name every column", i + 1)));
        }
        if names[..i].contains(name) {
            return Err(bad(format!("column `{name}` is named twice in the header; give each column its own name")));
        }
    }
    for (i, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let fields = field_count(line);
        if fields != names.len() {
            return Err(Error::DataFormat {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("{fields} fields where the header names {}", names.len()),
            });
        }
    }
    Ok(())
}

/// Comma-separated fields of a line, commas inside double quotes not counting.
fn field_count(line: &str) -> usize {
    let mut quoted = false;
    1 + line
        .chars()
        .filter(|&c| {
            if c == '"' {
                quoted = !quoted;
            }
            c == ',' && !quoted
        })
        .count()
}

/// The used columns as numbers, row-major, with the rows kept (missing cells dropped or refused).
struct NumericRows {
    cols: usize,
    values: Vec<f64>,
}

impl NumericRows {
    /// Features (all columns but the last) and target (the last).
    fn into_xy(self) -> (Matrix, Vec<f64>) {
        let rows = self.values.len() / self.cols;
        let features = self.cols - 1;
        let mut x = Vec::with_capacity(rows * features);
        let mut y = Vec::with_capacity(rows);
        for row in self.values.chunks(self.cols) {
            x.extend_from_slice(&row[..features]);
            y.push(row[features]);
        }
        (Matrix { rows, cols: features, values: x }, y)
    }
}

fn numeric_rows(
    path: &Path,
    frame: &DataFrame,
    columns: &[String],
    missing: MissingCells,
    csv: bool,
) -> Result<NumericRows> {
    let height = frame.height();
    let mut parsed: Vec<Vec<Option<f64>>> = Vec::with_capacity(columns.len());
    for name in columns {
        let column = frame.column(name.as_str())?.as_materialized_series();
        parsed.push(column_values(path, column, csv)?);
    }
    let mut values = Vec::with_capacity(height * columns.len());
    let mut dropped = 0;
    for row in 0..height {
        let cells: Vec<Option<f64>> = parsed.iter().map(|c| c[row]).collect();
        if let Some(j) = cells.iter().position(Option::is_none) {
            match missing {
                MissingCells::DropRows => {
                    dropped += 1;
                    continue;
                }
                MissingCells::Refuse => {
                    return Err(cell_error(
                        path,
                        csv,
                        row,
                        &columns[j],
                        "the cell is empty; fill it, or set `missing: drop_rows` to leave out rows with an empty cell",
                    ))
                }
            }
        }
        values.extend(cells.into_iter().flatten());
    }
    let kept = height - dropped;
    if dropped > 0 {
        tracing::info!("{}: left out {dropped} of {height} rows with an empty cell", path.display());
    }
    if kept < MIN_ROWS {
        return Err(Error::DataInvalid {
            path: path.to_path_buf(),
            message: format!("{kept} usable rows; a table needs at least {MIN_ROWS}"),
        });
    }
    Ok(NumericRows { cols: columns.len(), values })
}

/// One column's cells: numbers, `None` for a missing cell; anything else is an error.
fn column_values(path: &Path, column: &Series, csv: bool) -> Result<Vec<Option<f64>>> {
    let name = column.name().to_string();
    match column.dtype() {
        DataType::String => {
            let cells = column.str()?;
            let mut out = Vec::with_capacity(cells.len());
            for (row, cell) in cells.iter().enumerate() {
                let Some(text) = cell.map(str::trim) else {
                    out.push(None);
                    continue;
                };
                if MISSING_MARKS.contains(&text.to_ascii_lowercase().as_str()) {
                    out.push(None);
                    continue;
                }
                let value: f64 = text
                    .parse()
                    .map_err(|_| cell_error(path, csv, row, &name, &format!("{text:?} is not a number")))?;
                if !value.is_finite() {
                    return Err(cell_error(path, csv, row, &name, &format!("{text:?} is not finite")));
                }
                out.push(Some(value));
            }
            Ok(out)
        }
        dtype if dtype.is_primitive_numeric() => {
            let cast = column.cast(&DataType::Float64)?;
            Ok(cast.f64()?.iter().map(|v| v.filter(|v| v.is_finite())).collect())
        }
        other => Err(Error::DataInvalid {
            path: path.to_path_buf(),
            message: format!("column `{name}` holds {other}, not numbers; leave it out of task.table.features"),
        }),
    }
}

/// CSV rows are named by line (the header is line 1), Parquet rows by their 0-based index.
fn cell_error(path: &Path, csv: bool, row: usize, column: &str, what: &str) -> Error {
    if csv {
        Error::DataFormat { path: path.to_path_buf(), line: row + 2, message: format!("column `{column}`: {what}") }
    } else {
        Error::DataInvalid { path: path.to_path_buf(), message: format!("row {row}, column `{column}`: {what}") }
    }
}

/// A constant column would standardize to 0/0 (a feature) or leave nothing to learn (the target).
fn check_varies(path: &Path, columns: &[String], x: &Matrix, y: &[f64]) -> Result<()> {
    fn constant(mut values: impl Iterator<Item = f64>) -> bool {
        let first = values.next();
        first.is_none_or(|f| values.all(|v| v == f))
    }
    if constant(y.iter().copied()) {
        return Err(Error::DataInvalid {
            path: path.to_path_buf(),
            message: format!(
                "the target `{}` has the same value in every row; there is nothing to predict",
                columns[x.cols]
            ),
        });
    }
    for (j, name) in columns[..x.cols].iter().enumerate() {
        if constant((0..x.rows).map(|i| x.values[i * x.cols + j])) {
            return Err(Error::DataInvalid {
                path: path.to_path_buf(),
                message: format!(
                    "feature `{name}` has the same value in every row; leave it out of task.table.features"
                ),
            });
        }
    }
    Ok(())
}

/// `count` splits of `n` rows: each a seeded permutation, the first `round(n (1 - f))` rows
/// training, the rest test (the reference code's `split_data_train_test.py`).
pub fn random_splits(n: usize, count: usize, test_fraction: f64, seed: u64) -> Vec<Split> {
    let n_train = ((n as f64) * (1.0 - test_fraction)).round() as usize;
    (0..count)
        .map(|k| {
            let mut rng = rng::member_rng(rng::derive_seed(seed, &["table-split", &k.to_string()]));
            let mut rows: Vec<usize> = (0..n).collect();
            rng::shuffle(&mut rng, &mut rows);
            let test = rows.split_off(n_train.min(n));
            Split { train: rows, test }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_splits_partition_the_rows_and_follow_the_seed() {
        let splits = random_splits(50, 3, 0.1, 7);
        for split in &splits {
            assert_eq!((split.train.len(), split.test.len()), (45, 5));
            let mut all: Vec<usize> = split.train.iter().chain(&split.test).copied().collect();
            all.sort();
            assert_eq!(all, (0..50).collect::<Vec<_>>());
        }
        assert_ne!(splits[0], splits[1]);
        assert_eq!(random_splits(50, 3, 0.1, 7), splits);
        assert_ne!(random_splits(50, 3, 0.1, 8), splits);
    }
}
