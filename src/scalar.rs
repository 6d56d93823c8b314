//! The floating-point element type of every network, and the fast,
//! vectorisable transcendental functions the kernels use.
//!
//! Networks are generic over [`Real`], implemented for `f32` (the default,
//! what the sweep trains) and `f64` (what the gradient checks use). For `f32`,
//! [`Real::fast_tanh`] and [`Real::fast_exp`] are branch-free approximations
//! written so that the compiler turns a loop over them into SIMD code; for
//! `f64` they are the `libm` crate's (pure Rust: the same bits on every CPU).
//!
//! Accuracy of the `f32` versions (checked by `tests/fast_math.rs` against the
//! `f64` standard library rounded to `f32`, on every 37th float from 1e-30 to
//! the end of the range, both signs): `fast_tanh` is within **5 ulp**
//! everywhere (a one-off exhaustive check of every f32 in [0, 9.5] found 5
//! ulp at 27 of them, 4 ulp at 6,439, and 94% exact; ±1 exactly for
//! |x| ≥ 9, odd, NaN stays NaN); `fast_exp` is within **1 ulp** on
//! [-87, 87], 0 below -87 and `inf` above 88.

use crate::simd::{One, Vector};
use ndarray::LinalgScalar;
use num_traits::{Float, FromPrimitive, ToPrimitive};
use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// The element type of a network: `f32` (default) or `f64`.
pub trait Real:
    Float
    + FromPrimitive
    + ToPrimitive
    + LinalgScalar
    + Default
    + Send
    + Sync
    + Debug
    + Display
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + crate::simd::Lanes
    + 'static
{
    /// Hyperbolic tangent; fast and vectorisable for `f32`.
    fn fast_tanh(self) -> Self;
    /// Exponential; fast and vectorisable for `f32`.
    fn fast_exp(self) -> Self;
    /// Lossy conversion from `f64` (hyperparameters are given as `f64`).
    fn of(v: f64) -> Self;
    /// Natural logarithm from the `libm` crate: the same bits on every CPU
    /// (the standard library calls the system's, which glibc picks by CPU).
    fn portable_ln(self) -> Self;
    /// The next representable value above (`up`) or below this one.
    fn adjacent(self, up: bool) -> Self;
}

impl Real for f64 {
    #[inline(always)]
    fn fast_tanh(self) -> f64 {
        libm::tanh(self)
    }
    #[inline(always)]
    fn fast_exp(self) -> f64 {
        libm::exp(self)
    }
    #[inline(always)]
    fn of(v: f64) -> f64 {
        v
    }
    #[inline(always)]
    fn portable_ln(self) -> f64 {
        libm::log(self)
    }
    #[inline(always)]
    fn adjacent(self, up: bool) -> f64 {
        if up {
            self.next_up()
        } else {
            self.next_down()
        }
    }
}

impl Real for f32 {
    #[inline(always)]
    fn fast_tanh(self) -> f32 {
        tanh_f32(self)
    }
    #[inline(always)]
    fn fast_exp(self) -> f32 {
        exp_f32(self)
    }
    #[inline(always)]
    fn of(v: f64) -> f32 {
        v as f32
    }
    #[inline(always)]
    fn portable_ln(self) -> f32 {
        libm::logf(self)
    }
    #[inline(always)]
    fn adjacent(self, up: bool) -> f32 {
        if up {
            self.next_up()
        } else {
            self.next_down()
        }
    }
}

const LN2_HI: f32 = 0.693_145_75; // ln 2 split in two so that n·LN2_HI is exact
const LN2_LO: f32 = 1.428_606_8e-6;
const LOG2_E: f32 = std::f32::consts::LOG2_E;

/// 2^n for an integer-valued n in [-126, 127], built from the exponent bits.
#[inline(always)]
fn pow2i(n: f32) -> f32 {
    // n + 127 + 2^23 is an exact float whose low mantissa bits are n + 127:
    // pure bit operations, no float-to-int conversion, so it vectorises.
    let biased = (n + (127.0 + 8_388_608.0)).to_bits() & 0x007f_ffff;
    f32::from_bits(biased << 23)
}

/// Vectorisable e^x in f32: x = n·ln2 + r, e^x = 2^n·e^r.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // Clamp with comparisons (not min/max) so that NaN stays NaN.
    let xc = if x < -87.0 { -87.0 } else { x };
    let xc = if xc > 88.0 { 88.0 } else { xc };
    let n = (xc * LOG2_E).round_ties_even();
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, xc));
    // 2^n·e^r with n up to 128: split the scale in two to stay in range.
    let half = (n * 0.5).floor();
    let y = (1.0 + expm1_reduced(r)) * pow2i(half) * pow2i(n - half);
    if x < -87.0 {
        0.0
    } else if x > 88.0 {
        f32::INFINITY
    } else {
        y
    }
}

/// e^r - 1 for |r| ≤ ln2/2, Taylor polynomial to degree 8 (no cancellation near 0).
#[inline(always)]
fn expm1_reduced(r: f32) -> f32 {
    let p = 1.0 / 40320.0;
    let p = p.mul_add(r, 1.0 / 5040.0);
    let p = p.mul_add(r, 1.0 / 720.0);
    let p = p.mul_add(r, 1.0 / 120.0);
    let p = p.mul_add(r, 1.0 / 24.0);
    let p = p.mul_add(r, 1.0 / 6.0);
    let p = p.mul_add(r, 0.5);
    (r * r).mul_add(p, r)
}

/// Clamp of [`tanh_f32`]: the rational evaluates to exactly 1.0 at 9.0
/// (tanh itself rounds to 1.0 from 9.01 on: 1 ulp off in between).
const TANH_CLAMP: f32 = 9.0;
/// P(u), u = x², highest degree first (fitted by `scripts/fit_tanh.py`).
const TANH_P: [f32; 7] =
    [-8.462_425e-14, 5.268_018_7e-11, -2.020_522_4e-8, 1.114_950_6e-5, 0.003_103_504_4, 0.130_836_08, 1.0];
/// Q(u), highest degree first.
const TANH_Q: [f32; 4] = [2.545_483e-4, 0.024_493_387, 0.464_169_35, 1.0];

/// Vectorisable tanh in f32: the rational function x·P(x²)/Q(x²) of degrees
/// 13 and 6 in x, minimax in relative error on [0, 9.01] (our own fit,
/// `scripts/fit_tanh.py`: 7e-9 in exact arithmetic, within 5 ulp once
/// evaluated in f32). 11 fused multiply-adds and one division, no exp, no
/// branches beyond two clamps, so a loop over it vectorises and
/// keeps few dependent steps in flight. Odd by construction; NaN stays NaN.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    tanh_rational(One::new(x)).get()
}

/// [`tanh_f32`] on every lane of a vector: its one formula, for scalars
/// ([`One`]) and the SIMD vectors alike.
#[inline(always)]
pub(crate) fn tanh_rational<V: Vector<f32>>(x: V) -> V {
    // A clamp that compares (unlike min/max alone), so NaN stays NaN.
    let xc = x.clamp(V::splat(-TANH_CLAMP), V::splat(TANH_CLAMP));
    let u = xc.mul(xc);
    let mut p = V::splat(TANH_P[0]);
    for &c in &TANH_P[1..] {
        p = p.mul_add(u, V::splat(c));
    }
    let mut q = V::splat(TANH_Q[0]);
    for &c in &TANH_Q[1..] {
        q = q.mul_add(u, V::splat(c));
    }
    // Never outside [-1, 1].
    xc.mul(p).div(q).clamp(V::splat(-1.0), V::splat(1.0))
}
