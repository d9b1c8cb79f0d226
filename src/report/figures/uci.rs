//! UCI: one panel per data set, our methods' mean with std-error bars (filled) beside the
//! paper's Table 1 columns (hollow marks with their error bars).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{font, padded_range, text, DrawResult, Figure, TickedAxis, PALETTE};
use crate::data::SetName;
use crate::report::aggregate::SetSummary;
use crate::report::format::Metric;
use crate::report::published::{paper, Stat};

pub struct UciFigure<'a> {
    /// (method label, per-set summaries) per experiment.
    pub ours: Vec<(String, &'a [SetSummary])>,
    pub metric: Metric,
    pub caption: String,
}

impl UciFigure<'_> {
    /// The sets with records: the UCI sets in the paper's order, then tables by name.
    fn sets(&self) -> Vec<SetName> {
        let mut sets: Vec<SetName> =
            self.ours.iter().flat_map(|(_, sums)| sums.iter().map(|s| SetName::named(&s.dataset))).collect();
        sets.sort_by_key(|s| (s.uci_set().map_or(usize::MAX, |u| u as usize), s.folder().to_string()));
        sets.dedup();
        sets
    }

    /// Every slot of a panel, the same in every panel: (label, stat if known, ours?).
    fn marks(&self, set: &SetName) -> Vec<(String, Option<Stat>, bool)> {
        let mut marks = Vec::new();
        for (label, sums) in &self.ours {
            let stat = sums.iter().find(|s| s.dataset == set.folder()).map(|s| {
                if self.metric == Metric::Rmse {
                    s.rmse
                } else {
                    s.ll
                }
            });
            marks.push((label.clone(), stat, true));
        }
        let p = set.uci_set().and_then(paper);
        let cols: [(&str, Option<Stat>); 3] = if self.metric == Metric::Rmse {
            [
                ("paper VI", p.map(|p| p.vi_rmse)),
                ("paper PBP", p.map(|p| p.pbp_rmse)),
                ("paper Dropout", p.map(|p| p.dropout_rmse)),
            ]
        } else {
            [
                ("paper VI", p.map(|p| p.vi_ll)),
                ("paper PBP", p.map(|p| p.pbp_ll)),
                ("paper Dropout", p.map(|p| p.dropout_ll)),
            ]
        };
        marks.extend(cols.into_iter().map(|(l, s)| (l.to_string(), s, false)));
        marks
    }
}

impl Figure for UciFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.sets().len().max(1) as u32;
        (1200, 300 * n.div_ceil(3) + 90)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (body, footer) = root.split_vertically(self.size().1 - 90);
        let sets = self.sets();
        let areas = body.split_evenly((sets.len().max(1).div_ceil(3), 3));
        let what = if self.metric == Metric::Rmse {
            "RMSE (lower is better)"
        } else {
            "test log-likelihood (higher is better)"
        };
        for (area, set) in areas.iter().zip(&sets) {
            let marks = self.marks(set);
            let y = TickedAxis::round(
                padded_range(marks.iter().filter_map(|(_, s, _)| *s).flat_map(|(m, se)| [m - se, m + se]), 0.1),
                4,
            );
            let mut chart = ChartBuilder::on(area)
                .caption(set.display_name(), font(15))
                .margin(8)
                .x_label_area_size(22)
                .y_label_area_size(52)
                .build_cartesian_2d(-0.5..(marks.len() as f64 - 0.5), y)
                .map_err(text)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(marks.len())
                .x_label_formatter(&|x| {
                    if (x - x.round()).abs() < 1e-6 && *x >= 0.0 {
                        format!("{}", x.round() as usize + 1)
                    } else {
                        String::new()
                    }
                })
                .label_style(font(11))
                .draw()
                .map_err(text)?;
            for (i, (_, stat, ours)) in marks.iter().enumerate() {
                let Some((m, se)) = stat else { continue };
                let colour = if *ours { PALETTE[i % PALETTE.len()] } else { RGBColor(90, 90, 90) };
                let x = i as f64;
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, m - se), (x, m + se)],
                        colour.stroke_width(2),
                    )))
                    .map_err(text)?;
                let mark = if *ours {
                    Circle::new((x, *m), 5, colour.filled())
                } else {
                    Circle::new((x, *m), 5, colour.stroke_width(2))
                };
                chart.draw_series(std::iter::once(mark)).map_err(text)?;
            }
        }
        // Legend: the order of marks in every panel.
        let labels: Vec<String> =
            sets.first().map(|s| self.marks(s).into_iter().map(|(l, _, _)| l).collect()).unwrap_or_default();
        let numbered: Vec<String> = labels.iter().enumerate().map(|(i, l)| format!("{}: {l}", i + 1)).collect();
        // Two lines of marks, so a table of many experiments stays inside the figure.
        let (first, second) = numbered.split_at(numbered.len().div_ceil(2));
        footer
            .draw(&Text::new(format!("{what}; marks left to right = {}", first.join("   ")), (10, 8), font(14)))
            .map_err(text)?;
        footer.draw(&Text::new(second.join("   "), (10, 32), font(14))).map_err(text)?;
        footer.draw(&Text::new(self.caption.clone(), (10, 60), font(13))).map_err(text)?;
        Ok(())
    }
}
