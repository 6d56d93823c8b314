//! Picture 4: time to converge. The fraction of runs converged by each
//! recorded epoch, one panel per architecture, one line per value of the
//! view's x axis (at the setting of the learning curves): a line that rises
//! earlier converges faster, a line that ends higher converges more often.

use super::curves::{at_setting, epoch_axis, setting, x_legend};
use super::load::{Coord, Results};
use super::style::{self, arch_color, ordered_color, Area, Axis, Mark, PResult, PanelSpec};
use super::{Figure, Kind};
use plotters::prelude::*;

/// The time-to-converge figure.
pub struct TimeToConverge {
    cols: usize,
}

const PANEL: (u32, u32) = (560, 380);

/// The figure.
pub fn figure(r: &Results) -> Figure {
    let (cols, (w, h)) = style::arch_grid(r.view.arch.len(&r.summary.axes), 1, PANEL);
    let (_, _, setting) = setting(r);
    Figure {
        stem: "time_to_converge".into(),
        heading: format!("Time to converge ({setting})"),
        caption: format!("Fraction of runs that have met the convergence criterion by each epoch, one line per {}. A line that rises earlier converges faster; its height at the last epoch is the convergence rate.", r.view.x.title(&r.summary.axes)),
        size: (w, h),
        kind: Kind::Ecdf(TimeToConverge { cols }),
    }
}

impl TimeToConverge {
    /// Draws the figure.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>, r: &Results) -> PResult {
        let s = &r.summary;
        let (g, v) = (&s.axes, &r.view);
        let (n_arch, n_x) = (v.arch.len(g), v.x.len(g));
        let (j, l, setting) = setting(r);
        let legend = x_legend(r, Mark::Line);
        let title = format!("Time to converge{}", at_setting(r, j, l));
        let subtitle = format!(
            "fraction of {} seeds that reached {} by each epoch · {} · {setting}",
            s.seeds,
            r.criterion(),
            r.slice.how
        );
        let body = style::header(root, &title, &subtitle, &legend)?;
        let rows = n_arch.div_ceil(self.cols);
        let (panels, _) = style::grid(&body, rows, self.cols, PANEL);
        let (x, to_x) = epoch_axis(&s.record_epochs, s.epochs);
        let xs: Vec<f64> = s.record_epochs.iter().map(|e| to_x(*e as f64)).collect();
        let mut y = Axis::linear(0.0, 1.0, 5, "fraction of runs converged");
        y.range = -0.03..1.03;
        for (ai, area) in panels.iter().enumerate().take(n_arch) {
            let captions = [(v.arch.label(g, ai), arch_color(ai))];
            let spec = PanelSpec {
                captions: &captions,
                x: &x,
                y: &y,
                x_desc: ai / self.cols == rows - 1 || ai + self.cols >= n_arch,
                y_desc: ai % self.cols == 0,
                grid: true,
            };
            let mut chart = style::panel(area, &spec)?;
            for i in 0..n_x {
                let Some(p) = r.at(Coord { arch: ai, facet: r.slice.facet, x: i, y: j, z: l }) else { continue };
                let c = ordered_color(i, n_x);
                let pts: Vec<(f64, f64)> = xs
                    .iter()
                    .zip(&p.converged_by_epoch)
                    .map(|(x, f)| (*x, *f))
                    .filter(|(_, f)| f.is_finite())
                    .collect();
                if let [p] = pts.as_slice() {
                    chart.draw_series(std::iter::once(Circle::new(*p, 5, c.filled())))?;
                }
                chart.draw_series(LineSeries::new(pts, c.stroke_width(3)))?;
            }
        }
        Ok(())
    }
}
