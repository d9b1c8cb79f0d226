//! MNIST figures: the rotated digit (paper Figure 4), accuracy and entropy of the rotated test
//! set (dataset shift), and reliability diagrams.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{font, padded_range, text, DrawResult, Figure, PALETTE};
use crate::data::mnist::SIDE;
use crate::metrics::ReliabilityBin;
use crate::results::outcome::{RotatedDigitRecord, ShiftStudy};

/// Figure 4: scatter of the softmax input (top) and output (bottom) of the chosen classes
/// over every stochastic pass, per rotation, with the rotated digits along the x axis.
pub struct RotatedDigitFigure<'a> {
    pub record: &'a RotatedDigitRecord,
    pub caption: String,
}

const STRIP: u32 = 64;
const PIXEL: i32 = 2;

impl Figure for RotatedDigitFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 2 * (330 + STRIP) + 40)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (body, footer) = root.split_vertically(self.size().1 - 40);
        footer.draw(&Text::new(self.caption.clone(), (10, 10), font(15))).map_err(text)?;
        let (top, bottom) = body.split_vertically(330 + STRIP);
        let r = self.record;
        self.panel(&top, "softmax input (logits)", &r.softmax_input)?;
        self.panel(&bottom, "softmax output (probabilities)", &r.softmax_output)?;
        Ok(())
    }
}

impl RotatedDigitFigure<'_> {
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        what: &str,
        values: &[Vec<Vec<f32>>],
    ) -> DrawResult {
        let r = self.record;
        let (plot, strip) = area.split_vertically(330);
        let n = r.angles.len();
        let y = padded_range(values.iter().flatten().flatten().map(|&v| v as f64), 0.05);
        let title = format!(
            "{what}, {} passes per image, test image {} (label {})",
            values.first().map_or(0, |v| v.len()),
            r.image_index,
            r.label
        );
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, font(16))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(50)
            .build_cartesian_2d(-1.9..(n as f64 - 0.5), y.0..y.1) // room on the left for the legend
            .map_err(text)?;
        let angles = r.angles.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < angles.len() {
                    format!("{:.1}°", angles[i as usize])
                } else {
                    String::new()
                }
            })
            .label_style(font(12))
            .draw()
            .map_err(text)?;
        for (c, class) in r.classes.iter().enumerate() {
            let colour = PALETTE[c % PALETTE.len()];
            let points =
                values.iter().enumerate().flat_map(|(a, passes)| passes.iter().map(move |p| (a as f64, p[c] as f64)));
            chart
                .draw_series(points.map(|p| Circle::new(p, 2, colour.mix(0.35).filled())))
                .map_err(text)?
                .label(format!("class {class}"))
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(font(13))
            .draw()
            .map_err(text)?;
        // The rotated digits, each centred under its tick.
        let base = strip.get_base_pixel();
        for (a, image) in r.images.iter().enumerate() {
            let (cx, _) = chart.backend_coord(&(a as f64, y.0));
            let left = cx - base.0 - PIXEL * SIDE as i32 / 2;
            let mut pixels = Vec::new();
            for (i, &v) in image.iter().enumerate() {
                if v > 0.02 {
                    let (row, col) = ((i / SIDE) as i32, (i % SIDE) as i32);
                    let grey = (255.0 * (1.0 - v.clamp(0.0, 1.0))) as u8;
                    let x = left + col * PIXEL;
                    let y = 4 + row * PIXEL;
                    pixels.push(Rectangle::new([(x, y), (x + PIXEL, y + PIXEL)], RGBColor(grey, grey, grey).filled()));
                }
            }
            strip
                .draw(&Rectangle::new(
                    [(left - 1, 3), (left + PIXEL * SIDE as i32, 4 + PIXEL * SIDE as i32)],
                    BLACK.mix(0.3),
                ))
                .map_err(text)?;
            for p in pixels {
                strip.draw(&p).map_err(text)?;
            }
        }
        Ok(())
    }
}

/// Accuracy and mean predictive entropy of the rotated test set against the angle.
pub struct ShiftFigure<'a> {
    /// (label, study): each study gives a standard and an MC line.
    pub studies: Vec<(String, &'a ShiftStudy)>,
    pub caption: String,
}

impl Figure for ShiftFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 460)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (body, footer) = root.split_vertically(420);
        footer.draw(&Text::new(self.caption.clone(), (10, 10), font(15))).map_err(text)?;
        let halves = body.split_evenly((1, 2));
        let max_angle = self.studies.iter().flat_map(|(_, s)| s.angles.iter().map(|a| a.degrees)).fold(0.0, f64::max);
        type Pick = fn(&crate::metrics::ClassificationScores) -> f64;
        let panels: [(&str, Pick, (f64, f64)); 2] = [
            ("test accuracy", |s| s.accuracy, (0.0, 1.0)),
            ("mean predictive entropy (nats)", |s| s.entropy, (0.0, (10f64).ln())),
        ];
        for (area, (name, pick, range)) in halves.iter().zip(panels) {
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{name} vs rotation"), font(16))
                .margin(10)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(0.0..max_angle.max(1.0), range.0..range.1 * 1.02)
                .map_err(text)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE.mix(0.0))
                .x_desc("rotation (degrees)")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .label_style(font(12))
                .axis_desc_style(font(13))
                .draw()
                .map_err(text)?;
            for (i, (label, study)) in self.studies.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                for (method, dashed) in [("MC", false), ("standard", true)] {
                    let points: Vec<(f64, f64)> = study
                        .angles
                        .iter()
                        .map(|a| (a.degrees, pick(if dashed { &a.standard } else { &a.mc })))
                        .collect();
                    let style = if dashed { colour.mix(0.6).stroke_width(1) } else { colour.stroke_width(2) };
                    chart
                        .draw_series(LineSeries::new(points.clone(), style).point_size(if dashed { 2 } else { 3 }))
                        .map_err(text)?
                        .label(format!("{label} {method}"))
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                }
            }
            chart
                .configure_series_labels()
                // Both panels leave the upper right free: accuracy falls from 1 as the digits
                // turn, and the entropy axis runs to ln 10, above every curve.
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(font(12))
                .draw()
                .map_err(text)?;
        }
        Ok(())
    }
}

/// Reliability diagrams: per method, accuracy per confidence bin against the diagonal.
pub struct ReliabilityFigure<'a> {
    /// (label, bins, ECE)
    pub panels: Vec<(String, &'a [ReliabilityBin], f64)>,
    pub caption: String,
}

impl Figure for ReliabilityFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (340 * self.panels.len().max(1) as u32, 380)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let (body, footer) = root.split_vertically(345);
        footer.draw(&Text::new(self.caption.clone(), (10, 8), font(13))).map_err(text)?;
        let areas = body.split_evenly((1, self.panels.len().max(1)));
        for (i, (area, (label, bins, ece))) in areas.iter().zip(&self.panels).enumerate() {
            let colour = PALETTE[i / 2 % PALETTE.len()];
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{label} (ECE {:.2}%)", 100.0 * ece), font(14))
                .margin(8)
                .x_label_area_size(30)
                .y_label_area_size(40)
                .build_cartesian_2d(0.0..1.0, 0.0..1.0)
                .map_err(text)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("confidence")
                .y_desc("accuracy")
                .label_style(font(11))
                .axis_desc_style(font(12))
                .draw()
                .map_err(text)?;
            chart
                .draw_series(
                    bins.iter()
                        .filter(|b| b.count > 0)
                        .map(|b| Rectangle::new([(b.lower, 0.0), (b.upper, b.accuracy)], colour.mix(0.6).filled())),
                )
                .map_err(text)?;
            chart
                .draw_series(
                    bins.iter()
                        .filter(|b| b.count > 0)
                        .map(|b| Rectangle::new([(b.lower, 0.0), (b.upper, b.accuracy)], BLACK.stroke_width(1))),
                )
                .map_err(text)?;
            chart
                .draw_series(LineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], RGBColor(120, 120, 120).stroke_width(1)))
                .map_err(text)?;
        }
        Ok(())
    }
}
