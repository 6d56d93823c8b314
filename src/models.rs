//! The course's `models.py`: a [`Network`] you `add` layers to, inspect
//! (`layer`, `weights`, `forward_upto`, `predict`), differentiate
//! (`backward`) and train (`fit`, returning a [`History`]).
//!
//! A `Network` is an [`Ensemble`] of one member: the same kernels, the same
//! layout, the same bits. It owns a seeded ChaCha stream; its weights and its
//! mini-batch order depend on that seed only, so a network built and trained
//! from seed s is identical on every run and every thread count.

pub use crate::ensemble::Fit;
use crate::ensemble::{Ensemble, LayerNode, Workspace};
use crate::error::Result;
use crate::layers::Layer;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::scalar::Real;
use ndarray::{Array2, ArrayView2};
use serde::Serialize;
use std::ops::ControlFlow;

/// Per-epoch figures of one training run: what [`Network::fit`] keeps of
/// each epoch's [`crate::ensemble::EpochReport`] (which lends every
/// member's figures as `&[F]` for one epoch), every epoch, as `f64` like the
/// course's history. The sweep keeps the same figures of each run as
/// [`crate::sweep::record::Curves`]: `f32` (the engine's precision, exact)
/// at the recorded epochs only, to bound the files.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct History {
    /// Training loss after each epoch's update, penalty included.
    pub loss: Vec<f64>,
    /// Training metric after each epoch.
    pub metric: Vec<f64>,
    /// Test loss after each epoch (empty without test data).
    pub test_loss: Vec<f64>,
    /// Test metric after each epoch (empty without test data).
    pub test_metric: Vec<f64>,
}

/// A feed-forward network: the course's `Network`.
#[derive(Clone, Debug)]
pub struct Network<F = f32> {
    inner: Ensemble<F>,
}

impl<F: Real> Network<F> {
    /// An empty network whose weights and shuffles come from `seed`.
    pub fn new(seed: u64) -> Self {
        Network { inner: Ensemble::new(&[seed]) }
    }

    /// Adds a layer after checking that it fits the previous one.
    pub fn add(&mut self, layer: impl Into<Layer>) -> Result<&mut Self> {
        self.inner.add(layer)?;
        Ok(self)
    }

    /// Layer `j` (0 = first added).
    #[doc(alias = "get_layer")]
    pub fn layer(&self, j: usize) -> Option<&LayerNode> {
        self.inner.layers().get(j)
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.inner.layers().len()
    }

    /// True before the first layer is added.
    pub fn is_empty(&self) -> bool {
        self.inner.layers().is_empty()
    }

    /// Weights of the `dense`-th Dense layer in the course's shape
    /// (inputs + 1, units), bias in the last row.
    #[doc(alias = "get_weights")]
    pub fn weights(&self, dense: usize) -> Result<Array2<F>> {
        self.inner.weights(0, dense)
    }

    /// All parameters as one vector (per Dense layer: weights row-major, then biases).
    pub fn params(&self) -> Vec<F> {
        self.inner.member_params(0)
    }

    /// Overwrites all parameters (layout of [`Self::params`]).
    pub fn set_params(&mut self, values: &[F]) -> Result<()> {
        self.inner.set_params(0, values)
    }

    /// Output of layer `j` for inputs `x`.
    pub fn forward_upto(&self, j: usize, x: ArrayView2<F>) -> Result<Array2<F>> {
        Ok(self.inner.forward_upto(j, x)?.swap_remove(0))
    }

    /// Scores of the last layer for inputs `x`.
    pub fn predict(&self, x: ArrayView2<F>) -> Result<Array2<F>> {
        self.inner.check_complete()?;
        self.forward_upto(self.len() - 1, x)
    }

    /// Loss + penalty at the current weights, and its gradient with respect
    /// to every parameter (layout of [`Self::params`]): the course's
    /// `backward` without the update, which `fit` applies.
    pub fn backward(&self, x: ArrayView2<F>, y: ArrayView2<F>, loss: Loss) -> Result<(F, Vec<F>)> {
        self.inner.check_complete()?;
        let classes = matches!(loss, Loss::Cce).then_some(self.inner.output_dim());
        crate::data::check_features("x", x, self.inner.input_dim().unwrap_or(0))?;
        crate::data::check_targets("y", y, loss.target_columns(self.inner.output_dim()), classes)?;
        if x.nrows() != y.nrows() {
            return Err(crate::Error::RowMismatch { what: "backward", x_rows: x.nrows(), y_rows: y.nrows() });
        }
        let _flush = crate::ensemble::Flush::new();
        let mut ws = Workspace::new(&self.inner, x.nrows(), y.ncols());
        ws.load_shared_x(x, 1);
        ws.load_shared_y(y, 1);
        let n = x.nrows();
        let metric = if loss == Loss::Cce { Metric::Acc } else { Metric::Mse };
        self.inner.evaluate(&mut ws, n, loss, metric, crate::ensemble::Penalty::Compute);
        self.inner.backward(&mut ws, n, loss, None);
        Ok((ws.loss[0], crate::ensemble::workspace_grads(&self.inner, &ws, 0)))
    }

    /// Trains on (x, y) and returns the per-epoch history.
    pub fn fit(&mut self, x: ArrayView2<F>, y: ArrayView2<F>, opts: &Fit<F>) -> Result<History> {
        let mut h = History::default();
        let name = opts.metric.name();
        self.inner.fit(x, y, opts, |r| {
            let f = |v: &[F]| v[0].to_f64().unwrap_or(f64::NAN);
            h.loss.push(f(r.train_loss));
            h.metric.push(f(r.train_metric));
            if let (Some(l), Some(m)) = (r.test_loss, r.test_metric) {
                h.test_loss.push(f(l));
                h.test_metric.push(f(m));
            }
            if opts.print_every > 0 && (r.epoch % opts.print_every == 0 || r.epoch == opts.epochs) {
                let mut line = format!(
                    "epoch {:>5}/{}  loss {:.6}  {name} {:.4}",
                    r.epoch,
                    opts.epochs,
                    f(r.train_loss),
                    f(r.train_metric)
                );
                if let (Some(l), Some(m)) = (r.test_loss, r.test_metric) {
                    line += &format!("  test loss {:.6}  test {name} {:.4}", f(l), f(m));
                }
                crate::say!("{line}");
            }
            ControlFlow::Continue(())
        })?;
        Ok(h)
    }

    /// The underlying ensemble of one.
    pub fn as_ensemble(&self) -> &Ensemble<F> {
        &self.inner
    }
}
