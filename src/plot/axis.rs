//! Axes: linear f64 coordinates with ticks chosen here (log axes are
//! linear axes over log10 values), range padding and 1-2-5 tick steps.

use crate::sweep::grid::short_number as num;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, KeyPointWeight, Ranged};
use std::ops::Range;

/// A linear f64 coordinate whose ticks are given, not computed.
pub struct Ticked {
    range: Range<f64>,
    ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = (v - self.range.start) / (self.range.end - self.range.start);
        limit.0 + ((limit.1 - limit.0) as f64 * t).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only bold lines (with labels); no light lines in between.
        match hint.weight() {
            KeyPointWeight::Bold => self.ticks.clone(),
            KeyPointWeight::Any => Vec::new(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// One axis: its range, labelled ticks and description.
#[derive(Clone, Debug)]
pub struct Axis {
    /// Range in drawing units (log10 for log axes).
    pub range: Range<f64>,
    /// Ticks: position and label.
    pub ticks: Vec<(f64, String)>,
    /// Description (with unit or scale).
    pub desc: String,
}

impl Axis {
    /// A linear axis over [lo, hi] (padded when empty) with about `n` round ticks.
    pub fn linear(lo: f64, hi: f64, n: usize, desc: impl Into<String>) -> Axis {
        let (lo, hi) = pad(lo, hi, 0.0);
        let step = nice_step((hi - lo) / n.max(1) as f64);
        let mut ticks = Vec::new();
        let mut k = (lo / step).ceil();
        while k * step <= hi + step * 1e-9 {
            let v = k * step;
            ticks.push((v, num(if v.abs() < step * 1e-9 { 0.0 } else { v })));
            k += 1.0;
        }
        Axis { range: lo..hi, ticks, desc: desc.into() }
    }

    /// A log axis over [lo, hi] (positive values) as log10, with ticks at 1-2-5 or whole decades.
    pub fn log(lo: f64, hi: f64, desc: impl Into<String>) -> Axis {
        let (l, h) = (lo.max(1e-300).log10(), hi.max(1e-300).log10());
        let (l, h) = if h - l < 0.3 { ((l + h) / 2.0 - 0.15, (l + h) / 2.0 + 0.15) } else { (l, h) };
        Axis { range: l..h, ticks: log_ticks(l, h), desc: desc.into() }
    }

    /// Ticks at given values (already in drawing units), labelled by `label`.
    pub fn at(range: Range<f64>, ticks: Vec<(f64, String)>, desc: impl Into<String>) -> Axis {
        Axis { range, ticks, desc: desc.into() }
    }

    /// The plotters coordinate of this axis (ticks outside the range dropped).
    pub fn coord(&self) -> Ticked {
        let (lo, hi) = (self.range.start.min(self.range.end), self.range.start.max(self.range.end));
        let eps = (hi - lo) * 1e-9;
        let ticks = self.ticks.iter().map(|t| t.0).filter(|v| *v >= lo - eps && *v <= hi + eps).collect();
        Ticked { range: self.range.clone(), ticks }
    }
}

/// Pads [lo, hi] by `frac` of its span on each side; an empty or degenerate range gets a unit-sized one.
pub fn pad(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.1 };
        return (lo - d, hi + d);
    }
    (lo - span * frac, hi + span * frac)
}

/// The 1-2-5 step nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw > 0.0 && raw.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let m = raw / p;
    p * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

/// Log10 positions of ticks between log10 bounds `l` and `h`, labelled by value.
pub fn log_ticks(l: f64, h: f64) -> Vec<(f64, String)> {
    let span = h - l;
    let mantissas: &[f64] = if span <= 1.3 {
        &[1.0, 2.0, 5.0]
    } else if span <= 2.5 {
        &[1.0, 3.0]
    } else {
        &[1.0]
    };
    // At most about 7 decade ticks.
    let every = ((span / 7.0).ceil() as i32).max(1);
    let mut out = Vec::new();
    let eps = 1e-9;
    for d in (l.floor() as i32 - 1)..=(h.ceil() as i32) {
        if d.rem_euclid(every) != 0 {
            continue;
        }
        for &m in mantissas {
            let v = m.log10() + d as f64;
            if v >= l - eps && v <= h + eps {
                out.push((v, num(m * 10f64.powi(d))));
            }
        }
    }
    if out.len() < 2 {
        // A narrow range inside one decade: fall back to linear-looking ticks on the log axis.
        let (a, b) = (10f64.powf(l), 10f64.powf(h));
        let step = nice_step((b - a) / 3.0);
        let mut k = (a / step).ceil();
        out.clear();
        while k * step <= b * (1.0 + eps) {
            out.push(((k * step).log10(), num(k * step)));
            k += 1.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_in_range() {
        let a = Axis::linear(0.0, 1.0, 5, "");
        assert_eq!(a.ticks.first().unwrap().1, "0");
        assert_eq!(a.ticks.last().unwrap().1, "1");
        let l = Axis::log(0.01, 1.0, "");
        let labels: Vec<&str> = l.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0.01", "0.03", "0.1", "0.3", "1"]);
        assert!(Axis::log(0.5, 0.6, "").ticks.len() >= 2);
        let (lo, hi) = pad(0.3, 0.3, 0.1);
        assert!((lo - 0.27).abs() < 1e-12 && (hi - 0.33).abs() < 1e-12);
    }
}
