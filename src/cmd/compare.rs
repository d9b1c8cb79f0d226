//! `mcdrop compare EXPERIMENT... --against DIR`: a fresh rerun's tables against the
//! committed ones, set by set (what `make reproduce FRESH=1` ends with).

use anyhow::bail;

use crate::cli::{Cli, CompareArgs};
use crate::report::agreement::agreement_table;
use crate::report::experiment::{load_experiment, Loaded};

pub fn compare(cli: &Cli, args: &CompareArgs) -> anyhow::Result<()> {
    let mut inconsistent = Vec::new();
    for name in &args.experiments {
        let committed = load_experiment(&cli.results_dir, name)?;
        let fresh = load_experiment(&args.against, name)?;
        let (Loaded::Uci(a), Loaded::Uci(b)) = (&committed.data, &fresh.data) else {
            println!("{name}: not a UCI experiment; compare its tables with `mcdrop table` on both directories\n");
            continue;
        };
        let (table, bad) = agreement_table(name, a, b);
        print!("{}", table.render(args.format));
        println!();
        if bad {
            inconsistent.push(name.clone());
        }
    }
    println!(
        "Rule: identical is the same mean; consistent is within two standard errors of the difference \
         (sqrt(se_committed^2 + se_fresh^2)); missing is a set only one side has."
    );
    if !inconsistent.is_empty() {
        bail!("{}: a set is inconsistent with, or missing from, the committed results", inconsistent.join(", "));
    }
    Ok(())
}
