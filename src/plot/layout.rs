//! Figure layout: the header (title, subtitle, legend), legend marks, the
//! panel builder (captions, axes, tick labels, descriptions) and the grid
//! of panels.

use super::axis::{Axis, Ticked};
use super::text::{text, text_width};
use super::theme::{size, Area, PResult, AXIS, GRID, INK, MUTED};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// A panel: linear f64 axes with explicit ticks (log axes hold log10 values).
pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>;

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
pub enum Mark {
    /// A line.
    Line(RGBColor),
    /// A dashed line.
    Dashed(RGBColor),
    /// A line over a shaded band.
    LineBand(RGBColor),
    /// A line with a dot, over a shaded band.
    LineDotBand(RGBColor),
    /// A filled circle with a dark outline.
    Dot(RGBColor),
    /// A solid block (a bar's colour).
    Block(RGBColor),
}

/// Height of a header with a subtitle and, optionally, a legend row.
pub fn header_height(legend: bool) -> u32 {
    16 + size::TITLE + 10 + size::SUBTITLE + 10 + if legend { 30 } else { 0 } + 8
}

/// Draws a figure's header (title, subtitle) and a one-line legend; returns the area below.
pub fn header<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
    legend: &[(Mark, String)],
) -> PResult<Area<DB>> {
    root.fill(&WHITE)?;
    text(root, title, (24, 20), size::TITLE, INK, HPos::Left, VPos::Top)?;
    let y = 16 + size::TITLE as i32 + 10;
    // A long subtitle steps down a size rather than run off the figure.
    let room = root.dim_in_pixel().0 as i32 - 48;
    let sub = if text_width(subtitle, size::SUBTITLE) > room { size::SUBTITLE - 2 } else { size::SUBTITLE };
    text(root, subtitle, (24, y + 2), sub, MUTED, HPos::Left, VPos::Top)?;
    let y = y + size::SUBTITLE as i32 + 10;
    if !legend.is_empty() {
        draw_legend(root, legend, (24, y + 13))?;
    }
    let (_, body) = root.split_vertically(header_height(!legend.is_empty()));
    Ok(body)
}

/// Draws legend entries in a row, centred vertically on `y`, starting at `x`.
pub fn draw_legend<DB: DrawingBackend>(area: &Area<DB>, entries: &[(Mark, String)], (x, y): (i32, i32)) -> PResult {
    let mut x = x;
    for (mark, label) in entries {
        draw_mark(area, *mark, (x, y))?;
        text(area, label, (x + 38, y), size::LEGEND, INK, HPos::Left, VPos::Center)?;
        x += 38 + text_width(label, size::LEGEND) + 26;
    }
    Ok(())
}

fn draw_mark<DB: DrawingBackend>(area: &Area<DB>, mark: Mark, (x, y): (i32, i32)) -> PResult {
    match mark {
        Mark::Line(c) => {
            area.draw(&PathElement::new(vec![(x, y), (x + 30, y)], c.stroke_width(3)))?;
        }
        Mark::Dashed(c) => {
            for s in [0, 12, 24] {
                area.draw(&PathElement::new(vec![(x + s, y), (x + s + 7, y)], c.stroke_width(3)))?;
            }
        }
        Mark::LineBand(c) | Mark::LineDotBand(c) => {
            area.draw(&Rectangle::new([(x, y - 8), (x + 30, y + 8)], c.mix(0.2).filled()))?;
            area.draw(&PathElement::new(vec![(x, y), (x + 30, y)], c.stroke_width(3)))?;
            if matches!(mark, Mark::LineDotBand(_)) {
                area.draw(&Circle::new((x + 15, y), 4, c.filled()))?;
            }
        }
        Mark::Dot(c) => {
            area.draw(&Circle::new((x + 15, y), 7, c.filled()))?;
            area.draw(&Circle::new((x + 15, y), 7, INK.stroke_width(2)))?;
        }
        Mark::Block(c) => {
            area.draw(&Rectangle::new([(x + 8, y - 8), (x + 24, y + 8)], c.filled()))?;
        }
    }
    Ok(())
}

/// A panel's captions and which axis descriptions it shows.
pub struct PanelSpec<'s> {
    /// Caption lines above the plot, each with its colour.
    pub captions: &'s [(String, RGBColor)],
    /// X axis.
    pub x: &'s Axis,
    /// Y axis.
    pub y: &'s Axis,
    /// Show the x description (bottom row).
    pub x_desc: bool,
    /// Show the y description (left column).
    pub y_desc: bool,
    /// Draw grid lines.
    pub grid: bool,
}

/// Pixels reserved left of a panel's plot for tick labels and the description.
pub const Y_LABELS: u32 = 70;
/// Pixels reserved below a panel's plot for tick labels and the description.
pub const X_LABELS: u32 = 54;

/// Pixels above a panel's plot taken by `lines` caption lines.
pub fn panel_top(lines: usize) -> u32 {
    lines as u32 * (size::PANEL + 6) + 14
}

/// Builds a panel in `area`: captions on top, then the axes, grid, tick
/// labels and descriptions (drawn here rather than by plotters' mesh, so
/// every text goes through the same layout).
pub fn panel<'a, DB: DrawingBackend>(area: &'a Area<DB>, spec: &PanelSpec) -> PResult<Chart<'a, DB>> {
    let chart = ChartBuilder::on(area)
        .margin_top(panel_top(spec.captions.len()))
        .margin_right(14)
        .margin_left(4)
        .margin_bottom(4)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(spec.x.coord(), spec.y.coord())?;
    let mut chart = chart;
    let blank = |_: &f64| String::new();
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&blank)
        .y_label_formatter(&blank)
        .axis_style(AXIS.stroke_width(1))
        .bold_line_style(GRID.stroke_width(1))
        .set_all_tick_mark_size(4);
    if !spec.grid {
        mesh.disable_mesh();
    }
    mesh.draw()?;
    let base = area.get_base_pixel();
    let rel = |p: (i32, i32)| (p.0 - base.0, p.1 - base.1);
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let mid_x = (xs.start + xs.end) / 2;
    for (i, (line, color)) in spec.captions.iter().enumerate() {
        let y = 10 + i as i32 * (size::PANEL as i32 + 6);
        text(area, line, (mid_x - base.0, y), size::PANEL, *color, HPos::Center, VPos::Top)?;
    }
    let inside = |a: &Axis, v: f64| {
        let (lo, hi) = (a.range.start.min(a.range.end), a.range.start.max(a.range.end));
        v >= lo - (hi - lo) * 1e-9 && v <= hi + (hi - lo) * 1e-9
    };
    for (v, label) in spec.x.ticks.iter().filter(|t| inside(spec.x, t.0)) {
        let (px, _) = chart.backend_coord(&(*v, spec.y.range.start));
        text(area, label, rel((px, ys.end + 10)), size::TICK, INK, HPos::Center, VPos::Top)?;
    }
    for (v, label) in spec.y.ticks.iter().filter(|t| inside(spec.y, t.0)) {
        let (_, py) = chart.backend_coord(&(spec.x.range.start, *v));
        text(area, label, rel((xs.start - 9, py)), size::TICK, INK, HPos::Right, VPos::Center)?;
    }
    if spec.x_desc {
        let y = ys.end + 10 + size::TICK as i32 + 10;
        text(area, &spec.x.desc, rel((mid_x, y)), size::DESC, INK, HPos::Center, VPos::Top)?;
    }
    if spec.y_desc {
        let pos = (base.0 + 6, (ys.start + ys.end) / 2);
        super::text::draw(area, &spec.y.desc, rel(pos), size::DESC, INK, HPos::Center, VPos::Top, true)?;
    }
    Ok(chart)
}

/// Splits a body into `rows × cols` panels of `panel` pixels (row-major,
/// after a 12-pixel left margin); returns them and the area to their right.
pub fn grid<DB: DrawingBackend>(
    body: &Area<DB>,
    rows: usize,
    cols: usize,
    panel: (u32, u32),
) -> (Vec<Area<DB>>, Area<DB>) {
    let (rows, cols) = (rows.max(1), cols.max(1));
    let (_, body) = body.split_horizontally(12);
    let (left, rest) = body.split_horizontally((cols as u32 * panel.0) as i32);
    let (left, _) = left.split_vertically((rows as u32 * panel.1) as i32);
    (left.split_evenly((rows, cols)), rest)
}

/// Size of a figure with one column per architecture (wrapped) and
/// `rows_per_arch` rows of `panel`-sized panels under a header with a legend;
/// returns (columns, size).
pub fn arch_grid(archs: usize, rows_per_arch: usize, panel: (u32, u32)) -> (usize, (u32, u32)) {
    let cols = wrap_cols(archs);
    let rows = rows_per_arch * archs.div_ceil(cols);
    let w = (12 + cols as u32 * panel.0 + 16).max(1000);
    let h = header_height(true) + rows as u32 * panel.1 + 12;
    (cols, (w, h))
}

/// Columns for `n` panels that wrap: up to 3, balanced (4 → 2 × 2).
pub fn wrap_cols(n: usize) -> usize {
    match n {
        0..=3 => n.max(1),
        4 => 2,
        _ => 3,
    }
}

/// Splits `v` into runs of consecutive `Some` values, keeping each value's index.
pub fn segments<T: Copy>(v: impl IntoIterator<Item = Option<T>>) -> Vec<Vec<(usize, T)>> {
    let mut out: Vec<Vec<(usize, T)>> = Vec::new();
    let mut cur = Vec::new();
    for (i, x) in v.into_iter().enumerate() {
        match x {
            Some(x) => cur.push((i, x)),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
