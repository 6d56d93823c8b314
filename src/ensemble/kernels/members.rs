//! Register tiles of an ensemble (K > 1): a vector holds V::LANES members of
//! one value (the member-innermost layout), and a tile keeps R × U vectors in
//! registers, so each loaded vector feeds several fused multiply-adds:
//! (samples × units) in the forward pass, (inputs × units) for the weight
//! gradients, (samples × inputs) for the input gradient. An ensemble of
//! fewer members than a vector runs member by member ([`One`]).
//!
//! The kernels check every buffer's length once, on entry; the tiles then
//! walk raw pointers (bounds checks in the inner loops cost more than the
//! arithmetic). Every tile stays inside `rows × dim × K` by construction of
//! [`tiled!`] and of the member blocks.

use super::{tiled, Block};
use crate::ensemble::DenseParams;
use crate::scalar::Real;
use crate::simd::{One, Vector, TABLE};

/// Where member block b of `lanes` members starts, for a kernel that writes
/// each value once: consecutive blocks, the last moved back to end at k_n
/// (it recomputes a few members of its neighbour, to the same bits). Needs
/// k_n ≥ lanes. (Plain loops over these, never iterator adaptors: a closure
/// that is not inlined would lose the CPU level's instructions.)
#[inline(always)]
fn overlapping(k_n: usize, lanes: usize, b: usize) -> usize {
    (b * lanes).min(k_n - lanes)
}

/// Panics unless each input block holds `rows` samples of its columns.
fn check_inputs<F: Real>(p: &DenseParams<F>, inputs: &[Block<'_, F>], rows: usize, k_n: usize) {
    assert_eq!(inputs.len(), p.inputs.len(), "one buffer per input source");
    for (src, buf) in p.inputs.iter().zip(inputs) {
        let need = match buf {
            Block::Lanes(b) => (rows * src.dim() * k_n, b.len()),
            Block::Shared(b) => (rows * src.dim(), b.len()),
        };
        assert!(need.0 <= need.1, "input block shorter than its rows");
    }
    assert!(p.w.len() >= p.fan_in * p.units * k_n && p.b.len() >= p.units * k_n, "weights of another ensemble size");
}

/// out = [X, 1]·W (pre-activation) for `rows` samples.
#[inline(always)]
pub(super) fn forward<F: Real, V: Vector<F>, const R: usize, const U: usize>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    rows: usize,
    k_n: usize,
    out: &mut [F],
) {
    check_inputs(p, inputs, rows, k_n);
    assert!(out.len() >= rows * p.units * k_n, "output buffer too short");
    let out = out.as_mut_ptr();
    // SAFETY (all tiles below): lengths checked above; tiles stay in range.
    if k_n >= V::LANES {
        for b in 0..k_n.div_ceil(V::LANES) {
            let kb = overlapping(k_n, V::LANES, b);
            tiled!(rows, R, p.units, U, |n, j| forward_tile::<F, V>(p, inputs, k_n, n, j, kb, out));
        }
    } else {
        for kb in 0..k_n {
            tiled!(rows, R, p.units, U, |n, j| forward_tile::<F, One<F>>(p, inputs, k_n, n, j, kb, out));
        }
    }
}

/// # Safety
/// The buffers hold the tile's values (see [`forward`]'s checks).
#[inline(always)]
unsafe fn forward_tile<F: Real, V: Vector<F>, const R: usize, const U: usize>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    k_n: usize,
    n0: usize,
    j0: usize,
    kb: usize,
    out: *mut F,
) {
    unsafe {
        let (j_n, jk) = (p.units, p.units * k_n);
        let mut acc = [[V::splat(F::zero()); U]; R];
        let bias = p.b.as_ptr().add(j0 * k_n + kb);
        for row in &mut acc {
            for (u, a) in row.iter_mut().enumerate() {
                *a = V::read(bias.add(u * k_n));
            }
        }
        let mut w = p.w.as_ptr().add(j0 * k_n + kb);
        for (src, buf) in p.inputs.iter().zip(inputs) {
            let d = src.dim();
            match *buf {
                Block::Lanes(b) => {
                    let mut x = b.as_ptr().add(n0 * d * k_n + kb);
                    for _ in 0..d {
                        let mut wv = [V::splat(F::zero()); U];
                        for (u, wu) in wv.iter_mut().enumerate() {
                            *wu = V::read(w.add(u * k_n));
                        }
                        for (r, row) in acc.iter_mut().enumerate() {
                            let xv = V::read(x.add(r * d * k_n));
                            for (a, &wu) in row.iter_mut().zip(&wv) {
                                *a = xv.mul_add(wu, *a);
                            }
                        }
                        w = w.add(jk);
                        x = x.add(k_n);
                    }
                }
                Block::Shared(b) => {
                    let mut x = b.as_ptr().add(n0 * d);
                    for _ in 0..d {
                        let mut wv = [V::splat(F::zero()); U];
                        for (u, wu) in wv.iter_mut().enumerate() {
                            *wu = V::read(w.add(u * k_n));
                        }
                        for (r, row) in acc.iter_mut().enumerate() {
                            let xv = V::splat(*x.add(r * d));
                            for (a, &wu) in row.iter_mut().zip(&wv) {
                                *a = xv.mul_add(wu, *a);
                            }
                        }
                        w = w.add(jk);
                        x = x.add(1);
                    }
                }
            }
        }
        for (r, row) in acc.iter().enumerate() {
            for (u, a) in row.iter().enumerate() {
                a.write(out.add(((n0 + r) * j_n + j0 + u) * k_n + kb));
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
    k_n: usize,
    gw: &mut [F],
) {
    check_inputs(p, inputs, rows, k_n);
    let j_n = p.units;
    assert!(delta.len() >= rows * j_n * k_n && gw.len() >= p.fan_in * j_n * k_n, "gradient buffers too short");
    let (delta, gw) = (delta.as_ptr(), gw.as_mut_ptr());
    let mut first = 0;
    for (src, buf) in p.inputs.iter().zip(inputs) {
        let d = src.dim();
        // SAFETY (all tiles below): lengths checked above; tiles stay in range.
        let g = unsafe { gw.add(first * j_n * k_n) };
        if k_n >= V::LANES {
            for b in 0..k_n.div_ceil(V::LANES) {
                let kb = overlapping(k_n, V::LANES, b);
                tiled!(d, R, j_n, U, |i, j| weight_grads_tile::<F, V>(j_n, buf, d, delta, rows, k_n, i, j, kb, g));
            }
        } else {
            for kb in 0..k_n {
                tiled!(d, R, j_n, U, |i, j| weight_grads_tile::<F, One<F>>(j_n, buf, d, delta, rows, k_n, i, j, kb, g));
            }
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
    buf: &Block<'_, F>,
    d: usize,
    delta: *const F,
    rows: usize,
    k_n: usize,
    i0: usize,
    j0: usize,
    kb: usize,
    gw: *mut F,
) {
    unsafe {
        let mut acc = [[V::splat(F::zero()); U]; R];
        let mut dp = delta.add(j0 * k_n + kb);
        let (lanes, shared) = match *buf {
            Block::Lanes(b) => (b.as_ptr().add(i0 * k_n + kb), false),
            Block::Shared(b) => (b.as_ptr().add(i0), true),
        };
        let mut x = lanes;
        for _ in 0..rows {
            let mut dv = [V::splat(F::zero()); U];
            for (u, du) in dv.iter_mut().enumerate() {
                *du = V::read(dp.add(u * k_n));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let xv = if shared { V::splat(*x.add(r)) } else { V::read(x.add(r * k_n)) };
                for (a, &du) in row.iter_mut().zip(&dv) {
                    *a = xv.mul_add(du, *a);
                }
            }
            dp = dp.add(j_n * k_n);
            x = x.add(if shared { d } else { d * k_n });
        }
        for (r, row) in acc.iter().enumerate() {
            for (u, a) in row.iter().enumerate() {
                a.write(gw.add(((i0 + r) * j_n + j0 + u) * k_n + kb));
            }
        }
    }
}

/// The sum Σ_j w_ij·delta_j over units in order, per (sample, input column),
/// for the input block at weight row `first` with `dim` columns: added to
/// `dx` (FINISH = false) or, from zero, multiplied by `deriv(y)` and stored
/// (FINISH = true).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn input_grad<F: Real, V: Vector<F>, const R: usize, const U: usize, const FINISH: bool>(
    p: &DenseParams<F>,
    first: usize,
    dim: usize,
    delta: &[F],
    rows: usize,
    k_n: usize,
    dx: &mut [F],
    y: &[F],
    deriv: impl Fn(F) -> F + Copy,
) {
    let j_n = p.units;
    assert!(p.w.len() >= (first + dim) * j_n * k_n, "weights of another ensemble size");
    assert!(delta.len() >= rows * j_n * k_n && dx.len() >= rows * dim * k_n, "delta buffers too short");
    assert!(!FINISH || y.len() >= rows * dim * k_n, "outputs too short");
    let (delta, dx, y) = (delta.as_ptr(), dx.as_mut_ptr(), y.as_ptr());
    // Values added to dx must each be written once: no overlapping block.
    let lanes = V::LANES;
    let (blocks, whole) = match (FINISH, k_n >= lanes) {
        (_, false) => (0, 0),
        (true, true) => (k_n.div_ceil(lanes), k_n),
        (false, true) => (k_n / lanes, k_n / lanes * lanes),
    };
    // SAFETY (all tiles below): lengths checked above; tiles stay in range.
    for b in 0..blocks {
        let kb = overlapping(k_n, lanes, b);
        tiled!(rows, R, dim, U, |n, i| input_grad_tile::<F, V, FINISH>(
            p, first, dim, delta, k_n, n, i, kb, dx, y, deriv
        ));
    }
    for kb in whole..k_n {
        tiled!(rows, R, dim, U, |n, i| input_grad_tile::<F, One<F>, FINISH>(
            p, first, dim, delta, k_n, n, i, kb, dx, y, deriv
        ));
    }
}

/// # Safety
/// The buffers hold the tile's values (see [`input_grad`]'s checks).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn input_grad_tile<F: Real, V: Vector<F>, const R: usize, const U: usize, const FINISH: bool>(
    p: &DenseParams<F>,
    first: usize,
    dim: usize,
    delta: *const F,
    k_n: usize,
    n0: usize,
    i0: usize,
    kb: usize,
    dx: *mut F,
    y: *const F,
    deriv: impl Fn(F) -> F,
) {
    unsafe {
        let j_n = p.units;
        let at = |r: usize, u: usize| ((n0 + r) * dim + i0 + u) * k_n + kb;
        let mut acc = [[V::splat(F::zero()); U]; R];
        if !FINISH {
            for (r, row) in acc.iter_mut().enumerate() {
                for (u, a) in row.iter_mut().enumerate() {
                    *a = V::read(dx.add(at(r, u)));
                }
            }
        }
        let mut w = p.w.as_ptr().add((first + i0) * j_n * k_n + kb);
        let mut dp = delta.add(n0 * j_n * k_n + kb);
        for _ in 0..j_n {
            let mut wv = [V::splat(F::zero()); U];
            for (u, wu) in wv.iter_mut().enumerate() {
                *wu = V::read(w.add(u * j_n * k_n));
            }
            for (r, row) in acc.iter_mut().enumerate() {
                let dv = V::read(dp.add(r * j_n * k_n));
                for (a, &wu) in row.iter_mut().zip(&wv) {
                    *a = wu.mul_add(dv, *a);
                }
            }
            w = w.add(k_n);
            dp = dp.add(k_n);
        }
        for (r, row) in acc.iter().enumerate() {
            for (u, a) in row.iter().enumerate() {
                let o = at(r, u);
                let a = if FINISH { super::finish::<F, V>(*a, y.add(o), &deriv) } else { *a };
                a.write(dx.add(o));
            }
        }
    }
}

/// [`super::expand`].
#[inline(always)]
pub(super) fn expand<F: Real, V: Vector<F>>(table: &[F], map: &[u32], cols: usize, out: &mut [F]) {
    let k_n = map.len();
    assert!(table.len() >= cols * TABLE && out.len() >= cols * k_n, "expand: buffers too short");
    assert!(map.iter().all(|&m| (m as usize) < TABLE), "expand: an index outside the table");
    let (table, map, out) = (table.as_ptr(), map.as_ptr(), out.as_mut_ptr());
    // SAFETY: checked above: the table holds `cols` rows of TABLE values,
    // `out` cols × K values, and every index is below TABLE; each block
    // lies inside a row (overlapping: the same values written twice).
    unsafe {
        if k_n >= V::LANES {
            for c in 0..cols {
                for b in 0..k_n.div_ceil(V::LANES) {
                    let kb = overlapping(k_n, V::LANES, b);
                    V::lookup(table.add(c * TABLE), map.add(kb)).write(out.add(c * k_n + kb));
                }
            }
        } else {
            for c in 0..cols {
                for k in 0..k_n {
                    One::lookup(table.add(c * TABLE), map.add(k)).write(out.add(c * k_n + k));
                }
            }
        }
    }
}
