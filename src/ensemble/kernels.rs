//! The lockstep kernels of a Dense layer: forward, weight gradients and the
//! gradient handed back to the layer's inputs, over K members at once.
//!
//! Layout (K = members, innermost): activations `[(n·dim + i)·K + k]`,
//! weights `[(i·units + j)·K + k]`, biases `[j·K + k]`. Every inner loop runs
//! over a block of members, contiguous in memory and accumulated in
//! registers, so it vectorises across members (blocks of 64, then 32, then
//! 8, then single members: `by_blocks!`); each member's arithmetic is the same
//! sequence of operations whatever K is and whichever block it falls in,
//! which is why an ensemble of K equals K single networks bit for bit. The
//! one exception is the GEMM path: a single network (K = 1) whose layer has
//! at least [`GEMM_MIN_WEIGHTS`] weights goes through ndarray's matrix
//! product, which sums in its own order.

use super::DenseParams;
use crate::activations::with_derivative;
use crate::cpu;
use crate::scalar::Real;
use crate::Activation;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Layers of one network with at least this many weights use ndarray's GEMM.
pub const GEMM_MIN_WEIGHTS: usize = 256;

/// Whether a layer of `p` runs through GEMM for an ensemble of `members`.
pub fn uses_gemm<F>(p: &DenseParams<F>, members: usize) -> bool {
    members == 1 && p.fan_in * p.units >= GEMM_MIN_WEIGHTS
}

fn view<F>(buf: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &buf[..rows * cols]).expect("buffer sized by the workspace")
}

fn view_mut<F>(buf: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut buf[..rows * cols]).expect("buffer sized by the workspace")
}

/// The values of one input block of a layer, as the kernels read them.
#[derive(Clone, Copy, Debug)]
pub enum Block<'a, F> {
    /// One value per member: `[(n·dim + i)·K + k]`.
    Lanes(&'a [F]),
    /// One value that every member reads: `[n·dim + i]`. The network input
    /// when all members see the same samples (a full batch, a test set):
    /// the kernels broadcast it from a register instead of loading K copies.
    Shared(&'a [F]),
}

impl<F: Copy> Block<'_, F> {
    /// Member k's value of column i of sample n, for a block of `dim` columns.
    pub fn at(&self, n: usize, dim: usize, i: usize, members: usize, k: usize) -> F {
        match *self {
            Block::Lanes(b) => b[(n * dim + i) * members + k],
            Block::Shared(b) => b[n * dim + i],
        }
    }

    /// The buffer of a single network (K = 1), where both layouts coincide.
    fn single(&self) -> &[F] {
        match *self {
            Block::Lanes(b) | Block::Shared(b) => b,
        }
    }
}

/// Members processed together in registers by the lockstep loops.
const LANES: usize = 64;
/// Width of the one block that may take members left after the last full
/// [`LANES`] block (at most one fits).
const HALF: usize = LANES / 2;
/// Width of the blocks that take the members left after that (one AVX2
/// register of f32), before single members.
const NARROW: usize = 8;

/// Runs `$body` for every block of members `kb..kb + $l` of `$k_n`: blocks of
/// [`LANES`] while they last, then at most one of [`HALF`], then blocks of
/// [`NARROW`], then single members, with `$l` a constant in each so that the
/// register arrays have a fixed size. The body does the same operations for
/// each member whatever the width, so a member's arithmetic does not depend
/// on K or on which block it falls in. `$single` (a const generic of the
/// kernel, true when K = 1) compiles only the one-member loop, which keeps a
/// single network's kernels small.
macro_rules! by_blocks {
    ($single:expr, $k_n:expr, |$kb:ident, $l:ident| $body:block) => {{
        let k_n: usize = $k_n;
        let (wide, half, narrow) = if $single {
            (0, 0, 0)
        } else {
            let wide = k_n / LANES * LANES;
            let half = wide + (k_n - wide) / HALF * HALF;
            (wide, half, half + (k_n - half) / NARROW * NARROW)
        };
        if !$single {
            {
                const $l: usize = LANES;
                for $kb in (0..wide).step_by($l) $body
            }
            {
                const $l: usize = HALF;
                for $kb in (wide..half).step_by($l) $body
            }
            {
                const $l: usize = NARROW;
                for $kb in (half..narrow).step_by($l) $body
            }
        }
        {
            const $l: usize = 1;
            for $kb in narrow..k_n $body
        }
    }};
}

/// out = act([X, 1]·W) for `rows` samples; `inputs[s]` holds the values of
/// the layer's s-th input source.
pub fn forward<F: Real>(p: &DenseParams<F>, inputs: &[Block<'_, F>], rows: usize, members: usize, out: &mut [F]) {
    if uses_gemm(p, members) {
        return forward_gemm(p, inputs, rows, out);
    }
    if members == 1 {
        cpu::dispatch!(forward_lockstep::<F, true>(p, inputs, rows, members, out));
    } else {
        cpu::dispatch!(forward_lockstep::<F, false>(p, inputs, rows, members, out));
    }
    // One dispatch per layer, then a plain vectorised pass over the outputs.
    p.activation.apply_in_place(&mut out[..rows * p.units * members]);
}

fn forward_gemm<F: Real>(p: &DenseParams<F>, inputs: &[Block<'_, F>], rows: usize, out: &mut [F]) {
    let j_n = p.units;
    for o in out[..rows * j_n].chunks_exact_mut(j_n) {
        o.copy_from_slice(&p.b);
    }
    let mut o = view_mut(out, rows, j_n);
    let mut row = 0;
    for (src, buf) in p.inputs.iter().zip(inputs) {
        let d = src.dim();
        let w = view(&p.w[row * j_n..], d, j_n);
        general_mat_mul(F::one(), &view(buf.single(), rows, d), &w, F::one(), &mut o);
        row += d;
    }
    p.activation.apply_in_place(&mut out[..rows * j_n]);
}

/// The lockstep pre-activation: for every (sample, unit) and block of
/// members (`by_blocks!`), z = b + Σ_i x_i·w_i accumulates in registers
/// (fused multiply-adds, in order of i) and is stored once.
#[inline(always)]
fn forward_lockstep<F: Real, const SINGLE: bool>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    rows: usize,
    members: usize,
    out: &mut [F],
) {
    let (j_n, k_n) = (p.units, members);
    for n in 0..rows {
        for j in 0..j_n {
            let o = &mut out[(n * j_n + j) * k_n..][..k_n];
            let bias = &p.b[j * k_n..][..k_n];
            by_blocks!(SINGLE, k_n, |kb, L| {
                let mut acc = [F::zero(); L];
                acc.copy_from_slice(&bias[kb..kb + L]);
                let mut row = 0;
                for (src, buf) in p.inputs.iter().zip(inputs) {
                    let d = src.dim();
                    match *buf {
                        Block::Lanes(buf) => {
                            for i in 0..d {
                                let x = &buf[(n * d + i) * k_n + kb..][..L];
                                let w = &p.w[((row + i) * j_n + j) * k_n + kb..][..L];
                                for l in 0..L {
                                    acc[l] = x[l].mul_add(w[l], acc[l]);
                                }
                            }
                        }
                        Block::Shared(buf) => {
                            for (i, &x) in buf[n * d..][..d].iter().enumerate() {
                                let w = &p.w[((row + i) * j_n + j) * k_n + kb..][..L];
                                for l in 0..L {
                                    acc[l] = x.mul_add(w[l], acc[l]);
                                }
                            }
                        }
                    }
                    row += d;
                }
                o[kb..kb + L].copy_from_slice(&acc);
            });
        }
    }
}

/// Weight and bias gradients from `delta` (dL/dz, already through the
/// activation): gw = [X, 1]ᵀ·delta, summed over samples in order.
pub fn weight_grads<F: Real>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    delta: &[F],
    rows: usize,
    members: usize,
    gw: &mut [F],
    gb: &mut [F],
) {
    let (j_n, k_n) = (p.units, members);
    let jk = j_n * k_n;
    if uses_gemm(p, members) {
        gb.fill(F::zero());
        for dn in delta[..rows * jk].chunks_exact(jk) {
            for (g, &d) in gb.iter_mut().zip(dn) {
                *g += d;
            }
        }
        let dv = view(delta, rows, j_n);
        let mut row = 0;
        for (src, buf) in p.inputs.iter().zip(inputs) {
            let d = src.dim();
            let mut g = view_mut(&mut gw[row * j_n..], d, j_n);
            general_mat_mul(F::one(), &view(buf.single(), rows, d).t(), &dv, F::zero(), &mut g);
            row += d;
        }
        return;
    }
    if members == 1 {
        cpu::dispatch!(weight_grads_lockstep::<F, true>(p, inputs, delta, rows, members, gw, gb));
    } else {
        cpu::dispatch!(weight_grads_lockstep::<F, false>(p, inputs, delta, rows, members, gw, gb));
    }
}

/// gb[j] = Σ_n delta[n][j], gw[i][j] = Σ_n x[n][i]·delta[n][j]: register sums over samples.
#[inline(always)]
fn weight_grads_lockstep<F: Real, const SINGLE: bool>(
    p: &DenseParams<F>,
    inputs: &[Block<'_, F>],
    delta: &[F],
    rows: usize,
    members: usize,
    gw: &mut [F],
    gb: &mut [F],
) {
    let (j_n, k_n) = (p.units, members);
    for j in 0..j_n {
        by_blocks!(SINGLE, k_n, |kb, L| {
            let mut acc = [F::zero(); L];
            for n in 0..rows {
                let d = &delta[(n * j_n + j) * k_n + kb..][..L];
                for l in 0..L {
                    acc[l] += d[l];
                }
            }
            gb[j * k_n + kb..][..L].copy_from_slice(&acc);
        });
    }
    let mut row = 0;
    for (src, buf) in p.inputs.iter().zip(inputs) {
        let d_n = src.dim();
        for i in 0..d_n {
            for j in 0..j_n {
                let g = &mut gw[((row + i) * j_n + j) * k_n..][..k_n];
                by_blocks!(SINGLE, k_n, |kb, L| {
                    let mut acc = [F::zero(); L];
                    for n in 0..rows {
                        let d = &delta[(n * j_n + j) * k_n + kb..][..L];
                        match *buf {
                            Block::Lanes(buf) => {
                                let x = &buf[(n * d_n + i) * k_n + kb..][..L];
                                for l in 0..L {
                                    acc[l] = x[l].mul_add(d[l], acc[l]);
                                }
                            }
                            Block::Shared(buf) => {
                                let x = buf[n * d_n + i];
                                for l in 0..L {
                                    acc[l] = x.mul_add(d[l], acc[l]);
                                }
                            }
                        }
                    }
                    g[kb..kb + L].copy_from_slice(&acc);
                });
            }
        }
        row += d_n;
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
    if uses_gemm(p, members) {
        return input_grad_gemm(p, row, dim, delta, rows, F::one(), dx);
    }
    let (y, one) = (&[], |_| F::one());
    if members == 1 {
        cpu::dispatch!(input_grad_lockstep::<F, false, true>(p, row, dim, delta, rows, members, dx, y, one));
    } else {
        cpu::dispatch!(input_grad_lockstep::<F, false, false>(p, row, dim, delta, rows, members, dx, y, one));
    }
}

/// dx = (delta·W_blockᵀ) ⊙ act'(y) where `y` (same layout as `dx`) is the
/// output of the layer that feeds this block through `act`: the whole delta
/// of a layer whose output only this layer reads, written in one pass (no
/// zero fill, no separate pass for the activation's derivative). Each value
/// is the same sum, then the same product, as [`input_grad`] onto zeros
/// followed by [`Activation::backprop_in_place`].
#[allow(clippy::too_many_arguments)]
pub fn input_delta<F: Real>(
    p: &DenseParams<F>,
    row: usize,
    dim: usize,
    delta: &[F],
    rows: usize,
    members: usize,
    act: Activation,
    y: &[F],
    dx: &mut [F],
) {
    if uses_gemm(p, members) {
        input_grad_gemm(p, row, dim, delta, rows, F::zero(), dx);
        return act.backprop_in_place(&y[..rows * dim], &mut dx[..rows * dim]);
    }
    cpu::dispatch!(with_derivative!(F, act, |d| {
        if members == 1 {
            input_grad_lockstep::<F, true, true>(p, row, dim, delta, rows, members, dx, y, d)
        } else {
            input_grad_lockstep::<F, true, false>(p, row, dim, delta, rows, members, dx, y, d)
        }
    }))
}

fn input_grad_gemm<F: Real>(
    p: &DenseParams<F>,
    row: usize,
    dim: usize,
    delta: &[F],
    rows: usize,
    beta: F,
    dx: &mut [F],
) {
    let j_n = p.units;
    let w = view(&p.w[row * j_n..], dim, j_n);
    let mut dxv = view_mut(dx, rows, dim);
    general_mat_mul(F::one(), &view(delta, rows, j_n), &w.t(), beta, &mut dxv);
}

/// The lockstep sum Σ_j w_ij·delta_j per (sample, input column) and block of
/// members, in registers: added to `dx` (FINISH = false) or, starting from
/// zero, multiplied by `deriv(y)` and stored (FINISH = true).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn input_grad_lockstep<F: Real, const FINISH: bool, const SINGLE: bool>(
    p: &DenseParams<F>,
    row: usize,
    dim: usize,
    delta: &[F],
    rows: usize,
    members: usize,
    dx: &mut [F],
    y: &[F],
    deriv: impl Fn(F) -> F,
) {
    let (j_n, k_n) = (p.units, members);
    for n in 0..rows {
        for i in 0..dim {
            let at = (n * dim + i) * k_n;
            let acc_out = &mut dx[at..][..k_n];
            by_blocks!(SINGLE, k_n, |kb, L| {
                let mut acc = [F::zero(); L];
                if !FINISH {
                    acc.copy_from_slice(&acc_out[kb..kb + L]);
                }
                for j in 0..j_n {
                    let w = &p.w[((row + i) * j_n + j) * k_n + kb..][..L];
                    let d = &delta[(n * j_n + j) * k_n + kb..][..L];
                    for l in 0..L {
                        acc[l] = w[l].mul_add(d[l], acc[l]);
                    }
                }
                if FINISH {
                    let y = &y[at + kb..][..L];
                    for l in 0..L {
                        acc[l] *= deriv(y[l]);
                    }
                }
                acc_out[kb..kb + L].copy_from_slice(&acc);
            });
        }
    }
}
