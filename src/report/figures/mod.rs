//! Figures drawn with plotters from records, each saved as PNG and SVG.
//!
//! Text is rendered with the DejaVu Sans font bundled in `assets/fonts/` (registered once, at
//! the first figure) through plotters' `ab_glyph` feature, so a bare machine with no system
//! fonts draws the same figures. Files are written to a temporary name and renamed.

pub mod co2;
pub mod mnist;
pub mod uci;

use std::path::{Path, PathBuf};
use std::sync::Once;

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
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).unwrap_or_else(|_| panic!("bundled font is not a valid TTF"));
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
            drawn.map_err(|e| Error::Report(format!("drawing {}: {e}", path.display())))
        })?;
        written.push(path);
    }
    Ok(written)
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
    let (lo, hi) = values.into_iter().filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    (lo - pad * span, hi + pad * span)
}

/// Body text style.
pub fn font(size: u32) -> TextStyle<'static> {
    (FONT_FAMILY, size).into_font().color(&BLACK)
}
