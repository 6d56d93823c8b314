//! Picture 2: convergence rate against the view's x axis (learning rate by
//! default), one line per architecture with its 95% Wilson interval, one
//! panel per (y, z) setting (L2 × L1 by default). The other varying axes
//! (facets) add panel rows when there are few settings, files otherwise.

use super::load::{Coord, Facet, Results};
use super::style::{self, arch_color, Area, Axis, Mark, PResult, PanelSpec, INK};
use super::{Figure, Kind};
use plotters::prelude::*;

/// One rate-vs-lr figure.
pub struct RateVsLr {
    facets: Vec<Facet>,
}

const PANEL: (u32, u32) = (400, 300);

/// Panels of a figure: (facet, y index, z index), row-major, with rows and columns.
fn panels(r: &Results, facets: &[Facet]) -> (Vec<(Facet, usize, usize)>, usize, usize) {
    let (g, v) = (&r.summary.axes, &r.view);
    let (n_y, n_z) = (v.y.len(g), v.z.len(g));
    let regs: Vec<(usize, usize)> = (0..n_y).flat_map(|j| (0..n_z).map(move |l| (j, l))).collect();
    let list = facets.iter().flat_map(|f| regs.iter().map(move |&(j, l)| (*f, j, l))).collect();
    if facets.len() > 1 {
        // Facets as rows of regulariser panels; with a single setting, facets wrap across 3 columns.
        let cols = if regs.len() == 1 { style::wrap_cols(facets.len()) } else { regs.len() };
        (list, (facets.len() * regs.len()).div_ceil(cols), cols)
    } else {
        // One panel per y value wraps into rows; y × z is a table of panels.
        let cols = if n_z == 1 { style::wrap_cols(n_y) } else { n_z };
        (list, n_y * n_z / cols + usize::from(n_y * n_z % cols > 0), cols)
    }
}

/// One figure per facet group.
pub fn figures(r: &Results) -> Vec<Figure> {
    let (g, v) = (&r.summary.axes, &r.view);
    let groups = r.facet_groups(v.y.len(g) * v.z.len(g) <= 4);
    let settings = [v.y, v.z].iter().filter(|r| r.0.is_some()).map(|r| r.short(g)).collect::<Vec<_>>().join(" × ");
    let panels_text = if settings.is_empty() { String::new() } else { format!(", one panel per {settings} setting") };
    groups
        .iter()
        .enumerate()
        .map(|(gi, group)| {
            let (_, rows, cols) = panels(r, group);
            let lines = if group.len() > 1 { 2 } else { 1 };
            let w = (12 + cols as u32 * PANEL.0 + 16).max(1000);
            let h = style::header_height(true) + rows as u32 * (PANEL.1 + 22 * (lines - 1)) + 12;
            let label = match group.as_slice() {
                [f] if !r.facet_label(*f).is_empty() => format!(" ({})", r.facet_label(*f)),
                [_] => String::new(),
                _ if groups.len() > 1 => format!(" (part {} of {})", gi + 1, groups.len()),
                _ => String::new(),
            };
            Figure {
                stem: format!("rate_vs_{}{}", crate::sweep::names::slug(v.x.name(g)), r.group_slug(group, gi, groups.len())),
                heading: format!("{} vs {}{label}", r.summary.criterion.count.title(), v.x.title(g)),
                caption: format!("One line per architecture with its 95% Wilson interval (shaded){panels_text}; the dashed line is the {}. A higher line converges more often; where bands overlap the data cannot tell the settings apart.", r.summary.criterion.count.other().title().to_lowercase()),
                size: (w, h),
                kind: Kind::Rate(RateVsLr { facets: group.clone() }),
            }
        })
        .collect()
}

impl RateVsLr {
    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, r: &Results) -> PResult {
        let (g, v) = (&r.summary.axes, &r.view);
        let count = r.summary.criterion.count;
        // Each architecture's swatch shows its line over its band (the 95% Wilson interval).
        let legend: Vec<(Mark, String)> = (0..v.arch.len(g))
            .map(|i| (Mark::LineDotBand(arch_color(i)), format!("{} (band: 95% interval)", v.arch.label(g, i))))
            .chain([(Mark::Dashed(INK), count.other().title().to_lowercase())])
            .collect();
        let subtitle = r.rate_subtitle(&self.facets);
        let body = style::header(root, &format!("{} vs {}", count.title(), v.x.title(g)), &subtitle, &legend)?;
        let many = self.facets.len() > 1;
        let panel = (PANEL.0, PANEL.1 + if many { 22 } else { 0 });
        let (list, rows, cols) = panels(r, &self.facets);
        let (areas, _) = style::grid(&body, rows, cols, panel);
        let n_x = v.x.len(g);
        let logs: Vec<f64> = (0..n_x).map(|i| v.x.position(g, i)).collect();
        let (lo, hi) = logs.iter().fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        let (lo, hi) = if hi - lo < 1e-9 { (lo - 0.5, hi + 0.5) } else { style::pad(lo, hi, 0.07) };
        let ticks = (0..n_x).map(|i| (logs[i], v.x.tick(g, i))).collect();
        let scale = if v.x.scale(g) == super::view::Scale::Log { " (log scale)" } else { "" };
        let x = Axis::at(lo..hi, ticks, format!("{}{scale}", v.x.title(g)));
        let mut y = Axis::linear(0.0, 1.0, 5, count.title().to_lowercase());
        y.range = -0.03..1.03;
        // Architectures are nudged apart along x so equal rates do not hide each other.
        let n_arch = v.arch.len(g);
        let nudge = |ai: usize| (ai as f64 - (n_arch as f64 - 1.0) / 2.0) * 0.012 * (hi - lo);
        for (k, (area, &(facet, j, l))) in areas.iter().zip(&list).enumerate() {
            let mut captions = Vec::new();
            if many {
                captions.push((r.facet_label(facet), INK));
            }
            let setting = [v.y.caption(g, j), v.z.caption(g, l)].into_iter().filter(|c| !c.is_empty());
            captions.push((setting.collect::<Vec<_>>().join(" · "), INK));
            let spec = PanelSpec {
                captions: &captions,
                x: &x,
                y: &y,
                x_desc: k + cols >= list.len(),
                y_desc: k % cols == 0,
                grid: true,
            };
            let mut chart = style::panel(area, &spec)?;
            for ai in 0..n_arch {
                let c = arch_color(ai);
                let at = |i: usize| r.at(Coord { arch: ai, facet, x: i, y: j, z: l });
                let pts: Vec<(f64, f64, f64, f64)> = (0..n_x)
                    .filter_map(|i| {
                        let (rate, lo, hi) = at(i)?.rate(count);
                        Some((logs[i] + nudge(ai), rate, lo, hi))
                    })
                    .collect();
                let other: Vec<(f64, f64)> =
                    (0..n_x).filter_map(|i| Some((logs[i] + nudge(ai), at(i)?.rate(count.other()).0))).collect();
                if other.len() >= 2 {
                    chart.draw_series(DashedLineSeries::new(other, 6, 4, c.stroke_width(2)))?;
                }
                if pts.len() >= 2 {
                    let band: Vec<(f64, f64)> =
                        pts.iter().map(|p| (p.0, p.3)).chain(pts.iter().rev().map(|p| (p.0, p.2))).collect();
                    chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.16).filled())))?;
                    chart.draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), c.stroke_width(3)))?;
                } else {
                    // A single learning rate: an error bar instead of a band.
                    let cap = 0.03 * (hi - lo);
                    for p in &pts {
                        let bar = [
                            vec![(p.0, p.2), (p.0, p.3)],
                            vec![(p.0 - cap, p.2), (p.0 + cap, p.2)],
                            vec![(p.0 - cap, p.3), (p.0 + cap, p.3)],
                        ];
                        chart.draw_series(bar.into_iter().map(|v| PathElement::new(v, c.stroke_width(2))))?;
                    }
                }
                chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, c.filled())))?;
            }
        }
        Ok(())
    }
}
