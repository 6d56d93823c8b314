//! Lockstep ensembles: K networks of one architecture trained together,
//! structure-of-arrays with the member index innermost, so every loop of the
//! forward pass, the backward pass and the update vectorises across members.
//!
//! This is the engine under everything: [`crate::Network`] (the course's
//! one-network API) is an ensemble of one, and the sweep trains each
//! architecture's runs as ensembles of up to a few hundred members, each with
//! its own seed, learning rate and L1/L2 strengths. There is one
//! implementation of the math; members never interact, and a member's
//! arithmetic does not depend on K (see [`kernels`]).

mod denormals;
mod fit;
pub mod fused;
pub mod kernels;
mod output_pass;
mod watch;
mod workspace;

pub use denormals::Flush;
pub use fit::{EpochReport, Fit, Trainer};
pub use watch::{Target, Watch, Watched};
pub(crate) use workspace::workspace_grads;
pub(crate) use workspace::Penalty;
pub use workspace::{Workspace, EVAL_CHUNK};

use crate::error::{Error, Result};
use crate::init::Init;
use crate::layers::{total_dim, Layer, Source};
use crate::scalar::Real;
use crate::Activation;
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Most input blocks one Dense layer may read (chained ConcatInputs add one each).
pub const MAX_SOURCES: usize = 8;

/// Weights and per-member settings of one Dense layer, in ensemble layout.
#[derive(Clone, Debug)]
pub struct DenseParams<F> {
    /// Input columns (without the bias).
    pub fan_in: usize,
    /// Units.
    pub units: usize,
    /// Activation.
    pub activation: Activation,
    /// Input blocks, in column order.
    pub inputs: Vec<Source>,
    /// Weights `[(i·units + j)·K + k]`.
    pub w: Vec<F>,
    /// Biases `[j·K + k]`.
    pub b: Vec<F>,
    /// L1 strength per member.
    pub l1: Vec<F>,
    /// L2 strength per member.
    pub l2: Vec<F>,
    /// Position of this layer among all layers.
    pub layer: usize,
    /// Whether any member has a non-zero L1 or L2 strength.
    regularized: bool,
    /// `l1` and `l2` repeated over the weights of whole vectors
    /// ([`crate::simd::rows_per_vector`]): [`crate::regularizers::add_gradient`]'s runs.
    penalty_runs: [Vec<F>; 2],
    /// How many later Dense layers read this layer's output.
    readers: usize,
}

impl<F: Real> DenseParams<F> {
    /// Whether any member has a non-zero L1 or L2 strength.
    pub fn regularized(&self) -> bool {
        self.regularized
    }

    /// How many later Dense layers read this layer's output.
    pub fn readers(&self) -> usize {
        self.readers
    }

    /// L1 and L2 strengths for [`crate::regularizers::add_gradient`]: each member's,
    /// repeated over the weights of whole vectors.
    pub fn penalty_runs(&self) -> (&[F], &[F]) {
        (&self.penalty_runs[0], &self.penalty_runs[1])
    }

    /// Sets member k's L1 and L2 strengths.
    fn set_penalty(&mut self, k: usize, l1: F, l2: F) {
        let k_n = self.l1.len();
        (self.l1[k], self.l2[k]) = (l1, l2);
        self.regularized = self.l1.iter().chain(&self.l2).any(|v| *v != F::zero());
        let [l1r, l2r] = &mut self.penalty_runs;
        for (a, b) in l1r.iter_mut().zip(l2r.iter_mut()).skip(k).step_by(k_n) {
            (*a, *b) = (l1, l2);
        }
    }
}

/// One added layer: its spec, output size and where its output columns come from.
#[derive(Clone, Debug)]
pub struct LayerNode {
    /// The layer as added.
    pub spec: Layer,
    /// Output columns.
    pub output_dim: usize,
    /// Output blocks.
    pub outputs: Vec<Source>,
}

/// K networks of one architecture, trained in lockstep.
#[derive(Clone, Debug)]
pub struct Ensemble<F> {
    members: usize,
    input_dim: Option<usize>,
    layers: Vec<LayerNode>,
    dense: Vec<DenseParams<F>>,
    init_rngs: Vec<ChaCha8Rng>,
    shuffle_rngs: Vec<ChaCha8Rng>,
    /// Whether fits may take the fused path ([`fused`]).
    fused: bool,
}

/// The two ChaCha streams of a run seed: weights (stream 0) and shuffling (stream 1).
pub fn member_rngs(seed: u64) -> (ChaCha8Rng, ChaCha8Rng) {
    let init = ChaCha8Rng::seed_from_u64(seed);
    let mut shuffle = init.clone();
    shuffle.set_stream(1);
    (init, shuffle)
}

impl<F: Real> Ensemble<F> {
    /// An empty ensemble with one member per seed.
    pub fn new(seeds: &[u64]) -> Self {
        let (init_rngs, shuffle_rngs) = seeds.iter().map(|&s| member_rngs(s)).unzip();
        Ensemble {
            members: seeds.len(),
            input_dim: None,
            layers: Vec::new(),
            dense: Vec::new(),
            init_rngs,
            shuffle_rngs,
            fused: true,
        }
    }

    /// Number of members K.
    pub fn members(&self) -> usize {
        self.members
    }

    /// Network input columns (None before the first layer).
    pub fn input_dim(&self) -> Option<usize> {
        self.input_dim
    }

    /// The added layers.
    pub fn layers(&self) -> &[LayerNode] {
        &self.layers
    }

    /// The Dense layers' parameters.
    pub fn dense(&self) -> &[DenseParams<F>] {
        &self.dense
    }

    /// Output columns of the last layer.
    pub fn output_dim(&self) -> usize {
        self.layers.last().map_or(0, |l| l.output_dim)
    }

    /// Adds a layer: checks that it fits, resolves its shapes and draws each
    /// member's weights from that member's seeded stream.
    pub fn add(&mut self, layer: impl Into<Layer>) -> Result<&mut Self> {
        self.add_with_inits(layer, None)
    }

    /// [`Self::add`], where member k of a Dense layer draws its weights with
    /// `inits[k]` instead of the layer's own scheme (a sweep's init axis: the
    /// scale is a per-member number, so one ensemble trains every scale).
    pub fn add_with_inits(&mut self, layer: impl Into<Layer>, inits: Option<&[Init]>) -> Result<&mut Self> {
        if let Some(v) = inits {
            if v.len() != self.members {
                return Err(Error::MemberCount { what: "weight inits", expected: self.members, got: v.len() });
            }
            v.iter().try_for_each(Init::validate)?;
        }
        let spec = layer.into();
        let index = self.layers.len();
        let prev = self.layers.last();
        let node = match spec {
            Layer::Input(inp) => {
                if index > 0 {
                    return Err(Error::InputNotFirst { index });
                }
                if inp.dim == 0 {
                    return Err(Error::ZeroSize { index, kind: "Input", what: "dim" });
                }
                self.input_dim = Some(inp.dim);
                LayerNode { spec, output_dim: inp.dim, outputs: vec![Source::Input { dim: inp.dim }] }
            }
            Layer::ConcatInput(c) => {
                let Some(prev) = prev else { return Err(Error::ConcatFirst { index }) };
                let expected = self.input_dim.unwrap_or(0);
                if c.input.dim != expected {
                    return Err(Error::ConcatInputDim { index, expected, got: c.input.dim });
                }
                let mut outputs = vec![Source::Input { dim: c.input.dim }];
                outputs.extend(prev.outputs.iter().copied());
                if outputs.len() > MAX_SOURCES {
                    return Err(Error::LayerMismatch {
                        index,
                        kind: "ConcatInput",
                        expected: MAX_SOURCES,
                        got: outputs.len(),
                    });
                }
                LayerNode { spec, output_dim: total_dim(&outputs), outputs }
            }
            Layer::Dense(d) => {
                if d.units == 0 {
                    return Err(Error::ZeroSize { index, kind: "Dense", what: "units" });
                }
                if d.input_dim == Some(0) {
                    return Err(Error::ZeroSize { index, kind: "Dense", what: "input_dim" });
                }
                let inputs = match (prev, d.input_dim) {
                    (None, None) => return Err(Error::MissingInputDim { index }),
                    (None, Some(dim)) => {
                        self.input_dim = Some(dim);
                        vec![Source::Input { dim }]
                    }
                    (Some(p), declared) => {
                        if let Some(dim) = declared.filter(|&dim| dim != p.output_dim) {
                            return Err(Error::LayerMismatch {
                                index,
                                kind: "Dense",
                                expected: dim,
                                got: p.output_dim,
                            });
                        }
                        p.outputs.clone()
                    }
                };
                d.init.validate()?;
                let (l1, l2) = d.regularizer.map_or((0.0, 0.0), |r| r.strengths());
                for (name, v) in [("l1", l1), ("l2", l2)] {
                    if !(v >= 0.0 && v.is_finite()) {
                        return Err(Error::InvalidHyperparameter { name, value: v, rule: "must be >= 0" });
                    }
                }
                let fan_in = total_dim(&inputs);
                let k_n = self.members;
                let mut w = vec![F::zero(); fan_in * d.units * k_n];
                let mut draw = vec![F::zero(); fan_in * d.units];
                for (k, rng) in self.init_rngs.iter_mut().enumerate() {
                    inits.map_or(d.init, |v| v[k]).fill(&mut draw, fan_in, d.units, rng)?;
                    for (p, &v) in draw.iter().enumerate() {
                        w[p * k_n + k] = v;
                    }
                }
                for src in &inputs {
                    if let Source::Dense { dense, .. } = *src {
                        self.dense[dense].readers += 1;
                    }
                }
                let dense = self.dense.len();
                let regularized = l1 != 0.0 || l2 != 0.0;
                let (l1, l2) = (vec![F::of(l1); k_n], vec![F::of(l2); k_n]);
                let penalty_runs = [crate::simd::whole_vector_run(&l1), crate::simd::whole_vector_run(&l2)];
                self.dense.push(DenseParams {
                    fan_in,
                    units: d.units,
                    activation: d.activation,
                    inputs,
                    w,
                    b: vec![F::zero(); d.units * k_n],
                    regularized,
                    l1,
                    l2,
                    layer: index,
                    penalty_runs,
                    readers: 0,
                });
                LayerNode { spec, output_dim: d.units, outputs: vec![Source::Dense { dense, dim: d.units }] }
            }
        };
        self.layers.push(node);
        Ok(self)
    }

    /// Sets member `k`'s L1/L2 strengths on every Dense layer.
    pub fn set_regularization(&mut self, k: usize, l1: f64, l2: f64) {
        for p in &mut self.dense {
            p.set_penalty(k, F::of(l1), F::of(l2));
        }
    }

    /// Checks that the network ends in a Dense layer that produces scores.
    pub fn check_complete(&self) -> Result<()> {
        match self.layers.last() {
            Some(LayerNode { spec: Layer::Dense(_), .. }) => Ok(()),
            last => {
                Err(Error::NoOutputLayer { layers: self.layers.len(), last: last.map_or("none", |l| l.spec.kind()) })
            }
        }
    }

    /// Member `k`'s parameters as one flat vector: per Dense layer, the
    /// weights in row-major (input, unit) order, then the biases.
    pub fn params(&self, k: usize) -> Result<Vec<F>> {
        self.check_member(k)?;
        Ok(self.member_params(k))
    }

    fn check_member(&self, k: usize) -> Result<()> {
        if k >= self.members {
            return Err(Error::MemberIndex { index: k, members: self.members });
        }
        Ok(())
    }

    /// [`Self::params`] for a member index known to be in range.
    pub(crate) fn member_params(&self, k: usize) -> Vec<F> {
        let k_n = self.members;
        let mut out = Vec::new();
        for p in &self.dense {
            out.extend(p.w.iter().skip(k).step_by(k_n));
            out.extend(p.b.iter().skip(k).step_by(k_n));
        }
        out
    }

    /// Number of trainable parameters of one member.
    pub fn param_count(&self) -> usize {
        self.dense.iter().map(|p| (p.fan_in + 1) * p.units).sum()
    }

    /// Overwrites member `k`'s parameters from a vector laid out as [`Self::params`].
    pub fn set_params(&mut self, k: usize, values: &[F]) -> Result<()> {
        self.check_member(k)?;
        if values.len() != self.param_count() {
            return Err(Error::MemberCount {
                what: "parameter vector",
                expected: self.param_count(),
                got: values.len(),
            });
        }
        let k_n = self.members;
        let mut it = values.iter();
        for p in &mut self.dense {
            for slot in p.w.iter_mut().skip(k).step_by(k_n).chain(p.b.iter_mut().skip(k).step_by(k_n)) {
                *slot = *it.next().expect("length checked");
            }
        }
        Ok(())
    }

    /// Member `k`'s weights of Dense layer `dense` in the course's shape
    /// (fan_in + 1, units): the last row is the bias.
    pub fn weights(&self, k: usize, dense: usize) -> Result<Array2<F>> {
        self.check_member(k)?;
        let p = self.dense.get(dense).ok_or(Error::DenseIndex { index: dense, len: self.dense.len() })?;
        let k_n = self.members;
        Ok(Array2::from_shape_fn((p.fan_in + 1, p.units), |(i, j)| {
            if i < p.fan_in {
                p.w[(i * p.units + j) * k_n + k]
            } else {
                p.b[j * k_n + k]
            }
        }))
    }

    /// Output of layer `j` for every member, for inputs `x` (rows = samples):
    /// the course's `forward_upto`. Result `[member]` of shape (rows, dim).
    pub fn forward_upto(&self, j: usize, x: ArrayView2<F>) -> Result<Vec<Array2<F>>> {
        let _flush = Flush::new();
        if j >= self.layers.len() {
            return Err(Error::LayerIndex { index: j, len: self.layers.len() });
        }
        crate::data::check_features("x", x, self.input_dim.unwrap_or(0))?;
        let rows = x.nrows();
        let mut ws = Workspace::new(self, rows.max(1), 1);
        ws.load_shared_x(x, self.members);
        let last_dense = self.dense.iter().rposition(|p| p.layer <= j);
        self.forward(&mut ws, rows, last_dense.map_or(0, |d| d + 1));
        let node = &self.layers[j];
        let k_n = self.members;
        Ok((0..k_n)
            .map(|k| {
                let mut out = Array2::zeros((rows, node.output_dim));
                for n in 0..rows {
                    let mut col = 0;
                    for src in &node.outputs {
                        let d = src.dim();
                        let buf = ws.source(src);
                        for i in 0..d {
                            out[[n, col + i]] = buf.at(n, d, i, k_n, k);
                        }
                        col += d;
                    }
                }
                out
            })
            .collect())
    }
}
