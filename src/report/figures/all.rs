//! Every figure of a set of experiments, handed one by one to a sink: `mcdrop plot` saves
//! them as files, the HTML report inlines them. One place decides what is drawn.
//!
//! Per experiment: the CO2 panels (Figures 2 and 5), the rotated digit (Figure 4), the
//! reliability diagrams, the rotation-shift lines, the RL reward curves. Across the
//! experiments: the UCI panels of each metric and the combined MNIST shift and reliability
//! figures.

use super::co2::Co2Panels;
use super::mnist::{ReliabilityFigure, RotatedDigitFigure, ShiftFigure};
use super::rl::RlFigure;
use super::uci::UciFigure;
use super::Figure;
use crate::error::Result;
use crate::report::columns::TableFacts;
use crate::report::experiment::{Loaded, LoadedExperiment};
use crate::report::Metric;

/// Where a figure goes: the experiment it belongs to (None: one across experiments), its file
/// stem, and what it shows in a few words.
pub struct Placement<'a> {
    pub experiment: Option<&'a str>,
    pub stem: &'static str,
    pub title: String,
}

/// Receives each figure as it is built.
pub trait FigureSink {
    fn put(&mut self, place: Placement<'_>, figure: &impl Figure) -> Result<()>;
}

/// Hands every figure of `loaded` to `sink`, experiment by experiment, then those across them.
pub fn draw_all(loaded: &[LoadedExperiment], sink: &mut impl FigureSink) -> Result<()> {
    let mut uci = Vec::new();
    let mut shifts = Vec::new();
    let mut reliability = Vec::new();
    for experiment in loaded {
        let own = |stem: &'static str, title: &str| Placement {
            experiment: Some(experiment.name.as_str()),
            stem,
            title: format!("{}: {title}", experiment.name),
        };
        let caption = experiment.caption();
        match &experiment.data {
            Loaded::Uci(summaries) => uci.push((experiment, summaries)),
            Loaded::Rl(record) => sink.put(
                own("rl-reward", "average reward per batch of ticks, median and quartiles over seeds"),
                &RlFigure { record, caption },
            )?,
            Loaded::Co2(record) => {
                sink.put(
                    own("co2-panels", "CO2 extrapolation of every model (Figures 2 and 5)"),
                    &Co2Panels::all(record, caption.clone()),
                )?;
                sink.put(
                    own("co2-relu-vs-tanh", "MC dropout, ReLU against TanH"),
                    &Co2Panels::mc_only(record, caption),
                )?;
            }
            Loaded::Mnist { evaluation, rotated, shift, .. } => {
                if let Some(r) = rotated {
                    sink.put(
                        own("rotated-digit", "a rotated digit's softmax input and output (Figure 4)"),
                        &RotatedDigitFigure { record: r, caption: caption.clone() },
                    )?;
                }
                if let Some(s) = shift {
                    shifts.push((experiment.name.clone(), s));
                    sink.put(
                        own("rotation-shift", "accuracy and entropy on rotated test images"),
                        &ShiftFigure { studies: vec![(experiment.name.clone(), s)], caption: caption.clone() },
                    )?;
                }
                if let Some(e) = evaluation {
                    let panels = vec![
                        (
                            format!("{} standard", experiment.name),
                            e.standard.reliability.as_slice(),
                            e.standard.scores.ece,
                        ),
                        (format!("{} MC", experiment.name), e.mc.reliability.as_slice(), e.mc.scores.ece),
                    ];
                    reliability.extend(panels.iter().cloned());
                    let caption = format!(
                        "{} [profile {}]; redraw: mcdrop plot {}",
                        experiment.name,
                        experiment.spec.raw.profile.as_str(),
                        experiment.name
                    );
                    sink.put(
                        own("reliability", "reliability diagrams, standard and MC prediction"),
                        &ReliabilityFigure { panels, caption },
                    )?;
                }
            }
        }
    }
    let across = |stem: &'static str, title: &str| Placement { experiment: None, stem, title: title.to_string() };
    if !uci.is_empty() {
        let ours: Vec<(String, &[_])> = uci
            .iter()
            .map(|(e, s)| (format!("{} ({})", s.first().map_or("model", |x| x.model.label()), e.name), s.as_slice()))
            .collect();
        let names: Vec<&str> = uci.iter().map(|(e, _)| e.name.as_str()).collect();
        let caption =
            format!("ours: mean ± std. error over splits from {}; grey hollow: the paper's Table 1", names.join(", "));
        for (metric, stem, title) in [
            (Metric::Rmse, "uci-rmse", "UCI regression: test RMSE per set, ours beside the paper's Table 1"),
            (Metric::Ll, "uci-ll", "UCI regression: test log-likelihood per set, ours beside the paper's Table 1"),
        ] {
            let figure = UciFigure { ours: ours.clone(), metric, caption: caption.clone() };
            sink.put(across(stem, title), &figure)?;
        }
    }
    if shifts.len() > 1 {
        let names: Vec<&str> = shifts.iter().map(|(n, _)| n.as_str()).collect();
        let caption = format!("solid: MC prediction; dashed: standard; experiments {}", names.join(", "));
        sink.put(
            across("mnist-rotation-shift", "MNIST: accuracy and entropy on rotated test images, every model"),
            &ShiftFigure { studies: shifts.iter().map(|(n, s)| (n.clone(), *s)).collect(), caption },
        )?;
        let mut bins: Vec<String> = reliability.iter().map(|(_, b, _)| b.len().to_string()).collect();
        bins.dedup();
        let caption = format!(
            "MNIST test set reliability: accuracy per confidence bin ({} bins); grey: perfect calibration",
            bins.join("/")
        );
        sink.put(
            across("mnist-reliability", "MNIST: reliability of every model"),
            &ReliabilityFigure { panels: reliability, caption },
        )?;
    }
    Ok(())
}
