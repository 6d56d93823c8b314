//! Per-fit scratch buffers and the passes that use them: forward, backward,
//! evaluation. Buffers are sized once for a number of rows (the batch size,
//! or the evaluation set) and reused every step, so training allocates
//! nothing in steady state.

use super::kernels::{self, Block, TILE_ROWS};
use super::output_pass::OutputPass;
use super::{Ensemble, MAX_SOURCES};
use crate::layers::Source;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::regularizers;
use crate::scalar::Real;
use crate::simd::TABLE;
use ndarray::ArrayView2;

/// Samples an evaluation workspace runs through the layers at a time, at
/// most: fewer for wide ensembles, so that a layer's outputs (K × units ×
/// samples) stay within 2¹⁶ values, in the core's caches.
pub const EVAL_CHUNK: usize = 64;

/// Values of one layer's outputs an evaluation chunk aims at (256 KiB of f32).
const EVAL_VALUES: usize = 1 << 16;

/// Where [`Ensemble::score`] takes the L1/L2 penalty from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Penalty {
    /// Loss without the penalty (test sets).
    Skip,
    /// A pass over the weights.
    Compute,
    /// The sums [`Ensemble::backward`] left for the same weights (no pass).
    FromBackward,
}

/// Scratch buffers for one ensemble at a fixed maximum number of rows.
#[derive(Clone, Debug)]
pub struct Workspace<F> {
    members: usize,
    /// Target columns of `y`.
    target_cols: usize,
    /// Samples the layer buffers hold: all of `x`'s rows, or, for an
    /// evaluation workspace, a chunk of them ([`Ensemble::evaluate`]).
    chunk: usize,
    /// Inputs `[(n·input_dim + i)·K + k]`, or `[n·input_dim + i]` when
    /// `x_shared`.
    x: Vec<F>,
    /// Every member has the same inputs, stored once (K > 1 only).
    x_shared: bool,
    /// Targets `[(n·target_cols + t)·K + k]`.
    y: Vec<F>,
    outs: Vec<Vec<F>>,
    deltas: Vec<Vec<F>>,
    gw: Vec<Vec<F>>,
    gb: Vec<Vec<F>>,
    /// Per Dense layer, Σ|w| then Σw² per member (2·K): left by
    /// [`Ensemble::backward`] for [`Penalty::FromBackward`], or filled by
    /// [`Penalty::Compute`].
    sums: Vec<Vec<F>>,
    /// A single network's transposed weight block (the input gradient's).
    scratch: Vec<F>,
    /// The members that share a mini-batch: see [`Sharing`].
    sharing: Sharing<F>,
    /// Loss (+ penalty) per member after `Ensemble::evaluate`.
    pub loss: Vec<F>,
    /// Metric per member after `Ensemble::evaluate`.
    pub metric: Vec<F>,
}

impl<F: Real> Workspace<F> {
    /// Buffers for up to `rows` samples with `target_cols` target columns.
    pub fn new(ens: &Ensemble<F>, rows: usize, target_cols: usize) -> Self {
        Self::sized(ens, rows, rows, target_cols, true)
    }

    /// Buffers to evaluate (forward pass, loss, metric) up to `rows`
    /// samples: the layers' outputs for [`EVAL_CHUNK`] samples at a time,
    /// no gradient buffers. An evaluation set of any size then takes memory
    /// in proportion to its inputs alone, and the layers' outputs stay in
    /// the core's caches.
    pub fn for_evaluation(ens: &Ensemble<F>, rows: usize, target_cols: usize) -> Self {
        let widest = ens.dense.iter().map(|p| p.units).max().unwrap_or(1).max(1);
        let fit = (EVAL_VALUES / (widest * ens.members)).clamp(TILE_ROWS, EVAL_CHUNK) / TILE_ROWS * TILE_ROWS;
        Self::sized(ens, rows, rows.min(fit), target_cols, false)
    }

    fn sized(ens: &Ensemble<F>, rows: usize, chunk: usize, target_cols: usize, train: bool) -> Self {
        let k = ens.members;
        let per_layer = |f: &dyn Fn(&super::DenseParams<F>) -> usize| -> Vec<Vec<F>> {
            ens.dense.iter().map(|p| vec![F::zero(); f(p) * k]).collect()
        };
        let grads = |f: &dyn Fn(&super::DenseParams<F>) -> usize| per_layer(&|p| if train { f(p) } else { 0 });
        Workspace {
            members: k,
            target_cols,
            chunk,
            x: vec![F::zero(); rows * ens.input_dim.unwrap_or(0) * k],
            x_shared: false,
            y: vec![F::zero(); rows * target_cols * k],
            outs: per_layer(&|p| chunk * p.units),
            deltas: grads(&|p| chunk * p.units),
            gw: grads(&|p| p.fan_in * p.units),
            gb: grads(&|p| p.units),
            sums: per_layer(&|_| 2),
            scratch: Vec::new(),
            sharing: Sharing::default(),
            loss: vec![F::zero(); k],
            metric: vec![F::zero(); k],
        }
    }

    /// Gives every member the same inputs (rows of `x` in order), stored once.
    pub fn load_shared_x(&mut self, x: ArrayView2<F>, members: usize) {
        debug_assert_eq!(members, self.members, "workspace built for another ensemble size");
        broadcast(&mut self.x, x, 1);
        self.x_shared = self.members > 1;
    }

    /// Copies the same targets to every member.
    pub fn load_shared_y(&mut self, y: ArrayView2<F>, members: usize) {
        broadcast(&mut self.y, y, members);
    }

    /// Gathers rows `order[k][start..start + rows]` of x and y for each member k.
    pub fn gather(&mut self, x: ArrayView2<F>, y: ArrayView2<F>, order: &[Vec<usize>], start: usize, rows: usize) {
        let k_n = self.members;
        let (dx, dy) = (x.ncols(), y.ncols());
        self.x_shared = false;
        if let (1, Some(xs), Some(ys)) = (k_n, x.as_slice(), y.as_slice()) {
            // A single network: copy whole rows.
            for (n, &src) in order[0][start..start + rows].iter().enumerate() {
                self.x[n * dx..(n + 1) * dx].copy_from_slice(&xs[src * dx..(src + 1) * dx]);
                self.y[n * dy..(n + 1) * dy].copy_from_slice(&ys[src * dy..(src + 1) * dy]);
            }
            return;
        }
        let (Some(xs), Some(ys)) = (x.as_slice(), y.as_slice()) else {
            for (k, perm) in order.iter().enumerate() {
                for (n, &src) in perm[start..start + rows].iter().enumerate() {
                    for i in 0..dx {
                        self.x[(n * dx + i) * k_n + k] = x[[src, i]];
                    }
                    for t in 0..dy {
                        self.y[(n * dy + t) * k_n + k] = y[[src, t]];
                    }
                }
            }
            return;
        };
        if self.sharing.find(order, start, rows) {
            let Sharing { distinct, map, table } = &mut self.sharing;
            table.resize(table.len().max(dx.max(dy) * TABLE), F::zero());
            for n in 0..rows {
                for (dst, width, from) in [(&mut self.x, dx, xs), (&mut self.y, dy, ys)] {
                    for (s, &k) in distinct.iter().enumerate() {
                        let row = &from[order[k][start + n] * width..][..width];
                        for (c, &v) in row.iter().enumerate() {
                            table[c * TABLE + s] = v;
                        }
                    }
                    kernels::expand(table, map, width, &mut dst[n * width * k_n..][..width * k_n]);
                }
            }
            return;
        }
        // Row by row: each member's source row, then every column written
        // across the members (contiguous stores).
        for n in 0..rows {
            let srcs = order.iter().map(|perm| perm[start + n]);
            for (dst, width, from) in [(&mut self.x, dx, xs), (&mut self.y, dy, ys)] {
                let block = &mut dst[n * width * k_n..][..width * k_n];
                for (k, src) in srcs.clone().enumerate() {
                    let row = &from[src * width..][..width];
                    for (c, &v) in row.iter().enumerate() {
                        block[c * k_n + k] = v;
                    }
                }
            }
        }
    }

    /// A source's values.
    pub(crate) fn source(&self, src: &Source) -> Block<'_, F> {
        input_block(src, x_block(&self.x, self.x_shared), &self.outs)
    }

    /// Output of the last Dense layer.
    pub fn scores(&self) -> &[F] {
        self.outs.last().map_or(&[], |v| v.as_slice())
    }
}

/// Members that train on the same mini-batches (the runs of one seed index
/// across a family's learning rates and penalties share their shuffle
/// stream): each distinct batch is read once and reaches its members through
/// a lookup ([`kernels::expand`]) instead of K scattered copies.
#[derive(Clone, Debug, Default)]
struct Sharing<F> {
    /// The first member of each distinct batch.
    distinct: Vec<usize>,
    /// Member k's batch: its index in `distinct`.
    map: Vec<u32>,
    /// One sample's columns, [`TABLE`] values each: lane s holds the value of
    /// distinct batch s.
    table: Vec<F>,
}

impl<F> Sharing<F> {
    /// Finds which members' rows `start..start + rows` are the same; false
    /// (use the plain copy) when none are, or when there are more distinct
    /// batches than a lookup table holds.
    fn find(&mut self, order: &[Vec<usize>], start: usize, rows: usize) -> bool {
        let (distinct, map) = (&mut self.distinct, &mut self.map);
        distinct.clear();
        map.clear();
        let batch = |k: usize| &order[k][start..start + rows];
        for k in 0..order.len() {
            let at = match distinct.iter().position(|&d| batch(d) == batch(k)) {
                Some(at) => at,
                None if distinct.len() == TABLE => return false,
                None => {
                    distinct.push(k);
                    distinct.len() - 1
                }
            };
            map.push(at as u32);
        }
        distinct.len() < order.len()
    }
}

fn broadcast<F: Real>(dst: &mut [F], src: ArrayView2<F>, members: usize) {
    match (members, src.as_slice()) {
        (1, Some(s)) => dst[..s.len()].copy_from_slice(s),
        _ => {
            for (v, slot) in src.iter().zip(dst.chunks_exact_mut(members)) {
                slot.fill(*v);
            }
        }
    }
}

/// The network input as the kernels read it.
fn x_block<F>(x: &[F], shared: bool) -> Block<'_, F> {
    if shared {
        Block::Shared(x)
    } else {
        Block::Lanes(x)
    }
}

fn input_block<'a, F>(src: &Source, x: Block<'a, F>, outs: &'a [Vec<F>]) -> Block<'a, F> {
    match *src {
        Source::Input { .. } => x,
        Source::Dense { dense, .. } => Block::Lanes(&outs[dense]),
    }
}

/// The values of a Dense layer's sources: the network input `x`, and in
/// `outs` the outputs of (at least) the Dense layers before it.
fn inputs_of<'a, F: Real>(
    sources: &[Source],
    x: Block<'a, F>,
    outs: &'a [Vec<F>],
    buf: &mut [Block<'a, F>; MAX_SOURCES],
) -> usize {
    for (slot, src) in buf.iter_mut().zip(sources) {
        *slot = input_block(src, x, outs);
    }
    sources.len()
}

impl<F: Real> Ensemble<F> {
    /// Forward pass of the first `upto` Dense layers over `rows` samples.
    pub(crate) fn forward(&self, ws: &mut Workspace<F>, rows: usize, upto: usize) {
        self.forward_from(ws, 0, rows, upto);
    }

    /// [`Self::forward`] on samples `start..start + rows` of the inputs,
    /// into the layer buffers' first `rows` samples.
    fn forward_from(&self, ws: &mut Workspace<F>, start: usize, rows: usize, upto: usize) {
        let width = if ws.x_shared { 1 } else { self.members };
        let x = &ws.x[start * self.input_dim.unwrap_or(0) * width..];
        for (pi, p) in self.dense.iter().enumerate().take(upto) {
            let (done, rest) = ws.outs.split_at_mut(pi);
            let mut bufs = [Block::Lanes(&[][..]); MAX_SOURCES];
            let n = inputs_of(&p.inputs, x_block(x, ws.x_shared), done, &mut bufs);
            kernels::forward(p, &bufs[..n], rows, self.members, &mut rest[0]);
        }
    }

    /// Loss (plus the penalty, as `penalty` says) and metric per member from
    /// the scores in `ws` (run [`Self::forward`] first).
    pub(crate) fn score(&self, ws: &mut Workspace<F>, rows: usize, loss: Loss, metric: Metric, penalty: Penalty) {
        let outputs = self.output_dim();
        let scores = ws.outs.last().expect("network has a Dense layer");
        loss.value_into(scores, &ws.y, rows, outputs, &mut ws.loss);
        metric.value_into(scores, &ws.y, rows, outputs, &mut ws.metric);
        self.add_penalty(ws, penalty);
    }

    /// Adds the L1/L2 penalty to the loss per member in `ws`, as `penalty` says.
    pub(crate) fn add_penalty(&self, ws: &mut Workspace<F>, penalty: Penalty) {
        let k_n = self.members;
        for (p, sums) in self.dense.iter().zip(&mut ws.sums).filter(|(p, _)| p.regularized()) {
            match penalty {
                Penalty::Skip => {}
                Penalty::Compute => regularizers::penalty_into(&p.w, &p.l1, &p.l2, &mut ws.loss, sums),
                Penalty::FromBackward => {
                    let (s1, s2) = sums.split_at(k_n);
                    regularizers::add_penalty(&p.l1, &p.l2, s1, s2, &mut ws.loss);
                }
            }
        }
    }

    /// Forward pass plus [`Self::score`] with the penalty as `penalty` says,
    /// over `rows` samples in chunks of the workspace's layer buffers (the
    /// sums run over the samples in order whatever the chunk, so the values
    /// are the same bits as in one piece).
    pub(crate) fn evaluate(&self, ws: &mut Workspace<F>, rows: usize, loss: Loss, metric: Metric, penalty: Penalty) {
        if rows <= ws.chunk {
            self.forward(ws, rows, self.dense.len());
            return self.score(ws, rows, loss, metric, penalty);
        }
        let (outputs, k_n, t) = (self.output_dim(), self.members, ws.target_cols);
        ws.loss.fill(F::zero());
        ws.metric.fill(F::zero());
        for start in (0..rows).step_by(ws.chunk) {
            let n = ws.chunk.min(rows - start);
            self.forward_from(ws, start, n, self.dense.len());
            let scores = ws.outs.last().expect("network has a Dense layer");
            let y = &ws.y[start * t * k_n..];
            loss.sum_into(scores, y, n, outputs, &mut ws.loss);
            metric.sum_into(scores, y, n, outputs, &mut ws.metric);
        }
        Loss::mean_of(&mut ws.loss, rows);
        metric.finish(&mut ws.metric, rows, outputs);
        self.add_penalty(ws, penalty);
    }

    /// Gradients of loss + penalty with respect to every weight and bias, from
    /// the forward pass already in `ws`. Results stay in `ws` (`gw`, `gb`).
    /// With `report`, the pass over the weights also leaves the sums the
    /// penalty of the current weights needs ([`Penalty::FromBackward`]), and
    /// the pass over the scores also leaves each member's loss (without the penalty) and that metric
    /// in `ws` when it can (MSE with mse or acc_xor), and says so: true means
    /// only [`Self::add_penalty`] is left of [`Self::score`].
    pub(crate) fn backward(&self, ws: &mut Workspace<F>, rows: usize, loss: Loss, report: Option<Metric>) -> bool {
        let k_n = self.members;
        let last = self.dense.len() - 1;
        let outputs = self.output_dim();
        let act = self.dense[last].activation;
        let scored = report.is_some_and(|metric| {
            let pass = OutputPass {
                scores: &ws.outs[last],
                targets: &ws.y,
                rows,
                outputs,
                act,
                delta: &mut ws.deltas[last],
                loss: &mut ws.loss,
                metric: &mut ws.metric,
            };
            pass.run(loss, metric)
        });
        if !scored {
            loss.delta_into(&ws.outs[last], &ws.y, rows, outputs, k_n, act, &mut ws.deltas[last]);
        }
        // A hidden layer read by one later layer gets its delta written whole
        // by that layer (`input_delta`); the others sum every reader's part.
        let single = |h: usize| self.dense[h].readers() == 1;
        for (h, d) in ws.deltas[..last].iter_mut().enumerate() {
            if !single(h) {
                d.fill(F::zero());
            }
        }
        for pi in (0..=last).rev() {
            let p = &self.dense[pi];
            let len = rows * p.units * k_n;
            let (earlier, rest) = ws.deltas.split_at_mut(pi);
            let delta = &mut rest[0];
            if pi < last && !single(pi) {
                p.activation.backprop_in_place(&ws.outs[pi][..len], &mut delta[..len]);
            }
            let mut bufs = [Block::Lanes(&[][..]); MAX_SOURCES];
            let n = inputs_of(&p.inputs, x_block(&ws.x, ws.x_shared), &ws.outs, &mut bufs);
            kernels::weight_grads(p, &bufs[..n], delta, rows, k_n, &mut ws.gw[pi], &mut ws.gb[pi]);
            if p.regularized() {
                // The weights' sums feed only the report of a full-batch
                // epoch ([`Penalty::FromBackward`]); other steps skip them.
                if report.is_some() {
                    let (s1, s2) = ws.sums[pi].split_at_mut(k_n);
                    regularizers::add_gradient_and_sums(&p.w, &p.l1, &p.l2, &mut ws.gw[pi], s1, s2);
                } else {
                    let (l1, l2) = p.penalty_runs();
                    regularizers::add_gradient(&p.w, l1, l2, &mut ws.gw[pi]);
                }
            }
            let mut row = 0;
            for src in &p.inputs {
                if let Source::Dense { dense, dim } = *src {
                    let dx = &mut earlier[dense];
                    if single(dense) {
                        let (a, y) = (self.dense[dense].activation, &ws.outs[dense]);
                        kernels::input_delta(p, row, dim, delta, rows, k_n, a, y, dx, &mut ws.scratch);
                    } else {
                        kernels::input_grad(p, row, dim, delta, rows, k_n, dx, &mut ws.scratch);
                    }
                }
                row += src.dim();
            }
        }
        scored
    }

    /// Weight gradients of Dense layer `dense` left by [`Self::backward`]:
    /// (weights, biases) in ensemble layout.
    pub(crate) fn grads<'w>(&self, ws: &'w Workspace<F>, dense: usize) -> (&'w [F], &'w [F]) {
        (&ws.gw[dense], &ws.gb[dense])
    }

    /// Applies the optimizer to every weight array, each member with its own
    /// learning rate and constants (held by `state`).
    pub(crate) fn apply_update(&mut self, ws: &Workspace<F>, state: &mut crate::optimizers::OptimizerState<F>) {
        state.begin_step();
        for (pi, p) in self.dense.iter_mut().enumerate() {
            state.update(2 * pi, &mut p.w, &ws.gw[pi]);
            state.update(2 * pi + 1, &mut p.b, &ws.gb[pi]);
        }
    }

    /// Target columns a loss/metric pair needs.
    pub(crate) fn target_cols(&self, loss: Loss) -> usize {
        loss.target_columns(self.output_dim())
    }
}

/// Member `k`'s gradient, flattened like [`Ensemble::params`].
pub(crate) fn workspace_grads<F: Real>(ens: &Ensemble<F>, ws: &Workspace<F>, k: usize) -> Vec<F> {
    let k_n = ens.members;
    let mut out = Vec::new();
    for pi in 0..ens.dense.len() {
        let (gw, gb) = ens.grads(ws, pi);
        out.extend(gw.iter().skip(k).step_by(k_n));
        out.extend(gb.iter().skip(k).step_by(k_n));
    }
    out
}
