//! Metrics: the course's `metrics.py` (`mse`, `acc`, `acc_xor`). A metric is
//! read, never trained on, and never modifies its input.
//!
//! - **mse**: mean over samples of the sum over outputs of (s - y)².
//! - **acc**: fraction of samples whose argmax score equals the class label.
//! - **acc_xor**: scores > 0.5 count as 1, scores < -0.5 as -1, the rest stay
//!   as they are; the fraction of entries then equal to the target.
//!
//! Like the losses, the `*_into` form works on the ensemble layout
//! (`[(n·outputs + o)·K + k]`) and writes one value per member.

use crate::error::Result;
use crate::losses::Loss;
use crate::scalar::Real;
use crate::simd::{One, Vector};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// A metric of the scores and the targets; higher is better except for `Mse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Mean summed squared error (lower is better).
    Mse,
    /// Classification accuracy (argmax vs class label).
    Acc,
    /// The course's XOR accuracy on ±1 targets.
    AccXor,
}

impl Metric {
    /// The name used in experiment files and results.
    pub fn name(&self) -> &'static str {
        match self {
            Metric::Mse => "mse",
            Metric::Acc => "acc",
            Metric::AccXor => "acc_xor",
        }
    }

    /// True when larger values are better.
    pub fn higher_is_better(&self) -> bool {
        !matches!(self, Metric::Mse)
    }

    /// Number of target columns this metric expects for `outputs` scores.
    pub fn target_columns(&self, outputs: usize) -> usize {
        match self {
            Metric::Acc => 1,
            _ => outputs,
        }
    }

    /// Metric per member, written to `out[k]`.
    pub fn value_into<F: Real>(&self, scores: &[F], targets: &[F], rows: usize, outputs: usize, out: &mut [F]) {
        out.fill(F::zero());
        self.sum_into(scores, targets, rows, outputs, out);
        self.finish(out, rows, outputs);
    }

    /// Adds each member's per-sample terms of these `rows`, in order, to
    /// `out[k]` (see [`Loss::sum_into`]); [`Self::finish`] turns the sums
    /// into the metric.
    pub(crate) fn sum_into<F: Real>(&self, scores: &[F], targets: &[F], rows: usize, outputs: usize, out: &mut [F]) {
        crate::cpu::dispatch!({
            let members = out.len();
            match self {
                Metric::Mse => Loss::Mse.sum_into(scores, targets, rows, outputs, out),
                Metric::AccXor => {
                    let len = rows * outputs * members;
                    for (s, y) in scores[..len].chunks_exact(members).zip(targets.chunks_exact(members)) {
                        for ((o, &s), &y) in out.iter_mut().zip(s).zip(y) {
                            *o += acc_xor_hit(s, y);
                        }
                    }
                }
                Metric::Acc => {
                    // Across members, one output at a time: each member's
                    // first highest score, by the same comparisons.
                    const B: usize = 64;
                    let (mut best, mut top) = ([0usize; B], [F::zero(); B]);
                    for n in 0..rows {
                        let s = &scores[n * outputs * members..(n + 1) * outputs * members];
                        let labels = &targets[n * members..(n + 1) * members];
                        for kb in (0..members).step_by(B) {
                            let w = B.min(members - kb);
                            best[..w].fill(0);
                            top[..w].copy_from_slice(&s[kb..kb + w]);
                            for o in 1..outputs {
                                let so = &s[o * members + kb..][..w];
                                for ((b, t), &v) in best.iter_mut().zip(top.iter_mut()).zip(so) {
                                    if v > *t {
                                        *b = o;
                                        *t = v;
                                    }
                                }
                            }
                            for l in 0..w {
                                if labels[kb + l].to_usize() == Some(best[l]) {
                                    out[kb + l] += F::one();
                                }
                            }
                        }
                    }
                }
            }
        })
    }

    /// The metric from the sums of [`Self::sum_into`] over `rows` samples.
    pub(crate) fn finish<F: Real>(&self, out: &mut [F], rows: usize, outputs: usize) {
        match self {
            Metric::AccXor => scale_acc_xor(out, rows, outputs),
            Metric::Mse | Metric::Acc => Loss::mean_of(out, rows),
        }
    }

    /// The metric of one network's scores (rows = samples); targets must
    /// match them (the same rows; as many columns, or one column of class
    /// labels in 0..outputs for acc).
    pub fn value<F: Real>(&self, scores: ArrayView2<F>, targets: ArrayView2<F>) -> Result<F> {
        let cols = self.target_columns(scores.ncols());
        crate::losses::check_scored_pair(scores, targets, cols, matches!(self, Metric::Acc))?;
        let (s, y) = (scores.as_standard_layout(), targets.as_standard_layout());
        let mut out = [F::zero()];
        self.value_into(
            s.as_slice().unwrap_or(&[]),
            y.as_slice().unwrap_or(&[]),
            scores.nrows(),
            scores.ncols(),
            &mut out,
        );
        Ok(out[0])
    }
}

/// acc_xor snaps a score beyond ±this to ±1 (and leaves it as it is
/// in between, where it can match no ±1 target).
pub const ACC_XOR_THRESHOLD: f64 = 0.5;

/// One score's term of acc_xor: 1 when the score, snapped to ±1 beyond
/// ±0.5, equals the target, else 0. Branch-free, so the loops that sum it
/// vectorise without masked stores.
#[inline(always)]
pub(crate) fn acc_xor_hit<F: Real>(s: F, y: F) -> F {
    acc_xor_hit_lanes(One::new(s), One::new(y)).get()
}

/// [`acc_xor_hit`] on every lane of a vector.
#[inline(always)]
pub(crate) fn acc_xor_hit_lanes<F: Real, V: Vector<F>>(s: V, y: V) -> V {
    let (t, one) = (F::of(ACC_XOR_THRESHOLD), V::splat(F::one()));
    let q = s.gt_or(V::splat(t), one, s.lt_or(V::splat(-t), V::splat(-F::one()), s));
    q.eq_or(y, one, V::splat(F::zero()))
}

/// Turns per-member sums of [`acc_xor_hit`] over `rows` × `outputs` scores into fractions.
pub(crate) fn scale_acc_xor<F: Real>(sums: &mut [F], rows: usize, outputs: usize) {
    let inv = F::one() / F::of((rows * outputs) as f64);
    sums.iter_mut().for_each(|o| *o *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn acc_xor_follows_the_course_rule() {
        // 0.8 -> 1 (match), -0.7 -> -1 (match), 0.2 stays 0.2 (no match), -0.6 -> -1 (no match, target 1)
        let s = array![[0.8f32], [-0.7], [0.2], [-0.6]];
        let y = array![[1.0f32], [-1.0], [1.0], [1.0]];
        assert_eq!(Metric::AccXor.value(s.view(), y.view()).unwrap(), 0.5);
        // The input is untouched.
        assert_eq!(s, array![[0.8f32], [-0.7], [0.2], [-0.6]]);
    }

    #[test]
    fn acc_is_argmax_against_labels() {
        let s = array![[1.8f32, 0.5], [-2.2, -1.7], [0.0, 3.0]];
        let y = array![[0.0f32], [1.0], [0.0]];
        assert!((Metric::Acc.value(s.view(), y.view()).unwrap() - 2.0 / 3.0).abs() < 1e-7);
    }

    #[test]
    fn mse_metric_equals_mse_loss() {
        let s = array![[0.5f64, 1.0], [-1.0, 2.0]];
        let y = array![[0.0f64, 0.0], [1.0, 2.0]];
        assert_eq!(Metric::Mse.value(s.view(), y.view()).unwrap(), 2.625);
    }
}
