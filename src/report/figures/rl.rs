//! The paper's section 5.4 figure: average reward against batches on a log x axis, both
//! policies, the median over seeds with a band from the first to the third quartile. Burn-in
//! is not drawn, as in the paper; the reward threshold is a dashed line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{font, padded_range, text, DrawResult, Figure, PALETTE};
use crate::report::rl::{quantile, runs_of};
use crate::results::outcome::RlRecord;

pub struct RlFigure<'a> {
    pub record: &'a RlRecord,
    pub caption: String,
}

/// One policy's curve: (batch, first quartile, median, third quartile) per drawn point.
fn bands(record: &RlRecord, policy: &str) -> Vec<(f64, f64, f64, f64)> {
    let runs = runs_of(record, policy);
    let Some(first) = runs.first() else { return Vec::new() };
    let burnin = first.burnin_points();
    let points = runs.iter().map(|r| r.curve.len()).min().unwrap_or(0);
    (burnin..points)
        .map(|i| {
            let at: Vec<f64> = runs.iter().map(|r| r.curve[i]).collect();
            ((i + 1) as f64, quantile(&at, 0.25), quantile(&at, 0.5), quantile(&at, 0.75))
        })
        .collect()
}

impl Figure for RlFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (area, footer) = root.split_vertically(self.size().1 - 40);
        footer.draw(&Text::new(self.caption.clone(), (10, 10), font(14))).map_err(text)?;
        let policies = [("thompson", "Thompson sampling (dropout)"), ("epsilon_greedy", "epsilon-greedy")];
        let curves: Vec<_> = policies.iter().map(|(p, label)| (*label, bands(self.record, p))).collect();
        let all = curves.iter().flat_map(|(_, c)| c.iter().flat_map(|&(_, a, _, b)| [a, b]));
        let threshold = self.record.runs.first().map_or(1.0, |r| r.reward_threshold);
        let (y0, y1) = padded_range(all.chain([threshold]), 0.05);
        let x0 = curves.iter().filter_map(|(_, c)| c.first().map(|p| p.0)).fold(f64::INFINITY, f64::min);
        let x1 = curves.iter().filter_map(|(_, c)| c.last().map(|p| p.0)).fold(0.0, f64::max);
        let (x0, x1) = if x0.is_finite() && x1 > x0 { (x0, x1) } else { (1.0, 10.0) };
        let mut chart = ChartBuilder::on(&area)
            .caption("Average reward (last 1,000 ticks) over seeds: median and quartiles", font(17))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
            .map_err(text)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("batches (log scale)")
            .y_desc("average reward")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.2}"))
            .label_style(font(13))
            .axis_desc_style(font(14))
            .draw()
            .map_err(text)?;
        let dash: Vec<_> = (0..60)
            .filter(|i| i % 2 == 0)
            .map(|i| {
                let at = |k: f64| x0 * (x1 / x0).powf(k / 60.0);
                PathElement::new(vec![(at(i as f64), threshold), (at(i as f64 + 1.0), threshold)], BLACK.mix(0.5))
            })
            .collect();
        chart.draw_series(dash).map_err(text)?;
        for (k, (label, curve)) in curves.iter().enumerate() {
            if curve.is_empty() {
                continue;
            }
            let colour = PALETTE[k];
            let band: Vec<(f64, f64)> =
                curve.iter().map(|p| (p.0, p.3)).chain(curve.iter().rev().map(|p| (p.0, p.1))).collect();
            chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.2).filled()))).map_err(text)?;
            chart
                .draw_series(LineSeries::new(curve.iter().map(|p| (p.0, p.2)), colour.stroke_width(2)))
                .map_err(text)?
                .label(*label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(font(14))
            .draw()
            .map_err(text)?;
        Ok(())
    }
}
