//! `mcdrop plot EXPERIMENT...`: redraw every figure from the records, without training.
//!
//! Per experiment into `results/<experiment>/figures/`: CO2 panels (Figures 2 and 5), the
//! rotated digit (Figure 4), reliability diagrams, the rotation-shift lines. Across the
//! experiments given, into `--output` (default `results/figures/`): the UCI panels of each
//! metric and the combined MNIST shift and reliability figures.

use std::path::PathBuf;

use crate::cli::{Cli, PlotArgs};
use crate::error::Error;
use crate::report::experiment::{load_experiment, Loaded};
use crate::report::figures::co2::Co2Panels;
use crate::report::figures::mnist::{ReliabilityFigure, RotatedDigitFigure, ShiftFigure};
use crate::report::figures::rl::RlFigure;
use crate::report::figures::save;
use crate::report::figures::uci::UciFigure;
use crate::report::Metric;

pub fn plot(cli: &Cli, args: &PlotArgs) -> anyhow::Result<()> {
    let loaded =
        args.experiments.iter().map(|e| load_experiment(&cli.results_dir, e)).collect::<Result<Vec<_>, _>>()?;
    let output = args.output.clone().unwrap_or_else(|| cli.results_dir.join("figures"));
    let mut written: Vec<PathBuf> = Vec::new();
    let mut uci = Vec::new();
    let mut shifts = Vec::new();
    let mut reliability = Vec::new();
    for experiment in &loaded {
        let dir = cli.results_dir.join(&experiment.name).join("figures");
        let caption = experiment.caption();
        match &experiment.data {
            Loaded::Uci(summaries) => uci.push((experiment, summaries)),
            Loaded::Rl(record) => {
                written.extend(save(&RlFigure { record, caption }, &dir.join("rl-reward"))?);
            }
            Loaded::Co2(record) => {
                written.extend(save(&Co2Panels::all(record, caption.clone()), &dir.join("co2-panels"))?);
                written.extend(save(&Co2Panels::mc_only(record, caption), &dir.join("co2-relu-vs-tanh"))?);
            }
            Loaded::Mnist { evaluation, rotated, shift, .. } => {
                if let Some(r) = rotated {
                    written.extend(save(
                        &RotatedDigitFigure { record: r, caption: caption.clone() },
                        &dir.join("rotated-digit"),
                    )?);
                }
                if let Some(s) = shift {
                    shifts.push((experiment.name.clone(), s));
                    written.extend(save(
                        &ShiftFigure { studies: vec![(experiment.name.clone(), s)], caption: caption.clone() },
                        &dir.join("rotation-shift"),
                    )?);
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
                    written.extend(save(&ReliabilityFigure { panels, caption }, &dir.join("reliability"))?);
                }
            }
        }
    }
    if !uci.is_empty() {
        let ours: Vec<(String, &[_])> = uci
            .iter()
            .map(|(e, s)| (format!("{} ({})", s.first().map_or("model", |x| x.model.label()), e.name), s.as_slice()))
            .collect();
        let caption = format!(
            "ours: mean ± std. error over splits from {}; grey hollow: the paper's Table 1",
            names(&uci.iter().map(|(e, _)| e.name.as_str()).collect::<Vec<_>>())
        );
        for (metric, stem) in [(Metric::Rmse, "uci-rmse"), (Metric::Ll, "uci-ll")] {
            let figure = UciFigure { ours: ours.clone(), metric, caption: caption.clone() };
            written.extend(save(&figure, &output.join(stem))?);
        }
    }
    if shifts.len() > 1 {
        let caption = format!(
            "solid: MC prediction; dashed: standard; experiments {}",
            names(&shifts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
        );
        written.extend(save(
            &ShiftFigure { studies: shifts.iter().map(|(n, s)| (n.clone(), *s)).collect(), caption },
            &output.join("mnist-rotation-shift"),
        )?);
        let mut bins: Vec<String> = reliability.iter().map(|(_, b, _)| b.len().to_string()).collect();
        bins.dedup();
        let caption = format!(
            "MNIST test set reliability: accuracy per confidence bin ({} bins); grey: perfect calibration",
            bins.join("/")
        );
        written.extend(save(&ReliabilityFigure { panels: reliability, caption }, &output.join("mnist-reliability"))?);
    }
    for path in &written {
        println!("{}", path.display());
    }
    if written.is_empty() {
        return Err(Error::Usage("nothing to draw: the experiments have no records yet (run them first)".into()).into());
    }
    Ok(())
}

fn names(list: &[&str]) -> String {
    list.join(", ")
}
