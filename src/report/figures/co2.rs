//! The CO2 extrapolation panels (paper Figures 2 and 5): per model, the observed weeks, the
//! cutoff as a dashed vertical line, the predictive mean, and shaded bands at +-1 and +-2
//! predictive standard deviations. Every panel shares the axes.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{font, padded_range, text, DrawResult, Figure, PALETTE};
use crate::results::outcome::{Co2Model, Co2Record};

pub struct Co2Panels<'a> {
    pub record: &'a Co2Record,
    /// Indices into `record.models`, one panel each.
    pub models: Vec<usize>,
    /// Shown under the panels (profile, schedule).
    pub caption: String,
}

impl<'a> Co2Panels<'a> {
    /// Every model, in record order (Figure 2).
    pub fn all(record: &'a Co2Record, caption: String) -> Self {
        Self { record, models: (0..record.models.len()).collect(), caption }
    }

    /// The MC dropout models only (Figure 5: ReLU vs TanH).
    pub fn mc_only(record: &'a Co2Record, caption: String) -> Self {
        let models = record.models.iter().enumerate().filter(|(_, m)| m.name.is_mc_dropout()).map(|(i, _)| i).collect();
        Self { record, models, caption }
    }

    fn y_range(&self) -> (f64, f64) {
        let observed = padded_range(self.record.observed_ppm.iter().copied(), 0.05);
        let span = observed.1 - observed.0;
        // Bands may explode far from the data; keep the axes where the data can be read.
        let (lo_cap, hi_cap) = (observed.0 - 0.75 * span, observed.1 + 0.75 * span);
        let values = self.models.iter().flat_map(|&i| {
            let m = &self.record.models[i];
            m.grid_mean.iter().zip(&m.grid_std).flat_map(|(mu, s)| [mu - 2.0 * s, mu + 2.0 * s]).collect::<Vec<_>>()
        });
        let (lo, hi) = padded_range(values.chain(self.record.observed_ppm.iter().copied()), 0.02);
        (lo.max(lo_cap), hi.min(hi_cap))
    }
}

impl Figure for Co2Panels<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.models.len() as u32;
        let cols = n.min(2);
        let rows = n.div_ceil(2);
        (560 * cols, 380 * rows + 40)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (panels, footer) = root.split_vertically(self.size().1 - 40);
        footer.draw(&Text::new(self.caption.clone(), (10, 10), font(15))).map_err(text)?;
        let n = self.models.len();
        let areas = panels.split_evenly((n.div_ceil(2), n.min(2)));
        let x_range = (self.record.observed_years[0], *self.record.grid_years.last().unwrap_or(&2010.0));
        let y_range = self.y_range();
        for (area, (panel, &model)) in areas.iter().zip(self.models.iter().enumerate()) {
            let colour = PALETTE[panel % PALETTE.len()];
            draw_panel(area, self.record, &self.record.models[model], x_range, y_range, colour)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    record: &Co2Record,
    model: &Co2Model,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    colour: RGBColor,
) -> DrawResult {
    let title = match (model.heldout_ll, model.heldout_coverage95) {
        (Some(ll), Some(c)) => format!(
            "{} - held-out RMSE {:.1}, LL {:.2}, 95% cov. {:.0}%",
            model.name,
            model.heldout_rmse,
            ll,
            100.0 * c
        ),
        _ => format!("{} - held-out RMSE {:.1} (no uncertainty)", model.name, model.heldout_rmse),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, font(15))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(text)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("year")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("CO2 (ppmv)")
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()
        .map_err(text)?;
    let clamp = |v: f64| v.clamp(y0, y1);
    for (k, alpha) in [(2.0, 0.15), (1.0, 0.3)] {
        let upper = record
            .grid_years
            .iter()
            .zip(&model.grid_mean)
            .zip(&model.grid_std)
            .map(|((x, m), s)| (*x, clamp(m + k * s)));
        let lower = record
            .grid_years
            .iter()
            .zip(&model.grid_mean)
            .zip(&model.grid_std)
            .rev()
            .map(|((x, m), s)| (*x, clamp(m - k * s)));
        let polygon: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(polygon, colour.mix(alpha).filled()))).map_err(text)?;
    }
    let observed = record.observed_years.iter().zip(&record.observed_ppm).enumerate();
    chart
        .draw_series(observed.map(|(i, (x, y))| {
            let c = if i < record.n_train { BLACK.mix(0.8) } else { RGBColor(120, 120, 120).mix(0.8) };
            Circle::new((*x, *y), 1, c.filled())
        }))
        .map_err(text)?;
    let mean = record.grid_years.iter().zip(&model.grid_mean).map(|(x, m)| (*x, clamp(*m)));
    chart.draw_series(LineSeries::new(mean, colour.stroke_width(2))).map_err(text)?;
    // The cutoff, dashed.
    let dash = (y1 - y0) / 40.0;
    let mut y = y0;
    let mut segments = Vec::new();
    while y < y1 {
        segments.push(PathElement::new(
            vec![(record.cutoff, y), (record.cutoff, (y + dash).min(y1))],
            BLACK.stroke_width(1),
        ));
        y += 2.0 * dash;
    }
    chart.draw_series(segments).map_err(text)?;
    Ok(())
}
