//! Activation functions: the course's `activations.py`, each one applied and
//! differentiated side by side.
//!
//! [`Activation`] is a closed, `Copy` enum that maps 1:1 onto the experiment
//! file (`"tanh"`, `"relu"`, `"sigmoid"`, `"linear"`, `{ leaky_relu = 0.01 }`).
//! Kernels dispatch on it once per layer and then run a monomorphic loop over
//! a whole buffer ([`Activation::apply_in_place`],
//! [`Activation::backprop_in_place`]); the scalar [`Activation::value`] and
//! [`Activation::derivative`] are the course's `__call__` and `gradient`.
//! Every derivative can be computed from the activation's *output*, which is
//! what the backward pass keeps, so no pre-activation buffer is needed.

use crate::scalar::Real;
use crate::simd::{One, Vector};
use serde::{Deserialize, Serialize};

/// Runs `$body` with `$d` bound to this activation's derivative written in
/// terms of the output (a closure `Fn(F) -> F`, as
/// [`Activation::derivative_from_output`]): one dispatch, then `$body` is
/// compiled once per activation with the derivative inlined into its loops.
macro_rules! with_derivative {
    ($f:ty, $act:expr, |$d:ident| $body:expr) => {
        match $act {
            $crate::Activation::Tanh => {
                let $d = |y: $f| $crate::activations::tanh_derivative(y);
                $body
            }
            $crate::Activation::Relu => {
                let $d = |y: $f| $crate::activations::step(y, <$f as num_traits::Zero>::zero());
                $body
            }
            $crate::Activation::Sigmoid => {
                let $d = |y: $f| $crate::activations::sigmoid_derivative(y);
                $body
            }
            $crate::Activation::Linear => {
                let $d = |_: $f| <$f as num_traits::One>::one();
                $body
            }
            $crate::Activation::LeakyRelu(a) => {
                let a = <$f as $crate::scalar::Real>::of(a);
                let $d = |y: $f| $crate::activations::step(y, a);
                $body
            }
        }
    };
}
pub(crate) use with_derivative;

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ActivationRepr", into = "ActivationRepr")]
pub enum Activation {
    /// tanh(x); derivative 1 - tanh²(x).
    Tanh,
    /// max(0, x); derivative 1 for x > 0, else 0.
    Relu,
    /// 1 / (1 + e^-x); derivative s(1 - s).
    Sigmoid,
    /// Identity (use it on the output layer with CCE, which applies softmax).
    Linear,
    /// x for x > 0, alpha·x otherwise (alpha > 0).
    LeakyRelu(f64),
}

impl Activation {
    /// The course's name for the function, as written in experiment files.
    pub fn name(&self) -> String {
        match self {
            Activation::Tanh => "tanh".into(),
            Activation::Relu => "relu".into(),
            Activation::Sigmoid => "sigmoid".into(),
            Activation::Linear => "linear".into(),
            Activation::LeakyRelu(a) => format!("leaky_relu({a})"),
        }
    }

    /// f(x) for one value.
    #[inline(always)]
    pub fn value<F: Real>(&self, x: F) -> F {
        match *self {
            Activation::Tanh => x.fast_tanh(),
            Activation::Relu => relu(x),
            Activation::Sigmoid => sigmoid(x),
            Activation::Linear => x,
            Activation::LeakyRelu(a) => leaky(x, F::of(a)),
        }
    }

    /// f'(x) for one value (the course's `gradient`).
    pub fn derivative<F: Real>(&self, x: F) -> F {
        self.derivative_from_output(self.value(x))
    }

    /// f'(x) written in terms of y = f(x).
    #[inline(always)]
    pub fn derivative_from_output<F: Real>(&self, y: F) -> F {
        match *self {
            Activation::Tanh => tanh_derivative(y),
            Activation::Relu => step(y, F::zero()),
            Activation::Sigmoid => sigmoid_derivative(y),
            Activation::Linear => F::one(),
            Activation::LeakyRelu(a) => step(y, F::of(a)),
        }
    }

    /// Replaces every x in `buf` by f(x). One dispatch, then a plain loop.
    pub fn apply_in_place<F: Real>(&self, buf: &mut [F]) {
        crate::cpu::dispatch!(self.apply_slice(buf))
    }

    /// [`Self::apply_in_place`] without the dispatch, for kernels that
    /// already run inside one.
    #[inline(always)]
    pub(crate) fn apply_slice<F: Real>(&self, buf: &mut [F]) {
        match *self {
            Activation::Tanh => buf.iter_mut().for_each(|v| *v = v.fast_tanh()),
            Activation::Relu => buf.iter_mut().for_each(|v| *v = relu(*v)),
            Activation::Sigmoid => buf.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Linear => {}
            Activation::LeakyRelu(a) => {
                let a = F::of(a);
                buf.iter_mut().for_each(|v| *v = leaky(*v, a))
            }
        }
    }

    /// Multiplies each upstream gradient `grad[i]` by f' at the point whose
    /// output is `out[i]`: the chain rule through this activation.
    pub fn backprop_in_place<F: Real>(&self, out: &[F], grad: &mut [F]) {
        debug_assert_eq!(out.len(), grad.len());
        if *self == Activation::Linear {
            return;
        }
        crate::cpu::dispatch!(with_derivative!(F, *self, |d| {
            grad.iter_mut().zip(out).for_each(|(g, &y)| *g *= d(y));
        }))
    }
}

#[inline(always)]
pub(crate) fn relu<F: Real>(x: F) -> F {
    if x > F::zero() {
        x
    } else {
        F::zero()
    }
}

#[inline(always)]
pub(crate) fn leaky<F: Real>(x: F, a: F) -> F {
    if x > F::zero() {
        x
    } else {
        a * x
    }
}

/// tanh' from its output y: 1 - y² (one rounding: a fused multiply-add).
#[inline(always)]
pub(crate) fn tanh_derivative<F: Real>(y: F) -> F {
    tanh_derivative_lanes(One::new(y)).get()
}

/// [`tanh_derivative`] on every lane of a vector.
#[inline(always)]
pub(crate) fn tanh_derivative_lanes<F: Real, V: Vector<F>>(y: V) -> V {
    y.neg().mul_add(y, V::splat(F::one()))
}

/// The sigmoid's derivative from its output s: s(1 - s).
#[inline(always)]
pub(crate) fn sigmoid_derivative<F: Real>(y: F) -> F {
    y * (F::one() - y)
}

/// 1 where the output is positive, `low` elsewhere (ReLU family derivative).
#[inline(always)]
pub(crate) fn step<F: Real>(y: F, low: F) -> F {
    if y > F::zero() {
        F::one()
    } else {
        low
    }
}

#[inline(always)]
pub(crate) fn sigmoid<F: Real>(x: F) -> F {
    F::one() / (F::one() + (-x).fast_exp())
}

/// How an activation is written in TOML: a name, or `{ leaky_relu = alpha }`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ActivationRepr {
    Name(String),
    Leaky { leaky_relu: f64 },
}

impl TryFrom<ActivationRepr> for Activation {
    type Error = String;
    fn try_from(r: ActivationRepr) -> Result<Self, String> {
        match r {
            ActivationRepr::Name(n) => match n.as_str() {
                "tanh" => Ok(Activation::Tanh),
                "relu" => Ok(Activation::Relu),
                "sigmoid" => Ok(Activation::Sigmoid),
                "linear" => Ok(Activation::Linear),
                "leaky_relu" => Ok(Activation::LeakyRelu(0.01)),
                other => Err(format!(
                    "unknown activation `{other}`, expected one of tanh, relu, sigmoid, linear, leaky_relu"
                )),
            },
            ActivationRepr::Leaky { leaky_relu } if leaky_relu > 0.0 && leaky_relu.is_finite() => {
                Ok(Activation::LeakyRelu(leaky_relu))
            }
            ActivationRepr::Leaky { leaky_relu } => {
                Err(format!("leaky_relu slope must be a positive number, got {leaky_relu}"))
            }
        }
    }
}

impl From<Activation> for ActivationRepr {
    fn from(a: Activation) -> Self {
        match a {
            Activation::LeakyRelu(alpha) => ActivationRepr::Leaky { leaky_relu: alpha },
            other => ActivationRepr::Name(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 5] =
        [Activation::Tanh, Activation::Relu, Activation::Sigmoid, Activation::Linear, Activation::LeakyRelu(0.1)];

    #[test]
    fn derivative_matches_finite_difference_in_f64() {
        let h = 1e-6;
        for act in ALL {
            // Points away from the ReLU kink at 0.
            for x in [-3.1f64, -1.2, -0.4, 0.05, 0.7, 1.9, 4.2] {
                let fd = (act.value(x + h) - act.value(x - h)) / (2.0 * h);
                let an = act.derivative(x);
                let err = (fd - an).abs() / an.abs().max(1e-3);
                assert!(err < 1e-6, "{act:?} at {x}: analytic {an}, numeric {fd}");
            }
        }
    }

    #[test]
    fn reference_values() {
        assert_eq!(Activation::Relu.value(-2.0f64), 0.0);
        assert_eq!(Activation::LeakyRelu(0.1).value(-2.0f64), -0.2);
        assert!((Activation::Tanh.value(0.5f64) - 0.462_117_157_260_009_74).abs() < 1e-15);
        assert!((Activation::Sigmoid.value(0.0f64) - 0.5).abs() < 1e-15);
        assert!((Activation::Sigmoid.value(2.0f64) - 0.880_797_077_977_882_3).abs() < 1e-15);
    }

    #[test]
    fn buffer_forms_agree_with_scalar_forms() {
        for act in ALL {
            let xs = [-2.0f32, -0.3, 0.0, 0.4, 3.0];
            let mut buf = xs;
            act.apply_in_place(&mut buf);
            let mut g = [1.0f32; 5];
            act.backprop_in_place(&buf, &mut g);
            for i in 0..5 {
                assert_eq!(buf[i], act.value(xs[i]));
                assert_eq!(g[i], act.derivative_from_output(buf[i]));
            }
        }
    }

    #[test]
    fn parses_from_toml_names() {
        #[derive(Deserialize)]
        struct T {
            a: Activation,
            b: Activation,
        }
        let t: T = toml::from_str("a = \"tanh\"\nb = { leaky_relu = 0.2 }").unwrap();
        assert_eq!(t.a, Activation::Tanh);
        assert_eq!(t.b, Activation::LeakyRelu(0.2));
        assert!(toml::from_str::<T>("a = \"tan\"\nb = \"relu\"").is_err());
    }
}
