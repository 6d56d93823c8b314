//! Text layout with the embedded font's own metrics.
//!
//! plotters' ab_glyph renderer places each glyph at its pen position without
//! the glyph's left side bearing, so in bitmaps letters drift by a pixel or
//! two ("2 000", "o ne") at small sizes. For bitmaps this module lays a
//! string out itself (advances, kerning and bearings read from the font's
//! `hhea`, `hmtx`, `cmap` and `kern` tables) and draws it one glyph at a
//! time at the right pixel. SVG keeps whole `<text>` strings, which the
//! viewer lays out. Both use the same anchors and baseline, so figures look
//! alike in either format.

use super::theme::{Area, PResult, FAMILY};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Horizontal metrics of the embedded font, in font units.
struct Metrics {
    /// ascent − descent: ab_glyph scales so that this spans the pixel size.
    height: f64,
    glyphs: HashMap<char, u16>,
    advance: Vec<u16>,
    lsb: Vec<i16>,
    kern: HashMap<(u16, u16), i16>,
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(o)?, *b.get(o + 1)?]))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(o)?, *b.get(o + 1)?, *b.get(o + 2)?, *b.get(o + 3)?]))
}

fn table(b: &[u8], tag: &[u8; 4]) -> Option<usize> {
    let n = u16_at(b, 4)? as usize;
    (0..n)
        .map(|i| 12 + 16 * i)
        .find(|&o| b.get(o..o + 4) == Some(tag))
        .and_then(|o| u32_at(b, o + 8))
        .map(|v| v as usize)
}

/// Parses the tables needed for layout (None if the font lacks them).
fn parse(b: &[u8]) -> Option<Metrics> {
    let hhea = table(b, b"hhea")?;
    let ascent = u16_at(b, hhea + 4)? as i16 as f64;
    let descent = u16_at(b, hhea + 6)? as i16 as f64;
    let n_hmetrics = u16_at(b, hhea + 34)? as usize;
    let hmtx = table(b, b"hmtx")?;
    let maxp = table(b, b"maxp")?;
    let n_glyphs = u16_at(b, maxp + 4)? as usize;
    let mut advance = Vec::with_capacity(n_glyphs);
    let mut lsb = Vec::with_capacity(n_glyphs);
    for g in 0..n_glyphs {
        if g < n_hmetrics {
            advance.push(u16_at(b, hmtx + 4 * g)?);
            lsb.push(u16_at(b, hmtx + 4 * g + 2)? as i16);
        } else {
            advance.push(*advance.last()?);
            lsb.push(u16_at(b, hmtx + 4 * n_hmetrics + 2 * (g - n_hmetrics))? as i16);
        }
    }
    // cmap: the Windows Unicode BMP subtable (platform 3, encoding 1, format 4).
    let cmap = table(b, b"cmap")?;
    let sub = (0..u16_at(b, cmap + 2)? as usize)
        .map(|i| cmap + 4 + 8 * i)
        .find(|&o| u16_at(b, o) == Some(3) && u16_at(b, o + 2) == Some(1))
        .and_then(|o| u32_at(b, o + 4))
        .map(|off| cmap + off as usize)?;
    if u16_at(b, sub)? != 4 {
        return None;
    }
    let segs = u16_at(b, sub + 6)? as usize / 2;
    let (ends, starts, deltas, offsets) = (sub + 14, sub + 16 + 2 * segs, sub + 16 + 4 * segs, sub + 16 + 6 * segs);
    let mut glyphs = HashMap::new();
    for s in 0..segs {
        let (start, end) = (u16_at(b, starts + 2 * s)?, u16_at(b, ends + 2 * s)?);
        let delta = u16_at(b, deltas + 2 * s)?;
        let range_offset = u16_at(b, offsets + 2 * s)? as usize;
        // Only the characters a figure can contain: Latin, punctuation, Greek, symbols.
        for c in start..=end.min(0x2FFF) {
            let g = if range_offset == 0 {
                c.wrapping_add(delta)
            } else {
                let at = offsets + 2 * s + range_offset + 2 * (c - start) as usize;
                match u16_at(b, at)? {
                    0 => 0,
                    g => g.wrapping_add(delta),
                }
            };
            if let (Some(ch), true) = (char::from_u32(c as u32), g != 0) {
                glyphs.insert(ch, g);
            }
        }
    }
    let mut kern = HashMap::new();
    if let Some(k) = table(b, b"kern") {
        // Version 0, first subtable, format 0: sorted (left, right, value) pairs.
        if u16_at(b, k)? == 0 && u16_at(b, k + 2)? >= 1 && u16_at(b, k + 4 + 4)? & 0xFF00 == 0 {
            let pairs = u16_at(b, k + 4 + 6)? as usize;
            let first = k + 4 + 14;
            for i in 0..pairs {
                let o = first + 6 * i;
                kern.insert((u16_at(b, o)?, u16_at(b, o + 2)?), u16_at(b, o + 4)? as i16);
            }
        }
    }
    Some(Metrics { height: ascent - descent, glyphs, advance, lsb, kern })
}

fn metrics() -> Option<&'static Metrics> {
    static M: OnceLock<Option<Metrics>> = OnceLock::new();
    M.get_or_init(|| parse(super::theme::FONT_BYTES)).as_ref()
}

/// Glyph pen offsets (pixels from the start) and left bearings, plus the total advance.
fn layout(m: &Metrics, s: &str, size: f64) -> (Vec<(char, f64, f64)>, f64) {
    let k = size / m.height;
    let mut pen = 0.0;
    let mut prev: Option<u16> = None;
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let g = m.glyphs.get(&c).copied().unwrap_or(0);
        if let Some(p) = prev {
            pen += m.kern.get(&(p, g)).copied().unwrap_or(0) as f64 * k;
        }
        let gi = g as usize;
        out.push((c, pen, m.lsb.get(gi).copied().unwrap_or(0) as f64 * k));
        pen += m.advance.get(gi).copied().unwrap_or(0) as f64 * k;
        prev = Some(g);
    }
    (out, pen)
}

/// Width of `s` at `size` pixels.
pub fn width(s: &str, size: u32) -> f64 {
    match metrics() {
        Some(m) => layout(m, s, size as f64).1,
        None => s.chars().count() as f64 * size as f64 * 0.55,
    }
}

/// Whether glyphs must be placed one by one (plotters' bitmap backend).
fn per_glyph<DB: DrawingBackend>() -> bool {
    std::any::type_name::<DB>().contains("BitMapBackend")
}

/// Where text starts along its reading direction and where its baseline
/// lies across it, for an anchor at `along`/`across`.
fn place(w: f64, size: f64, along: f64, across: f64, h: HPos, v: VPos) -> (f64, f64) {
    let start = match h {
        HPos::Left => along,
        HPos::Center => along - w / 2.0,
        HPos::Right => along - w,
    };
    // Top: the top of capitals/digits at the anchor; center: their middle; bottom: the descender line.
    let cap = 0.73 * size * 0.86;
    let baseline = match v {
        VPos::Top => across + cap,
        VPos::Center => across + cap / 2.0,
        VPos::Bottom => across - 0.2 * size,
    };
    (start, baseline)
}

/// Draws `s` at `pos` (pixels in `area`) with the given anchor; `vertical`
/// turns it to read upwards (for y-axis descriptions), anchored the same
/// way relative to its own reading direction.
#[allow(clippy::too_many_arguments)]
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    s: &str,
    pos: (i32, i32),
    size: u32,
    color: RGBColor,
    h: HPos,
    v: VPos,
    vertical: bool,
) -> PResult {
    if s.is_empty() {
        return Ok(());
    }
    let sz = size as f64;
    let mut style = TextStyle::from((FAMILY, sz).into_font());
    style.color = color.to_backend_color();
    if vertical {
        style = style.transform(FontTransform::Rotate270);
    }
    // In the text's own frame (along its reading direction, across towards
    // its descenders) the layout is the same either way; a vertical string
    // reads upwards, so along = -y and across = x on screen.
    let (along, across) = if vertical { (-pos.1 as f64, pos.0 as f64) } else { (pos.0 as f64, pos.1 as f64) };
    let screen = |a: f64, c: f64| {
        if vertical {
            (c.round() as i32, -a.round() as i32)
        } else {
            (a.round() as i32, c.round() as i32)
        }
    };
    match (per_glyph::<DB>(), metrics()) {
        (true, Some(m)) => {
            let (glyphs, w) = layout(m, s, sz);
            let (start, baseline) = place(w, sz, along, across, h, v);
            // plotters puts the baseline size/2 (rounded down) below a top-left anchor.
            let top = baseline - (sz / 2.0).floor();
            let st = style.pos(Pos::new(HPos::Left, VPos::Top));
            for (c, pen, lsb) in glyphs {
                if !c.is_whitespace() {
                    let off = (start + pen).round() + lsb.floor();
                    area.draw(&Text::new(c.to_string(), screen(off, top), st.clone()))?;
                }
            }
        }
        _ => {
            // SVG: the viewer lays the string out; plotters' SVG puts the
            // baseline 0.76 em (em = size / 1.24) below a top anchor.
            let (_, baseline) = place(width(s, size), sz, along, across, h, v);
            let top = baseline - 0.76 * sz / 1.24;
            let st = style.pos(Pos::new(h, VPos::Top));
            area.draw(&Text::new(s.to_string(), screen(along, top), st))?;
        }
    }
    Ok(())
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
    draw(area, s, pos, size, color, h, v, false)
}

/// `s` cut from the start, behind an ellipsis, to fit `width` pixels in
/// `size`-pixel type (row labels keep their most specific end).
pub fn fit_start(s: &str, width: i32, size: u32) -> String {
    if text_width(s, size) <= width {
        return s.to_string();
    }
    let mut rest: &str = s;
    while let Some((i, _)) = rest.char_indices().nth(1) {
        rest = &rest[i..];
        if text_width(&format!("…{rest}"), size) <= width {
            break;
        }
    }
    format!("…{rest}")
}

/// Width in pixels of `s` in `size`-pixel type.
pub fn text_width(s: &str, size: u32) -> i32 {
    width(s, size).ceil() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_parses() {
        let m = metrics().expect("font tables");
        assert!(m.glyphs.contains_key(&'a') && m.glyphs.contains_key(&'≥') && m.glyphs.contains_key(&'₁'));
        // Digits share one advance in DejaVu Sans.
        assert!((width("0", 16) - width("1", 16)).abs() < 1e-9);
        assert!(width("one column", 16) > width("one", 16));
    }
}
