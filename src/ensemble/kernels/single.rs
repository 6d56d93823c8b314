//! Register tiles of a single network (K = 1): a vector holds V::LANES
//! consecutive units (forward pass, weight gradients) or input columns
//! (input gradient, read from a transposed copy of the weights), and a tile
//! keeps R × U vectors in registers; the other operand is one value
//! broadcast to every lane. The forward pass also serves an ensemble whose
//! inputs are all shared: its weights are then one matrix of units × K
//! columns.
//!
//! Every value is the same sum, in the same order, as in an ensemble's
//! tiles ([`super::members`]): a single network is bit for bit one member of
//! an ensemble. Only which values are computed side by side differs; that
//! makes a large single layer as fast as a GEMM, without a GEMM's blocked
//! order of summation. As there, the kernels check the buffers once and the
//! tiles walk raw pointers.

use super::{tiled, Block};
use crate::ensemble::DenseParams;
use crate::scalar::Real;
use crate::simd::{One, Vector};

/// `len` values in vectors of `lanes`: all but the last consecutive, the
/// last moved back to end at `len` (recomputing a few values of its
/// neighbour, to the same bits; only for values written once).
#[derive(Clone, Copy)]
struct Spans {
    len: usize,
    lanes: usize,
}

impl Spans {
    /// Vectors of `lanes` over `len` values, or of one value if `len` is shorter.
    fn new(len: usize, lanes: usize) -> Self {
        Spans { len, lanes: if len >= lanes { lanes } else { 1 } }
    }

    fn count(self) -> usize {
        self.len.div_ceil(self.lanes)
    }

    #[inline(always)]
    fn start(self, v: usize) -> usize {
        (v * self.lanes).min(self.len - self.lanes)
    }
}

/// out = [X, 1]·W (pre-activation) for `rows` samples, over rows of `width`
/// values of W, b and out: the units (K = 1), or, for an ensemble whose
/// inputs are all [`Block::Shared`], units × K (the member-innermost layout
/// makes W one matrix of that width, and each value is the same sum).
#[inline(always)]
pub(super) fn forward<F: Real, V: Vector<F>, const R: usize, const U: usize>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    rows: usize,
    width: usize,
    out: &mut [F],
) {
    check(p, inputs, rows);
    assert!(p.w.len() >= p.fan_in * width && p.b.len() >= width, "weights narrower than the rows");
    assert!(out.len() >= rows * width, "output buffer too short");
    let out = out.as_mut_ptr();
    // Rows of units shorter than a vector take the half vector, then one unit.
    let (s, h) = (Spans::new(width, V::LANES), Spans::new(width, <V::Half as Vector<F>>::LANES));
    if s.lanes == V::LANES {
        tiled!(rows, R, s.count(), U, |n, v| forward_tile::<F, V>(p, inputs, s, n, v, out));
    } else if h.lanes > 1 {
        tiled!(rows, R, h.count(), U, |n, v| forward_tile::<F, V::Half>(p, inputs, h, n, v, out));
    } else {
        tiled!(rows, R, s.count(), U, |n, v| forward_tile::<F, One<F>>(p, inputs, s, n, v, out));
    }
}

/// Panics unless the weights and each input block hold what the tiles read.
fn check<F: Real>(p: &DenseParams<F>, inputs: &[Block<'_, F>], rows: usize) {
    assert_eq!(inputs.len(), p.inputs.len(), "one buffer per input source");
    for (src, buf) in p.inputs.iter().zip(inputs) {
        assert!(buf.single().len() >= rows * src.dim(), "input block shorter than its rows");
    }
    assert!(p.w.len() >= p.fan_in * p.units && p.b.len() >= p.units, "weights too short");
}

/// Tile columns: where each of the U vectors starts.
#[inline(always)]
fn columns<const U: usize>(s: Spans, v0: usize) -> [usize; U] {
    let mut at = [0; U];
    for (u, c) in at.iter_mut().enumerate() {
        *c = s.start(v0 + u);
    }
    at
}

/// # Safety
/// The buffers hold the tile's values (see [`forward`]'s checks).
#[inline(always)]
unsafe fn forward_tile<F: Real, V: Vector<F>, const R: usize, const U: usize>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    s: Spans,
    n0: usize,
    v0: usize,
    out: *mut F,
) {
    unsafe {
        let j_n = s.len;
        let at = columns::<U>(s, v0);
        let mut acc = [[V::splat(F::zero()); U]; R];
        for row in &mut acc {
            for (a, &j) in row.iter_mut().zip(&at) {
                *a = V::read(p.b.as_ptr().add(j));
            }
        }
        let mut w = p.w.as_ptr();
        for (src, buf) in p.inputs.iter().zip(inputs) {
            let d = src.dim();
            let mut x = buf.single().as_ptr().add(n0 * d);
            for _ in 0..d {
                let mut wv = [V::splat(F::zero()); U];
                for (wu, &j) in wv.iter_mut().zip(&at) {
                    *wu = V::read(w.add(j));
                }
                for (r, row) in acc.iter_mut().enumerate() {
                    let xv = V::splat(*x.add(r * d));
                    for (a, &wu) in row.iter_mut().zip(&wv) {
                        *a = xv.mul_add(wu, *a);
                    }
                }
                w = w.add(j_n);
                x = x.add(1);
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (a, &j) in row.iter().zip(&at) {
                a.write(out.add((n0 + r) * j_n + j));
            }
        }
    }
}

/// gw = Xᵀ·delta for every input block: Σ over samples in order, from zero.
#[inline(always)]
pub(super) fn weight_grads<F: Real, V: Vector<F>, const R: usize, const U: usize>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    delta: &[F],
    rows: usize,
    gw: &mut [F],
) {
    check(p, inputs, rows);
    let j_n = p.units;
    assert!(delta.len() >= rows * j_n && gw.len() >= p.fan_in * j_n, "gradient buffers too short");
    let (delta, gw) = (delta.as_ptr(), gw.as_mut_ptr());
    let (s, h) = (Spans::new(j_n, V::LANES), Spans::new(j_n, <V::Half as Vector<F>>::LANES));
    let mut first = 0;
    for (src, buf) in p.inputs.iter().zip(inputs) {
        let (d, x) = (src.dim(), buf.single().as_ptr());
        // SAFETY: checked above; the tiles stay in range.
        let g = unsafe { gw.add(first * j_n) };
        if s.lanes == V::LANES {
            tiled!(d, R, s.count(), U, |i, v| weight_grads_tile::<F, V>(j_n, x, d, delta, rows, s, i, v, g));
        } else if h.lanes > 1 {
            tiled!(d, R, h.count(), U, |i, v| weight_grads_tile::<F, V::Half>(j_n, x, d, delta, rows, h, i, v, g));
        } else {
            tiled!(d, R, s.count(), U, |i, v| weight_grads_tile::<F, One<F>>(j_n, x, d, delta, rows, s, i, v, g));
        }
        first += d;
    }
}

/// # Safety
/// The buffers hold the tile's values (see [`weight_grads`]' checks).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn weight_grads_tile<F: Real, V: Vector<F>, const R: usize, const U: usize>(
    j_n: usize,
    x: *const F,
    d: usize,
    delta: *const F,
    rows: usize,
    s: Spans,
    i0: usize,
    v0: usize,
    gw: *mut F,
) {
    unsafe {
        let at = columns::<U>(s, v0);
        let mut acc = [[V::splat(F::zero()); U]; R];
        let (mut dp, mut x) = (delta, x.add(i0));
        for _ in 0..rows {
            let mut dv = [V::splat(F::zero()); U];
            for (du, &j) in dv.iter_mut().zip(&at) {
                *du = V::read(dp.add(j));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let xv = V::splat(*x.add(r));
                for (a, &du) in row.iter_mut().zip(&dv) {
                    *a = xv.mul_add(du, *a);
                }
            }
            dp = dp.add(j_n);
            x = x.add(d);
        }
        for (r, row) in acc.iter().enumerate() {
            for (a, &j) in row.iter().zip(&at) {
                a.write(gw.add((i0 + r) * j_n + j));
            }
        }
    }
}

/// The sum Σ_j w_ij·delta_j over units in order, per (sample, input column),
/// from `wt` (the weight block transposed: `[j·dim + i]`): added to `dx`
/// (FINISH = false) or, from zero, multiplied by `deriv(y)` and stored
/// (FINISH = true).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn input_grad<F: Real, V: Vector<F>, const R: usize, const U: usize, const FINISH: bool>(
    j_n: usize,
    wt: &[F],
    dim: usize,
    delta: &[F],
    rows: usize,
    dx: &mut [F],
    y: &[F],
    deriv: impl Fn(F) -> F + Copy,
) {
    assert!(wt.len() >= j_n * dim && delta.len() >= rows * j_n, "weights or delta too short");
    assert!(dx.len() >= rows * dim && (!FINISH || y.len() >= rows * dim), "delta buffers too short");
    let (wt, delta, dx, y) = (wt.as_ptr(), delta.as_ptr(), dx.as_mut_ptr(), y.as_ptr());
    // Values added to dx must each be written once: no overlapping vector.
    let wide = if FINISH || dim.is_multiple_of(V::LANES) { dim } else { dim / V::LANES * V::LANES };
    let s = Spans::new(wide, V::LANES);
    let done = if s.lanes == V::LANES {
        tiled!(rows, R, s.count(), U, |n, v| input_grad_tile::<F, V, FINISH>(
            j_n, wt, dim, delta, s, 0, n, v, dx, y, deriv
        ));
        wide
    } else {
        0
    };
    let s = Spans::new(dim - done, 1);
    tiled!(rows, R, s.count(), U, |n, v| input_grad_tile::<F, One<F>, FINISH>(
        j_n, wt, dim, delta, s, done, n, v, dx, y, deriv
    ));
}

/// # Safety
/// The buffers hold the tile's values (see [`input_grad`]'s checks).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn input_grad_tile<F: Real, V: Vector<F>, const R: usize, const U: usize, const FINISH: bool>(
    j_n: usize,
    wt: *const F,
    dim: usize,
    delta: *const F,
    s: Spans,
    offset: usize,
    n0: usize,
    v0: usize,
    dx: *mut F,
    y: *const F,
    deriv: impl Fn(F) -> F,
) {
    unsafe {
        let mut at = columns::<U>(s, v0);
        for i in &mut at {
            *i += offset;
        }
        let mut acc = [[V::splat(F::zero()); U]; R];
        if !FINISH {
            for (r, row) in acc.iter_mut().enumerate() {
                for (a, &i) in row.iter_mut().zip(&at) {
                    *a = V::read(dx.add((n0 + r) * dim + i));
                }
            }
        }
        let (mut w, mut dp) = (wt, delta.add(n0 * j_n));
        for _ in 0..j_n {
            let mut wv = [V::splat(F::zero()); U];
            for (wu, &i) in wv.iter_mut().zip(&at) {
                *wu = V::read(w.add(i));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let dv = V::splat(*dp.add(r * j_n));
                for (a, &wu) in row.iter_mut().zip(&wv) {
                    *a = wu.mul_add(dv, *a);
                }
            }
            w = w.add(dim);
            dp = dp.add(1);
        }
        for (r, row) in acc.iter().enumerate() {
            for (a, &i) in row.iter().zip(&at) {
                let o = (n0 + r) * dim + i;
                let a = if FINISH { super::finish::<F, V>(*a, y.add(o), &deriv) } else { *a };
                a.write(dx.add(o));
            }
        }
    }
}
