//! The kernels of a Dense layer: forward, weight gradients and the gradient
//! handed back to the layer's inputs, for an ensemble of K members or a
//! single network.
//!
//! Layout (K = members, innermost): activations `[(n·dim + i)·K + k]`,
//! weights `[(i·units + j)·K + k]`, biases `[j·K + k]`. Every value is one
//! sum in a fixed order: a pre-activation from its bias over the inputs in
//! order, a weight gradient from zero over the samples in order, an input
//! gradient over the units in order, each step one fused multiply-add. So
//! each member's arithmetic is the same whatever K is, which is why an
//! ensemble of K equals K single networks bit for bit, and why a run's
//! record does not depend on which runs share its ensemble.
//!
//! Register tiles make these sums fast without changing their order: an
//! ensemble's tiles (`members.rs`) put members in the vector lanes, a single
//! network's (`single.rs`) puts units (or input columns) there, and both keep
//! R × U vectors in registers so that each loaded vector feeds several
//! multiply-adds. The tile shape follows the CPU level (`with_tile!`). These are
//! hand-written rather than a GEMM crate's because a GEMM sums in blocks of
//! its own choosing, which would make a single network differ from an
//! ensemble member, and because an ensemble's batched small products are
//! not a GEMM's shape.

mod members;
mod single;

use super::DenseParams;
use crate::activations::with_derivative;
use crate::cpu;
use crate::scalar::Real;
use crate::simd::{One, WIDEST_LANES};
use crate::Activation;

/// Runs `f::<F, V, R', U'>(args)` over a grid of `a_n × b_n` tiles of R × U
/// (R' = R or 1 for the rows left over, U' = U, then 2 and 1 for the columns
/// left over), binding the
/// tile's corner to `a` and `b`. `f` is an unsafe tile function: the kernel
/// that invokes this has checked its buffers' lengths, and every tile lies
/// inside `a_n × b_n`.
macro_rules! tiled {
    ($a_n:expr, $r:ident, $b_n:expr, $u:ident, |$a:ident, $b:ident| $f:ident::<$F:ty, $V:ty $(, $x:tt)*>($($arg:expr),* $(,)?)) => {{
        let (a_n, b_n): (usize, usize) = ($a_n, $b_n);
        let (a_t, b_t) = (a_n / $r * $r, b_n / $u * $u);
        let mut $a = 0;
        while $a < a_n {
            let mut $b = 0;
            if $a < a_t {
                while $b < b_t {
                    unsafe { $f::<$F, $V, $r, $u $(, $x)*>($($arg),*) };
                    $b += $u;
                }
                while $b + 2 <= b_n {
                    unsafe { $f::<$F, $V, $r, 2 $(, $x)*>($($arg),*) };
                    $b += 2;
                }
                while $b < b_n {
                    unsafe { $f::<$F, $V, $r, 1 $(, $x)*>($($arg),*) };
                    $b += 1;
                }
                $a += $r;
            } else {
                while $b < b_t {
                    unsafe { $f::<$F, $V, 1, $u $(, $x)*>($($arg),*) };
                    $b += $u;
                }
                while $b < b_n {
                    unsafe { $f::<$F, $V, 1, 1 $(, $x)*>($($arg),*) };
                    $b += 1;
                }
                $a += 1;
            }
        }
    }};
}
use tiled;

/// Rows of samples in a tile at every CPU level (`with_tile!`'s R): a
/// batch of a multiple of it has no rows left over for the slower 1-row tiles.
pub const TILE_ROWS: usize = 4;

/// Calls `f::<F, V, R, U, …>(args)` with the vector type and the tile shape
/// of the running CPU level, inside its dispatch: AVX-512, one register of
/// 16 f32 per vector and 4 × 6 of them (24 accumulators of 32 registers;
/// 4 × 4 took 2–4% longer on the digits sweep, Zen 4); AVX2, one of 8 f32
/// and 4 × 3 (16 registers); otherwise one value at a time, 4 × 4.
macro_rules! with_tile {
    ($($f:ident)::+ ::<$F:ty $(, $x:tt)*>($($arg:expr),* $(,)?)) => {
        cpu::per_level!(
            avx512: $($f)::+::<$F, <$F as $crate::simd::Lanes>::Wide, TILE_ROWS, 6 $(, $x)*>($($arg),*),
            avx2: $($f)::+::<$F, <$F as $crate::simd::Lanes>::Narrow, TILE_ROWS, 3 $(, $x)*>($($arg),*),
            baseline: $($f)::+::<$F, One<$F>, TILE_ROWS, 4 $(, $x)*>($($arg),*),
        )
    };
}

/// `a ⊙ deriv(y)` over one vector's lanes: the end of an input delta. The
/// lanes go through local arrays, which cannot alias, so the loop
/// vectorises (through `dx` and `y` it ran one lane at a time, 3% of the
/// digits sweep).
///
/// # Safety
/// `y` holds `V::LANES` values.
#[inline(always)]
unsafe fn finish<F: Real, V: crate::simd::Vector<F>>(a: V, y: *const F, deriv: impl Fn(F) -> F) -> V {
    const { assert!(V::LANES <= WIDEST_LANES) };
    let (mut av, mut yv) = ([F::zero(); WIDEST_LANES], [F::zero(); WIDEST_LANES]);
    unsafe {
        a.write(av.as_mut_ptr());
        V::read(y).write(yv.as_mut_ptr());
    }
    for (v, &y) in av.iter_mut().zip(&yv).take(V::LANES) {
        *v *= deriv(y);
    }
    unsafe { V::read(av.as_ptr()) }
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

/// out = act([X, 1]·W) for `rows` samples; `inputs[s]` holds the values of
/// the layer's s-th input source.
pub fn forward<F: Real>(p: &DenseParams<F>, inputs: &[Block<'_, F>], rows: usize, members: usize, out: &mut [F]) {
    if members == 1 || inputs.iter().all(|b| matches!(b, Block::Shared(_))) {
        with_tile!(single::forward::<F>(p, inputs, rows, p.units * members, out));
    } else {
        with_tile!(members::forward::<F>(p, inputs, rows, members, out));
    }
    // One dispatch per layer, then a plain vectorised pass over the outputs.
    p.activation.apply_in_place(&mut out[..rows * p.units * members]);
}

/// Lanes from a table: `out[c·K + k] = table[c·TABLE + map[k]]` for `cols`
/// columns of K = `map.len()` members, a vector of members at a time
/// ([`crate::simd::Vector::lookup`]). How a mini-batch reaches the members
/// that share it: each distinct batch row is read once into the table.
pub fn expand<F: Real>(table: &[F], map: &[u32], cols: usize, out: &mut [F]) {
    cpu::per_level!(
        avx512: members::expand::<F, <F as crate::simd::Lanes>::Wide>(table, map, cols, out),
        avx2: members::expand::<F, <F as crate::simd::Lanes>::Narrow>(table, map, cols, out),
        baseline: members::expand::<F, One<F>>(table, map, cols, out),
    )
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
    let jk = p.units * members;
    gb[..jk].fill(F::zero());
    for dn in delta[..rows * jk].chunks_exact(jk) {
        for (g, &d) in gb.iter_mut().zip(dn) {
            *g += d;
        }
    }
    if members == 1 {
        with_tile!(single::weight_grads::<F>(p, inputs, delta, rows, gw));
    } else {
        with_tile!(members::weight_grads::<F>(p, inputs, delta, rows, members, gw));
    }
}

/// dx += delta·W_blockᵀ for the input block starting at weight row `row` with
/// `dim` columns: the gradient this layer hands back to that input. A single
/// network reads the block transposed, from `scratch`.
#[allow(clippy::too_many_arguments)]
pub fn input_grad<F: Real>(
    p: &DenseParams<F>,
    row: usize,
    dim: usize,
    delta: &[F],
    rows: usize,
    members: usize,
    dx: &mut [F],
    scratch: &mut Vec<F>,
) {
    let (y, one) = (&[], |_| F::one());
    if members == 1 {
        let wt = transposed(p, row, dim, scratch);
        let j_n = p.units;
        with_tile!(single::input_grad::<F, false>(j_n, wt, dim, delta, rows, dx, y, one));
    } else {
        with_tile!(members::input_grad::<F, false>(p, row, dim, delta, rows, members, dx, y, one));
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
    scratch: &mut Vec<F>,
) {
    if members == 1 {
        let wt = transposed(p, row, dim, scratch);
        let j_n = p.units;
        with_derivative!(F, act, |d| with_tile!(single::input_grad::<F, true>(j_n, wt, dim, delta, rows, dx, y, d)));
    } else {
        with_derivative!(F, act, |d| with_tile!(members::input_grad::<F, true>(
            p, row, dim, delta, rows, members, dx, y, d
        )));
    }
}

/// A single network's weight rows `row..row + dim`, transposed into
/// `scratch` (`[j·dim + i]`), for the input gradient's tiles.
fn transposed<'s, F: Real>(p: &DenseParams<F>, row: usize, dim: usize, scratch: &'s mut Vec<F>) -> &'s [F] {
    let j_n = p.units;
    scratch.clear();
    scratch.resize(dim * j_n, F::zero());
    for (i, w_row) in p.w[row * j_n..][..dim * j_n].chunks_exact(j_n).enumerate() {
        for (j, &w) in w_row.iter().enumerate() {
            scratch[j * dim + i] = w;
        }
    }
    scratch
}
