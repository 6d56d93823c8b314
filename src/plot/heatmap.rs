//! Picture 1: convergence rate as a heatmap of the view's x axis (columns,
//! learning rate by default) × y axis (rows, L2 by default), one panel per
//! z value (L1), one file per architecture. The other varying axes
//! (facets) add panel rows, or files when there are many z values.

use super::load::{Coord, Facet, Results};
use super::style::{self, num, size, text, viridis, Area, Axis, PResult, PanelSpec, INK, MUTED};
use super::{Figure, Kind};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One heatmap figure.
pub struct Heatmap {
    arch: usize,
    facets: Vec<Facet>,
    layout: Layout,
}

#[derive(Clone, Copy)]
struct Layout {
    rows: usize,
    cols: usize,
    panel: (u32, u32),
    cell: (u32, u32),
}

/// Width of the colour bar's column.
const BAR: u32 = 130;

fn layout(r: &Results, facets: usize) -> Layout {
    let (g, v) = (&r.summary.axes, &r.view);
    let (n_lr, n_l2, n_l1) = (v.x.len(g), v.y.len(g), v.z.len(g));
    let (rows, cols) = if facets > 1 {
        // Facets as rows of L1 panels; with a single L1 value, facets wrap across 3 columns.
        let cols = if n_l1 == 1 { super::style::wrap_cols(facets) } else { n_l1 };
        ((facets * n_l1).div_ceil(cols), cols)
    } else {
        let cols = if n_l1 <= 4 { n_l1 } else { (n_l1 as f64).sqrt().ceil() as usize };
        (n_l1.div_ceil(cols), cols)
    };
    // Cells shrink for large grids so the figure stays under ~2400 × 1600 px.
    let cell_w = ((2300 / cols) as u32).saturating_sub(110).checked_div(n_lr as u32).unwrap_or(80).clamp(40, 84);
    let cell_h = (1400 / (rows * n_l2).max(1)) as u32;
    // At least ~110 px of cells in height, so a single L2 row still has a readable colour bar.
    let cell = (cell_w, cell_h.clamp(28, 56).max(110u32.div_ceil(n_l2 as u32)));
    let lines = if facets > 1 { 2 } else { 1 };
    let panel_w = (style::Y_LABELS + 18 + 16 + cell.0 * n_lr as u32).max(300);
    let panel_h = style::panel_top(lines) + style::X_LABELS + 4 + cell.1 * n_l2 as u32;
    Layout { rows, cols, panel: (panel_w, panel_h), cell }
}

/// One figure per architecture (and facet group).
pub fn figures(r: &Results) -> Vec<Figure> {
    let (g, v) = (&r.summary.axes, &r.view);
    let groups = r.facet_groups(v.z.len(g) <= 4);
    let panels = match v.z.0 {
        Some(_) => format!(", one panel per {} value", v.z.short(g)),
        None => String::new(),
    };
    let mut out = Vec::new();
    for ai in 0..v.arch.len(g) {
        let arch = v.arch.label(g, ai);
        for (gi, group) in groups.iter().enumerate() {
            let l = layout(r, group.len());
            let w = (12 + l.cols as u32 * l.panel.0 + BAR).max(1000);
            let h = style::header_height(false) + l.rows as u32 * l.panel.1 + 12;
            let label = match group.as_slice() {
                [f] if !r.facet_label(*f).is_empty() => format!(" ({})", r.facet_label(*f)),
                [_] => String::new(),
                _ if groups.len() > 1 => format!(" (part {} of {})", gi + 1, groups.len()),
                _ => String::new(),
            };
            let rows = if group.len() > 1 { ", one row of panels per setting of the other varying axes" } else { "" };
            out.push(Figure {
                stem: format!("rate_heatmap_{}{}", crate::sweep::names::slug(&arch), r.group_slug(group, gi, groups.len())),
                heading: format!("{} of {arch}{label}", r.summary.criterion.count.title()),
                caption: format!(
                    "Fraction of the {} seeds per grid point that reached {} within {} epochs, by {x} (columns) and {y} (rows){panels}{rows}. Brighter is better: read along a row for the effect of the {x}, up a column for the {y}. Outlined cells have a 95% Wilson interval that reaches the best cell's: the data cannot tell them from the best.",
                    r.summary.seeds,
                    r.criterion(),
                    r.summary.epochs,
                    x = v.x.title(g),
                    y = v.y.title(g),
                ),
                size: (w, h),
                kind: Kind::Heatmap(Heatmap { arch: ai, facets: group.clone(), layout: l }),
            });
        }
    }
    out
}

impl Heatmap {
    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, r: &Results) -> PResult {
        let (g, v) = (&r.summary.axes, &r.view);
        let arch = v.arch.label(g, self.arch);
        let subtitle = format!("{} · outlined: interval reaches the best cell's", r.rate_subtitle(&self.facets));
        let count = r.summary.criterion.count;
        let body = style::header(root, &format!("{} — {arch}", count.title()), &subtitle, &[])?;
        let l = self.layout;
        let (panels, bar) = style::grid(&body, l.rows, l.cols, l.panel);
        let mut plot_px = None;
        let (n_x, n_y, n_z) = (v.x.len(g), v.y.len(g), v.z.len(g));
        let x = Axis::at(0.0..n_x as f64, (0..n_x).map(|i| (i as f64 + 0.5, v.x.tick(g, i))).collect(), v.x.title(g));
        let y = Axis::at(0.0..n_y as f64, (0..n_y).map(|i| (i as f64 + 0.5, v.y.tick(g, i))).collect(), v.y.title(g));
        let cell_font = ((l.cell.0 as f64 / 3.6).min(l.cell.1 as f64 / 2.0).min(16.0) as u32) & !1;
        let many = self.facets.len() > 1;
        let n = if many { self.facets.len() * n_z } else { n_z };
        let panel_of = |k: usize| if many { (self.facets[k / n_z], k % n_z) } else { (self.facets[0], k) };
        // The best cell of the figure: cells whose interval reaches its lower end are outlined.
        let best_low = (0..n)
            .flat_map(|k| (0..n_x).flat_map(move |i| (0..n_y).map(move |j| (k, i, j))))
            .filter_map(|(k, i, j)| {
                let (facet, z) = panel_of(k);
                r.at(Coord { arch: self.arch, facet, x: i, y: j, z }).map(|p| p.rate(count))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|best| best.1);
        for (k, area) in panels.iter().enumerate().take(n) {
            let (facet, z) = panel_of(k);
            let mut captions = Vec::new();
            if many {
                captions.push((r.facet_label(facet), INK));
            }
            captions.push((v.z.caption(g, z), INK));
            let spec = PanelSpec {
                captions: &captions,
                x: &x,
                y: &y,
                x_desc: k / l.cols == l.rows - 1 || k + l.cols >= n,
                y_desc: k % l.cols == 0,
                grid: false,
            };
            let mut chart = style::panel(area, &spec)?;
            plot_px.get_or_insert(chart.plotting_area().get_pixel_range().1);
            let base = area.get_base_pixel();
            for i in 0..n_x {
                for j in 0..n_y {
                    let (x0, y0) = (i as f64, j as f64);
                    let p = r.at(Coord { arch: self.arch, facet, x: i, y: j, z });
                    let fill = p.map_or(RGBColor(235, 235, 235), |p| viridis(p.rate(count).0));
                    let mut rect = Rectangle::new([(x0, y0), (x0 + 1.0, y0 + 1.0)], fill.filled());
                    rect.set_margin(1, 1, 1, 1);
                    chart.draw_series(std::iter::once(rect))?;
                    if p.zip(best_low).is_some_and(|(p, low)| p.rate(count).2 >= low) {
                        let mut edge = Rectangle::new([(x0, y0), (x0 + 1.0, y0 + 1.0)], INK.stroke_width(3));
                        edge.set_margin(3, 3, 3, 3);
                        chart.draw_series(std::iter::once(edge))?;
                    }
                    if cell_font >= 10 {
                        let (cx, cy) = chart.backend_coord(&(x0 + 0.5, y0 + 0.5));
                        let label = p.map_or("n/a".to_string(), |p| style::rate(p.rate(count).0));
                        let (h, v) = (HPos::Center, VPos::Center);
                        text(area, &label, (cx - base.0, cy - base.1), cell_font, style::text_on(fill), h, v)?;
                    }
                }
            }
        }
        if let Some(ys) = plot_px {
            colour_bar(&bar, ys)?;
        }
        Ok(())
    }
}

/// A vertical colour bar from 0 (bottom) to 1 (top) spanning the absolute pixel rows `ys`.
fn colour_bar<DB: DrawingBackend>(bar: &Area<DB>, ys: std::ops::Range<i32>) -> PResult {
    let base = bar.get_base_pixel().1;
    let (top, h) = (ys.start - base, (ys.end - ys.start).max(40));
    let (x0, x1) = (22, 46);
    text(bar, "rate", ((x0 + x1) / 2, top - 8), size::DESC, INK, HPos::Center, VPos::Bottom)?;
    let steps = 100;
    for s in 0..steps {
        let t = (s as f64 + 0.5) / steps as f64;
        let ya = top + h - (h * (s + 1)) / steps;
        let yb = top + h - (h * s) / steps;
        bar.draw(&Rectangle::new([(x0, ya), (x1, yb)], viridis(t).filled()))?;
    }
    bar.draw(&Rectangle::new([(x0, top), (x1, top + h)], MUTED.stroke_width(1)))?;
    for k in 0..=4 {
        let v = k as f64 / 4.0;
        let y = top + h - (h as f64 * v).round() as i32;
        bar.draw(&PathElement::new(vec![(x1, y), (x1 + 5, y)], MUTED.stroke_width(1)))?;
        text(bar, &num(v), (x1 + 9, y), size::TICK, INK, HPos::Left, VPos::Center)?;
    }
    Ok(())
}
