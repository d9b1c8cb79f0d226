//! Mauna Loa weekly CO2 (Keeling & Whorf 2004), `co2/co2_weekly_mlo.csv`: a `date,co2` header,
//! then `YYYYMMDD,ppmv` a line, empty ppmv where a week has no measurement. Missing weeks are
//! dropped; dates become decimal years (the paper's input is standardized time).

use std::path::{Path, PathBuf};

use super::locate::DataDirs;
use crate::error::{Error, Result};

/// Observed weeks in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Co2 {
    /// Decimal years, e.g. 1958.24.
    pub years: Vec<f64>,
    /// ppmv.
    pub ppm: Vec<f64>,
    /// Weeks listed without a measurement (dropped).
    pub missing: usize,
}

impl Co2 {
    pub fn find_and_load(dirs: &DataDirs) -> Result<Self> {
        Self::load(&dirs.find("co2/co2_weekly_mlo.csv", "co2")?)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        parse(path, &text)
    }
}

pub fn parse(path: &Path, text: &str) -> Result<Co2> {
    let bad = |line: usize, message: String| Error::DataFormat { path: PathBuf::from(path), line, message };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == "date,co2" => {}
        other => {
            return Err(bad(1, format!("expected the header `date,co2`, found {:?}", other.map_or("", |(_, l)| l))));
        }
    }
    let mut out = Co2 { years: Vec::new(), ppm: Vec::new(), missing: 0 };
    for (i, line) in lines {
        let number = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let (date, value) =
            line.split_once(',').ok_or_else(|| bad(number, format!("expected `YYYYMMDD,ppmv`, found {line:?}")))?;
        let year =
            decimal_year(date.trim()).ok_or_else(|| bad(number, format!("date {date:?} is not a valid YYYYMMDD")))?;
        if out.years.last().is_some_and(|&last| year <= last) {
            return Err(bad(number, format!("date {date} is not after the previous row; rows must be in time order")));
        }
        let value = value.trim();
        if value.is_empty() {
            out.missing += 1;
            continue;
        }
        let ppm: f64 = value.parse().map_err(|_| bad(number, format!("co2 value {value:?} is not a number")))?;
        if !ppm.is_finite() || ppm <= 0.0 {
            return Err(bad(number, format!("co2 value {ppm} is not a positive concentration")));
        }
        out.years.push(year);
        out.ppm.push(ppm);
    }
    if out.years.is_empty() {
        return Err(bad(1, "no measurements in the file".into()));
    }
    Ok(out)
}

/// `YYYYMMDD` -> year + (day of year - 1) / days in year.
pub fn decimal_year(date: &str) -> Option<f64> {
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (date[..4].parse().ok()?, date[4..6].parse().ok()?, date[6..].parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d == 0 || d > month_days[m as usize - 1] {
        return None;
    }
    let day_of_year: u32 = month_days[..m as usize - 1].iter().sum::<u32>() + d;
    let days = if leap { 366.0 } else { 365.0 };
    Some(y as f64 + (day_of_year - 1) as f64 / days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_decimal_years() {
        assert_eq!(decimal_year("19580101"), Some(1958.0));
        assert!((decimal_year("20000701").unwrap() - (2000.0 + 182.0 / 366.0)).abs() < 1e-12);
        assert_eq!(decimal_year("19580230"), None);
        assert_eq!(decimal_year("1958013"), None);
    }

    #[test]
    fn gaps_are_dropped_and_bad_rows_named() {
        let path = Path::new("co2.csv");
        let ok = parse(path, "date,co2\n19580329,316.1\n19580405,\n19580412,317.6\n").unwrap();
        assert_eq!(ok.ppm, vec![316.1, 317.6]);
        assert_eq!(ok.missing, 1);
        let err = parse(path, "date,co2\n19580329,316.1\n19580405,abc\n").unwrap_err().to_string();
        assert!(err.starts_with("co2.csv:3:") && err.contains("\"abc\""), "{err}");
        let err = parse(path, "date,co2\n19581329,316.1\n").unwrap_err().to_string();
        assert!(err.contains("co2.csv:2:") && err.contains("YYYYMMDD"), "{err}");
    }
}
