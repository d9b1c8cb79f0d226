//! The verification report as markdown: what was rerun, on which commit and machine, and the
//! verdict on every metric.

use super::rerun::VerifyReport;
use crate::report::render::{Cell, Column, Table};
use crate::report::TableFormat;

/// `results/verify/<stamp>.md`.
pub fn markdown(report: &VerifyReport) -> String {
    let mut out = format!(
        "# mcdrop verify, {}\n\nBinary built from commit `{}`, on {} (on the CPU each program reruns with the \
         threads its records were made with). Budget {:.0} s; recorded times scaled by {:.2} to this machine.\nOverall verdict: **{}** ({} unit(s) rerun).\n\n",
        report.started,
        report.head_commit,
        report.device,
        report.budget_seconds,
        report.machine_factor,
        report.verdict().as_str(),
        report.units.len()
    );
    if !report.machine.is_empty() {
        out.push_str(&format!("- rerun on: {}\n", report.machine));
    }
    let machines: std::collections::BTreeSet<&str> =
        report.units.iter().map(|u| u.record_machine.as_str()).filter(|m| !m.is_empty()).collect();
    for machine in machines {
        out.push_str(&format!("- records made on: {machine}\n"));
    }
    let commits: std::collections::BTreeSet<&str> = report.units.iter().map(|u| u.record_commit.as_str()).collect();
    for commit in commits {
        let same = same_commit(commit, &report.head_commit);
        out.push_str(&format!(
            "- records from commit `{commit}`: {}\n",
            if same { "the code that reran them" } else { "not the code that reran them (HEAD differs)" }
        ));
    }
    if report.units.iter().any(|u| u.spec_changed) {
        out.push_str("- some records were made from another version of the saved spec (marked below)\n");
    }
    let columns = vec![
        Column::plain("Experiment"),
        Column::plain("Set"),
        Column::plain("Split"),
        Column::plain("Metric"),
        Column::plain("Committed"),
        Column::plain("Rerun"),
        Column::plain("Tolerance"),
        Column::plain("From"),
        Column::plain("Verdict"),
    ];
    let mut rows = Vec::new();
    for u in &report.units {
        for m in &u.metrics {
            let mut verdict = m.verdict.as_str().to_string();
            if u.committed_hyper != u.rerun_hyper {
                verdict.push_str(" (other hyper-parameters chosen)");
            }
            if !u.same_grid_grouping {
                verdict.push_str(" (grid searched in another grouping)");
            }
            if u.spec_changed {
                verdict.push_str(" (spec changed)");
            }
            rows.push(
                [
                    u.experiment.clone(),
                    u.dataset.clone(),
                    u.split.to_string(),
                    m.metric.clone(),
                    format!("{:.6}", m.committed),
                    format!("{:.6}", m.rerun),
                    format!("{:.6}", m.tolerance),
                    tolerance_source(u, m),
                    verdict,
                ]
                .map(Cell::Text)
                .to_vec(),
            );
        }
    }
    out.push('\n');
    out.push_str(&Table { title: "Per unit and metric:".into(), columns, rows }.render(TableFormat::Markdown));
    if !report.not_run.is_empty() {
        out.push_str(&format!("\nLeft for a larger budget: {}.\n", report.not_run.join(", ")));
    }
    for s in &report.skipped {
        out.push_str(&format!("\nSkipped: {s}.\n"));
    }
    out.push_str(
        "\nRule: `identical` is the same f64; `consistent` is within 2 sqrt(2) seed-to-seed deviations of the unit \
         (two standard deviations of the difference of two seeds' results), the deviation estimated by rerunning the \
         program with a second seed (From: `seed N`); where the budget had no room for that, within two standard \
         deviations of the metric across the set's other committed splits (From: `splits`, a much wider bound); \
         else `inconsistent`.\n",
    );
    out
}

/// Where a metric's tolerance came from: `-` when identical needs none.
fn tolerance_source(u: &super::rerun::UnitCheck, m: &super::rerun::MetricCheck) -> String {
    match (m.verdict, m.seed_spread, u.second_seed) {
        (super::verdict::Verdict::Identical, _, _) => "-".into(),
        (_, Some(_), Some(seed)) => format!("seed {seed}"),
        _ => "splits".into(),
    }
}

/// Whether a record's commit is the binary's (a `-dirty` build never is).
pub fn same_commit(record: &str, head: &str) -> bool {
    record == head && !head.ends_with("-dirty")
}
