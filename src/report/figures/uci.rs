//! UCI: one panel per data set, our methods' mean with std-error bars (filled) beside the
//! paper's Table 1 columns (hollow marks with their error bars).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{font, padded_range, text, DrawResult, Figure, PALETTE};
use crate::data::uci::UciSet;
use crate::report::compare::Metric;
use crate::report::published::{paper, Stat};
use crate::report::table::SetSummary;

pub struct UciFigure<'a> {
    /// (method label, per-set summaries) per experiment.
    pub ours: Vec<(String, &'a [SetSummary])>,
    pub metric: Metric,
    pub caption: String,
}

impl UciFigure<'_> {
    fn sets(&self) -> Vec<UciSet> {
        UciSet::ALL.into_iter().filter(|s| self.ours.iter().any(|(_, sums)| sums.iter().any(|x| x.dataset == s.folder()))).collect()
    }

    /// Every mark of a set: (label, stat, ours?).
    fn marks(&self, set: UciSet) -> Vec<(String, Stat, bool)> {
        let mut marks = Vec::new();
        for (label, sums) in &self.ours {
            if let Some(s) = sums.iter().find(|s| s.dataset == set.folder()) {
                marks.push((label.clone(), if self.metric == Metric::Rmse { s.rmse } else { s.ll }, true));
            }
        }
        if let Some(p) = paper(set) {
            let cols = if self.metric == Metric::Rmse {
                [("paper VI", p.vi_rmse), ("paper PBP", p.pbp_rmse), ("paper Dropout", p.dropout_rmse)]
            } else {
                [("paper VI", p.vi_ll), ("paper PBP", p.pbp_ll), ("paper Dropout", p.dropout_ll)]
            };
            marks.extend(cols.into_iter().map(|(l, s)| (l.to_string(), s, false)));
        }
        marks
    }
}

impl Figure for UciFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.sets().len().max(1) as u32;
        (1200, 300 * n.div_ceil(3) + 70)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (body, footer) = root.split_vertically(self.size().1 - 70);
        let sets = self.sets();
        let areas = body.split_evenly((sets.len().max(1).div_ceil(3), 3));
        let what = if self.metric == Metric::Rmse { "RMSE (lower is better)" } else { "test log-likelihood (higher is better)" };
        for (area, &set) in areas.iter().zip(&sets) {
            let marks = self.marks(set);
            let y = padded_range(marks.iter().flat_map(|(_, (m, se), _)| [m - se, m + se]), 0.15);
            let mut chart = ChartBuilder::on(area)
                .caption(set.display_name(), font(15))
                .margin(8)
                .x_label_area_size(10)
                .y_label_area_size(52)
                .build_cartesian_2d(-0.5..(marks.len() as f64 - 0.5), y.0..y.1)
                .map_err(text)?;
            chart.configure_mesh().disable_x_mesh().disable_x_axis().y_labels(5).label_style(font(11)).draw().map_err(text)?;
            for (i, (_, (m, se), ours)) in marks.iter().enumerate() {
                let colour = if *ours { PALETTE[i % PALETTE.len()] } else { RGBColor(90, 90, 90) };
                let x = i as f64;
                chart.draw_series(std::iter::once(PathElement::new(vec![(x, m - se), (x, m + se)], colour.stroke_width(2)))).map_err(text)?;
                let mark = if *ours { Circle::new((x, *m), 5, colour.filled()) } else { Circle::new((x, *m), 5, colour.stroke_width(2)) };
                chart.draw_series(std::iter::once(mark)).map_err(text)?;
            }
        }
        // Legend: the order of marks in every panel.
        let labels: Vec<String> = sets.first().map(|&s| self.marks(s).into_iter().map(|(l, _, _)| l).collect()).unwrap_or_default();
        let legend = labels.iter().enumerate().map(|(i, l)| format!("{}: {l}", i + 1)).collect::<Vec<_>>().join("   ");
        footer.draw(&Text::new(format!("{what}; marks left to right = {legend}"), (10, 8), font(14))).map_err(text)?;
        footer.draw(&Text::new(self.caption.clone(), (10, 36), font(13))).map_err(text)?;
        Ok(())
    }
}
