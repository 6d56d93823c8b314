//! Picture 6: how runs end, per grid point. One row per point, a bar split
//! into the fractions of its runs that converged (and stayed), were
//! transient (met the criterion, lost it by the end), sat on a plateau, were
//! still slowly improving, or diverged. For XOR these classes are the study:
//! saddle plateaus against regularisation traps.

use super::load::Results;
use super::style::{self, Axis, Mark, PanelSpec, INK};
use super::text::{fit_start, text};
use super::theme::{size, Area, PResult};
use super::{Figure, Kind};
use crate::sweep::aggregate::PointSummary;
use crate::sweep::record::Class;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// Most grid points drawn; past it the figure is left out (its rows would not read).
pub const MAX_POINTS: usize = 150;
const ROW: u32 = 18;
const LABELS: u32 = 380;

/// The outcomes figure.
pub struct Outcomes;

/// Each class's colour (Okabe–Ito), in [`Class::ALL`]'s order.
fn color(c: Class) -> RGBColor {
    match c {
        Class::Converged => RGBColor(0, 158, 115),
        Class::Transient => RGBColor(230, 159, 0),
        Class::Plateau => RGBColor(150, 150, 150),
        Class::Slow => RGBColor(86, 180, 233),
        Class::Diverged => RGBColor(213, 94, 0),
    }
}

fn counts(p: &PointSummary) -> [usize; 5] {
    let o = &p.outcomes;
    [o.converged, o.transient, o.plateau, o.slow, o.diverged]
}

/// The figure, for grids of at most [`MAX_POINTS`] points.
pub fn figure(r: &Results) -> Option<Figure> {
    let n = r.summary.points.len();
    (n <= MAX_POINTS).then(|| Figure {
        stem: "outcomes".into(),
        heading: "How runs end, per grid point".into(),
        caption: format!(
            "For each grid point, the fractions of its {} runs that converged and still met the criterion at the end, met it and lost it (transient), never met it with a flat training loss over the last quarter of training (plateau, less than {}% lower), never met it but were still improving (slow), or diverged.",
            r.summary.seeds,
            crate::sweep::measure::PLATEAU_TOLERANCE * 100.0
        ),
        size: (1200, style::header_height(true) + 20 + n as u32 * ROW + style::X_LABELS + 24),
        kind: Kind::Outcomes(Outcomes),
    })
}

impl Outcomes {
    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, r: &Results) -> PResult {
        let s = &r.summary;
        let legend: Vec<(Mark, String)> =
            Class::ALL.iter().map(|&c| (Mark::Block(color(c)), c.name().to_string())).collect();
        let subtitle = format!("{} seeds per point, {} epochs, criterion {}", s.seeds, s.epochs, r.criterion());
        let body = style::header(root, "How runs end, per grid point", &subtitle, &legend)?;
        let (labels, plot) = body.split_horizontally(LABELS);
        let n = s.points.len().max(1);
        let x = Axis::linear(0.0, 1.0, 5, "fraction of runs");
        let y = Axis::at(-0.5..n as f64 - 0.5, Vec::new(), "");
        let spec = PanelSpec { captions: &[], x: &x, y: &y, x_desc: true, y_desc: false, grid: false };
        let mut chart = style::panel(&plot, &spec)?;
        let g = &s.axes;
        let base = labels.get_base_pixel();
        for (i, p) in s.points.iter().enumerate() {
            let yv = (n - 1 - i) as f64;
            let total = p.runs.max(1) as f64;
            let mut from = 0.0;
            for (k, &c) in counts(p).iter().enumerate() {
                let to = from + c as f64 / total;
                if c > 0 {
                    let bar = Rectangle::new([(from, yv - 0.4), (to, yv + 0.4)], color(Class::ALL[k]).filled());
                    chart.draw_series(std::iter::once(bar))?;
                }
                from = to;
            }
            let label = g.varying_label(p.point, "");
            let label = if label.is_empty() { format!("point {}", p.point) } else { label };
            let (_, py) = chart.backend_coord(&(0.0, yv));
            let shown = fit_start(&label, LABELS as i32 - 34, size::TICK);
            text(&labels, &shown, (LABELS as i32 - 10, py - base.1), size::TICK, INK, HPos::Right, VPos::Center)?;
        }
        Ok(())
    }
}
