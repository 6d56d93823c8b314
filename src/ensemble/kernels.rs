//! The lockstep kernels of a Dense layer: forward, weight gradients and the
//! gradient handed back to the layer's inputs, over K members at once.
//!
//! Layout (K = members, innermost): activations `[(n·dim + i)·K + k]`,
//! weights `[(i·units + j)·K + k]`, biases `[j·K + k]`. Every inner loop runs
//! over k (or over j·K + k), contiguous in memory, so it vectorises across
//! members; each member's arithmetic is the same sequence of operations
//! whatever K is, which is why an ensemble of K equals K single networks bit
//! for bit. The one exception is the GEMM path: a single network (K = 1)
//! whose layer has at least [`GEMM_MIN_WEIGHTS`] weights goes through
//! ndarray's matrix product, which sums in its own order.

use super::DenseParams;
use crate::scalar::Real;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Layers of one network with at least this many weights use ndarray's GEMM.
pub const GEMM_MIN_WEIGHTS: usize = 256;

/// Whether a layer of `p` runs through GEMM for an ensemble of `members`.
pub fn uses_gemm<F>(p: &DenseParams<F>, members: usize) -> bool {
    members == 1 && p.fan_in * p.units >= GEMM_MIN_WEIGHTS
}

/// acc[j·K + k] += x[k]·w[j·K + k] for every j, k.
#[inline(always)]
fn axpy_members<F: Real>(acc: &mut [F], x: &[F], w: &[F], members: usize) {
    if members == 1 {
        let xv = x[0];
        for (a, &wv) in acc.iter_mut().zip(w) {
            *a += xv * wv;
        }
    } else {
        for (aj, wj) in acc.chunks_exact_mut(members).zip(w.chunks_exact(members)) {
            for ((a, &xv), &wv) in aj.iter_mut().zip(x).zip(wj) {
                *a += xv * wv;
            }
        }
    }
}

/// acc[k] += Σ_j w[j·K + k]·d[j·K + k], summed in order of j.
#[inline(always)]
fn dot_members<F: Real>(acc: &mut [F], w: &[F], d: &[F], members: usize) {
    if members == 1 {
        let mut s = acc[0];
        for (&wv, &dv) in w.iter().zip(d) {
            s += wv * dv;
        }
        acc[0] = s;
    } else {
        for (wj, dj) in w.chunks_exact(members).zip(d.chunks_exact(members)) {
            for ((a, &wv), &dv) in acc.iter_mut().zip(wj).zip(dj) {
                *a += wv * dv;
            }
        }
    }
}

fn view<F>(buf: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized by the workspace")
}

fn view_mut<F>(buf: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("buffer sized by the workspace")
}

/// out = act([X, 1]·W) for `rows` samples; `inputs[s]` is the buffer of the
/// layer's s-th input source.
pub fn forward<F: Real>(p: &DenseParams<F>, inputs: &[&[F]], rows: usize, members: usize, out: &mut [F]) {
    let jk = p.units * members;
    for o in out[..rows * jk].chunks_exact_mut(jk) {
        o.copy_from_slice(&p.b);
    }
    if uses_gemm(p, members) {
        let mut o = view_mut(out, rows, p.units);
        let mut row = 0;
        for (src, buf) in p.inputs.iter().zip(inputs) {
            let d = src.dim();
            let w = view(&p.w[row * p.units..], d, p.units);
            general_mat_mul(F::one(), &view(buf, rows, d), &w, F::one(), &mut o);
            row += d;
        }
    } else {
        for (n, o) in out[..rows * jk].chunks_exact_mut(jk).enumerate() {
            let mut row = 0;
            for (src, buf) in p.inputs.iter().zip(inputs) {
                let d = src.dim();
                for i in 0..d {
                    let x = &buf[(n * d + i) * members..][..members];
                    axpy_members(o, x, &p.w[(row + i) * jk..][..jk], members);
                }
                row += d;
            }
        }
    }
    p.activation.apply_in_place(&mut out[..rows * jk]);
}

/// Weight and bias gradients from `delta` (dL/dz, already through the
/// activation): gw = [X, 1]ᵀ·delta, summed over samples in order.
pub fn weight_grads<F: Real>(
    p: &DenseParams<F>,
    inputs: &[&[F]],
    delta: &[F],
    rows: usize,
    members: usize,
    gw: &mut [F],
    gb: &mut [F],
) {
    let jk = p.units * members;
    gb.fill(F::zero());
    for dn in delta[..rows * jk].chunks_exact(jk) {
        for (g, &d) in gb.iter_mut().zip(dn) {
            *g += d;
        }
    }
    if uses_gemm(p, members) {
        let dv = view(delta, rows, p.units);
        let mut row = 0;
        for (src, buf) in p.inputs.iter().zip(inputs) {
            let d = src.dim();
            let mut g = view_mut(&mut gw[row * p.units..], d, p.units);
            general_mat_mul(F::one(), &view(buf, rows, d).t(), &dv, F::zero(), &mut g);
            row += d;
        }
        return;
    }
    gw.fill(F::zero());
    for (n, dn) in delta[..rows * jk].chunks_exact(jk).enumerate() {
        let mut row = 0;
        for (src, buf) in p.inputs.iter().zip(inputs) {
            let d = src.dim();
            for i in 0..d {
                let x = &buf[(n * d + i) * members..][..members];
                axpy_members(&mut gw[(row + i) * jk..][..jk], x, dn, members);
            }
            row += d;
        }
    }
}

/// dx += delta·W_blockᵀ for the input block starting at weight row `row` with
/// `dim` columns: the gradient this layer hands back to that input.
pub fn input_grad<F: Real>(
    p: &DenseParams<F>,
    row: usize,
    dim: usize,
    delta: &[F],
    rows: usize,
    members: usize,
    dx: &mut [F],
) {
    let jk = p.units * members;
    if uses_gemm(p, members) {
        let w = view(&p.w[row * p.units..], dim, p.units);
        let mut dxv = view_mut(dx, rows, dim);
        general_mat_mul(F::one(), &view(delta, rows, p.units), &w.t(), F::one(), &mut dxv);
        return;
    }
    for (n, dn) in delta[..rows * jk].chunks_exact(jk).enumerate() {
        for i in 0..dim {
            let acc = &mut dx[(n * dim + i) * members..][..members];
            dot_members(acc, &p.w[(row + i) * jk..][..jk], dn, members);
        }
    }
}
