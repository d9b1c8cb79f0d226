//! The UCI loader on the mirror and on broken copies of it.

use crate::common;

use mcdrop::data::uci::{UciData, UciSet};
use mcdrop::data::DataDirs;
use mcdrop::Error;

#[test]
fn loads_every_mirrored_set_with_its_splits() {
    let dirs = DataDirs::new(Some(&common::mirror())).unwrap();
    // (set, rows, features, splits, train rows)
    let expected = [
        (UciSet::Boston, 506, 13, 20, 455),
        (UciSet::Concrete, 1030, 8, 20, 927),
        (UciSet::Energy, 768, 8, 20, 691),
        (UciSet::Kin8nm, 8192, 8, 20, 7373),
        (UciSet::Naval, 11934, 16, 20, 10741),
        (UciSet::Power, 9568, 4, 20, 8611),
        (UciSet::Protein, 45730, 9, 5, 41157),
        (UciSet::Wine, 1599, 11, 20, 1439),
        (UciSet::Yacht, 308, 6, 20, 277),
    ];
    for (set, rows, features, splits, train) in expected {
        let data = UciData::find_and_load(set, &dirs).unwrap();
        assert_eq!((data.x.rows, data.x.cols, data.y.len()), (rows, features, rows), "{set}");
        assert_eq!(data.splits.len(), splits, "{set}");
        for split in &data.splits {
            assert_eq!(split.train.len(), train, "{set}");
            assert_eq!(split.train.len() + split.test.len(), rows, "{set}");
        }
    }
}

#[test]
fn boston_target_is_the_median_value_column() {
    let dirs = DataDirs::new(Some(&common::mirror())).unwrap();
    let data = UciData::find_and_load(UciSet::Boston, &dirs).unwrap();
    // First row of data.txt ends with MEDV 24.00 and starts with CRIM 0.00632.
    assert_eq!(data.y[0], 24.0);
    assert_eq!(data.x.row(0)[0], 0.00632);
}

fn broken_copy(edit: impl FnOnce(&std::path::Path)) -> (tempfile::TempDir, Result<UciData, Error>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::copy_uci_set("yacht", tmp.path());
    edit(&dir);
    let result = UciData::load(UciSet::Yacht, &dir);
    (tmp, result)
}

fn replace_line(path: &std::path::Path, line: usize, text: &str) {
    let content = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = content.lines().map(String::from).collect();
    lines[line - 1] = text.to_string();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn ragged_row_names_file_and_line() {
    let (_tmp, result) = broken_copy(|dir| replace_line(&dir.join("data.txt"), 5, "1 2 3"));
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("data.txt:5:") && msg.contains("ragged row: 3 values"), "{msg}");
}

#[test]
fn non_number_names_file_line_and_value() {
    let (_tmp, result) =
        broken_copy(|dir| replace_line(&dir.join("data.txt"), 7, "-2.3 0.568 4.78 3.99 3.17 0.3x 0.35"));
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("data.txt:7:") && msg.contains("value 6 (\"0.3x\") is not a number"), "{msg}");
}

#[test]
fn index_out_of_range_names_file_and_line() {
    let (_tmp, result) = broken_copy(|dir| replace_line(&dir.join("index_train_3.txt"), 2, "308"));
    let msg = result.unwrap_err().to_string();
    assert!(
        msg.contains("index_train_3.txt:2:") && msg.contains("row id 308 is out of range (the data has 308 rows)"),
        "{msg}"
    );
}

#[test]
fn train_test_overlap_is_refused() {
    let (_tmp, result) = broken_copy(|dir| {
        let first_train =
            std::fs::read_to_string(dir.join("index_train_0.txt")).unwrap().lines().next().unwrap().to_string();
        replace_line(&dir.join("index_test_0.txt"), 1, &first_train);
    });
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("index_test_0.txt") && msg.contains("train/test overlap"), "{msg}");
}

#[test]
fn target_listed_as_feature_is_refused() {
    let (_tmp, result) = broken_copy(|dir| std::fs::write(dir.join("index_features.txt"), "0\n1\n6\n").unwrap());
    let msg = result.unwrap_err().to_string();
    assert!(msg.contains("index_features.txt") && msg.contains("target column 6 is also listed as a feature"), "{msg}");
}

#[test]
fn missing_set_says_where_it_looked_and_how_to_fetch() {
    let tmp = tempfile::tempdir().unwrap();
    let dirs = DataDirs::new(Some(tmp.path())).unwrap();
    let err = dirs.find("uci/yacht-missing", "uci yacht-missing").unwrap_err().to_string();
    assert!(err.contains(&tmp.path().join("uci/yacht-missing").display().to_string()), "{err}");
    assert!(err.contains("(--data-dir)") && err.contains("scripts/fetch-data uci yacht-missing"), "{err}");
}

#[test]
fn an_explicit_data_dir_is_taken_at_its_word() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nonexistent");
    let err = DataDirs::new(Some(&missing)).unwrap_err().to_string();
    assert!(err.contains("--data-dir") && err.contains(&missing.display().to_string()), "{err}");
    // An existing folder without the set is searched alone: no fallback to the mirror.
    let dirs = DataDirs::new(Some(tmp.path())).unwrap();
    assert_eq!(dirs.candidates().len(), 1);
    let err = dirs.find("uci/yacht", "uci yacht").unwrap_err().to_string();
    assert!(err.contains(&tmp.path().join("uci/yacht").display().to_string()) && !err.contains("shared/data"), "{err}");
}
