//! # netsweep
//!
//! The course's small Keras-like network library (activations, losses,
//! metrics, layers, regularizers, optimizers, models) as a fast,
//! gradient-checked Rust engine, and a sweep harness that trains tens of
//! thousands of seeded networks in parallel to measure how often and how
//! fast they converge.
//!
//! ## A tour of the modules
//!
//! The course's seven modules, one each:
//! [`activations`] (apply and derivative side by side), [`losses`] (MSE,
//! softmax + cross-entropy), [`metrics`] (mse, acc, acc_xor), [`layers`]
//! (`Input`, `Dense` with its bias row, `ConcatInput`), [`regularizers`] (L1,
//! L2), [`optimizers`] (SGD with momentum, Adam, RMSProp, Adagrad, Adadelta)
//! and [`models`] (`Network`: `add`, `layer`, `forward_upto`, `predict`,
//! `backward`, `fit`). Underneath, [`ensemble`] trains K networks of one
//! architecture in lockstep (a `Network` is an ensemble of one, so the bits
//! are the same), [`init`] draws the weights, [`scalar`] holds the element
//! type and its fast `tanh`/`exp`, [`cpu`] picks the kernels' instruction set
//! at run time, and [`data`] holds XOR, parity and the data checks.
//!
//! With the default features come the rest: `datasets` (the shipped 8×8
//! digits, MNIST, CIFAR-10 and CSV loaders), `sweep` (experiment files, the
//! pipeline, the files it writes, [`sweep::Experiment`] for a sweep from
//! Rust), `plot` (figures and the report page), `parquet` (runs.parquet, a
//! columnar copy of runs.jsonl) and `cli` (the `sweep` binary, with all of
//! them). `netsweep = { version = "0.1", default-features = false }` is the
//! library and the engine alone. The [`ndarray`] crate of the signatures is
//! re-exported.
//!
//! ## The course's XOR network, 2-2-1
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
//! ## One hidden unit and ConcatInput
//!
//! The course's second XOR network: one tanh unit, then `ConcatInput` puts
//! the network input next to it, so the output unit sees (h, x₁, x₂).
//!
//! ```
//! use netsweep::ndarray::array;
//! use netsweep::{Activation, ConcatInput, Dense, Fit, Input, Network, Optimizer};
//!
//! let x = array![[-1.0f32, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]];
//! let y = array![[1.0f32], [-1.0], [-1.0], [1.0]];
//! let mut model = Network::new(3);
//! model.add(Dense::new(1, Activation::Tanh).input_dim(2))?;
//! model.add(ConcatInput::new(Input::new(2)))?;
//! model.add(Dense::new(1, Activation::Tanh))?;
//! let fit = Fit { batch_size: 4, ..Fit::new(2000, Optimizer::sgd_momentum(0.1, 0.9, false)) };
//! let history = model.fit(x.view(), y.view(), &fit)?;
//! let scores = model.predict(x.view())?;
//! assert_eq!(scores.dim(), (4, 1));
//! println!("acc_xor after {} epochs: {}", history.metric.len(), history.metric.last().unwrap());
//! # Ok::<(), netsweep::Error>(())
//! ```
//!
//! ## A sweep from Rust
//!
//! (Feature `sweep`, on by default.) The experiment file of `sweep run`,
//! with `--set` overrides as method calls; with no folder given the results
//! are read back into memory and the temporary folder removed.
//!
//! ```
//! # #[cfg(feature = "sweep")] {
//! use netsweep::sweep::{Experiment, RunOptions};
//!
//! let sweep = Experiment::from_toml_str(r#"
//!     name = "xor_lr"
//!     seeds = 20
//!     [problem]
//!     kind = "xor"
//!     [architectures."2-2-1"]
//!     layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
//!     [training]
//!     epochs = 300
//!     loss = "mse"
//!     metric = "acc_xor"
//!     activation = "tanh"
//!     [grid]
//!     lr = [0.1, 1.0]
//! "#)?
//! .set("grid.l2", "[0.0, 0.01]")?;
//! let done = sweep.run(&RunOptions::default())?;
//! for p in &done.summary.points {
//!     println!("point {}: {}/{} converged", p.point, p.converged, p.runs);
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
pub mod simd;
#[cfg(feature = "sweep")]
pub mod sweep;

pub use activations::Activation;
pub use ensemble::Ensemble;
pub use error::{Error, Result};
pub use init::Init;
pub use layers::{ConcatInput, Dense, Input, Layer};
pub use losses::Loss;
pub use metrics::Metric;
pub use models::{Fit, History, Network};
/// The array crate of the library's signatures, re-exported so that callers
/// use the same version: `netsweep::ndarray::array![[0.0, 1.0]]`.
pub use ndarray;
pub use optimizers::Optimizer;
pub use regularizers::Regularizer;
pub use scalar::Real;
