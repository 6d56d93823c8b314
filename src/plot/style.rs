//! Shared look of every figure: the embedded font, colours, number
//! formatting and text drawing (axes and layout live in `axis` and
//! `layout` and are re-exported here).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::sync::OnceLock;

pub use super::axis::{pad, Axis};
pub use super::layout::{
    arch_grid, grid, header, header_height, panel, panel_top, segments, wrap_cols, Mark, PanelSpec, X_LABELS, Y_LABELS,
};

/// DejaVu Sans, embedded so plots never depend on the fonts of the machine.
pub static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family every text style names.
pub const FAMILY: &str = "sans-serif";

/// Registers the embedded font with plotters (once per process).
pub fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok {
        Ok(())
    } else {
        Err("the embedded DejaVu Sans font could not be loaded".into())
    }
}

/// A drawing error, as text (plotters' errors are generic over the backend).
#[derive(Debug)]
pub struct PlotError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError(e.to_string())
    }
}

/// Result of drawing.
pub type PResult<T = ()> = Result<T, PlotError>;
/// A drawing area in pixels.
pub type Area<DB> = DrawingArea<DB, Shift>;

/// Font sizes in pixels.
pub mod size {
    /// Figure title.
    pub const TITLE: u32 = 26;
    /// Line under the title.
    pub const SUBTITLE: u32 = 16;
    /// Panel caption.
    pub const PANEL: u32 = 16;
    /// Axis description.
    pub const DESC: u32 = 16;
    /// Tick labels.
    pub const TICK: u32 = 14;
    /// Legend entries.
    pub const LEGEND: u32 = 16;
}

/// Near-black text.
pub const INK: RGBColor = RGBColor(34, 34, 34);
/// Secondary text.
pub const MUTED: RGBColor = RGBColor(96, 96, 96);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(226, 226, 226);
/// Axis lines.
pub const AXIS: RGBColor = RGBColor(120, 120, 120);

/// Okabe–Ito colours (distinguishable with colour-vision deficiencies);
/// architecture i of the grid always gets colour i.
const CATEGORICAL: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(170, 170, 0),
];

/// The colour of architecture `i` (its position in the grid's axis), the same in every figure.
pub fn arch_color(i: usize) -> RGBColor {
    CATEGORICAL[i % CATEGORICAL.len()]
}

/// Viridis at `t` in [0, 1] (dark purple to yellow; monotone in lightness, so it reads in greyscale).
pub fn viridis(t: f64) -> RGBColor {
    ViridisRGB::get_color_normalized(t.clamp(0.0, 1.0), 0.0, 1.0)
}

/// Colour of the `i`-th of `n` ordered values (e.g. learning rates): a
/// stretch of viridis that stays dark enough to read on white.
pub fn ordered_color(i: usize, n: usize) -> RGBColor {
    let t = if n <= 1 { 0.35 } else { i as f64 / (n - 1) as f64 };
    viridis(0.02 + 0.8 * t)
}

/// Perceived lightness in [0, 1].
pub fn luminance(c: RGBColor) -> f64 {
    (0.299 * c.0 as f64 + 0.587 * c.1 as f64 + 0.114 * c.2 as f64) / 255.0
}

/// Text colour that contrasts with a background.
pub fn text_on(bg: RGBColor) -> RGBColor {
    if luminance(bg) < 0.5 {
        WHITE
    } else {
        INK
    }
}

/// Diverging blue–white–red at `t` in [0, 1] (0.5 is white).
pub fn diverging(t: f64) -> RGBColor {
    let lerp = |a: (f64, f64, f64), b: (f64, f64, f64), s: f64| {
        RGBColor((a.0 + (b.0 - a.0) * s) as u8, (a.1 + (b.1 - a.1) * s) as u8, (a.2 + (b.2 - a.2) * s) as u8)
    };
    let (blue, white, red) = ((33.0, 102.0, 172.0), (247.0, 247.0, 247.0), (178.0, 24.0, 43.0));
    let t = t.clamp(0.0, 1.0);
    if t < 0.5 {
        lerp(blue, white, t * 2.0)
    } else {
        lerp(white, red, (t - 0.5) * 2.0)
    }
}

/// A number as a person writes it: 0.001, 0.3, 1, 2000, 1e-5, 2.5e6.
pub fn num(v: f64) -> String {
    crate::sweep::grid::short_number(v)
}

/// A rate as "0.87".
pub fn rate(v: f64) -> String {
    format!("{v:.2}")
}

/// Draws `s` at `pos` in `size`-pixel type, anchored by `h` (left, center,
/// right) and `v` (top and middle of the capitals, or bottom of the descenders).
pub fn text<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    pos: (i32, i32),
    size: u32,
    color: RGBColor,
    h: HPos,
    v: VPos,
) -> PResult {
    super::text::draw(area, s, pos, size, color, h, v, false)
}

/// Width in pixels of `s` in `size`-pixel type.
pub fn text_width(s: &str, size: u32) -> i32 {
    super::text::width(s, size).ceil() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(num(0.001), "0.001");
        assert_eq!(num(0.03), "0.03");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(2000.0), "2000");
        assert_eq!(num(0.3), "0.3");
        assert_eq!(num(1e-5), "1e-5");
        assert_eq!(num(0.0), "0");
    }
}
