//! The experiment file: serde types that map 1:1 onto the TOML a user writes
//! (see `experiments/xor_grid.toml` for a commented template), parsed with
//! unknown keys rejected and a "did you mean" for near misses.
//!
//! Parsing gives an [`ExperimentFile`]; [`crate::sweep::resolve`] then checks
//! every value against the problem and turns it into an immutable plan.

use crate::activations::Activation;
use crate::data::prepare::Scale;
use crate::init::Init;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::Kind as OptimizerKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One experiment: a problem, named architectures, a training setup and a grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Name of the results folder (`results/<name>/`); defaults to the file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// Free text, copied to the manifest.
    #[serde(default)]
    pub description: Option<String>,
    /// Root of every run's seed.
    #[serde(default)]
    pub base_seed: u64,
    /// Seeds (independent runs) per grid point: a number, or adaptive
    /// (`{ min, max, ci_half_width }`).
    pub seeds: Seeds,
    /// The data.
    pub problem: ProblemConfig,
    /// Architectures by name.
    pub architectures: BTreeMap<String, ArchitectureConfig>,
    /// Training setup shared by every run (values the grid does not vary).
    pub training: TrainingConfig,
    /// Axes of the grid; each present list is crossed with the others.
    #[serde(default)]
    pub grid: GridConfig,
    /// When a run counts as converged.
    #[serde(default)]
    pub convergence: Option<ConvergenceConfig>,
    /// What is kept of each run.
    #[serde(default)]
    pub record: RecordConfig,
    /// Shorthand for `record.every`: keep every k-th epoch of the curves.
    #[serde(default)]
    pub record_every: Option<usize>,
}

/// The problem to train on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProblemConfig {
    /// The course's XOR: 4 points in ±1², targets ±1.
    Xor,
    /// N-bit parity: all 2^N points in ±1^N.
    Parity {
        /// N ≥ 2.
        bits: usize,
    },
    /// The built-in 8×8 digits (1,797 images, 10 classes).
    Digits {
        /// Fraction held out for testing (stratified).
        #[serde(default = "default_test_fraction")]
        test_fraction: f64,
        /// Feature scaling.
        #[serde(default = "default_scale")]
        scale: Scale,
        /// Seed of the split (defaults to base_seed).
        #[serde(default)]
        split_seed: Option<u64>,
        /// Fraction of the training data held out for validation, on which
        /// the best grid point is picked (stratified; default 0.1; 0: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<f64>,
    },
    /// MNIST from its IDX files.
    Mnist {
        /// Folder with the four IDX files (plain or .gz).
        path: PathBuf,
        /// Feature scaling.
        #[serde(default = "default_scale")]
        scale: Scale,
        /// Fraction of the training data held out for validation, on which
        /// the best grid point is picked (stratified; default 0.1; 0: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<f64>,
    },
    /// CIFAR-10 from its binary batches.
    Cifar10 {
        /// Folder with data_batch_1..5.bin and test_batch.bin.
        path: PathBuf,
        /// Feature scaling.
        #[serde(default = "default_scale")]
        scale: Scale,
        /// Fraction of the training data held out for validation, on which
        /// the best grid point is picked (stratified; default 0.1; 0: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<f64>,
    },
    /// A CSV file with a header and a label column.
    Csv {
        /// The file.
        path: PathBuf,
        /// Name of the label column (class indices).
        label: String,
        /// Fraction held out for testing (stratified).
        #[serde(default = "default_test_fraction")]
        test_fraction: f64,
        /// Feature scaling.
        #[serde(default = "default_standard")]
        scale: Scale,
        /// Seed of the split (defaults to base_seed).
        #[serde(default)]
        split_seed: Option<u64>,
        /// Fraction of the training data held out for validation, on which
        /// the best grid point is picked (stratified; default 0.1; 0: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<f64>,
    },
}

fn default_test_fraction() -> f64 {
    0.2
}
fn default_scale() -> Scale {
    Scale::Unit
}
fn default_standard() -> Scale {
    Scale::Standard
}

/// An architecture: its layers in order (the input size comes from the problem).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureConfig {
    /// The layers.
    pub layers: Vec<LayerConfig>,
}

/// One layer of an architecture, as the experiment file writes it. Not a
/// copy of [`crate::Layer`]: its size may be a grid axis (`units =
/// "hidden"`) or a multiple of the input (`units_per_input`), and its
/// activation and init may be left to the point's; [`super::family::layers`]
/// resolves it into the library's `Layer` at each grid point. Its leaves
/// are the library's types ([`Activation`], [`Init`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerConfig {
    /// A Dense layer.
    Dense {
        /// Units: a number, or the name of a grid axis of widths
        /// (`units = "hidden"` with `grid.hidden = [2, 4, 8]`).
        #[serde(default)]
        units: Option<Units>,
        /// Units as a multiple of the network's input size (e.g. 2 for 2N
        /// hidden units on N-bit parity); instead of `units`.
        #[serde(default)]
        units_per_input: Option<usize>,
        /// Activation; omitted = the run's activation (grid or training).
        #[serde(default)]
        activation: Option<Activation>,
        /// Weight init; omitted = training.init.
        #[serde(default)]
        init: Option<Init>,
    },
    /// The network input next to the previous layer's output.
    ConcatInput,
}

/// A layer's size: a number of units, or a grid axis that holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Units {
    /// This many units.
    Count(usize),
    /// The value of the grid axis of this name at each point.
    Axis(String),
}

impl<'de> Deserialize<'de> for Units {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountOrWord {
            expecting:
                "a whole number of units (e.g. units = 4) or the name of a grid axis of widths (units = \"hidden\")",
            count: Units::Count,
            word: |w| Some(Units::Axis(w.to_string())),
        })
    }
}

/// A serde visitor for "a whole number, or a word": the numbers and words a
/// field accepts, with one message for everything else (negative numbers,
/// floats, unknown words) instead of serde's "did not match any variant".
struct CountOrWord<T> {
    expecting: &'static str,
    count: fn(usize) -> T,
    word: fn(&str) -> Option<T>,
}

impl<T> serde::de::Visitor<'_> for CountOrWord<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        usize::try_from(v).map(self.count).map_err(|_| E::custom(format!("{v} is too large")))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
        }
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.word)(v).ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
    }
}

/// A batch size: a number, or "full" (the whole training set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum BatchSize {
    /// This many samples per step.
    Size(usize),
    /// "full": every sample in one step.
    Full(FullBatch),
}

impl<'de> Deserialize<'de> for BatchSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountOrWord {
            expecting: "a batch size: a whole number of samples >= 1, or \"full\"",
            count: BatchSize::Size,
            word: |w| (w == "full").then_some(BatchSize::Full(FullBatch::Full)),
        })
    }
}

/// The literal "full".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullBatch {
    /// The whole training set.
    Full,
}

impl BatchSize {
    /// Samples per step for a training set of `n` samples.
    pub fn resolve(&self, n: usize) -> usize {
        match *self {
            BatchSize::Size(s) => s.min(n),
            BatchSize::Full(_) => n,
        }
    }
}

impl std::fmt::Display for BatchSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchSize::Size(s) => write!(f, "{s}"),
            BatchSize::Full(_) => write!(f, "full"),
        }
    }
}

/// The training setup shared by every run. Every field but epochs, loss and
/// metric may instead be an axis of `[grid]` under its own name (giving it in
/// both places is an error); an absent field takes the default shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Epochs per run.
    pub epochs: usize,
    /// Mini-batch size or "full" (default "full").
    #[serde(default)]
    pub batch_size: Option<BatchSize>,
    /// Loss.
    pub loss: Loss,
    /// Metric recorded each epoch.
    pub metric: Metric,
    /// Optimizer family (default "sgd"): the library's [`OptimizerKind`]; its
    /// constants are the flat fields below, each of which may be an axis.
    #[serde(default)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate (no default: here or in the grid).
    #[serde(default)]
    pub lr: Option<f64>,
    /// L1 strength on every Dense layer's weights (default 0).
    #[serde(default)]
    pub l1: Option<f64>,
    /// L2 strength (default 0).
    #[serde(default)]
    pub l2: Option<f64>,
    /// Activation of layers that do not name one.
    #[serde(default)]
    pub activation: Option<Activation>,
    /// Weight initialisation of layers that do not name one (default "glorot_uniform").
    #[serde(default)]
    pub init: Option<Init>,
    /// SGD momentum (default 0).
    #[serde(default)]
    pub momentum: Option<f64>,
    /// SGD Nesterov momentum (default false).
    #[serde(default)]
    pub nesterov: Option<bool>,
    /// Adam's first-moment decay (Keras' default 0.9).
    #[serde(default)]
    pub beta1: Option<f64>,
    /// Adam's second-moment decay (Keras' default 0.999).
    #[serde(default)]
    pub beta2: Option<f64>,
    /// RMSProp's and Adadelta's decay (Keras' defaults 0.9 and 0.95).
    #[serde(default)]
    pub rho: Option<f64>,
    /// ε of Adam, RMSProp, Adagrad and Adadelta (Keras' default 1e-7).
    #[serde(default)]
    pub epsilon: Option<f64>,
    /// Adagrad's starting accumulator (Keras' default 0.1).
    #[serde(default)]
    pub initial_accumulator: Option<f64>,
}

/// The `[grid]` table: axis name → values, read by [`crate::sweep::grid`].
/// A value is a list (`lr = [0.1, 0.3]`), a single value (a one-value axis)
/// or a range (`{ log = [0.01, 1.0], points = 5 }`, `{ linear = [a, b], points = n }`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GridConfig(pub std::collections::BTreeMap<String, toml::Value>);

/// Which split a criterion reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// The training set.
    #[default]
    Train,
    /// The test set.
    Test,
}

/// A run converges at the first epoch whose `training.metric` (after that
/// epoch's update) reaches `threshold` (≥, or ≤ for mse).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvergenceConfig {
    /// Split it reads.
    #[serde(default)]
    pub on: Split,
    /// The threshold (default: the metric's, where it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Which rate the table and figures lead with (default: first_hit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Count>,
}

impl Count {
    /// The rate's name in titles: "Convergence rate", "Solved-at-end rate".
    pub fn title(self) -> &'static str {
        match self {
            Count::FirstHit => "Convergence rate",
            Count::AtEnd => "Solved-at-end rate",
        }
    }

    /// What the rate counts, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            Count::FirstHit => "reaching",
            Count::AtEnd => "still meeting after the last epoch",
        }
    }

    /// The other rate.
    pub fn other(self) -> Count {
        match self {
            Count::FirstHit => Count::AtEnd,
            Count::AtEnd => Count::FirstHit,
        }
    }
}

/// How recorded epochs are spread over training.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spacing {
    /// Every early epoch, then geometrically spaced: even on a log axis.
    #[default]
    Log,
    /// Evenly spaced.
    Linear,
}

/// Seeds per grid point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Seeds {
    /// The same number at every point.
    Fixed(usize),
    /// Adaptive: rounds of doubling from `min` seeds, each point stopping
    /// once the 95% Wilson interval of its rate has half-width at most
    /// `ci_half_width`, or at `max` seeds.
    Adaptive(AdaptiveSeeds),
}

/// `seeds = { min = 50, max = 5000, ci_half_width = 0.02 }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveSeeds {
    /// Seeds every point gets (the first round).
    pub min: usize,
    /// Most seeds a point gets.
    pub max: usize,
    /// Target half-width of the rate's 95% interval.
    pub ci_half_width: f64,
}

/// What `seeds` accepts, for messages.
const SEEDS_FORMS: &str = "a whole number of seeds per grid point (seeds = 100), or adaptive seeds (seeds = { min = 50, max = 5000, ci_half_width = 0.02 })";

impl<'de> Deserialize<'de> for Seeds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Seeds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(SEEDS_FORMS)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seeds, E> {
                usize::try_from(v).map(Seeds::Fixed).map_err(|_| E::custom(format!("seeds = {v} is too many")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seeds, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("seeds = {v}: give {SEEDS_FORMS}"))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Seeds, E> {
                Err(E::custom(format!("seeds = {v:?}: give {SEEDS_FORMS}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Seeds, E> {
                Err(E::custom(format!("seeds = {v:?}: give {SEEDS_FORMS}")))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Seeds, A::Error> {
                AdaptiveSeeds::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Seeds::Adaptive)
            }
        }
        d.deserialize_any(V)
    }
}

impl Seeds {
    /// Seed indices a point may use: the count, or the adaptive maximum.
    pub fn most(&self) -> usize {
        match self {
            Seeds::Fixed(n) => *n,
            Seeds::Adaptive(a) => a.max,
        }
    }
}

/// What a run that meets the criterion counts as, for the rate the table and
/// figures lead with. Both rates are always reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Count {
    /// Met the criterion at some epoch (`convergence_rate`).
    #[default]
    FirstHit,
    /// Still met it after the last epoch (`solved_at_end_rate`).
    AtEnd,
}

/// What is kept of each run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConfig {
    /// About this many evenly spaced points per curve (first and last epoch always kept).
    #[serde(default = "default_points")]
    pub points: usize,
    /// Record every k-th epoch instead (overrides `points` and `spacing`).
    #[serde(default)]
    pub every: Option<usize>,
    /// How the `points` recorded epochs are spread (default: log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spacing: Option<Spacing>,
    /// Keep the final weights of the first this-many seeds of each grid point.
    #[serde(default = "default_weights")]
    pub weights: usize,
}

fn default_points() -> usize {
    200
}
fn default_weights() -> usize {
    4
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig { points: default_points(), every: None, spacing: None, weights: default_weights() }
    }
}
