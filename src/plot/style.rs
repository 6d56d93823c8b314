//! Shared look of every figure: colours and number formatting, with the
//! font, sizes, text drawing, axes and layout of the leaf modules (`theme`,
//! `text`, `axis`, `layout`) re-exported here, so figures import one module.

use plotters::prelude::*;

pub use super::axis::{pad, Axis};
pub use super::layout::{
    arch_grid, grid, header, header_height, panel, panel_top, segments, wrap_cols, Mark, PanelSpec, X_LABELS, Y_LABELS,
};
pub use super::text::text;
pub use super::theme::{register_font, size, Area, PResult, INK, MUTED};

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
