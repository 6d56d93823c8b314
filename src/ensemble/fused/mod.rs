//! Fused epochs for tiny networks: the fast path of full-batch SGD on the
//! course's small architectures (D inputs, one hidden Dense layer of H
//! units, one output unit, with or without a ConcatInput before the output).
//!
//! The general kernels make about eight passes per epoch, each over all K
//! members' arrays. Here the loops are swapped: a group of [`W`] members
//! runs a block of [`BLOCK`] epochs in one loop body (`kernel::steps`),
//! with its parameters, activations, deltas and gradients in local arrays
//! of compile-time size (registers, or L1). The kernel also keeps the
//! fit's [`Watch`]: each member's first epoch meeting the target and first
//! epoch with a non-finite loss, as running minima; only the epochs the
//! watch reports are written to the report buffers, which are then handed
//! to the callback in epoch order, each with all K members, exactly as the
//! general path hands them.
//!
//! Same bits as the general path: every member's arithmetic is the general
//! kernels' (see the `kernel` module), and a member's lanes never mix with another's,
//! so an ensemble still equals K single networks (a single network runs
//! through the same kernel, in a group padded with idle lanes). When the
//! callback stops training at epoch e inside a block, the block is replayed
//! from its start to epoch e, so the weights are those after epoch e, as in
//! the general path.
//!
//! Hand-written (no crate does this): the shapes are compiled in
//! ([`SHAPES`]) so that the loops over inputs and units unroll and the
//! group's state can live in registers; other shapes, losses, optimizers,
//! mini-batches and test sets take the general kernels.

mod kernel;

use super::watch::{Watch, Watched};
use super::{Ensemble, EpochReport, Fit};
use crate::activations::Activation;
use crate::error::Result;
use crate::layers::Source;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::Optimizer;
use crate::scalar::Real;
use kernel::{Hyper, LaneAct, Lanes, Net, Out, Tanh};
use ndarray::ArrayView2;
use std::ops::ControlFlow;

/// Members per group: the lanes of the report and watch buffers, and of the
/// group's parameter arrays. The kernel runs them as sub-groups of a few
/// vectors.
pub const W: usize = 64;

/// Vectors per sub-group (32 members of f32 on AVX-512, 16 on AVX2). The
/// kernel is latency-bound (the tanh of the hidden layer, then the
/// output's) until its state outgrows the registers. On the 20,000-epoch
/// XOR grid (Zen 4; M network-epochs/s, AVX-512 / AVX2): 1 vector 182–218 /
/// 136, 2 vectors 234–241 / 172, 4 vectors 142–157 (with rows in blocks of
/// 2; the parameters and gradients spill to the stack).
const VECTORS: usize = 2;

/// Epochs a group runs before the next group (the report buffers hold a
/// block's epochs for all K members).
pub const BLOCK: usize = 32;
const _: () = assert!(BLOCK <= 64, "a block's reported epochs are the bits of a u64");

/// A network shape the fused epochs handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Network inputs D.
    pub inputs: usize,
    /// Hidden units H.
    pub hidden: usize,
    /// Whether the output layer reads [input, hidden] (a ConcatInput).
    pub concat: bool,
}

/// The compiled shapes, and the match that calls each one's kernel.
macro_rules! compiled {
    ($(($d:literal, $h:literal, $c:literal)),* $(,)?) => {
        /// The shapes compiled in: XOR's 2-H-1 and ConcatInput networks of up
        /// to 4 and 8 hidden units, and the parity networks of 3 to 5 bits
        /// with H = bits or 2·bits.
        pub const SHAPES: &[Shape] = &[$(Shape { inputs: $d, hidden: $h, concat: $c }),*];

        fn run_shape<F: Real, A: LaneAct<F>, B: LaneAct<F>>(shape: Shape, job: Job<'_, '_, F, A, B>) -> Watched {
            match (shape.inputs, shape.hidden, shape.concat) {
                $(($d, $h, $c) => job.run::<$d, $h, $c, { $d * $h + $h + (if $c { $d } else { 0 }) + $h + 1 }>(),)*
                _ => unreachable!("fused::applies admits compiled shapes only"),
            }
        }
    };
}

compiled![
    (2, 1, false),
    (2, 2, false),
    (2, 3, false),
    (2, 4, false),
    (2, 8, false),
    (2, 1, true),
    (2, 2, true),
    (2, 3, true),
    (2, 4, true),
    (2, 8, true),
    (3, 3, false),
    (3, 6, false),
    (4, 4, false),
    (4, 8, false),
    (5, 5, false),
    (5, 10, false),
];

impl<F: Real> Ensemble<F> {
    /// The fused shape of this network, if it has one: a hidden Dense layer
    /// on the input, read only by a one-unit output layer that reads it
    /// (and the input, after a ConcatInput).
    pub fn fused_shape(&self) -> Option<Shape> {
        let [hidden, output] = self.dense.as_slice() else { return None };
        let [Source::Input { dim: inputs }] = hidden.inputs.as_slice() else { return None };
        let concat = match output.inputs.as_slice() {
            [Source::Dense { dense: 0, .. }] => false,
            [Source::Input { .. }, Source::Dense { dense: 0, .. }] => true,
            _ => return None,
        };
        let shape = Shape { inputs: *inputs, hidden: hidden.units, concat };
        (output.units == 1 && hidden.readers() == 1 && SHAPES.contains(&shape)).then_some(shape)
    }

    /// The fused shape when a fit with `cfg` on `rows` samples takes the
    /// fused path: full batch, no test set, MSE with acc_xor or mse, SGD
    /// (with or without momentum), a compiled shape, and the path not
    /// switched off ([`Self::set_fused`]).
    pub fn fused_for(&self, rows: usize, cfg: &Fit<F>) -> Option<Shape> {
        applies(self, rows, cfg)
    }

    /// Lets fits take the fused path (the default) or keeps them on the
    /// general kernels: the results are the same bits either way, so this
    /// is for measuring one path against the other.
    pub fn set_fused(&mut self, on: bool) {
        self.fused = on;
    }
}

/// [`Ensemble::fused_for`].
pub(super) fn applies<F: Real>(ens: &Ensemble<F>, rows: usize, cfg: &Fit<F>) -> Option<Shape> {
    let ok = ens.fused
        && cfg.batch_size >= rows
        && cfg.test.is_none()
        && cfg.loss == Loss::Mse
        && matches!(cfg.metric, Metric::AccXor | Metric::Mse)
        && matches!(cfg.optimizer, Optimizer::Sgd { .. });
    ok.then(|| ens.fused_shape()).flatten()
}

/// Trains `ens` on (x, y) through the fused kernel of `shape` (checked by
/// [`applies`]); member k with `optimizers[k]`, all SGD.
#[allow(clippy::too_many_arguments)]
pub(super) fn fit<F: Real>(
    ens: &mut Ensemble<F>,
    shape: Shape,
    x: ArrayView2<F>,
    y: ArrayView2<F>,
    cfg: &Fit<F>,
    optimizers: &[Optimizer],
    watch: &Watch,
    on_epoch: &mut dyn FnMut(&EpochReport<F>) -> ControlFlow<()>,
) -> Result<Watched> {
    if cfg.epochs == 0 {
        return Ok(Watched::new(ens.members));
    }
    let xs: Vec<F> = x.iter().copied().collect();
    let ys: Vec<F> = y.iter().copied().collect();
    let sgd = |o: &Optimizer| match *o {
        Optimizer::Sgd { lr, momentum, nesterov } => (lr, momentum, nesterov),
        _ => unreachable!("fused::applies admits SGD only"),
    };
    let (hidden, output) = (ens.dense[0].activation, ens.dense[1].activation);
    let momentum = optimizers.iter().any(|o| sgd(o).1 != 0.0);
    let net = Net {
        x: &xs,
        y: &ys,
        rows: x.nrows(),
        act: (hidden, output),
        regularized: [ens.dense[0].regularized(), ens.dense[1].regularized()],
        momentum,
        nesterov: sgd(&cfg.optimizer).2,
        acc_xor: cfg.metric == Metric::AccXor,
        epochs: cfg.epochs,
    };
    let hyper = hyper(ens, optimizers.iter().map(|o| (F::of(sgd(o).0), F::of(sgd(o).1))));
    Ok(if (hidden, output) == (Activation::Tanh, Activation::Tanh) {
        let net = net.with((Tanh, Tanh));
        run_shape(shape, Job { ens, net, hyper, watch, on_epoch })
    } else {
        run_shape(shape, Job { ens, net, hyper, watch, on_epoch })
    })
}

/// Each group's learning rates, momenta and L1/L2 strengths.
fn hyper<F: Real>(ens: &Ensemble<F>, sgd: impl Iterator<Item = (F, F)>) -> Vec<Hyper<F>> {
    let zero = [F::zero(); W];
    let mut out: Vec<Hyper<F>> = (0..ens.members.div_ceil(W))
        .map(|g| Hyper { lr: zero, mu: zero, l1: [zero; 2], l2: [zero; 2], live: W.min(ens.members - g * W) })
        .collect();
    for (k, (lr, mu)) in sgd.enumerate() {
        let (h, l) = (&mut out[k / W], k % W);
        (h.lr[l], h.mu[l]) = (lr, mu);
        for layer in 0..2 {
            h.l1[layer][l] = ens.dense[layer].l1[k];
            h.l2[layer][l] = ens.dense[layer].l2[k];
        }
    }
    out
}

/// One fit on the fused path.
struct Job<'e, 'c, F, A, B> {
    ens: &'e mut Ensemble<F>,
    net: Net<'e, F, A, B>,
    hyper: Vec<Hyper<F>>,
    watch: &'c Watch<'c>,
    on_epoch: &'c mut dyn FnMut(&EpochReport<F>) -> ControlFlow<()>,
}

impl<F: Real, A: LaneAct<F>, B: LaneAct<F>> Job<'_, '_, F, A, B> {
    /// Blocks of epochs, each run group by group and then reported.
    fn run<const D: usize, const H: usize, const C: bool, const P: usize>(self) -> Watched {
        let Job { ens, net, hyper, watch, on_epoch } = self;
        let k_n = ens.members;
        let mut params: Vec<[Lanes<F>; P]> = gather(ens);
        let mut vel = vec![[[F::zero(); W]; P]; params.len()];
        let (mut loss, mut metric) = (vec![F::zero(); BLOCK * k_n], vec![F::zero(); BLOCK * k_n]);
        let mut found = Watched::new(k_n);
        let mut diverged_then = vec![0u32; k_n];
        let mut next = 0;
        let steps = net.epochs + 1;
        let mut t = 1;
        while t <= steps {
            let end = (t + BLOCK).min(steps + 1);
            let start = (params.clone(), vel.clone());
            let first = t.max(2) - 1;
            let mask =
                (first..end - 1).filter(|&e| watch.reports(e, &mut next)).fold(0u64, |m, e| m | 1 << (e - first));
            for (g, (p, v)) in params.iter_mut().zip(&mut vel).enumerate() {
                let (at, lanes) = (g * W, W.min(k_n - g * W));
                let mut out = Out {
                    loss: &mut loss,
                    metric: &mut metric,
                    first,
                    stride: k_n,
                    at,
                    lanes,
                    mask,
                    target: watch.target,
                    met: lanes_of(&found.first_met[at..at + lanes]),
                    diverged: lanes_of(&found.diverged_at[at..at + lanes]),
                };
                let hy = &hyper[g];
                run_steps::<F, A, B, D, H, C, P>(&net, hy, p, v, t..end, Some(&mut out));
                found.first_met[at..at + lanes].copy_from_slice(&out.met[..lanes]);
                found.diverged_at[at..at + lanes].copy_from_slice(&out.diverged[..lanes]);
            }
            let all_diverged = found.all_diverged_at().filter(|_| watch.stop_when_all_diverged);
            // Until a member diverges, the reports' diverged-at epochs stay zero.
            let none_diverged = found.diverged_at.iter().all(|&d| d == 0);
            // The reports in epoch order, up to the epoch that stops training.
            let stop = (first..end - 1).find(|&epoch| {
                if mask >> (epoch - first) & 1 == 1 {
                    if !none_diverged {
                        for (then, &d) in diverged_then.iter_mut().zip(&found.diverged_at) {
                            *then = if d as usize <= epoch { d } else { 0 };
                        }
                    }
                    let at = (epoch - first) * k_n;
                    let report = EpochReport {
                        epoch,
                        train_loss: &loss[at..at + k_n],
                        train_metric: &metric[at..at + k_n],
                        test_loss: None,
                        test_metric: None,
                        diverged_at: &diverged_then,
                    };
                    if on_epoch(&report).is_break() {
                        return true;
                    }
                }
                all_diverged == Some(epoch)
            });
            if let Some(epoch) = stop {
                // Back to the block's start, then forward to `epoch`'s update.
                (params, vel) = start;
                for (g, (p, v)) in params.iter_mut().zip(&mut vel).enumerate() {
                    let hy = &hyper[g];
                    run_steps::<F, A, B, D, H, C, P>(&net, hy, p, v, t..epoch + 1, None);
                }
                scatter(ens, &params);
                found.truncate_after(epoch);
                return found;
            }
            t = end;
        }
        scatter(ens, &params);
        found
    }
}

/// [`kernel::steps`] at the CPU's level, in its vectors: sub-groups of
/// [`VECTORS`] vectors.
#[allow(clippy::too_many_arguments)]
fn run_steps<F: Real, A: LaneAct<F>, B: LaneAct<F>, const D: usize, const H: usize, const C: bool, const P: usize>(
    net: &Net<'_, F, A, B>,
    hy: &Hyper<F>,
    p: &mut [Lanes<F>; P],
    v: &mut [Lanes<F>; P],
    steps: std::ops::Range<usize>,
    out: Option<&mut Out<'_, F>>,
) {
    use crate::simd::One;
    crate::cpu::per_level!(
        avx512: kernel::steps::<F, <F as crate::simd::Lanes>::Wide, VECTORS, A, B, D, H, C, P>(net, hy, p, v, steps, out),
        avx2: kernel::steps::<F, <F as crate::simd::Lanes>::Narrow, VECTORS, A, B, D, H, C, P>(net, hy, p, v, steps, out),
        baseline: kernel::steps::<F, One<F>, VECTORS, A, B, D, H, C, P>(net, hy, p, v, steps, out),
    )
}

/// A group's lanes from up to [`W`] members' values (the rest 0).
fn lanes_of(values: &[u32]) -> [u32; W] {
    let mut out = [0; W];
    out[..values.len()].copy_from_slice(values);
    out
}

/// Every member's parameters (in [`Ensemble::params`] order), by group and lane.
fn gather<F: Real, const P: usize>(ens: &Ensemble<F>) -> Vec<[Lanes<F>; P]> {
    let k_n = ens.members;
    let mut out = vec![[[F::zero(); W]; P]; k_n.div_ceil(W)];
    for k in 0..k_n {
        for (r, v) in ens.member_params(k).into_iter().enumerate() {
            out[k / W][r][k % W] = v;
        }
    }
    out
}

/// Writes the groups' parameters back into the ensemble.
fn scatter<F: Real, const P: usize>(ens: &mut Ensemble<F>, params: &[[Lanes<F>; P]]) {
    let k_n = ens.members;
    for k in 0..k_n {
        let values: Vec<F> = params[k / W].iter().map(|lanes| lanes[k % W]).collect();
        ens.set_params(k, &values).expect("one member's parameters, in range");
    }
}
