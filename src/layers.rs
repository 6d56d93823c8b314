//! Layers: the course's `layers.py` — `Input`, `Dense` (weights with a bias
//! row) and `ConcatInput` (network input next to the previous output).
//!
//! These are *specifications*: plain values a user builds and hands to
//! [`crate::Network::add`] (or an ensemble), which resolves their shapes
//! against the layer before (the course's `get/set_output_shape`), draws the
//! weights and owns them. The math of a Dense layer is the course's:
//! X' = [X, 1], output = act(X'·W) with W of shape (dim(X) + 1, units); the
//! bias row is stored apart from the weights so regularizers can skip it.
//! ConcatInput outputs [X, S] and its backward pass hands on only the S part.

use crate::activations::Activation;
use crate::init::Init;
use crate::regularizers::Regularizer;
use serde::{Deserialize, Serialize};

/// The network input: `dim` columns. Optional as a first layer; needed to
/// tell a [`ConcatInput`] the input size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// Number of input columns.
    pub dim: usize,
}

impl Input {
    /// An input of `dim` columns.
    pub fn new(dim: usize) -> Self {
        Input { dim }
    }
}

/// A fully connected layer: output = act([X, 1]·W).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Number of units (output columns).
    pub units: usize,
    /// Activation applied to X'·W.
    pub activation: Activation,
    /// Input size; needed on the first layer, otherwise checked against the previous layer.
    pub input_dim: Option<usize>,
    /// Weight penalty (never applied to the bias).
    pub regularizer: Option<Regularizer>,
    /// Weight initialisation scheme.
    pub init: Init,
}

impl Dense {
    /// `units` units with `activation`, Glorot-uniform weights, no regularizer.
    pub fn new(units: usize, activation: Activation) -> Self {
        Dense { units, activation, input_dim: None, regularizer: None, init: Init::GlorotUniform }
    }
    /// Declares the input size (required on the first layer).
    pub fn input_dim(mut self, dim: usize) -> Self {
        self.input_dim = Some(dim);
        self
    }
    /// Adds a weight regularizer.
    pub fn regularizer(mut self, r: Regularizer) -> Self {
        self.regularizer = Some(r);
        self
    }
    /// Chooses the weight initialisation.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
}

/// Concatenates the network input with the previous layer's output: [X, S].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcatInput {
    /// The network input being concatenated.
    pub input: Input,
}

impl ConcatInput {
    /// ConcatInput of the network input `input`.
    pub fn new(input: Input) -> Self {
        ConcatInput { input }
    }
}

/// Any layer a network can hold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// See [`Input`].
    Input(Input),
    /// See [`Dense`].
    Dense(Dense),
    /// See [`ConcatInput`].
    ConcatInput(ConcatInput),
}

impl Layer {
    /// The layer's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Input(_) => "Input",
            Layer::Dense(_) => "Dense",
            Layer::ConcatInput(_) => "ConcatInput",
        }
    }
}

impl From<Input> for Layer {
    fn from(l: Input) -> Self {
        Layer::Input(l)
    }
}
impl From<Dense> for Layer {
    fn from(l: Dense) -> Self {
        Layer::Dense(l)
    }
}
impl From<ConcatInput> for Layer {
    fn from(l: ConcatInput) -> Self {
        Layer::ConcatInput(l)
    }
}

/// Where a block of a layer's output columns comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The network input (no gradient flows into it).
    Input {
        /// Columns.
        dim: usize,
    },
    /// The output of the `dense`-th Dense layer.
    Dense {
        /// Index among the network's Dense layers.
        dense: usize,
        /// Columns.
        dim: usize,
    },
}

impl Source {
    /// Number of columns of the block.
    pub fn dim(&self) -> usize {
        match *self {
            Source::Input { dim } | Source::Dense { dim, .. } => dim,
        }
    }
}

/// Total columns of a list of sources.
pub fn total_dim(sources: &[Source]) -> usize {
    sources.iter().map(Source::dim).sum()
}
