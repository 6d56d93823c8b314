//! Weight regularizers: the course's optional `regularizers.py` (L1, L2, and
//! both at once).
//!
//! - **L1(λ)**: penalty λ·Σ|w|, gradient λ·sign(w) (sign(0) = 0).
//! - **L2(λ)**: penalty λ·Σw², gradient 2λw.
//!
//! As in Keras, a regularizer applies to a layer's **weights, not its bias**.
//! The penalty is added to the reported training loss. In an ensemble every
//! member carries its own λ's, so one lockstep ensemble can train a whole
//! L1 × L2 grid; the kernels here take those per-member vectors.

use crate::scalar::Real;
use serde::{Deserialize, Serialize};

/// The regularizer of one Dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regularizer {
    /// λ·Σ|w|.
    L1(f64),
    /// λ·Σw².
    L2(f64),
    /// l1·Σ|w| + l2·Σw².
    L1L2 {
        /// L1 strength.
        l1: f64,
        /// L2 strength.
        l2: f64,
    },
}

impl Regularizer {
    /// The (l1, l2) strengths.
    pub fn strengths(&self) -> (f64, f64) {
        match *self {
            Regularizer::L1(a) => (a, 0.0),
            Regularizer::L2(b) => (0.0, b),
            Regularizer::L1L2 { l1, l2 } => (l1, l2),
        }
    }

    /// Penalty of a weight slice (the course's `L2`/`L1` value).
    pub fn penalty<F: Real>(&self, w: &[F]) -> F {
        let (l1, l2) = self.strengths();
        let mut out = [F::zero()];
        penalty_into(w, &[F::of(l1)], &[F::of(l2)], &mut out, &mut [F::zero(); 2]);
        out[0]
    }

    /// Gradient of the penalty (the course's `gradL2`/`gradL1`).
    pub fn gradient<F: Real>(&self, w: &[F]) -> Vec<F> {
        let (l1, l2) = self.strengths();
        let mut g = vec![F::zero(); w.len()];
        add_gradient(w, &[F::of(l1)], &[F::of(l2)], &mut g);
        g
    }
}

/// Adds `Σ l1[k]|w| + l2[k]w²` over the weights of member k to `out[k]`.
/// `w` is in ensemble layout: `w[p·K + k]`; `scratch` holds at least 2·K values.
pub fn penalty_into<F: Real>(w: &[F], l1: &[F], l2: &[F], out: &mut [F], scratch: &mut [F]) {
    crate::cpu::dispatch!({
        let members = out.len();
        let (s1, rest) = scratch.split_at_mut(members);
        let s2 = &mut rest[..members];
        s1.fill(F::zero());
        s2.fill(F::zero());
        for row in w.chunks_exact(members) {
            for ((a, b), &v) in s1.iter_mut().zip(s2.iter_mut()).zip(row) {
                *a += v.abs();
                *b += v * v;
            }
        }
        add_penalty(l1, l2, s1, s2, out);
    })
}

/// Adds `l1[k]·s1[k] + l2[k]·s2[k]` to `out[k]`, from the sums `s1 = Σ|w|` and
/// `s2 = Σw²` of member k's weights.
pub fn add_penalty<F: Real>(l1: &[F], l2: &[F], s1: &[F], s2: &[F], out: &mut [F]) {
    crate::cpu::dispatch!({
        for ((o, (&a, &b)), (&u, &v)) in out.iter_mut().zip(l1.iter().zip(l2)).zip(s1.iter().zip(s2)) {
            *o += a * u + b * v;
        }
    })
}

/// Adds `l1[k]·sign(w) + 2·l2[k]·w` to the gradient `g` (same layout as `w`).
/// `l1` and `l2` hold one run of values: each member's (K), or each member's
/// repeated over the weights of whole vectors
/// (`DenseParams::penalty_runs`), so that the vectorised loop has no lanes
/// left over; a shorter last run takes the first values.
pub fn add_gradient<F: Real>(w: &[F], l1: &[F], l2: &[F], g: &mut [F]) {
    crate::cpu::dispatch!({
        let n = l1.len();
        if n == 0 {
            return;
        }
        let done = w.len() / n * n;
        gradient_pass::<F, false>(&w[..done], l1, l2, &mut g[..done], &mut [], &mut []);
        let rest = w.len() - done;
        if rest > 0 {
            gradient_pass::<F, false>(&w[done..], &l1[..rest], &l2[..rest], &mut g[done..], &mut [], &mut []);
        }
    })
}

/// [`add_gradient`], and in the same pass over the weights the sums
/// `s1[k] = Σ|w|` and `s2[k] = Σw²` that [`add_penalty`] turns into the penalty
/// (the same values, summed in the same order, as [`penalty_into`]).
pub fn add_gradient_and_sums<F: Real>(w: &[F], l1: &[F], l2: &[F], g: &mut [F], s1: &mut [F], s2: &mut [F]) {
    crate::cpu::dispatch!({
        if w.is_empty() {
            s1.fill(F::zero());
            s2.fill(F::zero());
        }
        gradient_pass::<F, true>(w, l1, l2, g, s1, s2);
    })
}

#[inline(always)]
fn gradient_pass<F: Real, const SUMS: bool>(w: &[F], l1: &[F], l2: &[F], g: &mut [F], s1: &mut [F], s2: &mut [F]) {
    let members = l1.len();
    // Equal lengths up front, so the indexed loop below has no bounds checks.
    let l2 = &l2[..members];
    let (s1, s2) = if SUMS { (&mut s1[..members], &mut s2[..members]) } else { (s1, s2) };
    let two = F::of(2.0);
    // The first weight row sets the sums, the others add to them: |v| and v²
    // are ≥ +0 (or NaN), so 0 + v = v and the sums equal ones started at zero.
    for (r, (wr, gr)) in w.chunks_exact(members).zip(g.chunks_exact_mut(members)).enumerate() {
        let (wr, gr) = (&wr[..members], &mut gr[..members]);
        let add = r > 0;
        for k in 0..members {
            let (v, a, b) = (wr[k], l1[k], l2[k]);
            // Branch-free sign (0 at 0) so the loop vectorises.
            let pos = if v > F::zero() { F::one() } else { F::zero() };
            let neg = if v < F::zero() { F::one() } else { F::zero() };
            gr[k] += a.mul_add(pos - neg, two * b * v);
            if SUMS {
                let (u, q) = (v.abs(), v * v);
                (s1[k], s2[k]) = if add { (s1[k] + u, s2[k] + q) } else { (u, q) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        let w = [0.5f64, -2.0, 0.0, 1.0];
        assert!((Regularizer::L1(0.2).penalty(&w) - 0.7).abs() < 1e-15);
        assert!((Regularizer::L2(0.1).penalty(&w) - 0.525).abs() < 1e-15);
        assert_eq!(Regularizer::L1(0.2).gradient(&w), vec![0.2, -0.2, 0.0, 0.2]);
        assert_eq!(Regularizer::L2(0.1).gradient(&w), vec![0.1, -0.4, 0.0, 0.2]);
    }

    #[test]
    fn gradient_matches_finite_difference() {
        let reg = Regularizer::L1L2 { l1: 0.3, l2: 0.7 };
        let w = [0.4f64, -1.3, 2.2, -0.05];
        let g = reg.gradient(&w);
        let h = 1e-6;
        for i in 0..w.len() {
            let (mut p, mut m) = (w, w);
            p[i] += h;
            m[i] -= h;
            let fd = (reg.penalty(&p) - reg.penalty(&m)) / (2.0 * h);
            assert!((fd - g[i]).abs() / g[i].abs() < 1e-6, "w[{i}]: {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn sums_of_the_gradient_pass_equal_the_penalty_pass_bit_for_bit() {
        // Three members, four weight rows, with a zero and a negative zero.
        let w = [0.3f32, -1.7, 0.0, -0.0, 2.5, -0.1, 1e-3, -4.0, 0.7, 3.3, -2.2, 0.05];
        let (l1, l2) = ([0.01f32, 0.0, 0.3], [0.02f32, 0.5, 0.0]);
        let (mut s1, mut s2, mut g) = ([9.0f32; 3], [9.0f32; 3], [0.0f32; 12]);
        add_gradient_and_sums(&w, &l1, &l2, &mut g, &mut s1, &mut s2);
        let mut from_sums = [1.0f32; 3];
        add_penalty(&l1, &l2, &s1, &s2, &mut from_sums);
        let mut direct = [1.0f32; 3];
        penalty_into(&w, &l1, &l2, &mut direct, &mut [0.0; 6]);
        assert_eq!(from_sums.map(f32::to_bits), direct.map(f32::to_bits));
        // Member 1: |w| and w² of 1.7, 2.5, 4.0, 2.2 summed in row order.
        assert_eq!(s1[1], 1.7f32 + 2.5 + 4.0 + 2.2);
        assert_eq!(s2[1], 1.7f32 * 1.7 + 2.5 * 2.5 + 4.0 * 4.0 + 2.2 * 2.2);
    }
}
