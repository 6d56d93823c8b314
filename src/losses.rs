//! Loss functions: the course's `losses.py` (MSE and CCE), value and gradient
//! with respect to the scores, side by side.
//!
//! - **MSE** = mean over samples of the *sum* over outputs of (s - y)²;
//!   gradient 2(s - y)/N.
//! - **CCE** = softmax followed by categorical cross-entropy against class
//!   labels (one column holding the class index). It takes raw scores (use a
//!   `linear` output layer) and subtracts the per-sample maximum before
//!   exponentiating, so it is stable for scores of any size. Gradient
//!   (softmax(s) - onehot(y))/N.
//!
//! The `*_into` functions work on the ensemble layout used by every kernel:
//! `scores[(n·outputs + o)·K + k]` for sample n, output o, member k, and write
//! one value per member. [`Loss::value`] and [`Loss::gradient`] are the
//! course's two-dimensional forms (one network, rows = samples).

use crate::activations::with_derivative;
use crate::error::{Error, Result};
use crate::scalar::Real;
use crate::simd::{One, Vector};
use crate::Activation;
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// A loss function of the scores and the targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Mean over samples of the summed squared error.
    Mse,
    /// Softmax + categorical cross-entropy on class-index targets.
    Cce,
}

impl Loss {
    /// Number of target columns this loss expects for `outputs` scores.
    pub fn target_columns(&self, outputs: usize) -> usize {
        match self {
            Loss::Mse => outputs,
            Loss::Cce => 1,
        }
    }

    /// Loss per member: `out[k]` for scores of `rows` samples × `outputs` × K.
    pub fn value_into<F: Real>(&self, scores: &[F], targets: &[F], rows: usize, outputs: usize, out: &mut [F]) {
        out.fill(F::zero());
        self.sum_into(scores, targets, rows, outputs, out);
        Self::mean_of(out, rows);
    }

    /// Adds each member's per-sample losses of these `rows`, in order, to
    /// `out[k]`: [`Self::value_into`] without the start from zero and the
    /// division, so that a set evaluated in consecutive chunks of rows sums
    /// to the same bits as in one piece.
    pub(crate) fn sum_into<F: Real>(&self, scores: &[F], targets: &[F], rows: usize, outputs: usize, out: &mut [F]) {
        crate::cpu::dispatch!({
            let k_n = out.len();
            match self {
                Loss::Mse => {
                    for (s, y) in scores[..rows * outputs * k_n].chunks_exact(k_n).zip(targets.chunks_exact(k_n)) {
                        for ((o, &s), &y) in out.iter_mut().zip(s).zip(y) {
                            *o += mse_term(s, y);
                        }
                    }
                }
                Loss::Cce => {
                    let (mut m, mut sum) = ([F::zero(); SOFTMAX_BLOCK], [F::zero(); SOFTMAX_BLOCK]);
                    for n in 0..rows {
                        let s = &scores[n * outputs * k_n..(n + 1) * outputs * k_n];
                        let labels = &targets[n * k_n..(n + 1) * k_n];
                        for kb in (0..k_n).step_by(SOFTMAX_BLOCK) {
                            let w = SOFTMAX_BLOCK.min(k_n - kb);
                            softmax_block::<F, false>(s, outputs, k_n, kb, w, &mut m, &mut sum, &mut []);
                            for l in 0..w {
                                let k = kb + l;
                                let label = labels[k].to_usize().unwrap_or(0);
                                out[k] += m[l] + sum[l].portable_ln() - s[label * k_n + k];
                            }
                        }
                    }
                }
            }
        })
    }

    /// Sums over `rows` samples divided by `rows`.
    pub(crate) fn mean_of<F: Real>(out: &mut [F], rows: usize) {
        let inv_n = F::one() / F::of(rows as f64);
        out.iter_mut().for_each(|o| *o *= inv_n);
    }

    /// d loss / d scores, written into `grad` (same layout as `scores`).
    pub fn gradient_into<F: Real>(
        &self,
        scores: &[F],
        targets: &[F],
        rows: usize,
        outputs: usize,
        members: usize,
        grad: &mut [F],
    ) {
        crate::cpu::dispatch!({
            let len = rows * outputs * members;
            let inv_n = F::one() / F::of(rows as f64);
            match self {
                Loss::Mse => {
                    let c = mse_scale::<F>(rows);
                    for ((g, &s), &y) in grad[..len].iter_mut().zip(&scores[..len]).zip(targets) {
                        *g = mse_gradient(c, s, y);
                    }
                }
                Loss::Cce => {
                    let (mut m, mut sum) = ([F::zero(); SOFTMAX_BLOCK], [F::zero(); SOFTMAX_BLOCK]);
                    for n in 0..rows {
                        let block = n * outputs * members..(n + 1) * outputs * members;
                        let s = &scores[block.clone()];
                        let g = &mut grad[block];
                        let labels = &targets[n * members..(n + 1) * members];
                        for kb in (0..members).step_by(SOFTMAX_BLOCK) {
                            let w = SOFTMAX_BLOCK.min(members - kb);
                            // The exponentials once, into g, summed in the
                            // order of softmax_block's: the same sum and values.
                            softmax_block::<F, true>(s, outputs, members, kb, w, &mut m, &mut sum, g);
                            let mut inv_sum = [F::zero(); SOFTMAX_BLOCK];
                            for l in 0..w {
                                inv_sum[l] = F::one() / sum[l];
                            }
                            for o in 0..outputs {
                                let go = &mut g[o * members + kb..][..w];
                                for (v, &i) in go.iter_mut().zip(&inv_sum) {
                                    *v = *v * i * inv_n;
                                }
                            }
                            for l in 0..w {
                                let label = labels[kb + l].to_usize().unwrap_or(0);
                                g[label * members + kb + l] -= inv_n;
                            }
                        }
                    }
                }
            }
        })
    }

    /// dL/dz for the output layer: the gradient with respect to the scores
    /// taken through the output activation `act` (the scores are its
    /// outputs). For MSE one pass; the values are those of
    /// [`Self::gradient_into`] followed by [`Activation::backprop_in_place`].
    #[allow(clippy::too_many_arguments)]
    pub fn delta_into<F: Real>(
        &self,
        scores: &[F],
        targets: &[F],
        rows: usize,
        outputs: usize,
        members: usize,
        act: Activation,
        delta: &mut [F],
    ) {
        crate::cpu::dispatch!({
            let len = rows * outputs * members;
            match self {
                Loss::Mse => {
                    let c = mse_scale::<F>(rows);
                    with_derivative!(F, act, |d| {
                        for ((g, &s), &y) in delta[..len].iter_mut().zip(&scores[..len]).zip(targets) {
                            *g = mse_gradient(c, s, y) * d(s);
                        }
                    })
                }
                Loss::Cce => {
                    self.gradient_into(scores, targets, rows, outputs, members, delta);
                    act.backprop_in_place(&scores[..len], &mut delta[..len]);
                }
            }
        })
    }

    /// The course's `__call__`: loss of one network's scores (rows = samples).
    /// Targets must match the scores: the same rows, as many columns (MSE)
    /// or one column of class labels in 0..outputs (CCE).
    pub fn value<F: Real>(&self, scores: ArrayView2<F>, targets: ArrayView2<F>) -> Result<F> {
        self.check_pair(scores, targets)?;
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

    /// Checks that `targets` fit `scores` (see [`Self::value`]).
    pub fn check_pair<F: Real>(&self, scores: ArrayView2<F>, targets: ArrayView2<F>) -> Result<()> {
        check_scored_pair(scores, targets, self.target_columns(scores.ncols()), matches!(self, Loss::Cce))
    }

    /// The course's `gradient`: d loss / d scores for one network (targets
    /// checked as for [`Self::value`]).
    pub fn gradient<F: Real>(&self, scores: ArrayView2<F>, targets: ArrayView2<F>) -> Result<Array2<F>> {
        self.check_pair(scores, targets)?;
        let (s, y) = (scores.as_standard_layout(), targets.as_standard_layout());
        let mut g = Array2::zeros(scores.raw_dim());
        self.gradient_into(
            s.as_slice().unwrap_or(&[]),
            y.as_slice().unwrap_or(&[]),
            scores.nrows(),
            scores.ncols(),
            1,
            g.as_slice_mut().unwrap_or(&mut []),
        );
        Ok(g)
    }
}

/// One score's term of the MSE sum: (s - y)².
#[inline(always)]
pub(crate) fn mse_term<F: Real>(s: F, y: F) -> F {
    mse_term_lanes(One::new(s), One::new(y)).get()
}

/// [`mse_term`] on every lane of a vector.
#[inline(always)]
pub(crate) fn mse_term_lanes<F, V: Vector<F>>(s: V, y: V) -> V {
    let e = s.sub(y);
    e.mul(e)
}

/// The scale of the MSE gradient for `rows` samples: 2/N (as 2·(1/N)).
#[inline(always)]
pub(crate) fn mse_scale<F: Real>(rows: usize) -> F {
    F::of(2.0) * (F::one() / F::of(rows as f64))
}

/// One score's MSE gradient: `c`·(s - y), with `c` from [`mse_scale`].
#[inline(always)]
pub(crate) fn mse_gradient<F: Real>(c: F, s: F, y: F) -> F {
    mse_gradient_lanes(One::new(c), One::new(s), One::new(y)).get()
}

/// [`mse_gradient`] on every lane of a vector.
#[inline(always)]
pub(crate) fn mse_gradient_lanes<F, V: Vector<F>>(c: V, s: V, y: V) -> V {
    c.mul(s.sub(y))
}

/// Checks scores and targets of one network: at least one row, the same
/// rows, `cols` target columns, finite targets, and class labels in
/// 0..outputs when `labels`. Scores may be anything (a diverged network's).
pub(crate) fn check_scored_pair<F: Real>(
    scores: ArrayView2<F>,
    targets: ArrayView2<F>,
    cols: usize,
    labels: bool,
) -> Result<()> {
    if scores.nrows() == 0 {
        return Err(Error::Empty { what: "scores" });
    }
    if scores.nrows() != targets.nrows() {
        return Err(Error::RowMismatch { what: "scores and targets", x_rows: scores.nrows(), y_rows: targets.nrows() });
    }
    crate::data::check_targets("targets", targets, cols, labels.then_some(scores.ncols()))
}

/// Members whose softmax statistics run side by side (one sample at a time,
/// vectorised across members).
const SOFTMAX_BLOCK: usize = 64;

/// Softmax statistics of one sample for members `kb..kb + w` (w ≤
/// [`SOFTMAX_BLOCK`]): each member's max score into `m`, and Σ exp(s − max)
/// over the outputs in order into `sum`; with EXPS, each exponential is also
/// written to `exps` (laid out like `s`). The loops run over outputs, then
/// members, so they vectorise across members; each member's values are the
/// same operations in the same order as one member alone.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn softmax_block<F: Real, const EXPS: bool>(
    s: &[F],
    outputs: usize,
    members: usize,
    kb: usize,
    w: usize,
    m: &mut [F; SOFTMAX_BLOCK],
    sum: &mut [F; SOFTMAX_BLOCK],
    exps: &mut [F],
) {
    let (m, sum) = (&mut m[..w], &mut sum[..w]);
    m.fill(F::neg_infinity());
    for o in 0..outputs {
        for (m, &v) in m.iter_mut().zip(&s[o * members + kb..][..w]) {
            *m = m.max(v);
        }
    }
    sum.fill(F::zero());
    for o in 0..outputs {
        let so = &s[o * members + kb..][..w];
        if EXPS {
            let eo = &mut exps[o * members + kb..][..w];
            for (((e, sm), &v), &mx) in eo.iter_mut().zip(sum.iter_mut()).zip(so).zip(m.iter()) {
                *e = (v - mx).fast_exp();
                *sm += *e;
            }
        } else {
            for ((sm, &v), &mx) in sum.iter_mut().zip(so).zip(m.iter()) {
                *sm += (v - mx).fast_exp();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn mse_reference_value() {
        // mean over 2 samples of the summed squared error: ((0.5² + 1²) + (2²+0)) / 2
        let s = array![[0.5f64, 1.0], [-1.0, 2.0]];
        let y = array![[0.0f64, 0.0], [1.0, 2.0]];
        assert!((Loss::Mse.value(s.view(), y.view()).unwrap() - 2.625).abs() < 1e-15);
    }

    #[test]
    fn cce_reference_value_and_large_scores() {
        // python: s=[1,2,3]; -log(exp(s[2])/sum(exp(s))) = 0.40760596444437
        let s = array![[1.0f64, 2.0, 3.0]];
        let y = array![[2.0f64]];
        assert!((Loss::Cce.value(s.view(), y.view()).unwrap() - 0.407_605_964_444_38).abs() < 1e-12);
        // Shifting by 1000 must change nothing (stability).
        let big = s.mapv(|v| v + 1000.0);
        assert!((Loss::Cce.value(big.view(), y.view()).unwrap() - 0.407_605_964_444_38).abs() < 1e-12);
        let g = Loss::Cce.gradient(big.view(), y.view()).unwrap();
        assert!(g.iter().all(|v| v.is_finite()));
        let f = array![[1e30f32, -1e30]];
        assert!(Loss::Cce.value(f.view(), array![[1.0f32]].view()).unwrap().is_finite());
    }

    fn check_gradient(loss: Loss, s: Array2<f64>, y: Array2<f64>) {
        let g = loss.gradient(s.view(), y.view()).unwrap();
        let h = 1e-6;
        for idx in 0..s.len() {
            let (r, c) = (idx / s.ncols(), idx % s.ncols());
            let mut p = s.clone();
            p[[r, c]] += h;
            let mut m = s.clone();
            m[[r, c]] -= h;
            let fd = (loss.value(p.view(), y.view()).unwrap() - loss.value(m.view(), y.view()).unwrap()) / (2.0 * h);
            let err = (fd - g[[r, c]]).abs() / g[[r, c]].abs().max(1e-3);
            assert!(err < 1e-6, "{loss:?} [{r},{c}]: analytic {}, numeric {fd}", g[[r, c]]);
        }
    }

    #[test]
    fn mse_gradient_matches_finite_difference() {
        check_gradient(
            Loss::Mse,
            array![[0.3, -0.7], [1.2, 0.1], [-0.4, 0.9]],
            array![[1.0, -1.0], [0.0, 0.5], [-1.0, 1.0]],
        );
    }

    #[test]
    fn cce_gradient_matches_finite_difference() {
        check_gradient(
            Loss::Cce,
            array![[0.3, -0.7, 2.0], [1.2, 0.1, -0.5], [-0.4, 0.9, 0.0]],
            array![[2.0], [0.0], [1.0]],
        );
    }
}
