//! `mcdrop cost SPEC [--against SPEC]`: per set, what one split's training costs (member-steps
//! and recorded wall time) and what the records learned, as a markdown table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::cli::{Cli, CostArgs};
use crate::data::DataDirs;
use crate::data::SetName;
use crate::error::Error;
use crate::protocol::cost::{set_costs, SetCost, Spread};
use crate::results::ExperimentStore;

pub fn cost(cli: &Cli, args: &CostArgs) -> anyhow::Result<()> {
    let data = DataDirs::new(cli.data_dir.as_deref())?;
    let load = |path: &Path| -> anyhow::Result<(String, Vec<SetCost>)> {
        let spec = crate::spec::load(path)?;
        let store = ExperimentStore::new(&cli.results_dir, &spec.name);
        let costs = set_costs(&spec, &store, &data)?
            .ok_or_else(|| Error::Usage(format!("{}: `cost` reads UCI regression specs only", path.display())))?;
        Ok((spec.name, costs))
    };
    let (name, ours) = load(&args.spec)?;
    let against = args.against.as_deref().map(load).transpose()?;
    print!("{}", render(&name, &ours, against.as_ref()));
    Ok(())
}

/// The markdown table (see the module header).
fn render(name: &str, ours: &[SetCost], against: Option<&(String, Vec<SetCost>)>) -> String {
    let keys: BTreeSet<&String> = ours.iter().flat_map(|c| c.learned.keys()).collect();
    let theirs: BTreeMap<&SetName, &SetCost> =
        against.map(|(_, c)| c.iter().map(|c| (&c.set, c)).collect()).unwrap_or_default();
    let vs = against.map_or(String::new(), |(other, _)| format!(", {name} : {other}"));
    let mut header = vec!["Data set".to_string(), "Splits".to_string()];
    header.extend(keys.iter().map(|k| format!("{k}, mean (min-max)")));
    header.push(format!("member-steps per split{vs}"));
    header.push(format!("wall per split{vs}"));
    let mut text = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for c in ours.iter().filter(|c| c.splits_recorded > 0) {
        let mut row = vec![c.set.display_name().to_string(), c.splits_recorded.to_string()];
        row.extend(keys.iter().map(|k| c.learned.get(*k).map_or("-".into(), spread)));
        let other = theirs.get(&c.set);
        row.push(match other {
            Some(o) => format!(
                "{} : {} ({})",
                thousands(c.member_steps_per_split),
                thousands(o.member_steps_per_split),
                ratio(c.member_steps_per_split as f64, o.member_steps_per_split as f64)
            ),
            None => thousands(c.member_steps_per_split),
        });
        let seconds = |s: Option<f64>| s.map_or("-".to_string(), |s| format!("{s:.1} s"));
        row.push(match other.and_then(|o| Some((c.seconds_per_split?, o.seconds_per_split?))) {
            Some((a, b)) => format!("{} : {} ({})", seconds(Some(a)), seconds(Some(b)), ratio(a, b)),
            None => seconds(c.seconds_per_split),
        });
        text.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    text
}

/// `1/10.0` when ours is the smaller, `2.5x` when it is the larger.
fn ratio(ours: f64, theirs: f64) -> String {
    if ours <= 0.0 || theirs <= 0.0 {
        "-".into()
    } else if ours <= theirs {
        format!("1/{:.1}", theirs / ours)
    } else {
        format!("{:.1}x", ours / theirs)
    }
}

fn spread(s: &Spread) -> String {
    format!("{} ({}-{})", number(s.mean), number(s.min), number(s.max))
}

/// Three significant digits, in scientific notation below 0.01 (collapsed rates stay legible).
fn number(x: f64) -> String {
    if x != 0.0 && x.abs() < 0.01 {
        format!("{x:.2e}")
    } else {
        format!("{x:.3}")
    }
}

/// 1234567 -> `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_ratios_read_as_in_the_readme() {
        assert_eq!(thousands(2_488_000), "2,488,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(ratio(16_000.0, 160_000.0), "1/10.0");
        assert_eq!(ratio(237.1, 184.8), "1.3x");
        assert_eq!(number(0.000_381), "3.81e-4");
        assert_eq!(number(1.595), "1.595");
    }
}
