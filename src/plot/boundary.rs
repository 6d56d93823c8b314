//! Picture 5: decision boundaries of problems with 2 inputs. The final
//! networks of the first seeds of each architecture's best and worst grid
//! points are rebuilt from their recorded weights and evaluated over the
//! input square; the output is drawn as a filled heatmap with its 0 level
//! (and, for acc_xor, the ±0.5 levels) and the training points on top.

use super::load::Results;
use super::style::{self, arch_color, diverging, num, Area, Axis, Mark, PResult, PanelSpec, INK, MUTED};
use super::{Figure, Format, Kind};
use crate::layers::Layer;
use crate::metrics::Metric;
use crate::sweep::aggregate::PointSummary;
use crate::sweep::config::Count;
use crate::sweep::record::RunRecord;
use crate::sweep::SweepError;
use crate::Network;
use ndarray::Array2;
use plotters::prelude::*;

/// One network's panel.
struct Panel {
    captions: Vec<(String, RGBColor)>,
    /// Output (or class index) at cell centres, row `iy` (from the bottom) then column `ix`.
    values: Vec<f32>,
    /// The output barely varies: its contours would only trace rounding noise.
    flat: bool,
}

/// The decision-boundary figure.
pub struct Boundaries {
    rows: Vec<Vec<Panel>>,
    cols: usize,
    /// Samples per side.
    g: usize,
    x: (f64, f64),
    y: (f64, f64),
    /// Training points: x1, x2, target (or class).
    points: Vec<(f64, f64, f64)>,
    /// Target range (regression) for the colour scale.
    target: (f64, f64),
    /// Number of classes (0: one continuous output).
    classes: usize,
    /// Draw the ±0.5 levels (acc_xor's thresholds).
    xor_levels: bool,
    /// Colour steps of the background (fewer for SVG, whose cells are merged).
    steps: f64,
}

const PANEL: (u32, u32) = (360, 392);

/// A grid point's rank for "best": higher rate, then fewer epochs to converge.
fn best_key(p: &PointSummary, count: Count) -> (f64, f64) {
    (-p.rate(count).0, p.epochs_to_converge.as_ref().map_or(f64::MAX, |q| q.median))
}

/// A grid point's rank for "worst": lower rate, then lower final metric.
fn worst_key(p: &PointSummary, count: Count) -> (f64, f64) {
    (p.rate(count).0, p.final_train_metric.as_ref().map_or(f64::MIN, |m| m.mean))
}

fn pick<'a>(
    pts: &[&'a PointSummary],
    count: Count,
    key: fn(&PointSummary, Count) -> (f64, f64),
) -> Option<&'a PointSummary> {
    pts.iter().copied().min_by(|a, b| {
        let (ka, kb) = (key(a, count), key(b, count));
        ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(a.point.cmp(&b.point))
    })
}

fn metric_text(metric: Metric, v: Option<f32>) -> String {
    match v {
        None => "diverged".into(),
        Some(v) if metric == Metric::Mse => format!("final mse {}", num(v as f64)),
        Some(v) => format!("final {} {:.2}", if metric == Metric::AccXor { "acc" } else { metric.name() }, v),
    }
}

/// The figure, when the problem has 2 inputs and weights were recorded.
pub fn figure(r: &Results, format: Format) -> Result<Option<Figure>, SweepError> {
    let Some(m) = &r.manifest else { return Ok(None) };
    if m.planes.iter().all(Option::is_none) || m.experiment.record.weights == 0 {
        return Ok(None);
    }
    let s = &r.summary;
    let (g, v) = (&s.axes, &r.view);
    // The network and data a point was trained with, as the manifest recorded them.
    let family = |p: &PointSummary| m.families.iter().find(|f| f.points.contains(&p.point));
    let plane = |p: &PointSummary| family(p).and_then(|f| m.planes.get(f.data)).and_then(Option::as_ref);
    let mut chosen: Vec<(usize, &'static str, &PointSummary)> = Vec::new();
    for ai in 0..v.arch.len(g) {
        let pts: Vec<&PointSummary> =
            s.points.iter().filter(|p| r.coord_of(p).arch == ai && plane(p).is_some()).collect();
        let count = s.criterion.count;
        let (best, worst) = (pick(&pts, count, best_key), pick(&pts, count, worst_key));
        if let Some(b) = best {
            chosen.push((ai, "best", b));
        }
        if let Some(w) = worst.filter(|w| best.is_none_or(|b| b.point != w.point)) {
            chosen.push((ai, "worst", w));
        }
    }
    let ids: Vec<usize> = chosen.iter().map(|c| c.2.point).collect();
    let weights = r.weights(&ids)?;
    let g = match format {
        Format::Png => 120,
        Format::Svg => 60,
    };
    let Some(first) = chosen.first() else { return Ok(None) };
    let data = plane(first.2).expect("chosen points have a plane");
    let span = |c: usize| {
        let (lo, hi) =
            data.points.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p[c] as f64), h.max(p[c] as f64)));
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (-1.0, 1.0) };
        style::pad(lo, hi, 0.25)
    };
    let (xr, yr) = (span(0), span(1));
    let grid = Array2::from_shape_fn((g * g, 2), |(k, c)| {
        let (ix, iy) = (k % g, k / g);
        let t = if c == 0 { (ix as f64 + 0.5) / g as f64 } else { (iy as f64 + 0.5) / g as f64 };
        let (lo, hi) = if c == 0 { xr } else { yr };
        (lo + t * (hi - lo)) as f32
    });
    let classes = data.classes;
    let shown: Vec<&str> = s.axes.varying().into_iter().filter(|n| *n != "architecture").collect();
    let metric = s.criterion.metric;
    let mut rows = Vec::new();
    for (ai, which, p) in &chosen {
        let line1 = [v.arch.label(&s.axes, *ai), s.axes.describe(p.point, &shown)].join(" · ");
        let line1 = line1.trim_end_matches(" · ").to_string();
        let Some(layers) = family(p).map(|f| f.layers.as_slice()) else { continue };
        let mut row = Vec::new();
        for rec in weights.get(&p.point).map(|v| v.as_slice()).unwrap_or(&[]) {
            let Some(values) = evaluate(layers, rec, &grid, classes) else { continue };
            let (lo, hi) = values.iter().fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
            let flat = classes == 0 && (hi - lo) < 1e-3;
            let line2 = format!(
                "{which} (rate {}) · seed {}: {}{}",
                style::rate(p.rate(r.summary.criterion.count).0),
                rec.seed_index,
                metric_text(metric, rec.final_train_metric),
                if flat { " · flat" } else { "" }
            );
            row.push(Panel { captions: vec![(line1.clone(), arch_color(*ai)), (line2, INK)], values, flat });
        }
        if !row.is_empty() {
            rows.push(row);
        }
    }
    let Some(cols) = rows.iter().map(|r| r.len()).max() else { return Ok(None) };
    let points: Vec<(f64, f64, f64)> = data.points.iter().map(|p| (p[0] as f64, p[1] as f64, p[2] as f64)).collect();
    let target = points.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.2), h.max(p.2)));
    let target = if target.0 < target.1 { target } else { (-1.0, 1.0) };
    let w = (12 + cols as u32 * PANEL.0 + 16).max(1000);
    let h = style::header_height(true) + rows.len() as u32 * PANEL.1 + 12;
    let n = rows.len();
    Ok(Some(Figure {
        stem: "decision_boundaries".into(),
        heading: "Decision boundaries".into(),
        caption: format!(
            "Network output over the input square for the first seeds (columns) of each architecture's best and worst grid point (rows, {n} in all). Red is high output, blue low; the black line is the decision boundary; dots are the training points coloured by target; \"flat\" marks a network whose output is constant, so it has no boundary.{}",
            if metric == Metric::AccXor {
                " acc_xor counts a pattern only where the output is beyond ±0.5 (the thin lines) on the target's side: a pale panel whose colours put every dot on the right side can still score 0, its outputs too close to 0 (the typical end under strong L2)"
            } else {
                ""
            }
        ),
        size: (w, h),
        kind: Kind::Boundary(Boundaries {
            rows,
            cols,
            g,
            x: xr,
            y: yr,
            points,
            target,
            classes,
            xor_levels: metric == Metric::AccXor,
            steps: if format == Format::Png { 128.0 } else { 40.0 },
        }),
    }))
}

/// The network of a run evaluated on the grid (None when its weights do not fit the architecture).
fn evaluate(layers: &[Layer], rec: &RunRecord, grid: &Array2<f32>, classes: usize) -> Option<Vec<f32>> {
    let w = rec.weights.as_ref()?;
    // A hand-edited manifest must not make this allocate a huge network.
    if crate::sweep::family::param_count(layers) != Some(w.len()) {
        return None;
    }
    let mut net = Network::<f32>::new(0);
    for layer in layers {
        net.add(*layer).ok()?;
    }
    net.set_params(w).ok()?;
    let out = net.predict(grid.view()).ok()?;
    Some(if classes > 0 && out.ncols() > 1 {
        out.rows()
            .into_iter()
            .map(|r| r.iter().enumerate().fold((0, f32::MIN), |b, (i, v)| if *v > b.1 { (i, *v) } else { b }).0 as f32)
            .collect()
    } else {
        out.column(0).to_vec()
    })
}

/// Segments of the level-`c` contour of `v` (g × g samples at cell centres), in sample units.
fn contour(v: &[f32], g: usize, c: f32) -> Vec<[(f64, f64); 2]> {
    let mut out = Vec::new();
    let at = |ix: usize, iy: usize| v[iy * g + ix] - c;
    for iy in 0..g.saturating_sub(1) {
        for ix in 0..g - 1 {
            // Corners counter-clockwise from bottom-left, with their positions.
            let corners = [(ix, iy), (ix + 1, iy), (ix + 1, iy + 1), (ix, iy + 1)];
            let vals = corners.map(|(x, y)| at(x, y));
            if vals.iter().any(|v| !v.is_finite()) {
                continue;
            }
            // Crossings on each edge (edge k joins corner k and k+1).
            let mut cross: Vec<(usize, (f64, f64))> = Vec::new();
            for k in 0..4 {
                let (a, b) = (vals[k], vals[(k + 1) % 4]);
                if (a < 0.0) != (b < 0.0) {
                    let t = (a / (a - b)) as f64;
                    let (pa, pb) = (corners[k], corners[(k + 1) % 4]);
                    let p =
                        (pa.0 as f64 + t * (pb.0 as f64 - pa.0 as f64), pa.1 as f64 + t * (pb.1 as f64 - pa.1 as f64));
                    cross.push((k, p));
                }
            }
            match cross.len() {
                2 => out.push([cross[0].1, cross[1].1]),
                4 => {
                    // Saddle: pair the crossings so the centre's sign separates them.
                    let centre = vals.iter().sum::<f32>() / 4.0;
                    if (centre < 0.0) == (vals[0] < 0.0) {
                        out.push([cross[0].1, cross[1].1]);
                        out.push([cross[2].1, cross[3].1]);
                    } else {
                        out.push([cross[0].1, cross[3].1]);
                        out.push([cross[1].1, cross[2].1]);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

impl Boundaries {
    fn class_color(&self, k: usize) -> RGBColor {
        arch_color(k)
    }

    fn cell_color(&self, v: f32) -> RGBColor {
        if self.classes > 0 {
            let c = self.class_color(v as usize);
            let mix = |a: u8| (a as f64 * 0.45 + 255.0 * 0.55) as u8;
            RGBColor(mix(c.0), mix(c.1), mix(c.2))
        } else {
            let t = (v as f64 - self.target.0) / (self.target.1 - self.target.0);
            diverging((t * self.steps).round() / self.steps)
        }
    }

    fn point_color(&self, t: f64) -> RGBColor {
        if self.classes > 0 {
            self.class_color(t as usize)
        } else {
            diverging((t - self.target.0) / (self.target.1 - self.target.0))
        }
    }

    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, _r: &Results) -> PResult {
        let (lo, hi) = self.target;
        let mid = (lo + hi) / 2.0;
        let mut legend: Vec<(Mark, String)> = Vec::new();
        if self.classes > 0 {
            for k in 0..self.classes.min(8) {
                legend.push((Mark::Dot(self.class_color(k)), format!("class {k}")));
            }
        } else {
            legend.push((Mark::Dot(self.point_color(lo)), format!("target {}", num(lo))));
            legend.push((Mark::Dot(self.point_color(hi)), format!("target {}", num(hi))));
            legend.push((Mark::Line(INK), format!("output = {} (decision boundary)", num(mid))));
            if self.xor_levels {
                legend.push((Mark::Line(MUTED), "output = ±0.5 (acc_xor thresholds)".into()));
            }
        }
        let subtitle = if self.classes > 0 {
            "background: predicted class (argmax of the outputs)".to_string()
        } else {
            format!(
                "background: network output, from {} (blue) through {} (white) to {} (red) · first recorded seeds of each architecture's best and worst grid point",
                num(lo),
                num(mid),
                num(hi)
            )
        };
        let body = style::header(root, "Decision boundaries of trained networks", &subtitle, &legend)?;
        let (panels, _) = style::grid(&body, self.rows.len(), self.cols, PANEL);
        let x = Axis::linear(self.x.0, self.x.1, 3, "input x₁");
        let y = Axis::linear(self.y.0, self.y.1, 3, "input x₂");
        let (x, y) = (Axis { range: self.x.0..self.x.1, ..x }, Axis { range: self.y.0..self.y.1, ..y });
        let g = self.g;
        let (dx, dy) = ((self.x.1 - self.x.0) / g as f64, (self.y.1 - self.y.0) / g as f64);
        // Sample (ix, iy) sits at the centre of its cell.
        let to_data = |(sx, sy): (f64, f64)| (self.x.0 + (sx + 0.5) * dx, self.y.0 + (sy + 0.5) * dy);
        for (ri, row) in self.rows.iter().enumerate() {
            for (ci, p) in row.iter().enumerate() {
                let spec = PanelSpec {
                    captions: &p.captions,
                    x: &x,
                    y: &y,
                    x_desc: ri == self.rows.len() - 1,
                    y_desc: ci == 0,
                    grid: false,
                };
                let mut chart = style::panel(&panels[ri * self.cols + ci], &spec)?;
                // Cells, merged along x where the (quantised) colour repeats.
                let mut cells = Vec::new();
                for iy in 0..g {
                    let mut ix = 0;
                    while ix < g {
                        let c = self.cell_color(p.values[iy * g + ix]);
                        let mut end = ix + 1;
                        while end < g && self.cell_color(p.values[iy * g + end]) == c {
                            end += 1;
                        }
                        // Shared edges computed by one formula, so neighbouring cells meet exactly.
                        let (x0, x1) = (self.x.0 + ix as f64 * dx, self.x.0 + end as f64 * dx);
                        let (y0, y1) = (self.y.0 + iy as f64 * dy, self.y.0 + (iy + 1) as f64 * dy);
                        cells.push(Rectangle::new([(x0, y0), (x1, y1)], c.filled()));
                        ix = end;
                    }
                }
                chart.draw_series(cells)?;
                if self.classes == 0 && !p.flat {
                    let mut levels = vec![(mid, INK.stroke_width(2))];
                    if self.xor_levels {
                        let t = crate::metrics::ACC_XOR_THRESHOLD;
                        levels.extend([(-t, MUTED.stroke_width(1)), (t, MUTED.stroke_width(1))]);
                    }
                    for (level, st) in levels {
                        let segs = contour(&p.values, g, level as f32);
                        chart.draw_series(
                            segs.into_iter().map(|[a, b]| PathElement::new(vec![to_data(a), to_data(b)], st)),
                        )?;
                    }
                }
                for &(px, py, t) in &self.points {
                    // A white ring keeps each dot apart from a background of its own colour.
                    chart.draw_series(std::iter::once(Circle::new((px, py), 11, WHITE.filled())))?;
                    chart.draw_series(std::iter::once(Circle::new((px, py), 7, self.point_color(t).filled())))?;
                    chart.draw_series(std::iter::once(Circle::new((px, py), 7, INK.stroke_width(2))))?;
                    chart.draw_series(std::iter::once(Circle::new((px, py), 11, INK.stroke_width(1))))?;
                }
            }
        }
        Ok(())
    }
}
