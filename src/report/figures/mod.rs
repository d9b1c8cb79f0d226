//! Figures drawn with plotters from records, each saved as PNG and SVG.
//!
//! Text is rendered with the DejaVu Sans font bundled in `assets/fonts/` (registered once, at
//! the first figure) through plotters' `ab_glyph` feature, so a bare machine with no system
//! fonts draws the same figures. Files are written to a temporary name and renamed.

pub mod all;
pub mod co2;
pub mod mnist;
pub mod rl;
pub mod uci;

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::results::atomic::write_atomic_via;

/// DejaVu Sans (Bitstream Vera licence, see assets/fonts/LICENSE-DejaVu.txt).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
pub const FONT_FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Only fails on a corrupt font file, which include_bytes! fixed at build time.
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("bundled font is not a valid TTF"));
    });
}

/// The drawing error of any backend, flattened to text.
pub type DrawResult = std::result::Result<(), String>;

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Turns a plotters error into the text `DrawResult` carries.
pub fn text<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Draws `figure` into `<stem>.png` and `<stem>.svg`; returns both paths.
pub fn save(figure: &impl Figure, stem: &Path) -> Result<Vec<PathBuf>> {
    register_font();
    let parent = stem.parent().unwrap_or(Path::new("."));
    let name = stem.file_name().and_then(|n| n.to_str()).unwrap_or("figure");
    let mut written = Vec::new();
    for ext in ["png", "svg"] {
        let path = parent.join(format!("{name}.{ext}"));
        write_atomic_via(&path, |tmp| {
            let drawn = if ext == "png" {
                let root = BitMapBackend::new(tmp, figure.size()).into_drawing_area();
                figure.draw(&root).and_then(|_| root.present().map_err(text))
            } else {
                let root = SVGBackend::new(tmp, figure.size()).into_drawing_area();
                figure.draw(&root).and_then(|_| root.present().map_err(text))
            };
            drawn.map_err(|message| Error::Drawing { path: path.clone(), message })
        })?;
        written.push(path);
    }
    Ok(written)
}

/// `figure` drawn as an SVG document in memory (the HTML report inlines it).
pub fn svg(figure: &impl Figure) -> Result<String> {
    register_font();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, figure.size()).into_drawing_area();
        figure
            .draw(&root)
            .and_then(|_| root.present().map_err(text))
            .map_err(|message| Error::Drawing { path: PathBuf::from("(in memory, for the report)"), message })?;
    }
    Ok(out)
}

/// `figure` drawn as a PNG in memory (for figures of so many marks that their SVG is large).
pub fn png(figure: &impl Figure) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    register_font();
    let (width, height) = figure.size();
    let failed = |message: String| Error::Drawing { path: PathBuf::from("(in memory, for the report)"), message };
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        figure.draw(&root).and_then(|_| root.present().map_err(text)).map_err(failed)?;
    }
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&rgb, width, height, image::ColorType::Rgb8)
        .map_err(|e| failed(e.to_string()))?;
    Ok(out)
}

/// Colours used for the same model across figures.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// (min, max) of finite values, padded by `pad` of the span (or 1 when flat).
pub fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    (lo - pad * span, hi + pad * span)
}

/// A numeric axis labelled exactly at `ticks`. Plotters otherwise picks its own ticks, and on
/// a range ending on a tick its float arithmetic can drop that end's label (the Boston and
/// concrete log-likelihood panels lost -2.4 and -2.8).
pub struct TickedAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    decimals: usize,
}

impl TickedAxis {
    /// `range` widened to whole multiples of a round step (1, 2 or 5 x 10^k, the one nearest
    /// to span / `intervals`), with a tick at every step.
    pub fn round(range: (f64, f64), intervals: usize) -> Self {
        let (lo, hi) = range;
        let rough = (hi - lo) / intervals.max(1) as f64;
        if !(rough.is_finite() && rough > 0.0) {
            return Self { lo: lo - 0.5, hi: hi + 0.5, ticks: vec![lo], decimals: 2 };
        }
        let magnitude = 10f64.powf(rough.log10().floor());
        let off = |s: &f64| (s / rough).ln().abs();
        let step = [1.0, 2.0, 5.0, 10.0]
            .map(|f| f * magnitude)
            .into_iter()
            .min_by(|a, b| off(a).total_cmp(&off(b)))
            .unwrap_or(magnitude);
        let (first, last) = ((lo / step).floor() as i64, (hi / step).ceil() as i64);
        // Whole steps times the step, not a running sum, so -2.4 stays -2.4.
        let ticks = (first..=last).map(|i| i as f64 * step).collect();
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        Self { lo: first as f64 * step, hi: last as f64 * step, ticks, decimals }
    }
}

impl Ranged for TickedAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(self.lo..self.hi).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for TickedAxis {
    fn format_ext(&self, value: &f64) -> String {
        format!("{value:.*}", self.decimals)
    }
}

/// Body text style.
pub fn font(size: u32) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticked_axes_cover_the_range_and_label_both_ends() {
        let axis = TickedAxis::round((-3.063, -2.257), 4);
        assert_eq!(axis.range(), -3.2..-2.2);
        let labels: Vec<String> = axis.ticks.iter().map(|t| axis.format_ext(t)).collect();
        assert_eq!(labels, ["-3.2", "-3.0", "-2.8", "-2.6", "-2.4", "-2.2"]);
        let axis = TickedAxis::round((0.0731, 0.1049), 4);
        let labels: Vec<String> = axis.ticks.iter().map(|t| axis.format_ext(t)).collect();
        assert_eq!(labels, ["0.07", "0.08", "0.09", "0.10", "0.11"]);
        let axis = TickedAxis::round((-1.9, 9.9), 4);
        assert_eq!(
            axis.ticks.iter().map(|t| axis.format_ext(t)).collect::<Vec<_>>(),
            ["-2", "0", "2", "4", "6", "8", "10"]
        );
        assert_eq!(TickedAxis::round((1.0, 1.0), 4).ticks, [1.0]);
    }
}
