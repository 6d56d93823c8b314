//! The fused epoch of one group of [`W`] members: forward pass, output pass,
//! backward pass, regulariser, report and SGD step in one loop body over the
//! samples, with the group's parameters and gradients in local arrays of
//! compile-time size (registers, or L1 where they do not fit).
//!
//! Every value is computed with the operations, in the order, of the general
//! kernels ([`super::super::kernels`], the output pass, the regularizers and
//! the optimizer), through the same formula functions (their `_lanes`
//! forms): sums start at zero and add samples in order, fused multiply-adds
//! stay fused, products stay unfused. That is what makes the two paths give
//! the same bits, which `tests/fused.rs` checks.
//!
//! Written in explicit vectors ([`crate::simd::Vector`]): a member's value
//! is a [`Pk`] of G vectors, and a group of [`W`] members runs as
//! W / (G · lanes) sub-groups, one after another. As plain 64-lane arrays
//! LLVM unrolled the loops fully and then vectorised only part of them
//! (the SGD step and the metric ran one lane at a time).

#![allow(clippy::needless_range_loop)]

use super::super::watch::{mark_diverged, mark_met, Target};
use super::W;
use crate::activations::{tanh_derivative_lanes, with_derivative};
use crate::losses::{mse_gradient_lanes, mse_scale, mse_term_lanes};
use crate::metrics::acc_xor_hit_lanes;
use crate::scalar::Real;
use crate::simd::Vector;
use crate::Activation;
use std::marker::PhantomData;
use std::ops::Range;

/// One value per member of the group, as the group's arrays hold it.
pub(super) type Lanes<F> = [F; W];

/// One value of each member of a sub-group: `G` vectors.
#[derive(Clone, Copy)]
pub(super) struct Pk<F, V, const G: usize>([V; G], PhantomData<F>);

/// A lane-wise operation of [`Pk`] over its vectors, in plain loops (kept
/// inlined inside the level's dispatch).
macro_rules! lanewise {
    ($(#[$doc:meta] $name:ident($($arg:ident),*);)*) => {
        $(
            #[$doc]
            #[inline(always)]
            fn $name(self $(, $arg: Self)*) -> Self {
                let mut out = self.0;
                for v in 0..G {
                    out[v] = self.0[v].$name($($arg.0[v]),*);
                }
                Pk(out, PhantomData)
            }
        )*
    };
}

impl<F: Real, V: Vector<F>, const G: usize> Pk<F, V, G> {
    /// Members in a sub-group.
    pub const LANES: usize = G * V::LANES;

    #[inline(always)]
    fn splat(x: F) -> Self {
        Pk([V::splat(x); G], PhantomData)
    }
    /// The first [`Self::LANES`] values of `s`.
    #[inline(always)]
    fn load(s: &[F]) -> Self {
        let mut out = [V::splat(F::zero()); G];
        for (v, o) in out.iter_mut().enumerate() {
            *o = V::load(&s[v * V::LANES..]);
        }
        Pk(out, PhantomData)
    }
    /// Writes the first [`Self::LANES`] values of `s`.
    #[inline(always)]
    fn store(self, s: &mut [F]) {
        for v in 0..G {
            self.0[v].store(&mut s[v * V::LANES..]);
        }
    }
    /// Each vector through `f`.
    #[inline(always)]
    fn each(self, f: impl Fn(V) -> V) -> Self {
        let mut out = self.0;
        for v in 0..G {
            out[v] = f(self.0[v]);
        }
        Pk(out, PhantomData)
    }
    /// Each vector with the same one of `b` through `f`.
    #[inline(always)]
    fn each2(self, b: Self, f: impl Fn(V, V) -> V) -> Self {
        let mut out = self.0;
        for v in 0..G {
            out[v] = f(self.0[v], b.0[v]);
        }
        Pk(out, PhantomData)
    }
    /// Each vector with the same ones of `b` and `c` through `f`.
    #[inline(always)]
    fn each3(self, b: Self, c: Self, f: impl Fn(V, V, V) -> V) -> Self {
        let mut out = self.0;
        for v in 0..G {
            out[v] = f(self.0[v], b.0[v], c.0[v]);
        }
        Pk(out, PhantomData)
    }
    lanewise! {
        /// `self + b`.
        add(b);
        /// `self - b`.
        sub(b);
        /// `self · b`.
        mul(b);
        /// `self · b + c`, rounded once.
        mul_add(b, c);
        /// `-self`.
        neg();
        /// `|self|`.
        abs();
        /// `then` where `self > b`, else `other`.
        gt_or(b, then, other);
        /// `then` where `self < b`, else `other`.
        lt_or(b, then, other);
        /// `then` where `self == b`, else `other`.
        eq_or(b, then, other);
    }
}

/// An activation applied to a sub-group's lanes. [`Tanh`] is the course's
/// activation compiled in, in vector operations; [`Activation`] runs tanh
/// the same way and the others lane by lane through [`Activation::value`]
/// (a fallback no shipped grid takes).
pub(super) trait LaneAct<F>: Copy {
    /// f(v).
    fn apply<V: Vector<F>, const G: usize>(self, v: Pk<F, V, G>) -> Pk<F, V, G>;
    /// f' at the points whose outputs are `y`.
    fn derivative<V: Vector<F>, const G: usize>(self, y: Pk<F, V, G>) -> Pk<F, V, G>;
}

/// tanh, known at compile time.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tanh;

impl<F: Real> LaneAct<F> for Tanh {
    #[inline(always)]
    fn apply<V: Vector<F>, const G: usize>(self, v: Pk<F, V, G>) -> Pk<F, V, G> {
        v.each(
            #[inline(always)]
            |v| v.tanh(),
        )
    }
    #[inline(always)]
    fn derivative<V: Vector<F>, const G: usize>(self, y: Pk<F, V, G>) -> Pk<F, V, G> {
        y.each(
            #[inline(always)]
            |y| tanh_derivative_lanes(y),
        )
    }
}

impl<F: Real> LaneAct<F> for Activation {
    #[inline(always)]
    fn apply<V: Vector<F>, const G: usize>(self, v: Pk<F, V, G>) -> Pk<F, V, G> {
        match self {
            Activation::Tanh => v.each(
                #[inline(always)]
                |v| v.tanh(),
            ),
            Activation::Linear => v,
            _ => v.each(
                #[inline(always)]
                |x| x.map(|x| self.value(x)),
            ),
        }
    }
    #[inline(always)]
    fn derivative<V: Vector<F>, const G: usize>(self, y: Pk<F, V, G>) -> Pk<F, V, G> {
        with_derivative!(F, self, |d| y.each(
            #[inline(always)]
            |y| y.map(d)
        ))
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
    /// Members in the group (the lanes after them are padding).
    pub live: usize,
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
    /// Epoch `epoch`'s loss and metric of the group's lanes `o..o + loss.len()`.
    #[inline(always)]
    fn put(&mut self, epoch: usize, o: usize, loss: &[F], metric: &[F]) {
        let (e, n) = (epoch as u32, loss.len());
        mark_diverged(&mut self.diverged[o..o + n], loss, e);
        if let Some(t) = &self.target {
            mark_met(&mut self.met[o..o + n], metric, e, t);
        }
        let real = self.lanes.saturating_sub(o).min(n);
        if self.mask >> (epoch - self.first) & 1 == 1 && real > 0 {
            let at = (epoch - self.first) * self.stride + self.at + o;
            self.loss[at..at + real].copy_from_slice(&loss[..real]);
            self.metric[at..at + real].copy_from_slice(&metric[..real]);
        }
    }
}

/// Runs steps `steps` (1-based; the fit has `epochs + 1`): step t passes over
/// the samples with the weights after t - 1 updates, reports epoch t - 1
/// (t ≥ 2) into `out` when given, and makes update t (t ≤ epochs). The group
/// runs as sub-groups of `G` vectors `V`, each through all the steps.
///
/// `p` holds the parameters in the order of [`super::super::Ensemble::params`]:
/// hidden weights `[i·H + j]`, hidden biases, output weights (the D input
/// rows first for a ConcatInput network, `C`), output bias; `P` is their count.
#[inline(always)]
pub(super) fn steps<
    F: Real,
    V: Vector<F>,
    const G: usize,
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
    let n = Pk::<F, V, G>::LANES;
    const { assert!(W.is_multiple_of(Pk::<F, V, G>::LANES), "a group is a whole number of sub-groups") };
    // Sub-groups of padding only are skipped.
    for o in (0..hy.live).step_by(n) {
        let sub = Sub::<F, V, G, P>::load(hy, p, vel, o, net.momentum);
        let sub = sub_steps::<F, V, G, A, B, D, H, C, P>(net, sub, steps.clone(), o, out.as_deref_mut());
        sub.store(p, vel, o, net.momentum);
    }
}

/// One sub-group's parameters, velocities and settings, as vectors.
struct Sub<F, V, const G: usize, const P: usize> {
    p: [Pk<F, V, G>; P],
    vel: [Pk<F, V, G>; P],
    lr: Pk<F, V, G>,
    mu: Pk<F, V, G>,
    l1: [Pk<F, V, G>; 2],
    l2: [Pk<F, V, G>; 2],
}

impl<F: Real, V: Vector<F>, const G: usize, const P: usize> Sub<F, V, G, P> {
    /// Lanes `o..` of the group's arrays (velocities only with momentum).
    #[inline(always)]
    fn load(hy: &Hyper<F>, p: &[Lanes<F>; P], vel: &[Lanes<F>; P], o: usize, momentum: bool) -> Self {
        let zero = Pk::splat(F::zero());
        let mut sub = Sub {
            p: [zero; P],
            vel: [zero; P],
            lr: Pk::load(&hy.lr[o..]),
            mu: Pk::load(&hy.mu[o..]),
            l1: [Pk::load(&hy.l1[0][o..]), Pk::load(&hy.l1[1][o..])],
            l2: [Pk::load(&hy.l2[0][o..]), Pk::load(&hy.l2[1][o..])],
        };
        for r in 0..P {
            sub.p[r] = Pk::load(&p[r][o..]);
            if momentum {
                sub.vel[r] = Pk::load(&vel[r][o..]);
            }
        }
        sub
    }

    /// Writes the parameters (and velocities) back to lanes `o..`.
    #[inline(always)]
    fn store(&self, p: &mut [Lanes<F>; P], vel: &mut [Lanes<F>; P], o: usize, momentum: bool) {
        for r in 0..P {
            self.p[r].store(&mut p[r][o..]);
            if momentum {
                self.vel[r].store(&mut vel[r][o..]);
            }
        }
    }
}

/// [`steps`] for the sub-group at lane `o`.
#[inline(always)]
fn sub_steps<
    F: Real,
    V: Vector<F>,
    const G: usize,
    A: LaneAct<F>,
    B: LaneAct<F>,
    const D: usize,
    const H: usize,
    const C: bool,
    const P: usize,
>(
    net: &Net<'_, F, A, B>,
    mut sub: Sub<F, V, G, P>,
    steps: Range<usize>,
    o: usize,
    mut out: Option<&mut Out<'_, F>>,
) -> Sub<F, V, G, P> {
    let at = At::of::<D, H, C, P>();
    let regions = [at.w1..at.b1, at.w2..at.b2];
    let rows = net.rows;
    let inv_n = Pk::<F, V, G>::splat(F::one() / F::of(rows as f64));
    let c = Pk::splat(mse_scale::<F>(rows));
    let zero = Pk::<F, V, G>::splat(F::zero());
    let (one, two) = (Pk::splat(F::one()), Pk::splat(F::of(2.0)));
    let n = Pk::<F, V, G>::LANES;
    for t in steps {
        let (report, update) = (t >= 2 && out.is_some(), t <= net.epochs);
        let mut acc = Sums { g: [zero; P], loss: zero, hits: zero };
        // Rows in blocks of ROWS (independent chains for the out-of-order
        // core), then one at a time; every sum still adds rows in order.
        let full = rows / ROWS * ROWS;
        for r in (0..full).step_by(ROWS) {
            block::<F, V, G, A, B, D, H, C, P, ROWS>(net, &sub.p, r, c, &mut acc);
        }
        for r in full..rows {
            block::<F, V, G, A, B, D, H, C, P, 1>(net, &sub.p, r, c, &mut acc);
        }
        // The regulariser's gradient on the weights (not the biases) and
        // the sums Σ|w|, Σw² of the penalty the report needs.
        let mut sums = [[zero; 2]; 2];
        for (layer, region) in regions.iter().enumerate() {
            if !net.regularized[layer] {
                continue;
            }
            let (l1, l2) = (sub.l1[layer], sub.l2[layer]);
            let [s1, s2] = &mut sums[layer];
            for r in region.clone() {
                let v = sub.p[r];
                if update {
                    let pos = v.gt_or(zero, one, zero);
                    let neg = v.lt_or(zero, one, zero);
                    acc.g[r] = acc.g[r].add(l1.mul_add(pos.sub(neg), two.mul(l2).mul(v)));
                }
                if report {
                    *s1 = s1.add(v.abs());
                    *s2 = s2.add(v.mul(v));
                }
            }
        }
        if let (true, Some(out)) = (report, out.as_deref_mut()) {
            let mut lo = acc.loss.mul(inv_n);
            let metric = if net.acc_xor { acc.hits.mul(inv_n) } else { lo };
            for (layer, [s1, s2]) in sums.iter().enumerate() {
                if net.regularized[layer] {
                    lo = lo.add(sub.l1[layer].mul(*s1).add(sub.l2[layer].mul(*s2)));
                }
            }
            let (mut lo_lanes, mut metric_lanes) = ([F::zero(); W], [F::zero(); W]);
            lo.store(&mut lo_lanes);
            metric.store(&mut metric_lanes);
            out.put(t - 1, o, &lo_lanes[..n], &metric_lanes[..n]);
        }
        if update {
            sgd(net, &mut sub, &acc.g);
        }
    }
    sub
}

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

/// Rows processed together by [`block`]. On the 20,000-epoch XOR grid
/// (Zen 4, AVX-512, sub-groups of 2 vectors; M network-epochs/s, two runs
/// each): 1 row 183 / 202, 2 rows 214 / 238, 4 rows 240 / 249.
const ROWS: usize = 4;

/// What the passes over the rows accumulate: gradients, loss and metric hits.
struct Sums<F, V, const G: usize, const P: usize> {
    g: [Pk<F, V, G>; P],
    loss: Pk<F, V, G>,
    hits: Pk<F, V, G>,
}

/// Forward pass, output pass and backward pass of rows `n..n + R`: the
/// forward passes of the R rows side by side, then each row's sums in order.
#[inline(always)]
fn block<
    F: Real,
    V: Vector<F>,
    const G: usize,
    A: LaneAct<F>,
    B: LaneAct<F>,
    const D: usize,
    const H: usize,
    const C: bool,
    const P: usize,
    const R: usize,
>(
    net: &Net<'_, F, A, B>,
    p: &[Pk<F, V, G>; P],
    n: usize,
    c: Pk<F, V, G>,
    acc: &mut Sums<F, V, G, P>,
) {
    let At { w1, b1, w2, w2h, b2 } = At::of::<D, H, C, P>();
    let zero = Pk::<F, V, G>::splat(F::zero());
    let xr = &net.x[n * D..(n + R) * D];
    let x: [[Pk<F, V, G>; D]; R] = std::array::from_fn(|r| std::array::from_fn(|i| Pk::splat(xr[r * D + i])));
    let yr = &net.y[n..n + R];
    // Forward: z = b + Σ_i x_i·w_ij, then the activation.
    let mut h = [[zero; H]; R];
    for r in 0..R {
        for j in 0..H {
            h[r][j] = p[b1 + j];
            for i in 0..D {
                h[r][j] = x[r][i].mul_add(p[w1 + i * H + j], h[r][j]);
            }
        }
    }
    for r in 0..R {
        for j in 0..H {
            h[r][j] = net.act.0.apply(h[r][j]);
        }
    }
    let mut s = [p[b2]; R];
    for r in 0..R {
        if C {
            for i in 0..D {
                s[r] = x[r][i].mul_add(p[w2 + i], s[r]);
            }
        }
        for j in 0..H {
            s[r] = h[r][j].mul_add(p[w2h + j], s[r]);
        }
    }
    for r in 0..R {
        s[r] = net.act.1.apply(s[r]);
    }
    let g = &mut acc.g;
    for r in 0..R {
        let (s, h, x, y) = (s[r], &h[r], &x[r], Pk::splat(yr[r]));
        // Output pass: dL/dz, the loss and the metric's hits.
        let ds = net.act.1.derivative(s);
        let gs = c
            .each3(
                s,
                y,
                #[inline(always)]
                |c, s, y| mse_gradient_lanes(c, s, y),
            )
            .mul(ds);
        acc.loss = acc.loss.add(s.each2(
            y,
            #[inline(always)]
            |s, y| mse_term_lanes(s, y),
        ));
        if net.acc_xor {
            acc.hits = acc.hits.add(s.each2(
                y,
                #[inline(always)]
                |s, y| acc_xor_hit_lanes(s, y),
            ));
        }
        // Output layer's gradients, summed over samples in order.
        g[b2] = g[b2].add(gs);
        if C {
            for i in 0..D {
                g[w2 + i] = x[i].mul_add(gs, g[w2 + i]);
            }
        }
        for j in 0..H {
            g[w2h + j] = h[j].mul_add(gs, g[w2h + j]);
        }
        // The hidden layer's delta, then its gradients.
        for j in 0..H {
            let dh_dz = net.act.0.derivative(h[j]);
            let dh = p[w2h + j].mul_add(gs, zero).mul(dh_dz);
            g[b1 + j] = g[b1 + j].add(dh);
            for i in 0..D {
                g[w1 + i * H + j] = x[i].mul_add(dh, g[w1 + i * H + j]);
            }
        }
    }
}

/// One SGD step on every parameter, each member with its own learning rate
/// and momentum (the optimizer's formulas, member by member).
#[inline(always)]
fn sgd<F: Real, V: Vector<F>, const G: usize, A, B, const P: usize>(
    net: &Net<'_, F, A, B>,
    sub: &mut Sub<F, V, G, P>,
    g: &[Pk<F, V, G>; P],
) {
    let neg_lr = sub.lr.neg();
    if !net.momentum {
        for r in 0..P {
            sub.p[r] = neg_lr.mul_add(g[r], sub.p[r]);
        }
        return;
    }
    let (mu, zero) = (sub.mu, Pk::splat(F::zero()));
    for r in 0..P {
        let (w, v) = (sub.p[r], sub.vel[r]);
        let plain = neg_lr.mul_add(g[r], w);
        let nv = mu.mul_add(v, neg_lr.mul(g[r]));
        let step = if net.nesterov { mu.mul_add(nv, neg_lr.mul(g[r])) } else { nv };
        let moved = w.add(step);
        sub.p[r] = mu.eq_or(zero, plain, moved);
        sub.vel[r] = mu.eq_or(zero, v, nv);
    }
}
