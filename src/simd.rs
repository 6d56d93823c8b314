//! Explicit SIMD vectors for the Dense kernels' register tiles
//! ([`crate::ensemble::kernels`]) and the fused epochs of tiny networks
//! ([`crate::ensemble::fused`]).
//!
//! Why hand-written: a tile keeps R × U vectors of accumulators in registers
//! across a whole sum. Written as plain arrays, LLVM kept them on the stack
//! and issued one scalar fused multiply-add per lane (measured: 4× slower
//! than the GEMM it replaced); `std::simd` is not stable, and the
//! operations needed here (load, broadcast, fused multiply-add, store, the
//! four IEEE operations, sign changes, clamps and per-lane selection) are a
//! line of `std::arch` each. The fused epochs had the same trouble: as
//! plain arrays of 64 lanes LLVM unrolled them fully and then vectorised
//! only part, leaving the SGD step, the metric and the spills in scalar
//! code (measured on Zen 4: 0.42× the hand-written limit reference).
//! Every operation is exact IEEE arithmetic
//! (one rounding per fused multiply-add), so a vector computes each lane to
//! the same bits as [`One`], the scalar version, on every CPU.
//!
//! The x86-64 vectors may only run where their instructions exist: the
//! kernels pick them through [`crate::cpu::level`], inside the dispatch that
//! enables those instructions, and nowhere else.

use num_traits::Float;

/// The f32 lanes of the widest vector the kernels use (AVX-512), and so
/// the most lanes of any vector type here (f64 vectors hold half as many).
pub const WIDEST_LANES: usize = 16;

/// How many consecutive rows of `members` values (one weight's members, in
/// the ensemble layout) make a whole number of [`WIDEST_LANES`] vectors: 1
/// when `members` is a multiple of 16, 4 for 60. An auto-vectorised loop
/// over such runs has no lanes left over, where one over single rows would
/// handle the `members mod 16` last ones one at a time (measured: half of
/// Adam's time for 60 members).
pub fn rows_per_vector(members: usize) -> usize {
    let (mut a, mut b) = (members.max(1), WIDEST_LANES);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    WIDEST_LANES / a
}

/// Per-member values repeated over [`rows_per_vector`] consecutive weight
/// rows: the lanes of one run of whole vectors.
pub fn whole_vector_run<F: Copy>(values: &[F]) -> Vec<F> {
    let rows = rows_per_vector(values.len());
    values.iter().copied().cycle().take(rows * values.len()).collect()
}

/// A vector of [`Self::LANES`] values of `F`.
pub trait Vector<F>: Copy {
    /// Values per vector.
    const LANES: usize;
    /// The vector of half as many lanes (for rows shorter than this one).
    type Half: Vector<F>;
    /// The first `LANES` values of `s` (panics if shorter).
    fn load(s: &[F]) -> Self;
    /// `x` in every lane.
    fn splat(x: F) -> Self;
    /// `self · b + c`, rounded once.
    fn mul_add(self, b: Self, c: Self) -> Self;
    /// Writes the lanes to the first `LANES` values of `s` (panics if shorter).
    fn store(self, s: &mut [F]);
    /// The `LANES` values from `p` on.
    ///
    /// # Safety
    /// `p..p + LANES` must be readable.
    unsafe fn read(p: *const F) -> Self;
    /// Writes the lanes to `p..p + LANES`.
    ///
    /// # Safety
    /// `p..p + LANES` must be writable and not aliased.
    unsafe fn write(self, p: *mut F);
    /// `self + b`.
    fn add(self, b: Self) -> Self;
    /// `self - b`.
    fn sub(self, b: Self) -> Self;
    /// `self · b`.
    fn mul(self, b: Self) -> Self;
    /// `self / b`.
    fn div(self, b: Self) -> Self;
    /// `-self`: the sign flipped (of zeros and NaN too), as scalar negation.
    fn neg(self) -> Self;
    /// `|self|`: the sign cleared, as `f32::abs`.
    fn abs(self) -> Self;
    /// `self` clamped to `[lo, hi]` (lo ≤ hi) as `f32::clamp` does: NaN
    /// stays NaN.
    fn clamp(self, lo: Self, hi: Self) -> Self;
    /// Per lane: `then` where `self > b` (false where either is NaN), else `other`.
    fn gt_or(self, b: Self, then: Self, other: Self) -> Self;
    /// Per lane: `then` where `self < b` (false where either is NaN), else `other`.
    fn lt_or(self, b: Self, then: Self, other: Self) -> Self;
    /// Per lane: `then` where `self == b` (false where either is NaN), else `other`.
    fn eq_or(self, b: Self, then: Self, other: Self) -> Self;
    /// `f` on every lane, through memory: for functions with no vector form.
    #[inline(always)]
    fn map(self, f: impl Fn(F) -> F) -> Self
    where
        F: Copy,
    {
        const { assert!(Self::LANES <= TABLE) };
        let mut lanes = [std::mem::MaybeUninit::<F>::uninit(); TABLE];
        unsafe { self.write(lanes.as_mut_ptr().cast()) };
        for v in lanes.iter_mut().take(Self::LANES) {
            v.write(f(unsafe { v.assume_init() }));
        }
        unsafe { Self::read(lanes.as_ptr().cast()) }
    }
    /// [`crate::scalar::Real::fast_tanh`] on every lane; the f32 vectors
    /// evaluate its rational function in vector operations (the same bits).
    #[inline(always)]
    fn tanh(self) -> Self
    where
        F: crate::scalar::Real,
    {
        self.map(F::fast_tanh)
    }
    /// Lane l takes `table[idx[l]]`, from a table of [`TABLE`] values.
    ///
    /// # Safety
    /// `table..table + TABLE` and `idx..idx + LANES` must be readable, and
    /// every index below [`TABLE`].
    #[inline(always)]
    unsafe fn lookup(table: *const F, idx: *const u32) -> Self
    where
        F: Copy,
    {
        const { assert!(Self::LANES <= TABLE) };
        let mut lanes = [std::mem::MaybeUninit::<F>::uninit(); TABLE];
        for (l, v) in lanes.iter_mut().enumerate().take(Self::LANES) {
            v.write(unsafe { *table.add(*idx.add(l) as usize) });
        }
        unsafe { Self::read(lanes.as_ptr().cast()) }
    }
}

/// Values in a [`Vector::lookup`] table: one AVX-512 register of f32, two
/// AVX2 ones.
pub const TABLE: usize = 16;

/// The vectors of an element type: `Wide` for AVX-512, `Narrow` for AVX2.
pub trait Lanes: Sized {
    /// One AVX-512 register.
    type Wide: Vector<Self>;
    /// One AVX2 register.
    type Narrow: Vector<Self>;
}

/// One value: the portable vector, and the tile of ensembles smaller than a
/// register.
#[derive(Clone, Copy, Debug)]
pub struct One<F>(F);

impl<F: Float> Vector<F> for One<F> {
    const LANES: usize = 1;
    type Half = One<F>;
    #[inline(always)]
    fn load(s: &[F]) -> Self {
        One(s[0])
    }
    #[inline(always)]
    fn splat(x: F) -> Self {
        One(x)
    }
    #[inline(always)]
    fn mul_add(self, b: Self, c: Self) -> Self {
        One(self.0.mul_add(b.0, c.0))
    }
    #[inline(always)]
    fn store(self, s: &mut [F]) {
        s[0] = self.0;
    }
    #[inline(always)]
    unsafe fn read(p: *const F) -> Self {
        One(unsafe { *p })
    }
    #[inline(always)]
    unsafe fn write(self, p: *mut F) {
        unsafe { *p = self.0 }
    }
    #[inline(always)]
    unsafe fn lookup(table: *const F, idx: *const u32) -> Self {
        One(unsafe { *table.add(*idx as usize) })
    }
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        One(self.0 + b.0)
    }
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        One(self.0 - b.0)
    }
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        One(self.0 * b.0)
    }
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        One(self.0 / b.0)
    }
    #[inline(always)]
    fn neg(self) -> Self {
        One(-self.0)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        One(self.0.abs())
    }
    #[inline(always)]
    fn clamp(self, lo: Self, hi: Self) -> Self {
        let x = if self.0 < lo.0 { lo.0 } else { self.0 };
        One(if x > hi.0 { hi.0 } else { x })
    }
    #[inline(always)]
    fn gt_or(self, b: Self, then: Self, other: Self) -> Self {
        if self.0 > b.0 {
            then
        } else {
            other
        }
    }
    #[inline(always)]
    fn lt_or(self, b: Self, then: Self, other: Self) -> Self {
        if self.0 < b.0 {
            then
        } else {
            other
        }
    }
    #[inline(always)]
    fn eq_or(self, b: Self, then: Self, other: Self) -> Self {
        if self.0 == b.0 {
            then
        } else {
            other
        }
    }
}

impl<F> One<F> {
    /// The vector of one value.
    #[inline(always)]
    pub fn new(x: F) -> Self {
        One(x)
    }
    /// Its value.
    #[inline(always)]
    pub fn get(self) -> F {
        self.0
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Lanes for f32 {
    type Wide = One<f32>;
    type Narrow = One<f32>;
}

#[cfg(not(target_arch = "x86_64"))]
impl Lanes for f64 {
    type Wide = One<f64>;
    type Narrow = One<f64>;
}

#[cfg(target_arch = "x86_64")]
pub use x86::{F32x16, F32x4, F32x8, F64x2, F64x4, F64x8};

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Lanes, Vector};
    use std::arch::x86_64::*;

    impl Lanes for f32 {
        type Wide = F32x16;
        type Narrow = F32x8;
    }

    impl Lanes for f64 {
        type Wide = F64x8;
        type Narrow = F64x4;
    }

    /// Defines a vector type over one register. SAFETY of every `unsafe`
    /// below: the slices are checked to hold `LANES` values first (`read`
    /// and `write` pass their contract on), and the kernels use a type only
    /// at the CPU level that has its instructions.
    macro_rules! vector {
        ($name:ident, $f:ty, $reg:ty, $lanes:expr, $half:ty, $load:ident, $splat:ident, $fma:ident, $store:ident,
         [$add:ident, $sub:ident, $mul:ident, $div:ident, $min:ident, $max:ident, $xor:ident, $andnot:ident, $select:ident],
         $doc:expr $(, $lookup:ident)? $(; tanh $tanh:ident)?) => {
            #[doc = $doc]
            #[derive(Clone, Copy, Debug)]
            pub struct $name($reg);

            impl Vector<$f> for $name {
                const LANES: usize = $lanes;
                type Half = $half;
                #[inline(always)]
                fn load(s: &[$f]) -> Self {
                    let s = &s[..$lanes];
                    $name(unsafe { $load(s.as_ptr()) })
                }
                #[inline(always)]
                fn splat(x: $f) -> Self {
                    $name(unsafe { $splat(x) })
                }
                #[inline(always)]
                fn mul_add(self, b: Self, c: Self) -> Self {
                    $name(unsafe { $fma(self.0, b.0, c.0) })
                }
                #[inline(always)]
                fn store(self, s: &mut [$f]) {
                    let s = &mut s[..$lanes];
                    unsafe { $store(s.as_mut_ptr(), self.0) }
                }
                #[inline(always)]
                unsafe fn read(p: *const $f) -> Self {
                    $name(unsafe { $load(p) })
                }
                #[inline(always)]
                unsafe fn write(self, p: *mut $f) {
                    unsafe { $store(p, self.0) }
                }
                $(
                    #[inline(always)]
                    unsafe fn lookup(table: *const $f, idx: *const u32) -> Self {
                        $name(unsafe { $lookup(table, idx) })
                    }
                )?
                #[inline(always)]
                fn add(self, b: Self) -> Self {
                    $name(unsafe { $add(self.0, b.0) })
                }
                #[inline(always)]
                fn sub(self, b: Self) -> Self {
                    $name(unsafe { $sub(self.0, b.0) })
                }
                #[inline(always)]
                fn mul(self, b: Self) -> Self {
                    $name(unsafe { $mul(self.0, b.0) })
                }
                #[inline(always)]
                fn div(self, b: Self) -> Self {
                    $name(unsafe { $div(self.0, b.0) })
                }
                #[inline(always)]
                fn neg(self) -> Self {
                    $name(unsafe { $xor(self.0, $splat(-0.0)) })
                }
                #[inline(always)]
                fn abs(self) -> Self {
                    $name(unsafe { $andnot($splat(-0.0), self.0) })
                }
                #[inline(always)]
                fn clamp(self, lo: Self, hi: Self) -> Self {
                    // max/min return their second operand where either is
                    // NaN or both are equal: x, as `clamp` keeps it.
                    $name(unsafe { $min(hi.0, $max(lo.0, self.0)) })
                }
                #[inline(always)]
                fn gt_or(self, b: Self, then: Self, other: Self) -> Self {
                    $name(unsafe { $select::<_CMP_GT_OQ>(self.0, b.0, then.0, other.0) })
                }
                #[inline(always)]
                fn lt_or(self, b: Self, then: Self, other: Self) -> Self {
                    $name(unsafe { $select::<_CMP_LT_OQ>(self.0, b.0, then.0, other.0) })
                }
                #[inline(always)]
                fn eq_or(self, b: Self, then: Self, other: Self) -> Self {
                    $name(unsafe { $select::<_CMP_EQ_OQ>(self.0, b.0, then.0, other.0) })
                }
                $(
                    #[inline(always)]
                    fn tanh(self) -> Self {
                        $tanh(self)
                    }
                )?
            }
        };
    }

    /// Per-lane selection on a comparison, one helper per register type:
    /// `then` where `a CMP b`, else `other`.
    macro_rules! select {
        ($name:ident, $reg:ty, mask: $cmp:ident, $blend:ident) => {
            #[inline(always)]
            unsafe fn $name<const CMP: i32>(a: $reg, b: $reg, then: $reg, other: $reg) -> $reg {
                unsafe { $blend($cmp::<CMP>(a, b), other, then) }
            }
        };
        ($name:ident, $reg:ty, vector: $cmp:ident, $blend:ident) => {
            #[inline(always)]
            unsafe fn $name<const CMP: i32>(a: $reg, b: $reg, then: $reg, other: $reg) -> $reg {
                unsafe { $blend(other, then, $cmp::<CMP>(a, b)) }
            }
        };
    }
    select!(select_ps16, __m512, mask: _mm512_cmp_ps_mask, _mm512_mask_blend_ps);
    select!(select_ps8, __m256, vector: _mm256_cmp_ps, _mm256_blendv_ps);
    select!(select_ps4, __m128, vector: _mm_cmp_ps, _mm_blendv_ps);
    select!(select_pd8, __m512d, mask: _mm512_cmp_pd_mask, _mm512_mask_blend_pd);
    select!(select_pd4, __m256d, vector: _mm256_cmp_pd, _mm256_blendv_pd);
    select!(select_pd2, __m128d, vector: _mm_cmp_pd, _mm_blendv_pd);

    /// The f32 tanh's rational function on a vector.
    #[inline(always)]
    fn tanh_f32<V: Vector<f32>>(x: V) -> V {
        crate::scalar::tanh_rational(x)
    }

    /// [`Vector::lookup`] in one permutation of the 16-value table.
    #[inline(always)]
    unsafe fn lookup16(table: *const f32, idx: *const u32) -> __m512 {
        unsafe { _mm512_permutexvar_ps(_mm512_loadu_si512(idx.cast()), _mm512_loadu_ps(table)) }
    }

    /// [`Vector::lookup`] from the table's two halves: each permuted by the
    /// index's low 3 bits, the upper half taken where the index is above 7.
    #[inline(always)]
    unsafe fn lookup8(table: *const f32, idx: *const u32) -> __m256 {
        unsafe {
            let i = _mm256_loadu_si256(idx.cast());
            let lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), i);
            let hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table.add(8)), i);
            let upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(i, _mm256_set1_epi32(7)));
            _mm256_blendv_ps(lo, hi, upper)
        }
    }

    vector!(
        F32x16,
        f32,
        __m512,
        16,
        F32x8,
        _mm512_loadu_ps,
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps,
        [_mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, _mm512_min_ps, _mm512_max_ps, _mm512_xor_ps, _mm512_andnot_ps, select_ps16],
        "16 f32 in one AVX-512 register.",
        lookup16;
        tanh tanh_f32
    );
    vector!(
        F32x8,
        f32,
        __m256,
        8,
        F32x4,
        _mm256_loadu_ps,
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_storeu_ps,
        [_mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_min_ps, _mm256_max_ps, _mm256_xor_ps, _mm256_andnot_ps, select_ps8],
        "8 f32 in one AVX2 register.",
        lookup8;
        tanh tanh_f32
    );
    vector!(
        F32x4,
        f32,
        __m128,
        4,
        super::One<f32>,
        _mm_loadu_ps,
        _mm_set1_ps,
        _mm_fmadd_ps,
        _mm_storeu_ps,
        [_mm_add_ps, _mm_sub_ps, _mm_mul_ps, _mm_div_ps, _mm_min_ps, _mm_max_ps, _mm_xor_ps, _mm_andnot_ps, select_ps4],
        "4 f32 in one SSE register (with FMA: AVX2 level and above).";
        tanh tanh_f32
    );
    vector!(
        F64x8,
        f64,
        __m512d,
        8,
        F64x4,
        _mm512_loadu_pd,
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_storeu_pd,
        [
            _mm512_add_pd,
            _mm512_sub_pd,
            _mm512_mul_pd,
            _mm512_div_pd,
            _mm512_min_pd,
            _mm512_max_pd,
            _mm512_xor_pd,
            _mm512_andnot_pd,
            select_pd8
        ],
        "8 f64 in one AVX-512 register."
    );
    vector!(
        F64x4,
        f64,
        __m256d,
        4,
        F64x2,
        _mm256_loadu_pd,
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_storeu_pd,
        [
            _mm256_add_pd,
            _mm256_sub_pd,
            _mm256_mul_pd,
            _mm256_div_pd,
            _mm256_min_pd,
            _mm256_max_pd,
            _mm256_xor_pd,
            _mm256_andnot_pd,
            select_pd4
        ],
        "4 f64 in one AVX2 register."
    );
    vector!(
        F64x2,
        f64,
        __m128d,
        2,
        super::One<f64>,
        _mm_loadu_pd,
        _mm_set1_pd,
        _mm_fmadd_pd,
        _mm_storeu_pd,
        [_mm_add_pd, _mm_sub_pd, _mm_mul_pd, _mm_div_pd, _mm_min_pd, _mm_max_pd, _mm_xor_pd, _mm_andnot_pd, select_pd2],
        "2 f64 in one SSE register (with FMA: AVX2 level and above)."
    );
}
