//! Progress of long programs: a bar with ETA on a terminal; without one, a hidden bar whose
//! position goes to the log every few minutes. Trainers see it as `models::Progress`.

use crate::models::Progress;

/// How often a run without a terminal logs how far its current program has got.
const PROGRESS_LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// Logs `bar`'s progress every `interval` until it is finished or dropped.
fn log_progress(bar: &indicatif::ProgressBar, label: &str, interval: std::time::Duration) {
    let weak = bar.downgrade();
    let label = label.to_string();
    std::thread::spawn(move || loop {
        std::thread::sleep(interval);
        match weak.upgrade() {
            Some(bar) if !bar.is_finished() => tracing::info!("{}", progress_line(&label, &bar)),
            _ => return,
        }
    });
}

/// `power-plant grid 10x12: 81000/216000 steps (37 %), 9m elapsed, about 15m left`; once the
/// steps are done, what the bar's message says the program does now (MC evaluation).
fn progress_line(label: &str, bar: &indicatif::ProgressBar) -> String {
    let (done, total) = (bar.position(), bar.length().unwrap_or(0));
    let shown = whole_minutes;
    let elapsed = bar.elapsed();
    if done == 0 || done >= total {
        let now = bar.message();
        let now = if now == label { String::new() } else { format!(", now {now}") };
        return format!("{label}: {done}/{total} steps{now}, {} elapsed", shown(elapsed));
    }
    let left = elapsed.mul_f64((total - done) as f64 / done as f64);
    format!(
        "{label}: {done}/{total} steps ({} %), {} elapsed, about {} left",
        done * 100 / total,
        shown(elapsed),
        shown(left)
    )
}

/// `1h 5m`, `12s`: whole minutes past the first one, for a person checking on a long run.
pub fn whole_minutes(d: std::time::Duration) -> String {
    let seconds = if d.as_secs() < 60 { d.as_secs() } else { d.as_secs() / 60 * 60 };
    humantime::format_duration(std::time::Duration::from_secs(seconds)).to_string()
}

/// `whole_minutes` of an estimate in seconds.
pub fn whole_minutes_of(seconds: f64) -> String {
    whole_minutes(std::time::Duration::from_secs(seconds.round() as u64))
}

/// A progress bar of `steps`. Without a terminal it is hidden, and its position goes to
/// the log (and run.log) every few minutes instead: a background run otherwise says
/// nothing for the hour a large program can take.
pub fn bar(steps: u64, label: &str, visible: bool) -> indicatif::ProgressBar {
    if !visible {
        let bar = indicatif::ProgressBar::with_draw_target(Some(steps), indicatif::ProgressDrawTarget::hidden());
        bar.set_message(label.to_string());
        log_progress(&bar, label, PROGRESS_LOG_INTERVAL);
        return bar;
    }
    let bar = indicatif::ProgressBar::new(steps);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:30} [{bar:30}] {pos}/{len} steps, {elapsed} elapsed, ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

/// A bar over `units` whole units of work (e.g. reruns) with ETA, hidden without a terminal.
pub fn units_bar(units: u64, visible: bool) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(units);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:40} [{bar:30}] {pos}/{len} units, {elapsed} elapsed, ETA {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

impl Progress for indicatif::ProgressBar {
    fn advance(&self, steps: u64) {
        self.inc(steps);
    }

    fn phase(&self, what: &str) {
        self.set_message(what.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_say_how_far_and_what_now() {
        let bar = indicatif::ProgressBar::with_draw_target(Some(200), indicatif::ProgressDrawTarget::hidden());
        bar.set_message("power-plant grid 10x12");
        assert_eq!(progress_line("power-plant grid 10x12", &bar), "power-plant grid 10x12: 0/200 steps, 0s elapsed");
        bar.inc(50);
        let line = progress_line("power-plant grid 10x12", &bar);
        assert!(line.starts_with("power-plant grid 10x12: 50/200 steps (25 %), 0s elapsed, about "), "{line}");
        bar.inc(150);
        bar.set_message("MC evaluation, T=10000");
        assert_eq!(
            progress_line("power-plant grid 10x12", &bar),
            "power-plant grid 10x12: 200/200 steps, now MC evaluation, T=10000, 0s elapsed"
        );
    }
}
