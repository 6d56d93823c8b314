//! The training loop of an ensemble: epochs of (shuffled) mini-batches, the
//! optimizer step, and one report per epoch of every member's loss and
//! metric after that epoch's update.
//!
//! With a full batch the forward pass that starts epoch e + 1 already gives
//! the loss and metric after epoch e's update, so reporting costs no second
//! forward pass. With mini-batches the training set is evaluated once per
//! epoch after the last batch.

use super::watch::{Watch, Watched, Watcher};
use super::workspace::Penalty;
use super::{Ensemble, Flush, Workspace};
use crate::data::{check_features, check_targets};
use crate::error::{Error, Result};
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::{Optimizer, OptimizerState};
use crate::scalar::Real;
use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use std::ops::ControlFlow;

/// How to train: the course's `fit` keyword arguments, one type for a
/// [`crate::Network`] and an [`Ensemble`].
#[derive(Clone, Debug)]
pub struct Fit<'a, F> {
    /// Number of epochs.
    pub epochs: usize,
    /// Mini-batch size; ≥ number of samples means full batch.
    pub batch_size: usize,
    /// Update rule with its learning rate and constants: every member's in
    /// [`Ensemble::fit`]; in [`Ensemble::fit_members`] the rule the members'
    /// own optimizers must share.
    pub optimizer: Optimizer,
    /// Training loss.
    pub loss: Loss,
    /// Metric reported each epoch.
    pub metric: Metric,
    /// Optional test set (x, y), evaluated after every epoch.
    pub test: Option<(ArrayView2<'a, F>, ArrayView2<'a, F>)>,
    /// [`crate::Network::fit`] prints a progress line every this many
    /// epochs (0: silent); ensembles report through their callback instead.
    pub print_every: usize,
}

impl<F> Fit<'_, F> {
    /// `epochs` epochs of full-batch training with `optimizer`, MSE and
    /// acc_xor, no test set, silent.
    pub fn new(epochs: usize, optimizer: Optimizer) -> Self {
        Fit {
            epochs,
            batch_size: usize::MAX,
            optimizer,
            loss: Loss::Mse,
            metric: Metric::AccXor,
            test: None,
            print_every: 0,
        }
    }
}

/// Every member's figures after one epoch's update.
#[derive(Debug)]
pub struct EpochReport<'a, F> {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Training loss including the regularization penalty, per member.
    pub train_loss: &'a [F],
    /// Training metric per member.
    pub train_metric: &'a [F],
    /// Test loss (without penalty) per member, when a test set is given.
    pub test_loss: Option<&'a [F]>,
    /// Test metric per member.
    pub test_metric: Option<&'a [F]>,
    /// Per member, the first epoch up to this one whose training loss was
    /// not finite (0: none yet).
    pub diverged_at: &'a [u32],
}

impl<F: Real> Ensemble<F> {
    /// Trains every member on (x, y) with `cfg.optimizer` (its learning
    /// rate and constants). `on_epoch` sees each epoch's report and may stop
    /// training early.
    pub fn fit(
        &mut self,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
        cfg: &Fit<F>,
        on_epoch: impl FnMut(&EpochReport<F>) -> ControlFlow<()>,
    ) -> Result<()> {
        let members = vec![cfg.optimizer; self.members];
        self.fit_members(x, y, cfg, &members, on_epoch)
    }

    /// Trains every member on (x, y); member k uses `optimizers[k]`: its own
    /// learning rate and constants (momentum, betas, ρ, ε). They must share
    /// `cfg.optimizer`'s update rule (SGD with and without momentum may mix,
    /// see [`OptimizerState::new`]); its numbers are checked but not used.
    /// `on_epoch` sees each epoch's report and may stop training early.
    pub fn fit_members(
        &mut self,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
        cfg: &Fit<F>,
        optimizers: &[Optimizer],
        mut on_epoch: impl FnMut(&EpochReport<F>) -> ControlFlow<()>,
    ) -> Result<()> {
        self.fit_watched(x, y, cfg, optimizers, &Watch::default(), &mut on_epoch).map(drop)
    }

    /// [`Self::fit_members`], watched: every member's first epoch meeting
    /// `watch.target` and first epoch with a non-finite training loss are
    /// kept (and returned), and `on_report` sees only the epochs in
    /// `watch.report_at`. Training stops when `on_report` says so, or (if
    /// asked) once every member has diverged. The fused path keeps the watch
    /// in its kernel; the general kernels pass their reports through a
    /// `Watcher`.
    pub fn fit_watched(
        &mut self,
        x: ArrayView2<F>,
        y: ArrayView2<F>,
        cfg: &Fit<F>,
        optimizers: &[Optimizer],
        watch: &Watch,
        mut on_report: impl FnMut(&EpochReport<F>) -> ControlFlow<()>,
    ) -> Result<Watched> {
        self.check_fit(x, y, cfg, optimizers)?;
        if watch.target.is_some_and(|t| t.on_test) && cfg.test.is_none() {
            return Err(Error::InvalidHyperparameter {
                name: "watch target",
                value: f64::NAN,
                rule: "reads the test metric: give a test set",
            });
        }
        let on_report = &mut on_report;
        let _flush = Flush::new();
        if let Some(shape) = super::fused::applies(self, x.nrows(), cfg) {
            return super::fused::fit(self, shape, x, y, cfg, optimizers, watch, on_report);
        }
        let mut watcher = Watcher::new(watch, self.members);
        let mut on_epoch = |r: &EpochReport<F>| watcher.see(r, on_report);
        let k_n = self.members;
        let n = x.nrows();
        let full = cfg.batch_size >= n;
        let bs = cfg.batch_size.min(n);
        let tcols = self.target_cols(cfg.loss);
        let layers = self.dense.len();
        let mut state = OptimizerState::new(optimizers, &self.weight_lengths())?;

        let mut ws = Workspace::new(self, bs, tcols);
        let mut eval = (!full).then(|| Workspace::for_evaluation(self, n, tcols));
        let mut test = cfg.test.map(|(tx, ty)| {
            let mut t = Workspace::for_evaluation(self, tx.nrows(), tcols);
            t.load_shared_x(tx, k_n);
            t.load_shared_y(ty, k_n);
            (t, tx.nrows())
        });
        if let Some(e) = eval.as_mut() {
            e.load_shared_x(x, k_n);
            e.load_shared_y(y, k_n);
        }
        if full {
            ws.load_shared_x(x, k_n);
            ws.load_shared_y(y, k_n);
        }
        let mut order: Vec<Vec<usize>> = if full { Vec::new() } else { vec![(0..n).collect(); k_n] };

        for epoch in 1..=cfg.epochs {
            if full {
                self.forward(&mut ws, n, layers);
                // The backward pass also sums the weights for the penalty that
                // the report of the previous epoch's update needs, and where it
                // can takes that report's loss and metric from the scores.
                let report = (epoch > 1).then_some(cfg.metric);
                let scored = self.backward(&mut ws, n, cfg.loss, report);
                if epoch > 1 {
                    if scored {
                        self.add_penalty(&mut ws, Penalty::FromBackward);
                    } else {
                        self.score(&mut ws, n, cfg.loss, cfg.metric, Penalty::FromBackward);
                    }
                    if self.report(epoch - 1, &ws, test.as_mut(), cfg, &mut on_epoch).is_break() {
                        return Ok(watcher.found());
                    }
                }
                self.apply_update(&ws, &mut state);
            } else {
                for (perm, rng) in order.iter_mut().zip(&mut self.shuffle_rngs) {
                    perm.shuffle(rng);
                }
                for start in (0..n).step_by(bs) {
                    let rows = bs.min(n - start);
                    ws.gather(x, y, &order, start, rows);
                    self.forward(&mut ws, rows, layers);
                    self.backward(&mut ws, rows, cfg.loss, None);
                    self.apply_update(&ws, &mut state);
                }
                let e = eval.as_mut().expect("mini-batch evaluation workspace");
                self.evaluate(e, n, cfg.loss, cfg.metric, Penalty::Compute);
                if self.report(epoch, e, test.as_mut(), cfg, &mut on_epoch).is_break() {
                    return Ok(watcher.found());
                }
            }
        }
        if full && cfg.epochs > 0 {
            self.evaluate(&mut ws, n, cfg.loss, cfg.metric, Penalty::Compute);
            let _ = self.report(cfg.epochs, &ws, test.as_mut(), cfg, &mut on_epoch);
        }
        Ok(watcher.found())
    }

    fn report(
        &self,
        epoch: usize,
        train: &Workspace<F>,
        test: Option<&mut (Workspace<F>, usize)>,
        cfg: &Fit<F>,
        on_epoch: &mut impl FnMut(&EpochReport<F>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let test = test.map(|(t, rows)| {
            self.evaluate(t, *rows, cfg.loss, cfg.metric, Penalty::Skip);
            &*t
        });
        on_epoch(&EpochReport {
            epoch,
            train_loss: &train.loss,
            train_metric: &train.metric,
            test_loss: test.map(|t| t.loss.as_slice()),
            test_metric: test.map(|t| t.metric.as_slice()),
            diverged_at: &[],
        })
    }

    /// Lengths of the weight arrays (weights, biases per Dense layer), in
    /// the order the optimizer state holds them.
    fn weight_lengths(&self) -> Vec<usize> {
        self.dense.iter().flat_map(|p| [p.w.len(), p.b.len()]).collect()
    }

    fn check_fit(&self, x: ArrayView2<F>, y: ArrayView2<F>, cfg: &Fit<F>, optimizers: &[Optimizer]) -> Result<()> {
        self.check_complete()?;
        if optimizers.len() != self.members {
            return Err(Error::MemberCount { what: "optimizers", expected: self.members, got: optimizers.len() });
        }
        cfg.optimizer.validate()?;
        for o in optimizers {
            o.validate()?;
            if cfg.optimizer.rule().joins(o.rule()).is_none() {
                return Err(Error::MixedOptimizers { first: cfg.optimizer.name(), other: o.name() });
            }
        }
        if cfg.batch_size == 0 {
            return Err(Error::InvalidHyperparameter { name: "batch size", value: 0.0, rule: "must be at least 1" });
        }
        let loss_cols = cfg.loss.target_columns(self.output_dim());
        let metric_cols = cfg.metric.target_columns(self.output_dim());
        if loss_cols != metric_cols {
            return Err(Error::ColumnMismatch {
                what: "the metric's targets (loss and metric disagree)",
                expected: loss_cols,
                got: metric_cols,
            });
        }
        let classes = matches!(cfg.loss, Loss::Cce).then_some(self.output_dim());
        let input = self.input_dim.unwrap_or(0);
        let pairs = std::iter::once(("training data", x, y)).chain(cfg.test.map(|(tx, ty)| ("test data", tx, ty)));
        for (what, x, y) in pairs {
            if x.nrows() != y.nrows() {
                return Err(Error::RowMismatch { what, x_rows: x.nrows(), y_rows: y.nrows() });
            }
            check_features(what, x, input)?;
            check_targets(what, y, loss_cols, classes)?;
        }
        Ok(())
    }
}

/// One optimizer step at a time on batches the caller supplies, with buffers
/// and optimizer state kept between calls: for custom training loops and for
/// measuring a training step. Every member sees the same batch.
pub struct Trainer<F> {
    ws: Workspace<F>,
    state: OptimizerState<F>,
    loss: Loss,
    rows: usize,
}

impl<F: Real> Trainer<F> {
    /// A trainer for batches of up to `rows` samples; member k uses
    /// `optimizers[k]` (learning rate and constants; one update rule).
    pub fn new(ens: &Ensemble<F>, rows: usize, optimizers: &[Optimizer], loss: Loss) -> Result<Self> {
        ens.check_complete()?;
        if optimizers.len() != ens.members() {
            return Err(Error::MemberCount { what: "optimizers", expected: ens.members(), got: optimizers.len() });
        }
        Ok(Trainer {
            ws: Workspace::new(ens, rows, ens.target_cols(loss)),
            state: OptimizerState::new(optimizers, &ens.weight_lengths())?,
            loss,
            rows,
        })
    }

    /// Forward, backward and update on one batch (x, y); returns nothing, allocates nothing.
    pub fn step(&mut self, ens: &mut Ensemble<F>, x: ArrayView2<F>, y: ArrayView2<F>) -> Result<()> {
        let rows = x.nrows();
        if rows == 0 || rows > self.rows || y.nrows() != rows {
            return Err(Error::RowMismatch { what: "training step batch", x_rows: rows, y_rows: y.nrows() });
        }
        check_features("batch", x, ens.input_dim.unwrap_or(0))?;
        let k_n = ens.members();
        if k_n != self.state.members() {
            return Err(Error::MemberCount {
                what: "the trainer's optimizers",
                expected: k_n,
                got: self.state.members(),
            });
        }
        let _flush = Flush::new();
        self.ws.load_shared_x(x, k_n);
        self.ws.load_shared_y(y, k_n);
        ens.forward(&mut self.ws, rows, ens.dense.len());
        ens.backward(&mut self.ws, rows, self.loss, None);
        ens.apply_update(&self.ws, &mut self.state);
        Ok(())
    }
}
