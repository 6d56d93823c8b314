//! The figure of `sweep compare`: one row per comparison (a grid point
//! against its baseline point), the paired difference of convergence rates
//! as a dot with its 95% interval as a bar, a line at zero, and the rows
//! whose Holm-adjusted McNemar p-value is below 0.05 in colour. Written
//! next to the comparison files as `compare-<axis>.png` (or `.svg`).

use super::style::{self, arch_color, Axis, Mark, PanelSpec, INK, MUTED};
use super::text::{fit_start, text};
use super::theme::{size, Area, PResult};
use super::{render_file, Drawing, Format};
use crate::sweep::compare::{CompareFile, Comparison, ALPHA};
use crate::sweep::grid::Grid;
use crate::sweep::SweepError;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::{Path, PathBuf};

/// Most rows drawn: past it, the comparisons with the smallest p-values.
const MAX_ROWS: usize = 120;
/// Pixels per row.
const ROW: u32 = 20;
/// Width of the row labels.
const LABELS: u32 = 430;
/// Figure width.
const WIDTH: u32 = 1200;

/// Draws the figure of `f` into `dir`; returns its path.
pub fn draw(dir: &Path, f: &CompareFile, grid: &Grid, format: Format) -> Result<PathBuf, SweepError> {
    super::theme::register_font().map_err(|msg| SweepError::Results { path: dir.to_path_buf(), msg })?;
    let (json, _) = crate::sweep::compare::file_names(dir, &f.axis);
    let path = json.with_extension(format.ext());
    let mut rows: Vec<&Comparison> = f.comparisons.iter().collect();
    if rows.len() > MAX_ROWS {
        rows.sort_by(|a, b| a.p_holm.total_cmp(&b.p_holm).then(a.point.cmp(&b.point)));
        rows.truncate(MAX_ROWS);
        rows.sort_by_key(|c| c.point);
    }
    let height = style::header_height(true) + 20 + rows.len() as u32 * ROW + style::X_LABELS + 24;
    let labels = rows.iter().map(|c| label(f, grid, c)).collect();
    render_file(&path, (WIDTH, height), format, &Forest { f, rows, labels })?;
    Ok(path)
}

struct Forest<'a> {
    f: &'a CompareFile,
    rows: Vec<&'a Comparison>,
    labels: Vec<String>,
}

/// The row's label: the other varying axes' values, then the compared value.
fn label(f: &CompareFile, grid: &Grid, c: &Comparison) -> String {
    format!("{}  ·  {} = {}", grid.varying_label(c.point, &f.axis), f.axis, c.value)
}

impl Drawing for Forest<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> PResult {
        let f = self.f;
        let significant = arch_color(0);
        let shown = if self.rows.len() < f.comparisons.len() {
            format!(", the {} with the smallest p of {}", self.rows.len(), f.comparisons.len())
        } else {
            String::new()
        };
        let subtitle = format!(
            "Each {} value against {} = {}, seed by seed over the seeds both points have{shown}; dot: difference of rates, bar: 95% paired interval (Newcombe)",
            f.axis, f.axis, f.baseline
        );
        let legend = [
            (Mark::Dot(significant), format!("differs (Holm-adjusted McNemar p < {ALPHA})")),
            (Mark::Dot(MUTED), "no difference detected".to_string()),
        ];
        let body = style::header(root, &format!("Paired comparison along {}", f.axis), &subtitle, &legend)?;
        let (labels, plot) = body.split_horizontally(LABELS);
        let n = self.rows.len().max(1);
        let (lo, hi) =
            self.rows.iter().fold((0.0f64, 0.0f64), |(l, h), c| (l.min(c.diff_ci_low), h.max(c.diff_ci_high)));
        let (lo, hi) = style::pad(lo.max(-1.0), hi.min(1.0), 0.05);
        let x = Axis::linear(lo, hi, 8, format!("convergence rate at {} − at {} = {}", f.axis, f.axis, f.baseline));
        let y = Axis::at(-0.5..n as f64 - 0.5, Vec::new(), "");
        let spec = PanelSpec { captions: &[], x: &x, y: &y, x_desc: true, y_desc: false, grid: true };
        let mut chart = style::panel(&plot, &spec)?;
        let row_y = |i: usize| (n - 1 - i) as f64;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n as f64 - 0.5)],
            INK.stroke_width(1),
        )))?;
        let base = labels.get_base_pixel();
        for (i, c) in self.rows.iter().enumerate() {
            let color = if c.p_holm < ALPHA { significant } else { MUTED };
            let yv = row_y(i);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(c.diff_ci_low, yv), (c.diff_ci_high, yv)],
                color.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Circle::new((c.rate_diff, yv), 4, color.filled())))?;
            let (_, py) = chart.backend_coord(&(lo, yv));
            let text_x = LABELS as i32 - 10;
            text(
                &labels,
                &fit_start(&self.labels[i], text_x - 24, size::TICK),
                (text_x, py - base.1),
                size::TICK,
                INK,
                HPos::Right,
                VPos::Center,
            )?;
        }
        Ok(())
    }
}
