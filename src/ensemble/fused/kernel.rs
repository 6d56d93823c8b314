//! The fused epoch of one group of [`W`] members: forward pass, output pass,
//! backward pass, regulariser, report and SGD step in one loop body over the
//! samples, with the group's parameters and gradients in local arrays of
//! compile-time size (registers, or L1 where they do not fit).
//!
//! Every value is computed with the operations, in the order, of the general
//! kernels ([`super::super::kernels`], the output pass, the regularizers and
//! the optimizer): sums start at zero and add samples in order, fused
//! multiply-adds stay fused, products stay unfused. That is what makes the
//! two paths give the same bits, which `tests/fused.rs` checks.
//!
//! The loops index lanes (`for l in 0..W`) on purpose: several arrays at
//! the same lane, which the vectoriser turns into one register operation.
#![allow(clippy::needless_range_loop)]

use super::super::watch::{mark_diverged, mark_met, Target};
use super::W;
use crate::activations::{tanh_derivative, with_derivative};
use crate::losses::{mse_gradient, mse_scale, mse_term};
use crate::metrics::acc_xor_hit;
use crate::scalar::Real;
use crate::Activation;
use std::ops::Range;

/// One value per member of the group.
pub(super) type Lanes<F> = [F; W];

/// An activation applied to a group's lanes. [`Tanh`] is the course's
/// activation compiled in; [`Activation`] matches once per call, then runs
/// a vectorised loop.
pub(super) trait LaneAct<F>: Copy {
    /// f(v) in place.
    fn apply(self, v: &mut Lanes<F>);
    /// f' at the points whose outputs are `y`.
    fn derivative(self, y: &Lanes<F>) -> Lanes<F>;
}

/// tanh, known at compile time.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tanh;

impl<F: Real> LaneAct<F> for Tanh {
    #[inline(always)]
    fn apply(self, v: &mut Lanes<F>) {
        Activation::Tanh.apply_slice(v);
    }
    #[inline(always)]
    fn derivative(self, y: &Lanes<F>) -> Lanes<F> {
        std::array::from_fn(|l| tanh_derivative(y[l]))
    }
}

impl<F: Real> LaneAct<F> for Activation {
    #[inline(always)]
    fn apply(self, v: &mut Lanes<F>) {
        self.apply_slice(v);
    }
    #[inline(always)]
    fn derivative(self, y: &Lanes<F>) -> Lanes<F> {
        let mut out = [F::zero(); W];
        with_derivative!(F, self, |d| {
            for l in 0..W {
                out[l] = d(y[l]);
            }
        });
        out
    }
}

/// What every group of one fit shares.
pub(super) struct Net<'a, F, A, B> {
    /// Inputs `[n·D + i]`.
    pub x: &'a [F],
    /// Targets, one per sample.
    pub y: &'a [F],
    /// Samples.
    pub rows: usize,
    /// Hidden and output activations.
    pub act: (A, B),
    /// Whether the hidden and the output layer are regularised (some member
    /// of the whole ensemble has a non-zero L1 or L2 on it).
    pub regularized: [bool; 2],
    /// Some member uses momentum (members with μ = 0 take the plain step).
    pub momentum: bool,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// The metric is acc_xor (else mse, the loss without the penalty).
    pub acc_xor: bool,
    /// Epochs of the fit.
    pub epochs: usize,
}

impl<'a, F, A, B> Net<'a, F, A, B> {
    /// The same fit with activations of other types.
    pub fn with<A2, B2>(self, act: (A2, B2)) -> Net<'a, F, A2, B2> {
        let Net { x, y, rows, act: _, regularized, momentum, nesterov, acc_xor, epochs } = self;
        Net { x, y, rows, act, regularized, momentum, nesterov, acc_xor, epochs }
    }
}

/// Per-member settings of a group (padding lanes: all zero).
pub(super) struct Hyper<F> {
    /// Learning rate.
    pub lr: Lanes<F>,
    /// Momentum.
    pub mu: Lanes<F>,
    /// L1 strength, hidden then output layer.
    pub l1: [Lanes<F>; 2],
    /// L2 strength, hidden then output layer.
    pub l2: [Lanes<F>; 2],
}

/// Where a group's reports go, and its watch: loss and metric of epoch e
/// at row `e - first` of buffers with `stride` values per row, from lane
/// `at`, `lanes` members, for the epochs whose bit `e - first` is set in
/// `mask`; every epoch marks each lane's first epoch meeting `target` in
/// `met` and its first with a non-finite loss in `diverged` (0: not yet).
pub(super) struct Out<'a, F> {
    pub loss: &'a mut [F],
    pub metric: &'a mut [F],
    pub first: usize,
    pub stride: usize,
    pub at: usize,
    pub lanes: usize,
    pub mask: u64,
    pub target: Option<Target>,
    pub met: [u32; W],
    pub diverged: [u32; W],
}

impl<F: Real> Out<'_, F> {
    #[inline(always)]
    fn put(&mut self, epoch: usize, loss: &Lanes<F>, metric: &Lanes<F>) {
        let e = epoch as u32;
        mark_diverged(&mut self.diverged, loss, e);
        if let Some(t) = &self.target {
            mark_met(&mut self.met, metric, e, t);
        }
        if self.mask >> (epoch - self.first) & 1 == 1 {
            let at = (epoch - self.first) * self.stride + self.at;
            self.loss[at..at + self.lanes].copy_from_slice(&loss[..self.lanes]);
            self.metric[at..at + self.lanes].copy_from_slice(&metric[..self.lanes]);
        }
    }
}

/// Runs steps `steps` (1-based; the fit has `epochs + 1`): step t passes over
/// the samples with the weights after t - 1 updates, reports epoch t - 1
/// (t ≥ 2) into `out` when given, and makes update t (t ≤ epochs).
///
/// `p` holds the parameters in the order of [`super::super::Ensemble::params`]:
/// hidden weights `[i·H + j]`, hidden biases, output weights (the D input
/// rows first for a ConcatInput network, `C`), output bias; `P` is their count.
#[inline(always)]
pub(super) fn steps<
    F: Real,
    A: LaneAct<F>,
    B: LaneAct<F>,
    const D: usize,
    const H: usize,
    const C: bool,
    const P: usize,
>(
    net: &Net<'_, F, A, B>,
    hy: &Hyper<F>,
    p: &mut [Lanes<F>; P],
    vel: &mut [Lanes<F>; P],
    steps: Range<usize>,
    mut out: Option<&mut Out<'_, F>>,
) {
    let at = At::of::<D, H, C, P>();
    let regions = [at.w1..at.b1, at.w2..at.b2];
    let rows = net.rows;
    let inv_n = F::one() / F::of(rows as f64);
    let c = mse_scale::<F>(rows);
    let zero = [F::zero(); W];
    for t in steps {
        let (report, update) = (t >= 2 && out.is_some(), t <= net.epochs);
        // Cache-line aligned: the frame is then aligned too, and no spilled
        // vector straddles two lines.
        let mut g = Aligned([zero; P]);
        let (mut loss, mut hits) = (Aligned(zero), Aligned(zero));
        // Rows in blocks of ROWS (independent chains for the out-of-order
        // core), then one at a time; every sum still adds rows in order.
        let mut acc = Sums { g: &mut g.0, loss: &mut loss.0, hits: &mut hits.0 };
        let full = rows / ROWS * ROWS;
        for n in (0..full).step_by(ROWS) {
            block::<F, A, B, D, H, C, P, ROWS>(net, p, n, c, &mut acc);
        }
        for n in full..rows {
            block::<F, A, B, D, H, C, P, 1>(net, p, n, c, &mut acc);
        }
        // The regulariser's gradient on the weights (not the biases) and
        // the sums Σ|w|, Σw² of the penalty the report needs.
        let mut sums = [[zero; 2]; 2];
        let two = F::of(2.0);
        for (layer, region) in regions.iter().enumerate() {
            if !net.regularized[layer] {
                continue;
            }
            let (l1, l2) = (&hy.l1[layer], &hy.l2[layer]);
            let [s1, s2] = &mut sums[layer];
            for r in region.clone() {
                for l in 0..W {
                    let v = p[r][l];
                    if update {
                        let pos = if v > F::zero() { F::one() } else { F::zero() };
                        let neg = if v < F::zero() { F::one() } else { F::zero() };
                        g.0[r][l] += l1[l].mul_add(pos - neg, two * l2[l] * v);
                    }
                    if report {
                        s1[l] += v.abs();
                        s2[l] += v * v;
                    }
                }
            }
        }
        if let (true, Some(out)) = (report, out.as_deref_mut()) {
            let mut lo = zero;
            for l in 0..W {
                lo[l] = loss.0[l] * inv_n;
            }
            let metric = if net.acc_xor {
                let inv = F::one() / F::of(rows as f64);
                std::array::from_fn(|l| hits.0[l] * inv)
            } else {
                lo
            };
            for (layer, [s1, s2]) in sums.iter().enumerate() {
                if net.regularized[layer] {
                    for l in 0..W {
                        lo[l] += hy.l1[layer][l] * s1[l] + hy.l2[layer][l] * s2[l];
                    }
                }
            }
            out.put(t - 1, &lo, &metric);
        }
        if update {
            sgd(net, hy, p, vel, &g.0);
        }
    }
}

/// A value on a cache line of its own.
#[repr(C, align(64))]
struct Aligned<T>(T);

/// Where each parameter block starts in a group's array.
struct At {
    /// Hidden weights `[i·H + j]`.
    w1: usize,
    /// Hidden biases.
    b1: usize,
    /// Output weights (the input rows first, with a ConcatInput).
    w2: usize,
    /// The output weights of the hidden units.
    w2h: usize,
    /// Output bias (the last parameter).
    b2: usize,
}

impl At {
    #[inline(always)]
    const fn of<const D: usize, const H: usize, const C: bool, const P: usize>() -> At {
        let w2 = D * H + H;
        let w2h = if C { w2 + D } else { w2 };
        assert!(P == w2h + H + 1, "P counts the parameters");
        At { w1: 0, b1: D * H, w2, w2h, b2: P - 1 }
    }
}

/// Rows processed together by [`block`].
/// With 64-member groups on the 20,000-epoch XOR grid (M network-epochs/s
/// at the AVX-512 / AVX2 level): 2 rows 271 / 200, 4 rows 265 / 189, 1 row
/// 265 / 205; 2 is the best on AVX-512 and within 3% of the best on AVX2.
const ROWS: usize = 2;

/// What the passes over the rows accumulate: gradients, loss and metric hits.
struct Sums<'a, F, const P: usize> {
    g: &'a mut [Lanes<F>; P],
    loss: &'a mut Lanes<F>,
    hits: &'a mut Lanes<F>,
}

/// Forward pass, output pass and backward pass of rows `n..n + R`: the
/// forward passes of the R rows side by side, then each row's sums in order.
#[inline(always)]
fn block<
    F: Real,
    A: LaneAct<F>,
    B: LaneAct<F>,
    const D: usize,
    const H: usize,
    const C: bool,
    const P: usize,
    const R: usize,
>(
    net: &Net<'_, F, A, B>,
    p: &[Lanes<F>; P],
    n: usize,
    c: F,
    acc: &mut Sums<'_, F, P>,
) {
    let At { w1, b1, w2, w2h, b2 } = At::of::<D, H, C, P>();
    let zero = [F::zero(); W];
    let xr = &net.x[n * D..(n + R) * D];
    let x: [[F; D]; R] = std::array::from_fn(|r| std::array::from_fn(|i| xr[r * D + i]));
    let yr = &net.y[n..n + R];
    // Forward: z = b + Σ_i x_i·w_ij, then the activation.
    let mut h = [[zero; H]; R];
    for (hr, xr) in h.iter_mut().zip(&x) {
        for (j, hj) in hr.iter_mut().enumerate() {
            *hj = p[b1 + j];
            for (i, &xi) in xr.iter().enumerate() {
                let w = &p[w1 + i * H + j];
                for l in 0..W {
                    hj[l] = xi.mul_add(w[l], hj[l]);
                }
            }
        }
    }
    for hj in h.iter_mut().flatten() {
        net.act.0.apply(hj);
    }
    let mut s = [p[b2]; R];
    for ((s, hr), xr) in s.iter_mut().zip(&h).zip(&x) {
        if C {
            for (i, &xi) in xr.iter().enumerate() {
                for l in 0..W {
                    s[l] = xi.mul_add(p[w2 + i][l], s[l]);
                }
            }
        }
        for (j, hj) in hr.iter().enumerate() {
            for l in 0..W {
                s[l] = hj[l].mul_add(p[w2h + j][l], s[l]);
            }
        }
    }
    for s in &mut s {
        net.act.1.apply(s);
    }
    let g = &mut *acc.g;
    for r in 0..R {
        let (s, h, x, y) = (&s[r], &h[r], &x[r], yr[r]);
        // Output pass: dL/dz, the loss and the metric's hits.
        let ds = net.act.1.derivative(s);
        let mut gs = zero;
        for l in 0..W {
            gs[l] = mse_gradient(c, s[l], y) * ds[l];
            acc.loss[l] += mse_term(s[l], y);
        }
        if net.acc_xor {
            for l in 0..W {
                acc.hits[l] += acc_xor_hit(s[l], y);
            }
        }
        // Output layer's gradients, summed over samples in order.
        for l in 0..W {
            g[b2][l] += gs[l];
        }
        if C {
            for (i, &xi) in x.iter().enumerate() {
                for l in 0..W {
                    g[w2 + i][l] = xi.mul_add(gs[l], g[w2 + i][l]);
                }
            }
        }
        for (j, hj) in h.iter().enumerate() {
            for l in 0..W {
                g[w2h + j][l] = hj[l].mul_add(gs[l], g[w2h + j][l]);
            }
        }
        // The hidden layer's delta, then its gradients.
        for (j, hj) in h.iter().enumerate() {
            let dh_dz = net.act.0.derivative(hj);
            let mut dh = zero;
            for l in 0..W {
                dh[l] = p[w2h + j][l].mul_add(gs[l], F::zero()) * dh_dz[l];
                g[b1 + j][l] += dh[l];
            }
            for (i, &xi) in x.iter().enumerate() {
                for l in 0..W {
                    g[w1 + i * H + j][l] = xi.mul_add(dh[l], g[w1 + i * H + j][l]);
                }
            }
        }
    }
}

/// One SGD step on every parameter, each member with its own learning rate
/// and momentum (the optimizer's formulas, member by member).
#[inline(always)]
fn sgd<F: Real, A, B, const P: usize>(
    net: &Net<'_, F, A, B>,
    hy: &Hyper<F>,
    p: &mut [Lanes<F>; P],
    vel: &mut [Lanes<F>; P],
    g: &[Lanes<F>; P],
) {
    if !net.momentum {
        for (w, g) in p.iter_mut().zip(g) {
            for l in 0..W {
                w[l] = (-hy.lr[l]).mul_add(g[l], w[l]);
            }
        }
        return;
    }
    let nesterov = net.nesterov;
    for ((w, v), g) in p.iter_mut().zip(vel.iter_mut()).zip(g) {
        for l in 0..W {
            let (lr, mu) = (hy.lr[l], hy.mu[l]);
            let plain = (-lr).mul_add(g[l], w[l]);
            let nv = mu.mul_add(v[l], -lr * g[l]);
            let step = if nesterov { mu.mul_add(nv, -lr * g[l]) } else { nv };
            let moved = w[l] + step;
            let still = mu == F::zero();
            w[l] = if still { plain } else { moved };
            v[l] = if still { v[l] } else { nv };
        }
    }
}
