//! # netsweep
//!
//! The course's small Keras-like network library (activations, losses,
//! metrics, layers, regularizers, optimizers, models) as a fast,
//! gradient-checked Rust engine, and a sweep harness that trains tens of
//! thousands of seeded networks in parallel to measure how often and how
//! fast they converge.
//!
//! The XOR problem of the course, architecture 2-2-1:
//!
//! ```
//! use netsweep::{data, Activation, Dense, Fit, Network, Optimizer, Regularizer};
//!
//! let xor = data::xor::<f32>();
//! let mut model = Network::new(7);
//! model.add(Dense::new(2, Activation::Tanh).input_dim(2).regularizer(Regularizer::L2(0.001)))?;
//! model.add(Dense::new(1, Activation::Tanh))?;
//! let history = model.fit(xor.x.view(), xor.y.view(), &Fit::new(500, Optimizer::sgd(0.1)))?;
//! assert!(history.loss.last() < history.loss.first());
//! # Ok::<(), netsweep::Error>(())
//! ```
//!
//! Every network is an [`Ensemble`] of one: the sweep trains many networks of
//! one architecture in lockstep with the same kernels.

pub mod activations;
#[cfg(feature = "cli")]
pub mod cli;
pub mod console;
pub mod cpu;
pub mod data;
pub mod ensemble;
pub mod error;
pub mod init;
pub mod layers;
pub mod losses;
pub mod metrics;
pub mod models;
pub mod optimizers;
#[cfg(feature = "plot")]
pub mod plot;
pub mod regularizers;
pub mod scalar;
#[cfg(feature = "sweep")]
pub mod sweep;

pub use activations::Activation;
/// The array crate of the library's signatures, re-exported so that callers
/// use the same version: `netsweep::ndarray::array![[0.0, 1.0]]`.
pub use ndarray;
pub use ensemble::Ensemble;
pub use error::{Error, Result};
pub use init::Init;
pub use layers::{ConcatInput, Dense, Input, Layer};
pub use losses::Loss;
pub use metrics::Metric;
pub use models::{Fit, History, Network};
pub use optimizers::Optimizer;
pub use regularizers::Regularizer;
pub use scalar::Real;
