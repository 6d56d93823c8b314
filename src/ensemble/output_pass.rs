//! The output layer's pass of a full-batch epoch: dL/dz for the backward
//! pass and, from the same reads of the scores and targets, each member's
//! loss and metric, which the report of the previous epoch's update needs.
//! One pass over the scores instead of three. Each value is the one
//! [`Loss::delta_into`], [`Loss::value_into`] and [`Metric::value_into`]
//! give, computed with the same operations in the same order.

use crate::activations::with_derivative;
use crate::losses::Loss;
use crate::losses::{mse_gradient, mse_scale, mse_term};
use crate::metrics::{acc_xor_hit, scale_acc_xor, Metric};
use crate::scalar::Real;
use crate::Activation;

/// Where the pass reads and writes, for `rows` samples × `outputs` scores × K members.
pub(crate) struct OutputPass<'a, F> {
    /// Scores (outputs of the last layer, after its activation `act`).
    pub scores: &'a [F],
    /// Targets, same layout.
    pub targets: &'a [F],
    /// Samples.
    pub rows: usize,
    /// Scores per sample.
    pub outputs: usize,
    /// The output layer's activation.
    pub act: Activation,
    /// dL/dz of the output layer.
    pub delta: &'a mut [F],
    /// Loss per member, without the penalty.
    pub loss: &'a mut [F],
    /// Metric per member.
    pub metric: &'a mut [F],
}

impl<F: Real> OutputPass<'_, F> {
    /// Runs the fused pass for MSE with an element-wise metric (mse,
    /// acc_xor) and returns true; returns false, touching nothing, for the
    /// other pairs, which take the separate passes.
    pub(crate) fn run(mut self, loss: Loss, metric: Metric) -> bool {
        match (loss, metric) {
            (Loss::Mse, Metric::Mse) => {
                // The mse metric is the loss without the penalty.
                crate::cpu::dispatch!(with_derivative!(F, self.act, |d| self.mse(d, |_, _| F::zero())));
                self.metric.copy_from_slice(self.loss);
            }
            (Loss::Mse, Metric::AccXor) => {
                crate::cpu::dispatch!(with_derivative!(F, self.act, |d| self.mse(d, acc_xor_hit)));
                scale_acc_xor(self.metric, self.rows, self.outputs);
            }
            _ => return false,
        }
        true
    }

    /// dL/dz and the loss of MSE, and the per-member sum of `hit` over the scores.
    #[inline(always)]
    fn mse(&mut self, deriv: impl Fn(F) -> F, hit: impl Fn(F, F) -> F) {
        let k_n = self.loss.len();
        let len = self.rows * self.outputs * k_n;
        let inv_n = F::one() / F::of(self.rows as f64);
        let c = mse_scale::<F>(self.rows);
        let (loss, metric) = (&mut *self.loss, &mut self.metric[..k_n]);
        if len == 0 {
            loss.fill(F::zero());
            metric.fill(F::zero());
        }
        // The first row sets the sums, the others add to them: both terms are
        // ≥ +0 (or NaN), so 0 + v = v and the sums equal ones started at zero.
        let mut row = |g: &mut [F], s: &[F], y: &[F], add: bool| {
            let sums = loss.iter_mut().zip(metric.iter_mut());
            for ((g, (l, m)), (&s, &y)) in g.iter_mut().zip(sums).zip(s.iter().zip(y)) {
                *g = mse_gradient(c, s, y) * deriv(s);
                let (sq, h) = (mse_term(s, y), hit(s, y));
                (*l, *m) = if add { (*l + sq, *m + h) } else { (sq, h) };
            }
        };
        let scores = self.scores[..len].chunks_exact(k_n);
        let targets = self.targets[..len].chunks_exact(k_n);
        let mut rows = self.delta[..len].chunks_exact_mut(k_n).zip(scores).zip(targets);
        if let Some(((g, s), y)) = rows.next() {
            row(g, s, y, false);
        }
        for ((g, s), y) in rows {
            row(g, s, y, true);
        }
        loss.iter_mut().for_each(|o| *o *= inv_n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Bits of the fused pass against the three separate passes.
    #[test]
    fn equals_the_separate_passes_bit_for_bit() {
        let (rows, outputs, k_n) = (3, 2, 13); // 2/3 is inexact, so order matters
        let len = rows * outputs * k_n;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let scores: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        // ±1 targets: the snapped scores hit some of them and miss others.
        let targets: Vec<f32> = (0..len).map(|i| if i % 3 == 0 { 1.0 } else { -1.0 }).collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for act in [Activation::Tanh, Activation::Sigmoid, Activation::Linear] {
            for metric in [Metric::Mse, Metric::AccXor] {
                let (mut delta, mut loss, mut m) = (vec![0.0; len], vec![0.0; k_n], vec![0.0; k_n]);
                let pass = OutputPass {
                    scores: &scores,
                    targets: &targets,
                    rows,
                    outputs,
                    act,
                    delta: &mut delta,
                    loss: &mut loss,
                    metric: &mut m,
                };
                assert!(pass.run(Loss::Mse, metric));
                let (mut d2, mut l2, mut m2) = (vec![0.0; len], vec![0.0; k_n], vec![0.0; k_n]);
                Loss::Mse.delta_into(&scores, &targets, rows, outputs, k_n, act, &mut d2);
                Loss::Mse.value_into(&scores, &targets, rows, outputs, &mut l2);
                metric.value_into(&scores, &targets, rows, outputs, &mut m2);
                assert_eq!(bits(&delta), bits(&d2), "{act:?} {metric:?} delta");
                assert_eq!(bits(&loss), bits(&l2), "{act:?} {metric:?} loss");
                assert_eq!(bits(&m), bits(&m2), "{act:?} {metric:?} metric");
                assert!(m.iter().any(|&v| v > 0.0 && v < 1.0) || metric == Metric::Mse);
            }
        }
    }

    #[test]
    fn other_pairs_are_left_to_the_separate_passes() {
        let (scores, targets) = ([0.5f32; 4], [0.0f32; 2]);
        let (mut delta, mut loss, mut metric) = ([9.0f32; 4], [9.0f32; 2], [9.0f32; 2]);
        let pass = OutputPass {
            scores: &scores,
            targets: &targets,
            rows: 1,
            outputs: 2,
            act: Activation::Linear,
            delta: &mut delta,
            loss: &mut loss,
            metric: &mut metric,
        };
        assert!(!pass.run(Loss::Cce, Metric::Acc));
        assert_eq!((delta, loss, metric), ([9.0; 4], [9.0; 2], [9.0; 2]));
    }
}
