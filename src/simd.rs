//! Explicit SIMD vectors for the Dense kernels' register tiles
//! ([`crate::ensemble::kernels`]).
//!
//! Why hand-written: a tile keeps R × U vectors of accumulators in registers
//! across a whole sum. Written as plain arrays, LLVM kept them on the stack
//! and issued one scalar fused multiply-add per lane (measured: 4× slower
//! than the GEMM it replaced); `std::simd` is not stable, and the four
//! operations needed here (load, broadcast, fused multiply-add, store) are a
//! few lines of `std::arch` each. Every operation is exact IEEE arithmetic
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
        ($name:ident, $f:ty, $reg:ty, $lanes:expr, $half:ty, $load:ident, $splat:ident, $fma:ident, $store:ident, $doc:expr $(, $lookup:ident)?) => {
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
            }
        };
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
        "16 f32 in one AVX-512 register.",
        lookup16
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
        "8 f32 in one AVX2 register.",
        lookup8
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
        "4 f32 in one SSE register (with FMA: AVX2 level and above)."
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
        "2 f64 in one SSE register (with FMA: AVX2 level and above)."
    );
}
