//! What a grid point trains with ([`Settings`]: every training field,
//! resolved from the grid and `[training]`), and *families*: runs of points
//! that share a network shape and an update rule, resolved once (layers,
//! data, batch size, ensemble width) and trained as lockstep ensembles.

use super::config::{ArchitectureConfig, BatchSize, FullBatch, LayerConfig, TrainingConfig, Units};
use super::grid::{Grid, Values};
use crate::init::Init;
use crate::layers::{ConcatInput, Dense, Input, Layer};
use crate::optimizers::Kind as OptimizerKind;
use crate::optimizers::Optimizer;
use crate::Activation;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Largest ensemble the runner trains in lockstep.
pub const MAX_ENSEMBLE: usize = 512;

/// Every training field of one grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Parity input size (parity problems).
    pub bits: Option<usize>,
    /// Architecture name.
    pub architecture: String,
    /// Width axes by name.
    pub widths: Vec<(String, usize)>,
    /// Optimizer family.
    pub optimizer: OptimizerKind,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// Batch size.
    pub batch_size: BatchSize,
    /// Activation of layers that do not name one.
    pub activation: Option<Activation>,
    /// Weight init of layers that do not name one.
    pub init: Init,
    /// Learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Optimizer constants; `None`: Keras' default for the family.
    pub beta1: Option<f64>,
    /// Adam's β2.
    pub beta2: Option<f64>,
    /// RMSProp's / Adadelta's ρ.
    pub rho: Option<f64>,
    /// ε.
    pub epsilon: Option<f64>,
    /// Adagrad's starting accumulator.
    pub initial_accumulator: Option<f64>,
    /// L1 strength.
    pub l1: f64,
    /// L2 strength.
    pub l2: f64,
}

impl Settings {
    /// `[training]`'s values with their defaults: every point's settings
    /// before the grid's axes replace some.
    pub fn from_training(t: &TrainingConfig) -> Settings {
        Settings {
            bits: None,
            architecture: String::new(),
            widths: Vec::new(),
            optimizer: t.optimizer.unwrap_or(OptimizerKind::Sgd),
            nesterov: t.nesterov.unwrap_or(false),
            batch_size: t.batch_size.unwrap_or(BatchSize::Full(FullBatch::Full)),
            activation: t.activation,
            init: t.init.unwrap_or_default(),
            lr: t.lr.unwrap_or(f64::NAN),
            momentum: t.momentum.unwrap_or(0.0),
            beta1: t.beta1,
            beta2: t.beta2,
            rho: t.rho,
            epsilon: t.epsilon,
            initial_accumulator: t.initial_accumulator,
            l1: t.l1.unwrap_or(0.0),
            l2: t.l2.unwrap_or(0.0),
        }
    }

    /// The settings of grid point `p`: `base` (see [`Self::from_training`])
    /// with the grid's values at `p`.
    pub fn at(grid: &Grid, base: &Settings, p: usize) -> Settings {
        let mut s = base.clone();
        for (axis, i) in grid.axes().iter().zip(grid.coords(p)) {
            match &axis.values {
                Values::Count(v) if axis.name == "bits" => s.bits = Some(v[i]),
                Values::Count(v) => s.widths.push((axis.name.clone(), v[i])),
                Values::Name(v) => s.architecture = v[i].clone(),
                Values::Optimizer(v) => s.optimizer = v[i],
                Values::Flag(v) => s.nesterov = v[i],
                Values::BatchSize(v) => s.batch_size = v[i],
                Values::Activation(v) => s.activation = v[i],
                Values::Init(v) => s.init = v[i],
                Values::Number(v) => s.set_number(&axis.name, v[i]),
            }
        }
        s
    }

    fn set_number(&mut self, name: &str, v: f64) {
        match name {
            "lr" => self.lr = v,
            "momentum" => self.momentum = v,
            "beta1" => self.beta1 = Some(v),
            "beta2" => self.beta2 = Some(v),
            "rho" => self.rho = Some(v),
            "epsilon" => self.epsilon = Some(v),
            "initial_accumulator" => self.initial_accumulator = Some(v),
            "l1" => self.l1 = v,
            "l2" => self.l2 = v,
            _ => unreachable!("grid::kind_of names every numeric axis"),
        }
    }

    /// The point's optimizer with its learning rate and constants (Keras'
    /// defaults where neither the grid nor `[training]` sets one).
    pub fn optimizer(&self) -> Optimizer {
        let mut o = self.optimizer.with_lr(self.lr);
        let or = |v: &mut f64, set: Option<f64>| *v = set.unwrap_or(*v);
        match &mut o {
            Optimizer::Sgd { momentum, nesterov, .. } => {
                *momentum = self.momentum;
                *nesterov = self.nesterov;
            }
            Optimizer::Adam { beta1, beta2, epsilon, .. } => {
                or(beta1, self.beta1);
                or(beta2, self.beta2);
                or(epsilon, self.epsilon);
            }
            Optimizer::RmsProp { rho, epsilon, .. } | Optimizer::Adadelta { rho, epsilon, .. } => {
                or(rho, self.rho);
                or(epsilon, self.epsilon);
            }
            Optimizer::Adagrad { initial_accumulator, epsilon, .. } => {
                or(initial_accumulator, self.initial_accumulator);
                or(epsilon, self.epsilon);
            }
        }
        o
    }

    /// The width of axis `name` at this point.
    pub fn width(&self, name: &str) -> Option<usize> {
        self.widths.iter().find(|(n, _)| n == name).map(|(_, w)| *w)
    }
}

/// Consecutive grid points sharing a network shape and an update rule,
/// resolved once: what every run of the family trains with, besides its
/// lane values (lr, l1, l2, momentum, init, optimizer constants).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Family {
    /// Its grid points.
    pub points: Range<usize>,
    /// Architecture name.
    pub architecture: String,
    /// The network's layers (the first declares the input size).
    pub layers: Vec<Layer>,
    /// Per layer: whether each member draws this layer's weights with its
    /// own init (an init axis, on a layer that names no init of its own).
    pub lane_init: Vec<bool>,
    /// The update rule every member shares (members differ in lr and constants).
    pub optimizer: OptimizerKind,
    /// Nesterov momentum (SGD).
    pub nesterov: bool,
    /// Activation of layers that do not name one.
    pub activation: Option<Activation>,
    /// Index of the family's data set (one per bits value).
    pub data: usize,
    /// Samples per optimizer step.
    pub batch_size: usize,
    /// Most runs trained in one lockstep ensemble.
    pub width: usize,
}

/// The library layers of architecture `arch` for a point's settings, with
/// `input` network inputs, and per layer whether its init is the member's.
/// `None` for a width that cannot be resolved (checked by the caller).
pub fn layers(arch: &ArchitectureConfig, s: &Settings, input: usize, init_axis: bool) -> (Vec<Layer>, Vec<bool>) {
    arch.layers
        .iter()
        .enumerate()
        .map(|(i, l)| match l {
            LayerConfig::Dense { units, units_per_input, activation, init } => {
                let units = match units {
                    Some(Units::Count(n)) => *n,
                    Some(Units::Axis(name)) => s.width(name).unwrap_or(0),
                    None => units_per_input.unwrap_or(0).saturating_mul(input),
                };
                let mut d = Dense::new(units, activation.or(s.activation).unwrap_or(Activation::Linear))
                    .init(init.unwrap_or(s.init));
                if i == 0 {
                    d = d.input_dim(input);
                }
                (Layer::Dense(d), init_axis && init.is_none())
            }
            LayerConfig::ConcatInput => (Layer::ConcatInput(ConcatInput::new(Input::new(input))), false),
        })
        .unzip()
}

/// Trainable parameters of one network of these layers (the first Dense
/// layer or an Input declares the input size), counted before any weight is
/// allocated; `None` if the count overflows.
pub fn param_count(layers: &[Layer]) -> Option<usize> {
    let (mut fan_in, mut params) = (0usize, 0usize);
    for l in layers {
        match l {
            Layer::Input(i) => fan_in = i.dim,
            Layer::Dense(d) => {
                fan_in = d.input_dim.filter(|_| params == 0 && fan_in == 0).unwrap_or(fan_in);
                params = params.checked_add(fan_in.checked_add(1)?.checked_mul(d.units)?)?;
                fan_in = d.units;
            }
            Layer::ConcatInput(c) => fan_in = fan_in.checked_add(c.input.dim)?,
        }
    }
    Some(params)
}

/// Weights (summed over members) an ensemble of large networks holds at
/// most: networks of up to `ENSEMBLE_WEIGHTS / MAX_ENSEMBLE` weights train
/// [`MAX_ENSEMBLE`] at a time, larger ones fewer, so that an ensemble's
/// weights, gradients and optimizer state stay in the core's caches.
/// Tuning: see BENCHMARKS.md.
pub const ENSEMBLE_WEIGHTS: usize = 1 << 19;

/// The narrowest ensemble worth training in lockstep: one AVX-512 vector of
/// f32 members. Below it a network trains alone, its vectors running over
/// units instead of members.
pub const MIN_ENSEMBLE: usize = 16;

/// The ensemble width for these layers: [`MAX_ENSEMBLE`], fewer members for
/// networks of many weights ([`ENSEMBLE_WEIGHTS`]), or 1 when fewer than
/// [`MIN_ENSEMBLE`] would fit.
pub fn ensemble_width(layers: &[Layer]) -> usize {
    let params = param_count(layers).unwrap_or(usize::MAX).max(1);
    match (ENSEMBLE_WEIGHTS / params).min(MAX_ENSEMBLE) {
        w if w < MIN_ENSEMBLE => 1,
        w => w,
    }
}
