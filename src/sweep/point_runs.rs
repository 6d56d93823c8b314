//! A grid point's runs as its statistics need them, column by column: the
//! outcome counts, the epochs runs converged at, each final value in seed
//! order, and, per curve and recorded epoch, the values of the runs that
//! reach that epoch (as f32 sort keys). A run costs 4 bytes per recorded
//! value and per final figure instead of its whole record (about 100 bytes
//! a run for XOR's 10-epoch curves, against several hundred), which keeps a
//! point of 10⁶ seeds near 100 MB. The statistics come out exactly as from
//! the records: quantiles and curve means are taken over sorted values, and
//! the order-sensitive means of final figures see the values in seed order,
//! which [`PointRuns::push`] enforces.

use super::record::{Class, Outcome, RunRecord};

/// Curves in a record, in this order: train loss, train metric, test loss,
/// test metric.
pub const CURVES: usize = 4;
/// Final figures in a record, in this order: train loss, train metric, test
/// loss, test metric, best test metric, validation metric.
pub const FINALS: usize = 6;

/// An integer that orders f32 values as `f32::total_cmp` does (flip the
/// magnitude bits of negative values); widening to f64 keeps that order, so
/// sorting these keys sorts the widened values as `f64::total_cmp` would,
/// with plain integer comparisons.
pub fn total_key(v: f32) -> i32 {
    let b = v.to_bits() as i32;
    b ^ (((b >> 31) as u32) >> 1) as i32
}

/// The value of a [`total_key`] (the flip is its own inverse).
pub fn from_total_key(k: i32) -> f32 {
    f32::from_bits((k ^ (((k >> 31) as u32) >> 1) as i32) as u32)
}

/// One point's runs so far.
#[derive(Clone, Debug, Default)]
pub struct PointRuns {
    /// Runs pushed.
    pub runs: usize,
    /// Seed index of the last run pushed.
    last_seed: Option<usize>,
    /// Runs whose outcome is converged.
    pub converged: usize,
    /// Runs that met the criterion after the last epoch.
    pub converged_at_end: usize,
    /// Runs whose outcome is diverged.
    pub diverged: usize,
    /// Runs per class, in [`Class::ALL`]'s order.
    pub classes: [usize; 5],
    /// `epochs_to_converge` of every run that has one (a run that diverged
    /// later included), in any order.
    pub epochs_to_converge: Vec<u32>,
    /// The epoch of every converged outcome, in any order.
    pub converged_at: Vec<u32>,
    /// Each final figure of the runs that have it, in seed order.
    pub finals: [Vec<f32>; FINALS],
    /// `curves[c][e]`: sort keys of curve c at recorded epoch e of the runs
    /// whose curve reaches it, in any order.
    pub curves: [Vec<Vec<i32>>; CURVES],
}

impl PointRuns {
    /// Room for `seeds` runs with curves of `len` recorded epochs, test
    /// curves included when `test`: the columns never grow past it, so a
    /// point's memory is what it needs and no more.
    pub fn with_capacity(seeds: usize, len: usize, test: bool) -> Self {
        let column = |on: bool| {
            let len = if on { len } else { 0 };
            (0..len).map(|_| Vec::with_capacity(seeds)).collect()
        };
        PointRuns {
            epochs_to_converge: Vec::with_capacity(seeds),
            converged_at: Vec::with_capacity(seeds),
            finals: std::array::from_fn(|i| Vec::with_capacity(if i < 2 || test { seeds } else { 0 })),
            curves: std::array::from_fn(|c| column(c < 2 || test)),
            ..Default::default()
        }
    }

    /// Adds a run, whose seed index must be above every one pushed before
    /// (else the message says which); curve values past `len` recorded
    /// epochs are ignored.
    pub fn push(&mut self, r: &RunRecord, len: usize) -> Result<(), String> {
        if self.last_seed.is_some_and(|s| s >= r.seed_index) {
            return Err(format!(
                "run {} (seed {}) of grid point {} came after seed {}: runs must come in seed order, once each",
                r.run,
                r.seed_index,
                r.point,
                self.last_seed.unwrap_or(0)
            ));
        }
        self.last_seed = Some(r.seed_index);
        self.add(r, len);
        Ok(())
    }

    /// Adds a run without checking its seed index: the caller orders them.
    pub fn add(&mut self, r: &RunRecord, len: usize) {
        self.runs += 1;
        match r.outcome() {
            Outcome::Converged { at } => {
                self.converged += 1;
                self.converged_at.push(at as u32);
            }
            Outcome::Diverged { .. } => self.diverged += 1,
            Outcome::NotConverged => {}
        }
        self.converged_at_end += usize::from(r.converged_at_end);
        self.classes[Class::ALL.iter().position(|&c| c == r.outcome).expect("every class is listed")] += 1;
        self.epochs_to_converge.extend(r.epochs_to_converge.map(|e| e as u32));
        for (column, v) in self.finals.iter_mut().zip(r.finals()) {
            column.extend(v);
        }
        for (columns, curve) in self.curves.iter_mut().zip(r.curves()) {
            let Some(curve) = curve else { continue };
            if columns.len() < len {
                columns.resize_with(len, Vec::new);
            }
            for (column, &v) in columns.iter_mut().zip(&curve[..curve.len().min(len)]) {
                column.push(total_key(v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_keys_sort_like_total_cmp_and_round_trip() {
        let values = [3.5f32, -0.0, f32::INFINITY, -1e-30, 0.0, f32::NEG_INFINITY, 1e-45, -7.25, 1.0, -1e-45];
        let mut by_cmp = values;
        by_cmp.sort_by(f32::total_cmp);
        let mut keys: Vec<i32> = values.iter().map(|&v| total_key(v)).collect();
        keys.sort_unstable();
        let back: Vec<u32> = keys.iter().map(|&k| from_total_key(k).to_bits()).collect();
        assert_eq!(back, by_cmp.map(f32::to_bits));
        // -0.0 sorts before +0.0, as in total_cmp.
        assert!(total_key(-0.0) < total_key(0.0));
    }
}
