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

/// An optimizer family: what experiment files name (`"sgd"`, `"adam"`,
/// `"rmsprop"`, `"adagrad"`, `"adadelta"`) and an [`Optimizer`]'s `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// SGD, with optional (Nesterov) momentum.
    Sgd,
    /// Adam.
    Adam,
    /// RMSProp.
    #[serde(rename = "rmsprop")]
    RmsProp,
    /// Adagrad.
    Adagrad,
    /// Adadelta.
    Adadelta,
}

impl Kind {
    /// The name in files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sgd => "sgd",
            Kind::Adam => "adam",
            Kind::RmsProp => "rmsprop",
            Kind::Adagrad => "adagrad",
            Kind::Adadelta => "adadelta",
        }
    }

    /// This family with learning rate `lr` and Keras' defaults for its
    /// constants (SGD: no momentum).
    pub fn with_lr(self, lr: f64) -> Optimizer {
        match self {
            Kind::Sgd => Optimizer::sgd(lr),
            Kind::Adam => Optimizer::adam(lr),
            Kind::RmsProp => Optimizer::rmsprop(lr),
            Kind::Adagrad => Optimizer::adagrad(lr),
            Kind::Adadelta => Optimizer::adadelta(lr),
        }
    }
}

/// An optimizer and its hyperparameters. In TOML/JSON:
/// `{ kind = "adam", lr = 0.01, beta1 = 0.9 }` (constants default to Keras').
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", deny_unknown_fields)]
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

    /// The family.
    pub fn kind(&self) -> Kind {
        match self {
            Optimizer::Sgd { .. } => Kind::Sgd,
            Optimizer::Adam { .. } => Kind::Adam,
            Optimizer::RmsProp { .. } => Kind::RmsProp,
            Optimizer::Adagrad { .. } => Kind::Adagrad,
            Optimizer::Adadelta { .. } => Kind::Adadelta,
        }
    }

    /// The family name as written in experiment files.
    pub fn name(&self) -> &'static str {
        self.kind().name()
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

    /// Fresh state for weight arrays of the given lengths, every member
    /// using this optimizer.
    pub fn state<F: Real>(&self, lengths: &[usize]) -> OptimizerState<F> {
        OptimizerState::new(&[*self], lengths).expect("one valid optimizer is one family")
    }

    /// The update rule's code path: optimizers with the same rule train as
    /// lanes of one ensemble, whatever their numbers.
    pub fn rule(&self) -> Rule {
        match *self {
            Optimizer::Sgd { momentum, nesterov, .. } => Rule::Sgd { momentum: momentum != 0.0, nesterov },
            Optimizer::Adam { .. } => Rule::Adam,
            Optimizer::RmsProp { .. } => Rule::RmsProp,
            Optimizer::Adagrad { .. } => Rule::Adagrad,
            Optimizer::Adadelta { .. } => Rule::Adadelta,
        }
    }

    /// The per-member constants of the update rule, in the order the update
    /// loop reads them (unused slots are 0): SGD (μ); Adam (β1, β2, ε);
    /// RMSProp and Adadelta (ρ, ε); Adagrad (ε).
    fn constants(&self) -> [f64; 3] {
        match *self {
            Optimizer::Sgd { momentum, .. } => [momentum, 0.0, 0.0],
            Optimizer::Adam { beta1, beta2, epsilon, .. } => [beta1, beta2, epsilon],
            Optimizer::RmsProp { rho, epsilon, .. } | Optimizer::Adadelta { rho, epsilon, .. } => [rho, epsilon, 0.0],
            Optimizer::Adagrad { epsilon, .. } => [epsilon, 0.0, 0.0],
        }
    }
}

/// An update rule's code path. Members of one ensemble share it; their
/// learning rates and constants (momentum, betas, ρ, ε) are per member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// SGD; `momentum`: some member has μ ≠ 0 (members with μ = 0 still take
    /// the plain step, bit for bit).
    Sgd {
        /// Some member uses momentum.
        momentum: bool,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Adam.
    Adam,
    /// RMSProp.
    RmsProp,
    /// Adagrad.
    Adagrad,
    /// Adadelta.
    Adadelta,
}

impl Rule {
    /// Whether members with these two rules can share one ensemble: the
    /// joint rule, or `None`.
    pub fn joins(self, other: Rule) -> Option<Rule> {
        match (self, other) {
            (Rule::Sgd { momentum: a, nesterov: n }, Rule::Sgd { momentum: b, nesterov: m }) if n == m => {
                Some(Rule::Sgd { momentum: a | b, nesterov: n })
            }
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}

/// Per-weight state of an optimizer (moments, accumulators), its step count
/// and each member's learning rate and constants.
#[derive(Clone, Debug)]
pub struct OptimizerState<F> {
    rule: Rule,
    step: u64,
    /// Per member: learning rate.
    lr: Vec<F>,
    /// Per member, as given: Adam's bias correction reads β1 and β2 in f64.
    c64: Vec<[f64; 3]>,
    /// Per member: Adam's bias correction of the current step.
    corr: Vec<F>,
    /// Per member, laid over the weights of one run of [`each`] (whole
    /// vectors): learning rate, the rule's constants (see
    /// [`Optimizer::constants`]) and `corr`. Kept, so that an update
    /// allocates nothing.
    runs: Repeated<F>,
    slots: Vec<[Vec<F>; 2]>,
}

impl<F: Real> OptimizerState<F> {
    /// Fresh state for an ensemble whose member k uses `members[k]` (its
    /// learning rate and constants), for weight arrays of the given lengths
    /// (ensemble layout, `[p·K + k]`). The members must share one update
    /// rule (SGD with and without momentum may mix); each is validated.
    pub fn new(members: &[Optimizer], lengths: &[usize]) -> Result<Self> {
        let first = members.first().ok_or(Error::MemberCount { what: "optimizers", expected: 1, got: 0 })?;
        let mut rule = first.rule();
        for m in members {
            m.validate()?;
            rule = rule.joins(m.rule()).ok_or(Error::MixedOptimizers { first: first.name(), other: m.name() })?;
        }
        let k_n = members.len();
        let c64: Vec<[f64; 3]> = members.iter().map(|m| m.constants()).collect();
        let c: [Vec<F>; 3] = std::array::from_fn(|i| c64.iter().map(|c| F::of(c[i])).collect());
        // Adagrad's accumulator starts at each member's initial value, every other slot at 0.
        let start: Vec<F> = members
            .iter()
            .map(|m| match *m {
                Optimizer::Adagrad { initial_accumulator, .. } => F::of(initial_accumulator),
                _ => F::zero(),
            })
            .collect();
        // Two slots per weight for every family (unused ones are never read),
        // so one update loop shape serves them all.
        let slots = lengths.iter().map(|&n| [(0..n).map(|p| start[p % k_n]).collect(), vec![F::zero(); n]]).collect();
        let lr: Vec<F> = members.iter().map(|m| F::of(m.lr())).collect();
        let corr = vec![F::zero(); k_n];
        let [c0, c1, c2] = &c;
        let runs = Lanes { lr: &lr, c0, c1, c2, corr: &corr }.repeated();
        Ok(OptimizerState { rule, step: 0, lr, c64, corr, runs, slots })
    }

    /// Members this state updates.
    pub fn members(&self) -> usize {
        self.lr.len()
    }

    /// Advances the step counter and Adam's bias correction. Call once
    /// before the arrays of a step.
    pub fn begin_step(&mut self) {
        self.step += 1;
        if self.rule == Rule::Adam {
            let t = self.step as f64;
            for (corr, &[beta1, beta2, _]) in self.corr.iter_mut().zip(&self.c64) {
                *corr = F::of((1.0 - libm::pow(beta2, t)).sqrt() / (1.0 - libm::pow(beta1, t)));
            }
            let k_n = self.corr.len();
            for (j, corr) in self.runs.0[4].iter_mut().enumerate() {
                *corr = self.corr[j % k_n];
            }
        }
    }

    /// Applies one update to weight array `index`: `w` and `g` in ensemble
    /// layout (`[p·K + k]`), member k with its own learning rate and constants.
    pub fn update(&mut self, index: usize, w: &mut [F], g: &[F]) {
        crate::cpu::dispatch!({
            let [s0, s1] = &mut self.slots[index];
            let lanes = self.runs.lanes();
            let one = F::one();
            match self.rule {
                Rule::Sgd { momentum: false, .. } => each(
                    lanes,
                    w,
                    g,
                    s0,
                    s1,
                    #[inline(always)]
                    |l, w, g, _, _| *w = (-l.lr).mul_add(g, *w),
                ),
                Rule::Sgd { momentum: true, nesterov } => each(
                    lanes,
                    w,
                    g,
                    s0,
                    s1,
                    #[inline(always)]
                    |l, w, g, v, _| {
                        let mu = l.c0;
                        if mu == F::zero() {
                            // A member without momentum takes the plain step, exactly.
                            *w = (-l.lr).mul_add(g, *w);
                        } else {
                            *v = mu.mul_add(*v, -l.lr * g);
                            *w += if nesterov { mu.mul_add(*v, -l.lr * g) } else { *v };
                        }
                    },
                ),
                Rule::Adam => each(
                    lanes,
                    w,
                    g,
                    s0,
                    s1,
                    #[inline(always)]
                    |l, w, g, m, v| {
                        let (b1, b2, eps) = (l.c0, l.c1, l.c2);
                        *m = b1.mul_add(*m, (one - b1) * g);
                        *v = b2.mul_add(*v, (one - b2) * g * g);
                        *w -= l.lr * l.corr * *m / (v.sqrt() + eps);
                    },
                ),
                Rule::RmsProp => each(
                    lanes,
                    w,
                    g,
                    s0,
                    s1,
                    #[inline(always)]
                    |l, w, g, v, _| {
                        let (rho, eps) = (l.c0, l.c1);
                        *v = rho.mul_add(*v, (one - rho) * g * g);
                        *w -= l.lr * g / (v.sqrt() + eps);
                    },
                ),
                Rule::Adagrad => each(
                    lanes,
                    w,
                    g,
                    s0,
                    s1,
                    #[inline(always)]
                    |l, w, g, a, _| {
                        *a = g.mul_add(g, *a);
                        *w -= l.lr * g / (a.sqrt() + l.c0);
                    },
                ),
                Rule::Adadelta => each(
                    lanes,
                    w,
                    g,
                    s0,
                    s1,
                    #[inline(always)]
                    |l, w, g, a, s| {
                        let (rho, eps) = (l.c0, l.c1);
                        *a = rho.mul_add(*a, (one - rho) * g * g);
                        let d = (*s + eps).sqrt() / (*a + eps).sqrt() * g;
                        *s = rho.mul_add(*s, (one - rho) * d * d);
                        *w -= l.lr * d;
                    },
                ),
            }
        })
    }
}

/// Every member's learning rate and constants, one slice each.
#[derive(Clone, Copy)]
struct Lanes<'a, F> {
    lr: &'a [F],
    c0: &'a [F],
    c1: &'a [F],
    c2: &'a [F],
    corr: &'a [F],
}

/// One member's learning rate and constants.
#[derive(Clone, Copy)]
struct Lane<F> {
    lr: F,
    c0: F,
    c1: F,
    c2: F,
    corr: F,
}

impl<F: Copy> Lanes<'_, F> {
    /// The first `n` lanes.
    #[inline(always)]
    fn first(&self, n: usize) -> Self {
        Lanes { lr: &self.lr[..n], c0: &self.c0[..n], c1: &self.c1[..n], c2: &self.c2[..n], corr: &self.corr[..n] }
    }

    /// Every member's values over one run of whole vectors
    /// ([`crate::simd::whole_vector_run`]).
    fn repeated(&self) -> Repeated<F> {
        let rep = |v: &[F]| crate::simd::whole_vector_run(v);
        Repeated([rep(self.lr), rep(self.c0), rep(self.c1), rep(self.c2), rep(self.corr)])
    }
}

/// Owned [`Lanes`] (lr, c0, c1, c2, corr).
#[derive(Clone, Debug)]
struct Repeated<F>([Vec<F>; 5]);

impl<F> Repeated<F> {
    fn lanes(&self) -> Lanes<'_, F> {
        let [lr, c0, c1, c2, corr] = &self.0;
        Lanes { lr, c0, c1, c2, corr }
    }
}

/// Runs `f(member k's lane, w, g, slot0, slot1)` on every weight of an
/// ensemble-layout array, in runs of consecutive weights. `lanes` holds the
/// members' constants for one run: the K members' repeated over the weights
/// of whole vectors ([`crate::simd::rows_per_vector`]: 4 weights × 60
/// members are 15 vectors of 16, a single network's value 16 times), so
/// that the vectorised loop has no lanes left over. A shorter
/// last run takes the first values. Every weight gets `f` with its member's
/// values either way, so a member's update does not depend on the
/// ensemble's size.
#[inline(always)]
fn each<F: Real>(
    lanes: Lanes<F>,
    w: &mut [F],
    g: &[F],
    s0: &mut [F],
    s1: &mut [F],
    f: impl Fn(Lane<F>, &mut F, F, &mut F, &mut F),
) {
    let done = in_runs(lanes, w, g, s0, s1, &f);
    let rest = w.len() - done;
    in_runs(lanes.first(rest), &mut w[done..], &g[done..], &mut s0[done..], &mut s1[done..], &f);
}

/// [`each`] over the whole runs of `lanes.lr.len()` values in `w` (lane j of
/// a run takes lane j of `lanes`); returns how many values that covered.
#[inline(always)]
fn in_runs<F: Real>(
    lanes: Lanes<F>,
    w: &mut [F],
    g: &[F],
    s0: &mut [F],
    s1: &mut [F],
    f: &impl Fn(Lane<F>, &mut F, F, &mut F, &mut F),
) -> usize {
    let n = lanes.lr.len();
    if n == 0 {
        return 0;
    }
    // Every slice cut to `n` first, so that the inner loop has no bounds
    // checks and vectorises.
    let Lanes { lr, c0, c1, c2, corr } = lanes.first(n);
    let runs = w.chunks_exact_mut(n).zip(g.chunks_exact(n));
    let mut done = 0;
    for ((wr, gr), (ar, br)) in runs.zip(s0.chunks_exact_mut(n).zip(s1.chunks_exact_mut(n))) {
        let (gr, ar, br) = (&gr[..n], &mut ar[..n], &mut br[..n]);
        for (j, w) in wr[..n].iter_mut().enumerate() {
            let l = Lane { lr: lr[j], c0: c0[j], c1: c1[j], c2: c2[j], corr: corr[j] };
            f(l, w, gr[j], &mut ar[j], &mut br[j]);
        }
        done += n;
    }
    done
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
            st.update(0, &mut w, &g);
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
    fn members_with_their_own_constants_equal_single_networks_bit_for_bit() {
        // Three members per rule, each with other constants (SGD mixes μ = 0
        // and μ ≠ 0); 2 weights each, ensemble layout [p·K + k].
        let families: [[Optimizer; 3]; 5] = [
            [Optimizer::sgd(0.1), Optimizer::sgd_momentum(0.3, 0.9, false), Optimizer::sgd_momentum(0.05, 0.5, false)],
            [
                Optimizer::adam(0.1),
                Optimizer::Adam { lr: 0.01, beta1: 0.5, beta2: 0.99, epsilon: 1e-4 },
                Optimizer::Adam { lr: 0.2, beta1: 0.0, beta2: 0.9, epsilon: 1e-7 },
            ],
            [
                Optimizer::rmsprop(0.1),
                Optimizer::RmsProp { lr: 0.3, rho: 0.5, epsilon: 1e-3 },
                Optimizer::rmsprop(0.01),
            ],
            [
                Optimizer::adagrad(0.1),
                Optimizer::Adagrad { lr: 0.5, initial_accumulator: 0.0, epsilon: 1e-5 },
                Optimizer::Adagrad { lr: 0.2, initial_accumulator: 2.0, epsilon: 1e-7 },
            ],
            [
                Optimizer::adadelta(1.0),
                Optimizer::Adadelta { lr: 2.0, rho: 0.5, epsilon: 1e-3 },
                Optimizer::adadelta(0.5),
            ],
        ];
        let grad = |w: f32, p: usize| 2.0 * (w - 3.0) + p as f32 * 0.25;
        for members in families {
            let mut ens = OptimizerState::<f32>::new(&members, &[6]).unwrap();
            let mut w = [0.5f32, -0.25, 0.125, 1.0, 2.0, -1.0];
            let mut singles: Vec<(OptimizerState<f32>, [f32; 2])> =
                (0..3).map(|k| (members[k].state(&[2]), [w[k], w[3 + k]])).collect();
            for _ in 0..25 {
                ens.begin_step();
                let g: Vec<f32> = (0..6).map(|i| grad(w[i], i / 3)).collect();
                ens.update(0, &mut w, &g);
                for (st, ws) in &mut singles {
                    st.begin_step();
                    let g = [grad(ws[0], 0), grad(ws[1], 1)];
                    st.update(0, ws, &g);
                }
            }
            for (k, (_, ws)) in singles.iter().enumerate() {
                assert_eq!([w[k].to_bits(), w[3 + k].to_bits()], ws.map(f32::to_bits), "{:?}", members[k]);
            }
        }
        let mixed = OptimizerState::<f32>::new(&[Optimizer::sgd(0.1), Optimizer::adam(0.1)], &[2]);
        assert!(mixed.unwrap_err().to_string().contains("sgd and adam"));
        let nesterov = [Optimizer::sgd_momentum(0.1, 0.9, true), Optimizer::sgd_momentum(0.1, 0.9, false)];
        assert!(OptimizerState::<f32>::new(&nesterov, &[2]).is_err());
    }

    #[test]
    fn one_spelling_per_family_in_files() {
        #[derive(Deserialize)]
        struct T {
            o: Optimizer,
            k: Kind,
        }
        let t: T = toml::from_str("k = \"rmsprop\"\no = { kind = \"rmsprop\", lr = 0.01, rho = 0.8 }").unwrap();
        assert_eq!(t.k, Kind::RmsProp);
        assert_eq!(t.o, Optimizer::RmsProp { lr: 0.01, rho: 0.8, epsilon: 1e-7 });
        assert_eq!(t.o.kind().with_lr(0.01), Optimizer::rmsprop(0.01));
        assert!(toml::from_str::<T>("k = \"rms_prop\"\no = { kind = \"rmsprop\", lr = 0.01 }").is_err());
        assert!(toml::from_str::<T>("k = \"adam\"\no = { kind = \"rms_prop\", lr = 0.01 }").is_err());
        for k in [Kind::Sgd, Kind::Adam, Kind::RmsProp, Kind::Adagrad, Kind::Adadelta] {
            let o = k.with_lr(0.5);
            assert_eq!((o.kind(), o.lr(), o.name()), (k, 0.5, k.name()));
            let json = serde_json::to_string(&o).unwrap();
            assert!(json.contains(&format!("\"kind\":\"{}\"", k.name())), "{json}");
            assert_eq!(serde_json::from_str::<Optimizer>(&json).unwrap(), o);
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
