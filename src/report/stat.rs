//! Statistics as tables print them and verdicts against published numbers: a mean and its
//! standard error, decimals that keep small numbers readable, and "within 2 SE".

use super::published::PUBLISHED_ROUNDING;

/// (mean, standard error)
pub type Stat = (f64, f64);

/// Most decimals a table prints.
const MAX_DECIMALS: f64 = 8.0;

/// Decimals that keep two significant digits of small numbers (naval's RMSE is ~0.0007 for
/// dropout, ~0.00002 for the GP).
fn decimals(v: f64) -> usize {
    match v.abs() {
        a if a >= 1.0 || a == 0.0 || !a.is_finite() => 2,
        a if a >= 0.1 => 3,
        a if a >= 0.01 => 4,
        a => (1.0 - a.log10().floor()).clamp(5.0, MAX_DECIMALS) as usize,
    }
}

/// Decimals that keep one significant digit of a standard error (naval's LL is 4.453 +- 0.002,
/// which two decimals would print as +- 0.00).
fn se_decimals(se: f64) -> usize {
    if se > 0.0 && se.is_finite() {
        (-se.log10()).ceil().clamp(0.0, MAX_DECIMALS) as usize
    } else {
        0
    }
}

/// `mean ± se` (with `plus_minus` as the sign) in every table; published numbers keep the two
/// decimals they were printed with.
pub fn format_stat(stat: Stat, plus_minus: &str, published: bool) -> String {
    let d = if published { 2 } else { decimals(stat.0).max(se_decimals(stat.1)) };
    format!("{:.d$}{plus_minus}{:.d$}", stat.0, stat.1)
}

/// How a mean compares with the published one it is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Within,
    Better,
    Worse,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Within => "within 2 SE",
            Verdict::Better => "better",
            Verdict::Worse => "worse",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a mean compares with a published one: within two standard errors of the difference
/// (sqrt(se_a^2 + se_b^2)) of some value the published number rounds from (it is known only
/// to +- `PUBLISHED_ROUNDING`), or better / worse beyond that.
pub fn verdict(ours: Stat, published: Stat, lower_is_better: bool) -> Verdict {
    let diff = ours.0 - published.0;
    if diff.abs() - PUBLISHED_ROUNDING <= 2.0 * (ours.1 * ours.1 + published.1 * published.1).sqrt() {
        Verdict::Within
    } else if (diff < 0.0) == lower_is_better {
        Verdict::Better
    } else {
        Verdict::Worse
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_use_two_standard_errors_of_the_difference() {
        assert_eq!(verdict((2.9, 0.1), (3.0, 0.1), true).as_str(), "within 2 SE");
        assert_eq!(verdict((2.5, 0.1), (3.0, 0.1), true).as_str(), "better");
        assert_eq!(verdict((2.5, 0.1), (3.0, 0.1), false).as_str(), "worse");
        assert_eq!(verdict((-1.0, 0.01), (-1.5, 0.01), false).as_str(), "better");
        // A published 0.00 +- 0.00 is anything under 0.005: naval's 0.00062 +- 0.00003 matches.
        assert_eq!(verdict((0.00062, 0.00003), (0.00, 0.00), true).as_str(), "within 2 SE");
        assert_eq!(verdict((4.4533, 0.0015), (4.45, 0.00), false).as_str(), "within 2 SE");
        assert_eq!(verdict((0.0062, 0.0003), (0.00, 0.00), true).as_str(), "worse");
    }

    #[test]
    fn small_numbers_keep_two_significant_digits() {
        assert_eq!(format_stat((0.00072, 0.00004), " ± ", false), "0.00072 ± 0.00004");
        // The sparse GP on naval: RMSE 1.6e-5 over splits that agree to 1e-7.
        assert_eq!(format_stat((1.62e-5, 1.3e-7), " ± ", false), "0.0000162 ± 0.0000001");
        assert_eq!(format_stat((4.4533, 0.0015), " ± ", false), "4.453 ± 0.002");
        assert_eq!(format_stat((2.86, 0.2), " ± ", false), "2.86 ± 0.20");
    }
}
