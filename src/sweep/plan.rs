//! From a parsed experiment file to an immutable, validated [`Plan`]: the
//! loaded data, the grid's axes, and the ordered run specs.
//!
//! Order: bits (parity problems with a `grid.bits` list), architecture,
//! optimizer, batch size, activation, lr, l2, l1 from the outermost axis to
//! the innermost, then the seed index; a run's index
//! is its identity (point = run / seeds, seed index = run % seeds). Runs
//! sharing architecture, optimizer, batch size and activation (a *family*)
//! are contiguous and train together as lockstep ensembles.
//!
//! Seeds follow common random numbers: a run's seed depends on (base_seed,
//! architecture name, seed index) only, so seed index s starts from the same
//! weights and the same shuffling stream at every grid point of its
//! architecture.

use super::config::*;
use super::error::SweepError;
use super::problem::{self, ProblemData};
use crate::ensemble::kernels::GEMM_MIN_WEIGHTS;
use crate::layers::{ConcatInput, Dense, Input, Layer};
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::Optimizer;
use crate::{Activation, Ensemble};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Largest ensemble the runner trains in lockstep.
pub const MAX_ENSEMBLE: usize = 512;
/// Most epochs per run accepted.
pub const MAX_EPOCHS: usize = 100_000_000;
/// Most runs (grid points × seeds) accepted in one sweep.
pub const MAX_RUNS: usize = 100_000_000;
/// Most recorded points per curve.
pub const MAX_RECORDED: usize = 100_000;
/// Most trainable parameters per network.
pub const MAX_PARAMS: usize = 10_000_000;

/// The values of every axis, in grid order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axes {
    /// Parity input sizes (`[null]` for every other problem).
    #[serde(default = "no_bits")]
    pub bits: Vec<Option<usize>>,
    /// Architecture names.
    pub architecture: Vec<String>,
    /// Optimizer families.
    pub optimizer: Vec<OptimizerName>,
    /// Batch sizes.
    pub batch_size: Vec<BatchSize>,
    /// Activations of layers that do not name one (`None`: every layer names its own).
    pub activation: Vec<Option<Activation>>,
    /// Learning rates.
    pub lr: Vec<f64>,
    /// L2 strengths.
    pub l2: Vec<f64>,
    /// L1 strengths.
    pub l1: Vec<f64>,
}

impl Axes {
    /// Number of values of each axis, outermost first (bits … l1).
    pub fn radices(&self) -> [usize; 8] {
        [
            self.bits.len(),
            self.architecture.len(),
            self.optimizer.len(),
            self.batch_size.len(),
            self.activation.len(),
            self.lr.len(),
            self.l2.len(),
            self.l1.len(),
        ]
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.radices().iter().product()
    }

    /// Names of the axes that have more than one value.
    pub fn varying(&self) -> Vec<&'static str> {
        let names = ["bits", "architecture", "optimizer", "batch_size", "activation", "lr", "l2", "l1"];
        names.iter().zip(self.radices()).filter(|(_, r)| *r > 1).map(|(n, _)| *n).collect()
    }
}

fn no_bits() -> Vec<Option<usize>> {
    vec![None]
}

/// The parameters of one grid point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointParams {
    /// Parity input size, for a grid over bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<usize>,
    /// Architecture name.
    pub architecture: String,
    /// Optimizer family.
    pub optimizer: OptimizerName,
    /// Batch size.
    pub batch_size: BatchSize,
    /// Activation of layers that do not name one.
    pub activation: Option<Activation>,
    /// Learning rate.
    pub lr: f64,
    /// L2 strength.
    pub l2: f64,
    /// L1 strength.
    pub l1: f64,
}

/// When a run counts as converged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// The metric read (training.metric).
    pub metric: Metric,
    /// Split read.
    pub on: Split,
    /// Threshold reached with ≥ (≤ for mse).
    pub threshold: f64,
}

impl Criterion {
    /// Whether a metric value meets the criterion.
    pub fn met(&self, v: f64) -> bool {
        if self.metric.higher_is_better() {
            v >= self.threshold
        } else {
            v <= self.threshold
        }
    }
}

/// A contiguous range of runs of one family, trained as one ensemble.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// First run index.
    pub start: usize,
    /// One past the last run index.
    pub end: usize,
}

/// Everything a sweep needs, validated.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Experiment name (results folder).
    pub name: String,
    /// The experiment after overrides.
    pub file: ExperimentFile,
    /// The overrides applied, as given.
    pub overrides: Vec<String>,
    /// SHA-256 of the resolved experiment (hex).
    pub hash: String,
    /// Grid axes.
    pub axes: Axes,
    /// Epochs recorded in the curves (1-based, increasing, first and last included).
    pub record_epochs: Vec<usize>,
    /// Convergence criterion.
    pub criterion: Criterion,
    /// The data, shared read-only by every run: one data set per value of
    /// the `bits` axis (one in all for every other problem).
    pub datasets: Vec<Arc<ProblemData>>,
}

/// SplitMix64's output function: a well-mixed 64-bit hash of a 64-bit value.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a string (stable across platforms and Rust versions).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The seed of run (architecture, seed index): mix(mix(mix(base) ^ fnv1a(arch)) ^ s).
pub fn derive_seed(base_seed: u64, architecture: &str, seed_index: usize) -> u64 {
    mix64(mix64(mix64(base_seed) ^ fnv1a(architecture)) ^ seed_index as u64)
}

impl Plan {
    /// Seeds per point.
    pub fn seeds(&self) -> usize {
        self.file.seeds
    }

    /// Epochs per run.
    pub fn epochs(&self) -> usize {
        self.file.training.epochs
    }

    /// Total runs.
    pub fn runs(&self) -> usize {
        self.axes.points() * self.seeds()
    }

    /// Parameters of grid point `p`.
    pub fn point(&self, p: usize) -> PointParams {
        let r = self.axes.radices();
        let mut idx = [0usize; 8];
        let mut rest = p;
        for a in (0..8).rev() {
            idx[a] = rest % r[a];
            rest /= r[a];
        }
        let ax = &self.axes;
        PointParams {
            bits: ax.bits[idx[0]],
            architecture: ax.architecture[idx[1]].clone(),
            optimizer: ax.optimizer[idx[2]],
            batch_size: ax.batch_size[idx[3]],
            activation: ax.activation[idx[4]],
            lr: ax.lr[idx[5]],
            l2: ax.l2[idx[6]],
            l1: ax.l1[idx[7]],
        }
    }

    /// The data set of the first `bits` value (the only one for most problems).
    pub fn data(&self) -> &ProblemData {
        &self.datasets[0]
    }

    /// The data set a grid point trains on.
    pub fn data_for(&self, p: &PointParams) -> &Arc<ProblemData> {
        let i = self.axes.bits.iter().position(|b| *b == p.bits).unwrap_or(0);
        &self.datasets[i]
    }

    /// The seed of run `run`.
    pub fn run_seed(&self, run: usize) -> u64 {
        let p = self.point(run / self.seeds());
        derive_seed(self.file.base_seed, &p.architecture, run % self.seeds())
    }

    /// The library layers of a grid point's network.
    pub fn layers(&self, p: &PointParams) -> Vec<Layer> {
        let input = self.data_for(p).input_dim();
        let arch = &self.file.architectures[&p.architecture];
        let activation = p.activation;
        arch.layers
            .iter()
            .enumerate()
            .map(|(i, l)| match l {
                LayerConfig::Dense { units, units_per_input, activation: a, init } => {
                    let units = units.unwrap_or(units_per_input.unwrap_or(0) * input);
                    let mut d = Dense::new(units, a.or(activation).unwrap_or(Activation::Linear))
                        .init(init.unwrap_or(self.file.training.init));
                    if i == 0 {
                        d = d.input_dim(input);
                    }
                    Layer::Dense(d)
                }
                LayerConfig::ConcatInput => Layer::ConcatInput(ConcatInput::new(Input::new(input))),
            })
            .collect()
    }

    /// The optimizer of a point (its lr is the point's lr).
    pub fn optimizer(&self, p: &PointParams) -> Optimizer {
        let t = &self.file.training;
        match p.optimizer {
            OptimizerName::Sgd => Optimizer::sgd_momentum(p.lr, t.momentum, t.nesterov),
            OptimizerName::Adam => Optimizer::adam(p.lr),
            OptimizerName::Rmsprop => Optimizer::rmsprop(p.lr),
            OptimizerName::Adagrad => Optimizer::adagrad(p.lr),
            OptimizerName::Adadelta => Optimizer::adadelta(p.lr),
        }
    }

    /// Grid points per family: the lr × l2 × l1 points that share one
    /// network shape and optimizer, and so can train as one ensemble.
    pub fn family_points(&self) -> usize {
        self.axes.lr.len() * self.axes.l2.len() * self.axes.l1.len()
    }

    /// Ensembles to train: each family cut into pieces of at most
    /// [`MAX_ENSEMBLE`] runs (1 for architectures with GEMM-sized layers,
    /// which gain nothing from lockstep). Depends only on the plan.
    pub fn chunks(&self) -> Vec<Chunk> {
        let per_family = self.family_points() * self.seeds();
        let families = self.runs() / per_family;
        let mut out = Vec::new();
        for f in 0..families {
            let p = self.point(f * self.family_points());
            let width = self.ensemble_width(&p);
            let (start, end) = (f * per_family, (f + 1) * per_family);
            out.extend((start..end).step_by(width).map(|s| Chunk { start: s, end: (s + width).min(end) }));
        }
        out
    }

    fn ensemble_width(&self, p: &PointParams) -> usize {
        let layers = self.layers(p);
        let mut e = Ensemble::<f32>::new(&[0]);
        for l in layers {
            if e.add(l).is_err() {
                return 1;
            }
        }
        if e.dense().iter().any(|p| p.fan_in * p.units >= GEMM_MIN_WEIGHTS) {
            1
        } else {
            MAX_ENSEMBLE
        }
    }
}

fn err(msg: impl Into<String>) -> SweepError {
    SweepError::Config(msg.into())
}

fn nonempty<T: Clone>(name: &str, grid: &Option<Vec<T>>, single: Option<T>) -> Result<Vec<T>, SweepError> {
    match (grid, single) {
        (Some(v), _) if v.is_empty() => Err(err(format!("grid.{name} is empty: give at least one value"))),
        (Some(v), _) => Ok(v.clone()),
        (None, Some(s)) => Ok(vec![s]),
        (None, None) => Err(err(format!("no {name}: set training.{name} or grid.{name}"))),
    }
}

/// Validates an experiment file, loads its data and builds the plan.
/// `stem` names the experiment when the file has no `name`.
pub fn resolve(file: ExperimentFile, stem: &str, overrides: Vec<String>) -> Result<Plan, SweepError> {
    let name = file.name.clone().unwrap_or_else(|| stem.to_string());
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(err(format!("name `{name}` cannot be a folder name")));
    }
    if file.seeds == 0 {
        return Err(err("seeds = 0: each grid point needs at least 1 seed"));
    }
    let t = &file.training;
    if t.epochs == 0 {
        return Err(err("training.epochs = 0: train at least 1 epoch"));
    }
    if t.epochs > MAX_EPOCHS {
        return Err(err(format!("training.epochs = {} is more than this tool accepts ({MAX_EPOCHS})", t.epochs)));
    }
    if file.architectures.is_empty() {
        return Err(err("no architectures: define at least one [architectures.<name>] with layers"));
    }
    let defined: Vec<String> = file.architectures.keys().cloned().collect();
    let architecture = match &file.grid.architecture {
        None => defined.clone(),
        Some(names) if names.is_empty() => {
            return Err(err("grid.architecture is empty: name at least one architecture"))
        }
        Some(names) => names.clone(),
    };
    for a in &architecture {
        if !file.architectures.contains_key(a) {
            let close = defined.iter().min_by_key(|d| strsim::levenshtein(a, d)).cloned().unwrap_or_default();
            return Err(err(format!(
                "grid.architecture names `{a}`, which is not defined (defined: {}; did you mean `{close}`?)",
                defined.join(", ")
            )));
        }
    }
    let bits: Vec<Option<usize>> = match (&file.problem, &file.grid.bits) {
        (_, Some(v)) if v.is_empty() => return Err(err("grid.bits is empty: give at least one value")),
        (ProblemConfig::Parity { .. }, Some(v)) => v.iter().map(|b| Some(*b)).collect(),
        (_, Some(_)) => return Err(err("grid.bits needs problem.kind = \"parity\"")),
        (ProblemConfig::Parity { bits }, None) => vec![Some(*bits)],
        (_, None) => vec![None],
    };
    let axes = Axes {
        bits,
        architecture,
        optimizer: nonempty("optimizer", &file.grid.optimizer, Some(t.optimizer))?,
        batch_size: nonempty("batch_size", &file.grid.batch_size, Some(t.batch_size))?,
        activation: match &file.grid.activation {
            Some(v) if v.is_empty() => return Err(err("grid.activation is empty: give at least one value")),
            Some(v) => v.iter().map(|a| Some(*a)).collect(),
            None => vec![t.activation],
        },
        lr: nonempty("lr", &file.grid.lr, t.lr)?,
        l2: nonempty("l2", &file.grid.l2, Some(t.l2))?,
        l1: nonempty("l1", &file.grid.l1, Some(t.l1))?,
    };
    match axes.points().checked_mul(file.seeds) {
        Some(runs) if runs <= MAX_RUNS => {}
        _ => {
            return Err(err(format!(
                "{} grid points × {} seeds is more runs than this tool accepts ({MAX_RUNS}); split the grid or use fewer seeds",
                axes.points(),
                file.seeds
            )))
        }
    }
    for &lr in &axes.lr {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(err(format!("learning rate {lr} is invalid: every lr must be > 0")));
        }
    }
    for (n, vals) in [("l1", &axes.l1), ("l2", &axes.l2)] {
        if let Some(v) = vals.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
            return Err(err(format!("{n} = {v} is invalid: regularization strengths must be >= 0")));
        }
    }
    if axes.batch_size.contains(&BatchSize::Size(0)) {
        return Err(err("batch_size = 0 is invalid: use at least 1, or \"full\""));
    }
    let datasets = axes
        .bits
        .iter()
        .map(|b| {
            let p = match (&file.problem, b) {
                (ProblemConfig::Parity { .. }, Some(bits)) => ProblemConfig::Parity { bits: *bits },
                (other, _) => other.clone(),
            };
            problem::load(&p, file.base_seed).map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_losses(t.loss, t.metric)?;
    let criterion = criterion(&file, &datasets[0])?;
    let record = match (file.record_every, file.record.every) {
        (Some(_), Some(_)) => return Err(err("record_every and record.every are both set: keep one")),
        (Some(k), None) => RecordConfig { every: Some(k), ..file.record.clone() },
        _ => file.record.clone(),
    };
    let record_epochs = record_epochs(t.epochs, &record)?;

    let hash = {
        let json = serde_json::to_string(&file).map_err(|e| err(e.to_string()))?;
        format!("{:x}", Sha256::digest(json.as_bytes()))
    };
    let plan = Plan { name, file, overrides, hash, axes, record_epochs, criterion, datasets };
    // Every distinct network shape of the grid must build and fit its data.
    for f in 0..plan.axes.points() / plan.family_points() {
        check_architecture(&plan, &plan.point(f * plan.family_points()))?;
    }
    Ok(plan)
}

fn check_losses(loss: Loss, metric: Metric) -> Result<(), SweepError> {
    match (loss, metric) {
        (Loss::Cce, Metric::Acc) | (Loss::Mse, Metric::Mse | Metric::AccXor) => Ok(()),
        (l, m) => Err(err(format!(
            "training.loss = {l:?} and training.metric = {} do not fit: use mse with acc_xor or mse, or cce with acc",
            m.name()
        ))),
    }
}

fn criterion(file: &ExperimentFile, data: &ProblemData) -> Result<Criterion, SweepError> {
    let metric = file.training.metric;
    let c = match &file.convergence {
        Some(c) => Criterion { metric, on: c.on, threshold: c.threshold },
        None => match metric {
            Metric::AccXor => Criterion { metric, on: Split::Train, threshold: 1.0 },
            Metric::Acc if data.test.is_some() => Criterion { metric, on: Split::Test, threshold: 0.95 },
            Metric::Acc => Criterion { metric, on: Split::Train, threshold: 1.0 },
            Metric::Mse => {
                return Err(err(
                    "training.metric = mse has no default convergence threshold: add [convergence] threshold = ...",
                ))
            }
        },
    };
    if !c.threshold.is_finite() {
        return Err(err(format!("convergence.threshold = {} must be a finite number", c.threshold)));
    }
    if c.on == Split::Test && data.test.is_none() {
        return Err(err("convergence.on = \"test\" but this problem has no test set"));
    }
    Ok(c)
}

/// The epochs kept in curves: every k-th from 1, plus the last.
pub fn record_epochs(epochs: usize, r: &RecordConfig) -> Result<Vec<usize>, SweepError> {
    let every = match r.every {
        Some(0) => return Err(err("record.every = 0: record at least every epoch (1)")),
        Some(k) => k,
        None if r.points < 2 => return Err(err(format!("record.points = {}: keep at least 2 points", r.points))),
        None => ((epochs - 1) / (r.points - 1)).max(1),
    };
    if epochs / every > MAX_RECORDED {
        return Err(err(format!(
            "recording every {every} of {epochs} epochs keeps more than {MAX_RECORDED} points per curve: raise record.every"
        )));
    }
    let mut v: Vec<usize> = (1..=epochs).step_by(every).collect();
    if v.last() != Some(&epochs) {
        v.push(epochs);
    }
    Ok(v)
}

fn check_architecture(plan: &Plan, p: &PointParams) -> Result<(), SweepError> {
    let name = &p.architecture;
    let arch = &plan.file.architectures[name];
    for (i, l) in arch.layers.iter().enumerate() {
        if let LayerConfig::Dense { activation, units, units_per_input, .. } = l {
            if activation.is_none() && p.activation.is_none() {
                return Err(err(format!(
                    "architecture `{name}` layer {i} has no activation, and neither training.activation nor grid.activation is set"
                )));
            }
            if units.is_some() == units_per_input.is_some() {
                return Err(err(format!(
                    "architecture `{name}` layer {i}: give exactly one of units and units_per_input"
                )));
            }
            let input = plan.data_for(p).input_dim();
            let n = units.or(units_per_input.and_then(|u| u.checked_mul(input)));
            if n.is_none_or(|n| n > MAX_PARAMS) {
                return Err(err(format!("architecture `{name}` layer {i}: too many units")));
            }
        }
    }
    // Parameter count before any weight is allocated.
    let mut fan_in = plan.data_for(p).input_dim();
    let mut params = 0usize;
    for l in plan.layers(p) {
        match l {
            Layer::Dense(d) => {
                params = params.saturating_add((fan_in + 1).saturating_mul(d.units));
                fan_in = d.units;
            }
            Layer::ConcatInput(c) => fan_in += c.input.dim,
            Layer::Input(_) => {}
        }
    }
    if params > MAX_PARAMS {
        return Err(err(format!(
            "architecture `{name}` has {params} parameters; this tool accepts up to {MAX_PARAMS}"
        )));
    }
    plan.optimizer(p).validate().map_err(|e| err(format!("training: {e}")))?;
    let mut e = Ensemble::<f32>::new(&[0]);
    for l in plan.layers(p) {
        e.add(l).map_err(|e| err(format!("architecture `{name}`: {e}")))?;
    }
    e.check_complete().map_err(|e| err(format!("architecture `{name}`: {e}")))?;
    let outputs = e.output_dim();
    let t = &plan.file.training;
    let d = plan.data_for(p);
    match t.loss {
        Loss::Mse if outputs != d.train.y.ncols() => Err(err(format!(
            "architecture `{name}` outputs {outputs} values, but the problem's targets have {} columns",
            d.train.y.ncols()
        ))),
        Loss::Cce if outputs < d.classes() => Err(err(format!(
            "architecture `{name}` outputs {outputs} scores, but the problem has {} classes",
            d.classes()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_epochs_keep_first_and_last() {
        let r = RecordConfig::default();
        let v = record_epochs(2000, &r).unwrap();
        assert_eq!(v[0], 1);
        assert_eq!(*v.last().unwrap(), 2000);
        assert!((195..=205).contains(&v.len()), "{}", v.len());
        assert_eq!(record_epochs(5, &r).unwrap(), vec![1, 2, 3, 4, 5]);
        let every = RecordConfig { every: Some(3), ..r };
        assert_eq!(record_epochs(10, &every).unwrap(), vec![1, 4, 7, 10]);
    }

    #[test]
    fn seeds_are_paired_across_points_and_distinct_across_indices() {
        assert_eq!(derive_seed(1, "2-2-1", 5), derive_seed(1, "2-2-1", 5));
        assert_ne!(derive_seed(1, "2-2-1", 5), derive_seed(1, "2-2-1", 6));
        assert_ne!(derive_seed(1, "2-2-1", 5), derive_seed(1, "concat", 5));
        assert_ne!(derive_seed(1, "2-2-1", 5), derive_seed(2, "2-2-1", 5));
        // A literal value: the derivation is part of the file format.
        assert_eq!(mix64(0), 0xe220_a839_7b1d_cdaf);
    }
}
