//! Optimizers: the course's `optimizers.py`. Each applies its update rule to
//! a weight array given its gradient; [`crate::Network::fit`] handles the
//! mini-batches (seeded shuffle each epoch, full batch when the batch size
//! is at least the number of samples).
//!
//! Defaults are Keras' values. With g the gradient (penalty included), per
//! weight:
//! - **SGD**: v ← μv - lr·g; w ← w + v (Nesterov: w ← w + μv - lr·g). μ = 0
//!   is plain SGD, w ← w - lr·g.
//! - **Adam** (β1 0.9, β2 0.999, ε 1e-7): m ← β1m + (1-β1)g,
//!   v ← β2v + (1-β2)g², w ← w - lr·√(1-β2ᵗ)/(1-β1ᵗ)·m/(√v + ε).
//! - **RMSProp** (ρ 0.9, ε 1e-7): v ← ρv + (1-ρ)g², w ← w - lr·g/(√v + ε).
//! - **Adagrad** (initial accumulator 0.1, ε 1e-7): a ← a + g²,
//!   w ← w - lr·g/(√a + ε).
//! - **Adadelta** (lr 1.0 in the original paper, Keras uses 0.001; ρ 0.95,
//!   ε 1e-7): a ← ρa + (1-ρ)g², d = √(s + ε)/√(a + ε)·g, s ← ρs + (1-ρ)d²,
//!   w ← w - lr·d.
//!
//! One update loop per family, dispatched once per weight array; the learning
//! rate is a per-member vector so one ensemble trains a whole lr grid.

use crate::error::{Error, Result};
use crate::scalar::Real;
use serde::{Deserialize, Serialize};

/// An optimizer and its hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum Optimizer {
    /// Stochastic gradient descent, with optional (Nesterov) momentum.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum μ in [0, 1).
        #[serde(default)]
        momentum: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
    },
    /// Adam.
    Adam {
        /// Learning rate.
        lr: f64,
        /// First-moment decay.
        #[serde(default = "d_beta1")]
        beta1: f64,
        /// Second-moment decay.
        #[serde(default = "d_beta2")]
        beta2: f64,
        /// ε.
        #[serde(default = "d_eps")]
        epsilon: f64,
    },
    /// RMSProp.
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// Decay of the squared-gradient average.
        #[serde(default = "d_rho_rms")]
        rho: f64,
        /// ε.
        #[serde(default = "d_eps")]
        epsilon: f64,
    },
    /// Adagrad.
    Adagrad {
        /// Learning rate.
        lr: f64,
        /// Starting value of the accumulator.
        #[serde(default = "d_acc")]
        initial_accumulator: f64,
        /// ε.
        #[serde(default = "d_eps")]
        epsilon: f64,
    },
    /// Adadelta.
    Adadelta {
        /// Learning rate.
        lr: f64,
        /// Decay.
        #[serde(default = "d_rho_delta")]
        rho: f64,
        /// ε.
        #[serde(default = "d_eps")]
        epsilon: f64,
    },
}

fn d_beta1() -> f64 {
    0.9
}
fn d_beta2() -> f64 {
    0.999
}
fn d_eps() -> f64 {
    1e-7
}
fn d_rho_rms() -> f64 {
    0.9
}
fn d_rho_delta() -> f64 {
    0.95
}
fn d_acc() -> f64 {
    0.1
}

impl Optimizer {
    /// Plain SGD with learning rate `lr`.
    pub fn sgd(lr: f64) -> Self {
        Optimizer::Sgd { lr, momentum: 0.0, nesterov: false }
    }
    /// SGD with momentum (optionally Nesterov).
    pub fn sgd_momentum(lr: f64, momentum: f64, nesterov: bool) -> Self {
        Optimizer::Sgd { lr, momentum, nesterov }
    }
    /// Adam with Keras' defaults.
    pub fn adam(lr: f64) -> Self {
        Optimizer::Adam { lr, beta1: d_beta1(), beta2: d_beta2(), epsilon: d_eps() }
    }
    /// RMSProp with Keras' defaults.
    pub fn rmsprop(lr: f64) -> Self {
        Optimizer::RmsProp { lr, rho: d_rho_rms(), epsilon: d_eps() }
    }
    /// Adagrad with Keras' defaults.
    pub fn adagrad(lr: f64) -> Self {
        Optimizer::Adagrad { lr, initial_accumulator: d_acc(), epsilon: d_eps() }
    }
    /// Adadelta with Keras' defaults.
    pub fn adadelta(lr: f64) -> Self {
        Optimizer::Adadelta { lr, rho: d_rho_delta(), epsilon: d_eps() }
    }

    /// The family name as written in experiment files.
    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adam { .. } => "adam",
            Optimizer::RmsProp { .. } => "rms_prop",
            Optimizer::Adagrad { .. } => "adagrad",
            Optimizer::Adadelta { .. } => "adadelta",
        }
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        match *self {
            Optimizer::Sgd { lr, .. }
            | Optimizer::Adam { lr, .. }
            | Optimizer::RmsProp { lr, .. }
            | Optimizer::Adagrad { lr, .. }
            | Optimizer::Adadelta { lr, .. } => lr,
        }
    }

    /// The same optimizer with another learning rate.
    pub fn with_lr(mut self, new: f64) -> Self {
        match &mut self {
            Optimizer::Sgd { lr, .. }
            | Optimizer::Adam { lr, .. }
            | Optimizer::RmsProp { lr, .. }
            | Optimizer::Adagrad { lr, .. }
            | Optimizer::Adadelta { lr, .. } => *lr = new,
        }
        self
    }

    /// Checks every hyperparameter, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        check_lr(self.lr())?;
        let unit = |name, v: f64| check(name, v, (0.0..1.0).contains(&v), "must be in [0, 1)");
        let pos = |name, v: f64| check(name, v, v > 0.0 && v.is_finite(), "must be > 0");
        match *self {
            Optimizer::Sgd { momentum, .. } => unit("momentum", momentum),
            Optimizer::Adam { beta1, beta2, epsilon, .. } => {
                unit("beta1", beta1)?;
                unit("beta2", beta2)?;
                pos("epsilon", epsilon)
            }
            Optimizer::RmsProp { rho, epsilon, .. } | Optimizer::Adadelta { rho, epsilon, .. } => {
                unit("rho", rho)?;
                pos("epsilon", epsilon)
            }
            Optimizer::Adagrad { initial_accumulator, epsilon, .. } => {
                check(
                    "initial_accumulator",
                    initial_accumulator,
                    initial_accumulator >= 0.0 && initial_accumulator.is_finite(),
                    "must be >= 0",
                )?;
                pos("epsilon", epsilon)
            }
        }
    }

    /// Fresh state for weight arrays of the given lengths.
    pub fn state<F: Real>(&self, lengths: &[usize]) -> OptimizerState<F> {
        let fill = match *self {
            Optimizer::Adagrad { initial_accumulator, .. } => F::of(initial_accumulator),
            _ => F::zero(),
        };
        // Two slots per weight for every family (unused ones are never read),
        // so one update loop shape serves them all.
        OptimizerState { step: 0, slots: lengths.iter().map(|&n| [vec![fill; n], vec![F::zero(); n]]).collect() }
    }

    /// Applies one update to weight array `index`: `w` and `g` in ensemble
    /// layout (`[p·K + k]`), `lr[k]` per member. Call
    /// [`OptimizerState::begin_step`] once before the arrays of a step.
    pub fn update<F: Real>(&self, state: &mut OptimizerState<F>, index: usize, w: &mut [F], g: &[F], lr: &[F]) {
        let t = state.step;
        let [s0, s1] = &mut state.slots[index];
        let one = F::one();
        match *self {
            Optimizer::Sgd { momentum: 0.0, .. } => each(lr, w, g, s0, s1, |lr, w, g, _, _| *w = (-lr).mul_add(g, *w)),
            Optimizer::Sgd { momentum, nesterov, .. } => {
                let mu = F::of(momentum);
                each(lr, w, g, s0, s1, |lr, w, g, v, _| {
                    *v = mu.mul_add(*v, -lr * g);
                    *w += if nesterov { mu.mul_add(*v, -lr * g) } else { *v };
                })
            }
            Optimizer::Adam { beta1, beta2, epsilon, .. } => {
                let corr = F::of((1.0 - beta2.powf(t as f64)).sqrt() / (1.0 - beta1.powf(t as f64)));
                let (b1, b2, eps) = (F::of(beta1), F::of(beta2), F::of(epsilon));
                each(lr, w, g, s0, s1, |lr, w, g, m, v| {
                    *m = b1.mul_add(*m, (one - b1) * g);
                    *v = b2.mul_add(*v, (one - b2) * g * g);
                    *w -= lr * corr * *m / (v.sqrt() + eps);
                })
            }
            Optimizer::RmsProp { rho, epsilon, .. } => {
                let (rho, eps) = (F::of(rho), F::of(epsilon));
                each(lr, w, g, s0, s1, |lr, w, g, v, _| {
                    *v = rho.mul_add(*v, (one - rho) * g * g);
                    *w -= lr * g / (v.sqrt() + eps);
                })
            }
            Optimizer::Adagrad { epsilon, .. } => {
                let eps = F::of(epsilon);
                each(lr, w, g, s0, s1, |lr, w, g, a, _| {
                    *a = g.mul_add(g, *a);
                    *w -= lr * g / (a.sqrt() + eps);
                })
            }
            Optimizer::Adadelta { rho, epsilon, .. } => {
                let (rho, eps) = (F::of(rho), F::of(epsilon));
                each(lr, w, g, s0, s1, |lr, w, g, a, s| {
                    *a = rho.mul_add(*a, (one - rho) * g * g);
                    let d = (*s + eps).sqrt() / (*a + eps).sqrt() * g;
                    *s = rho.mul_add(*s, (one - rho) * d * d);
                    *w -= lr * d;
                })
            }
        }
    }
}

/// Runs `f(lr[k], w, g, slot0, slot1)` on every weight of an ensemble-layout
/// array. A single network is one flat loop; an ensemble loops over weights
/// and, inside, over members. Both call `f` with the same values, so a
/// member's update does not depend on the ensemble's size.
#[inline(always)]
fn each<F: Real>(lr: &[F], w: &mut [F], g: &[F], s0: &mut [F], s1: &mut [F], f: impl Fn(F, &mut F, F, &mut F, &mut F)) {
    let members = lr.len();
    if members == 1 {
        let l = lr[0];
        for (((w, &g), a), b) in w.iter_mut().zip(g).zip(s0.iter_mut()).zip(s1.iter_mut()) {
            f(l, w, g, a, b);
        }
        return;
    }
    let rows = w.chunks_exact_mut(members).zip(g.chunks_exact(members));
    for ((wr, gr), (ar, br)) in rows.zip(s0.chunks_exact_mut(members).zip(s1.chunks_exact_mut(members))) {
        for ((((w, &g), a), b), &l) in wr.iter_mut().zip(gr).zip(ar.iter_mut()).zip(br.iter_mut()).zip(lr) {
            f(l, w, g, a, b);
        }
    }
}

/// Per-weight state of an optimizer (moments, accumulators) and its step count.
#[derive(Clone, Debug)]
pub struct OptimizerState<F> {
    step: u64,
    slots: Vec<[Vec<F>; 2]>,
}

impl<F> OptimizerState<F> {
    /// Advances the step counter (Adam's bias correction uses it).
    pub fn begin_step(&mut self) {
        self.step += 1;
    }
}

/// A learning rate must be a positive, finite number.
pub fn check_lr(lr: f64) -> Result<()> {
    check("learning rate", lr, lr > 0.0 && lr.is_finite(), "must be > 0")
}

fn check(name: &'static str, value: f64, ok: bool, rule: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidHyperparameter { name, value, rule })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(opt: Optimizer, steps: usize) -> f64 {
        // Minimise (w - 3)² from w = 0; gradient 2(w - 3).
        let mut st = opt.state::<f64>(&[1]);
        let mut w = [0.0];
        for _ in 0..steps {
            st.begin_step();
            let g = [2.0 * (w[0] - 3.0)];
            opt.update(&mut st, 0, &mut w, &g, &[opt.lr()]);
        }
        w[0]
    }

    #[test]
    fn first_steps_match_hand_computed_values() {
        // SGD: w1 = 0 - 0.1·(-6) = 0.6
        assert!((run(Optimizer::sgd(0.1), 1) - 0.6).abs() < 1e-12);
        // Momentum 0.9: v1 = 0.6, w1 = 0.6; g2 = 2(0.6-3) = -4.8; v2 = 0.54 + 0.48 = 1.02; w2 = 1.62
        assert!((run(Optimizer::sgd_momentum(0.1, 0.9, false), 2) - 1.62).abs() < 1e-12);
        // Nesterov step 1: v1 = 0.6, w1 = 0.9·0.6 + 0.6 = 1.14
        assert!((run(Optimizer::sgd_momentum(0.1, 0.9, true), 1) - 1.14).abs() < 1e-12);
        // Adam's first step is lr·sign(g) up to ε: 0.1
        assert!((run(Optimizer::adam(0.1), 1) - 0.1).abs() < 1e-6);
        // RMSProp step 1: v = 0.1·36 = 3.6, w = 0.01·6/√3.6 = 0.0316227...
        assert!((run(Optimizer::rmsprop(0.01), 1) - 0.01 * 6.0 / 3.6f64.sqrt()).abs() < 1e-8);
        // Adagrad step 1: a = 0.1 + 36, w = 0.1·6/√36.1
        assert!((run(Optimizer::adagrad(0.1), 1) - 0.6 / 36.1f64.sqrt()).abs() < 1e-8);
    }

    #[test]
    fn every_optimizer_minimises_a_quadratic() {
        for opt in [
            Optimizer::sgd(0.1),
            Optimizer::sgd_momentum(0.05, 0.9, true),
            Optimizer::adam(0.1),
            Optimizer::rmsprop(0.05),
            Optimizer::adagrad(0.5),
            Optimizer::adadelta(50.0),
        ] {
            let w = run(opt, 2000);
            assert!((w - 3.0).abs() < 0.05, "{opt:?} ended at {w}");
        }
    }

    #[test]
    fn rejects_bad_hyperparameters() {
        assert!(Optimizer::sgd(0.0).validate().is_err());
        assert!(Optimizer::sgd(-1.0).validate().unwrap_err().to_string().contains("-1"));
        assert!(Optimizer::sgd_momentum(0.1, 1.5, false).validate().is_err());
        assert!(Optimizer::adam(f64::NAN).validate().is_err());
    }
}
