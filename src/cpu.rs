//! Run-time choice of the kernels' instruction set.
//!
//! The crate is built for the baseline of its target (x86-64: SSE2, no AVX,
//! no FMA), so it runs on any CPU and needs no build flags. The hot loops
//! (the lockstep layer kernels, activations, losses, regularizers and
//! optimizer steps) are compiled a second and third time with AVX2 + FMA and
//! with AVX-512, and [`run`] picks one copy per call from [`level`]: what the
//! CPU has, or what the environment variable `NETSWEEP_CPU`
//! (`baseline`, `avx2`, `avx512`) forces.
//!
//! **Results do not depend on the level.** The kernels use fused
//! multiply-adds explicitly (`mul_add`), which round once on every level: an
//! FMA instruction with AVX2, a correctly rounded library call on the
//! baseline. Everything else is IEEE addition, multiplication and division in
//! a fixed order; vector code computes each member's lane exactly as scalar
//! code does. `tests/cpu_levels.rs` runs the same sweeps at every level this
//! machine has and compares the files byte for byte. Large layers too: the
//! Dense kernels' register tiles ([`crate::ensemble::kernels`]) sum in the
//! same order at every level (there is no GEMM library choosing its own
//! blocking by CPU).
//!
//! Why hand-written rather than the `multiversion` crate: we need a level
//! forced from the environment (for the identity tests and for users who
//! want to compare), recorded in the manifest, and one dispatch shared by
//! closures of any signature; the mechanism is ten lines. A body reaches the
//! chosen instruction set by being inlined into one of the
//! `#[target_feature]` trampolines below: every function a dispatched closure
//! calls in its loops is `#[inline(always)]`.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU8, Ordering};

/// The environment variable that forces a level.
pub const ENV: &str = "NETSWEEP_CPU";

/// An instruction-set level of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The target's baseline (x86-64: SSE2; fused multiply-adds by library call).
    Baseline,
    /// AVX2 and FMA (x86-64 since 2013–2015).
    Avx2,
    /// AVX-512 (F, VL, BW, DQ) with AVX2 and FMA.
    Avx512,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Baseline, Level::Avx2, Level::Avx512];

    /// The name `NETSWEEP_CPU` and the manifest use.
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the level.
    pub fn supported(self) -> bool {
        match self {
            Level::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => {
                Level::Avx2.supported()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512dq")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The levels this CPU can run, lowest first.
    pub fn available() -> Vec<Level> {
        Level::ALL.into_iter().filter(|l| l.supported()).collect()
    }

    /// The highest level this CPU can run.
    pub fn detect() -> Level {
        *Level::available().last().unwrap_or(&Level::Baseline)
    }

    fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == text.trim().to_ascii_lowercase())
    }
}

/// The level `NETSWEEP_CPU` asks for (the detected one when it is unset or
/// empty), or an error naming the valid values or what the CPU lacks.
pub fn requested() -> Result<Level> {
    match std::env::var(ENV) {
        Err(_) => Ok(Level::detect()),
        Ok(text) if text.trim().is_empty() => Ok(Level::detect()),
        Ok(text) => {
            let level = Level::parse(&text).ok_or_else(|| Error::Cpu {
                message: format!("{ENV}={text:?} is not a level; use baseline, avx2 or avx512 (or unset it to detect)"),
            })?;
            if !level.supported() {
                let have: Vec<&str> = Level::available().into_iter().map(Level::name).collect();
                return Err(Error::Cpu {
                    message: format!(
                        "{ENV}={} needs instructions this CPU lacks; it can run {}",
                        level.name(),
                        have.join(", ")
                    ),
                });
            }
            Ok(level)
        }
    }
}

const UNSET: u8 = u8::MAX;
static LEVEL: AtomicU8 = AtomicU8::new(UNSET);

/// The level the kernels run at: set once per process from [`requested`];
/// an invalid `NETSWEEP_CPU` falls back to the detected level here (the
/// command line refuses it up front with [`requested`]'s message).
#[inline]
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        UNSET => {
            let level = requested().unwrap_or_else(|_| Level::detect());
            LEVEL.store(level as u8, Ordering::Relaxed);
            level
        }
        v => Level::ALL[v as usize],
    }
}

/// Runs `body` compiled for [`level`]'s instruction set. Keep the closure
/// small and its callees `#[inline(always)]`: only inlined code takes the
/// trampoline's target features.
#[inline(always)]
pub fn run<R>(body: impl FnOnce() -> R) -> R {
    match level() {
        // SAFETY: `level` only returns a level whose instructions the CPU
        // has (checked by `Level::supported`).
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => unsafe { avx512(body) },
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => unsafe { avx2(body) },
        _ => body(),
    }
}

/// `dispatch!(expr)` evaluates `expr` compiled for [`level`]'s instruction
/// set: [`run`] with the expression as an always-inlined closure (a
/// closure's attribute is allowed in argument position only, hence the macro).
macro_rules! dispatch {
    ($body:expr) => {
        $crate::cpu::run(
            #[inline(always)]
            || $body,
        )
    };
}
pub(crate) use dispatch;

/// `per_level!(avx512: a, avx2: b, baseline: c)` evaluates the expression
/// of [`level`]'s instruction set, compiled for it alone. For code whose
/// types follow the level (its vector width): [`dispatch!`] of a `match`
/// would compile every arm inside every level's trampoline, three times the
/// code and the build time for nothing.
macro_rules! per_level {
    (avx512: $a:expr, avx2: $b:expr, baseline: $c:expr $(,)?) => {
        match $crate::cpu::level() {
            // SAFETY: `level` only returns a level whose instructions the
            // CPU has (checked by `Level::supported`).
            // The arm is made outside `unsafe`, so an unsafe call in it still
            // needs its own block.
            #[cfg(target_arch = "x86_64")]
            $crate::cpu::Level::Avx512 => {
                let arm = $crate::cpu::arm(
                    #[inline(always)]
                    || $a,
                );
                unsafe { $crate::cpu::avx512(arm) }
            }
            #[cfg(target_arch = "x86_64")]
            $crate::cpu::Level::Avx2 => {
                let arm = $crate::cpu::arm(
                    #[inline(always)]
                    || $b,
                );
                unsafe { $crate::cpu::avx2(arm) }
            }
            _ => $c,
        }
    };
}
pub(crate) use per_level;

/// The closure given (for [`per_level!`]: a closure's attribute is allowed
/// in argument position only).
#[inline(always)]
pub(crate) fn arm<R, F: FnOnce() -> R>(f: F) -> F {
    f
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
pub(crate) unsafe fn avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
#[inline]
pub(crate) unsafe fn avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_baseline_is_always_there() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
        assert_eq!(Level::parse(" AVX2 "), Some(Level::Avx2));
        assert_eq!(Level::parse("sse"), None);
        assert!(Level::available().contains(&Level::Baseline));
        assert!(Level::detect().supported());
    }

    #[test]
    fn run_returns_the_body_result() {
        let x: f32 = 1.5;
        assert_eq!(run(|| x.mul_add(2.0, 0.25)), 3.25);
    }
}
