//! Picture 3: learning curves. Training loss (log scale) and training
//! metric against epoch, one column of panels per architecture, one colour
//! per value of the view's x axis (learning rate by default): the median as
//! a line over the 10th–90th percentile band; test curves (medians) dashed
//! when the problem has a test set.

use super::layout::Chart;
use super::load::{Coord, Results};
use super::style::{self, arch_color, num, ordered_color, segments, Area, Axis, Mark, PResult, PanelSpec, MUTED};
use super::{Figure, Kind};
use crate::metrics::Metric;
use crate::sweep::aggregate::{PointSummary, SeriesStats};
use plotters::element::DashedPathElement;
use plotters::prelude::*;

/// The learning-curves figure.
pub struct Curves {
    cols: usize,
}

const PANEL: (u32, u32) = (560, 330);

/// The epoch axis: log scale for runs of 100 epochs or more (fast and slow
/// learning rates then both show), linear otherwise. Returns the axis and
/// the map from an epoch to drawing units.
pub fn epoch_axis(record_epochs: &[usize], epochs: usize) -> (Axis, fn(f64) -> f64) {
    let first = record_epochs.first().copied().unwrap_or(1).max(1) as f64;
    let last = (record_epochs.last().copied().unwrap_or(epochs).max(epochs)) as f64;
    if epochs >= 100 {
        let (lo, hi) = (first.log10(), last.log10());
        let mut ax = Axis::log(first, last, "epoch (log scale)");
        ax.range = (lo - 0.02 * (hi - lo))..(hi + 0.02 * (hi - lo));
        (ax, f64::log10)
    } else {
        // Epochs are whole numbers: keep integer ticks only.
        let hi = last.max(2.0);
        let mut ax = Axis::linear(0.0, hi, 6, "epoch");
        ax.ticks.retain(|t| t.0.fract() == 0.0);
        ax.range = -0.02 * hi..hi * 1.02;
        (ax, |e| e)
    }
}

/// The (y, z) setting and facet the figures of this kind show, in words.
pub fn setting(r: &Results) -> (usize, usize, String) {
    let (j, l) = (r.slice.y, r.slice.z);
    let (g, v) = (&r.summary.axes, &r.view);
    let parts: Vec<String> = [v.y.caption(g, j), v.z.caption(g, l), r.facet_full(r.slice.facet)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    (j, l, parts.join(" · "))
}

/// "at L2 = 0, L1 = 0" for a title ("" when neither y nor z exists).
pub fn at_setting(r: &Results, j: usize, l: usize) -> String {
    let (g, v) = (&r.summary.axes, &r.view);
    let parts: Vec<String> = [v.y.caption(g, j), v.z.caption(g, l)].into_iter().filter(|s| !s.is_empty()).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" at {}", parts.join(", "))
    }
}

/// Legend entries, one per value of the view's x axis.
pub fn x_legend(r: &Results, mark: fn(RGBColor) -> Mark) -> Vec<(Mark, String)> {
    let (g, v) = (&r.summary.axes, &r.view);
    let n = v.x.len(g);
    (0..n).map(|i| (mark(ordered_color(i, n)), format!("{} {}", v.x.short(g), v.x.tick(g, i)))).collect()
}

/// The figure.
pub fn figure(r: &Results) -> Figure {
    let (cols, (w, h)) = style::arch_grid(r.view.arch.len(&r.summary.axes), 2, PANEL);
    let (_, _, setting) = setting(r);
    Figure {
        stem: "learning_curves".into(),
        heading: format!("Learning curves ({setting})"),
        caption: format!("Training loss (top, log scale) and training metric (bottom) per epoch for each {}: the line is the median over seeds; with at most {MAX_BANDS} lines a panel, a band spans the 10th to 90th percentile. Curves stop where every run has diverged.", r.view.x.title(&r.summary.axes)),
        size: (w, h),
        kind: Kind::Curves(Curves { cols }),
    }
}

fn loss_of(p: &PointSummary) -> Vec<&SeriesStats> {
    let mut v = vec![&p.curves.train_loss];
    v.extend(p.curves.test_loss.as_ref());
    v
}

fn metric_of(p: &PointSummary) -> Vec<&SeriesStats> {
    let mut v = vec![&p.curves.train_metric];
    v.extend(p.curves.test_metric.as_ref());
    v
}

/// Log10 of positive values (None otherwise).
fn log_pos(v: Option<f64>) -> Option<f64> {
    v.filter(|x| *x > 0.0 && x.is_finite()).map(f64::log10)
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// One line of a panel: its colour, the training series and the test series.
type Line = (RGBColor, SeriesStats, Option<SeriesStats>);

/// The smallest and largest value (log10 of positive values when `log`) of
/// the medians and 10th/90th percentiles of `pick`'s series over `shown`.
fn value_range(shown: &[&PointSummary], pick: fn(&PointSummary) -> Vec<&SeriesStats>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for p in shown {
        for st in pick(p) {
            for v in st.p10.iter().chain(&st.p90).chain(&st.median) {
                if let Some(v) = if log { log_pos(*v) } else { finite(*v) } {
                    (lo, hi) = (lo.min(v), hi.max(v));
                }
            }
        }
    }
    (lo, hi)
}

/// The loss axis (log scale), shared by every panel, and whether it is
/// capped: runs on their way to diverging can reach 1e30 and flatten
/// everything else, so it stops at 100 × the typical first recorded loss.
fn loss_axis(shown: &[&PointSummary], has_test: bool) -> (Axis, bool) {
    let (llo, lhi) = value_range(shown, loss_of, true);
    let mut firsts: Vec<f64> =
        shown.iter().filter_map(|p| log_pos(p.curves.train_loss.median.first().copied().flatten())).collect();
    firsts.sort_by(f64::total_cmp);
    let start = firsts.get(firsts.len() / 2).copied();
    let capped = start.is_some_and(|st| lhi > st + 2.0);
    let lhi = if capped { start.unwrap_or(lhi) + 2.0 } else { lhi };
    let desc = if has_test { "loss (log scale)" } else { "training loss (log scale)" };
    let axis = if llo <= lhi {
        let (lo, hi) = style::pad(llo, lhi, 0.04);
        Axis::log(10f64.powf(lo), 10f64.powf(hi), desc)
    } else {
        Axis::log(0.1, 1.0, desc)
    };
    (axis, capped)
}

/// The metric axis, shared by every panel: log scale for mse, else linear
/// from 0 to at least 1 (acc_xor in quarters).
fn metric_axis(shown: &[&PointSummary], metric: Metric, has_test: bool) -> Axis {
    let name = metric.name();
    let desc = if has_test { name.to_string() } else { format!("training {name}") };
    if !metric.higher_is_better() {
        let (lo, hi) = value_range(shown, metric_of, true);
        let (lo, hi) = if lo <= hi { style::pad(lo, hi, 0.04) } else { (-1.0, 0.0) };
        return Axis::log(10f64.powf(lo), 10f64.powf(hi), format!("{desc} (log scale)"));
    }
    let (lo, hi) = value_range(shown, metric_of, false);
    let (lo, hi) = (lo.min(0.0), hi.max(1.0));
    let mut ax = Axis::linear(lo, hi, 5, desc);
    if metric == Metric::AccXor && (lo, hi) == (0.0, 1.0) {
        // acc_xor of 4 points moves in quarters.
        ax.ticks = (0..=4).map(|k| (k as f64 / 4.0, num(k as f64 / 4.0))).collect();
    }
    ax.range = (lo - 0.03 * (hi - lo))..(hi + 0.03 * (hi - lo));
    ax
}

/// Most lines per panel drawn with their percentile bands: past it the
/// overlapping bands turn to mud, and only the medians are drawn.
const MAX_BANDS: usize = 2;

/// Draws a panel's lines: every band first (so no band hides a median),
/// then the medians (a lone value as a dot) and the dashed test medians.
fn draw_lines<DB: DrawingBackend>(chart: &mut Chart<DB>, lines: &[Line], xs: &[f64], log: bool) -> PResult {
    let tr = |v: Option<f64>| if log { log_pos(v) } else { finite(v) };
    for (c, train, _) in lines.iter().filter(|_| lines.len() <= MAX_BANDS) {
        let both = train.p10.iter().zip(&train.p90).map(|(lo, hi)| tr(*lo).zip(tr(*hi)));
        for seg in segments(both) {
            let band: Vec<(f64, f64)> = seg
                .iter()
                .map(|(e, (_, hi))| (xs[*e], *hi))
                .chain(seg.iter().rev().map(|(e, (lo, _))| (xs[*e], *lo)))
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.1).filled())))?;
        }
    }
    for (c, train, test) in lines {
        for seg in segments(train.median.iter().map(|v| tr(*v))) {
            chart.draw_series(LineSeries::new(seg.iter().map(|(e, v)| (xs[*e], *v)), c.stroke_width(2)))?;
            if let [(e, v)] = seg.as_slice() {
                // A lone value (one recorded epoch, or between diverged stretches) as a dot.
                chart.draw_series(std::iter::once(Circle::new((xs[*e], *v), 4, c.filled())))?;
            }
        }
        for seg in test.iter().flat_map(|t| segments(t.median.iter().map(|v| tr(*v)))) {
            let pts: Vec<(f64, f64)> = seg.iter().map(|(e, v)| (xs[*e], *v)).collect();
            chart.draw_series(std::iter::once(DashedPathElement::new(pts, 7, 5, c.stroke_width(2))))?;
        }
    }
    Ok(())
}

impl Curves {
    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, r: &Results) -> PResult {
        let s = &r.summary;
        let (g, v) = (&s.axes, &r.view);
        let (n_arch, n_x) = (v.arch.len(g), v.x.len(g));
        let (j, l, setting) = setting(r);
        let point = |arch: usize, x: usize| r.at(Coord { arch, facet: r.slice.facet, x, y: j, z: l });
        let shown: Vec<&PointSummary> = (0..n_arch).flat_map(|ai| (0..n_x).filter_map(move |i| point(ai, i))).collect();
        let has_test = shown.iter().any(|p| p.curves.test_loss.is_some());
        let banded = n_x <= MAX_BANDS;
        let mut legend = x_legend(r, if banded { Mark::LineBand } else { Mark::Line });
        if has_test {
            legend.push((Mark::Dashed(MUTED), "test set (median)".into()));
        }
        let (x, to_x) = epoch_axis(&s.record_epochs, s.epochs);
        let xs: Vec<f64> = s.record_epochs.iter().map(|e| to_x(*e as f64)).collect();
        // Shared y axes across architectures so panels compare directly.
        let metric = s.criterion.metric;
        let (loss_axis, capped) = loss_axis(&shown, has_test);
        let metric_axis = metric_axis(&shown, metric, has_test);
        let title = format!("Learning curves{}", at_setting(r, j, l));
        let spread = if banded { " and 10th–90th percentile (band)" } else { "" };
        let subtitle = format!("median (line){spread} over {} seeds · {} · {setting}", s.seeds, r.slice.how);
        let body = style::header(root, &title, &subtitle, &legend)?;
        let rows = 2 * n_arch.div_ceil(self.cols);
        let (panels, _) = style::grid(&body, rows, self.cols, PANEL);
        let kinds = [(&loss_axis, "loss", true), (&metric_axis, metric.name(), !metric.higher_is_better())];
        for ai in 0..n_arch {
            let (block, col) = (ai / self.cols, ai % self.cols);
            for (row, (axis, what, log)) in kinds.into_iter().enumerate() {
                let area = &panels[(2 * block + row) * self.cols + col];
                let cap = if row == 0 && capped { " (axis capped at 100× the typical first loss)" } else { "" };
                let captions = [(format!("{} — {what}{cap}", v.arch.label(g, ai)), arch_color(ai))];
                let spec =
                    PanelSpec { captions: &captions, x: &x, y: axis, x_desc: row == 1, y_desc: col == 0, grid: true };
                let mut chart = style::panel(area, &spec)?;
                let series = |p: &PointSummary| match row {
                    0 => (p.curves.train_loss.clone(), p.curves.test_loss.clone()),
                    _ => (p.curves.train_metric.clone(), p.curves.test_metric.clone()),
                };
                let lines: Vec<Line> = (0..n_x)
                    .filter_map(|i| point(ai, i).map(|p| (ordered_color(i, n_x), series(p))))
                    .map(|(c, (train, test))| (c, train, test))
                    .collect();
                draw_lines(&mut chart, &lines, &xs, log)?;
            }
        }
        Ok(())
    }
}
