//! The sweep pipeline, one pure stage per module: experiment file
//! ([`config`], [`overrides`]) → named axes ([`grid`]) → validated plan with
//! its data, families and criterion ([`plan`], [`family`], [`problem`],
//! [`measure`]) → workers training chunks as ensembles ([`worker`],
//! [`tracker`]) → records ([`record`], written to `runs.jsonl`) → per-point
//! statistics ([`aggregate`], [`stats`]) → files ([`output`], [`manifest`])
//! and pictures ([`crate::plot`]). [`runner`] wires the stages together with
//! rayon; every stage reads the resolved plan and imports only downward.

pub mod adaptive;
pub mod aggregate;
pub mod compare;
pub mod config;
pub mod error;
pub mod estimate;
pub mod experiment;
pub mod family;
pub mod grid;
pub mod grow;
pub mod lock;
pub mod manifest;
pub mod measure;
pub mod merge;
pub mod names;
pub mod ordered;
pub mod output;
pub mod overrides;
pub mod paired;
pub mod plan;
pub mod point_runs;
pub mod problem;
pub mod progress;
pub mod record;
pub mod report;
pub mod resume;
pub mod runner;
#[cfg(feature = "parquet")]
pub mod runs_parquet;
pub mod shard;
pub mod stats;
pub mod summary_file;
pub mod tracker;
pub mod worker;

pub use error::SweepError;
pub use experiment::{Experiment, Finished};
pub use plan::{resolve, Plan};
pub use runner::{run, RunOptions};

use std::path::Path;

/// Reads an experiment file, applies overrides and resolves it into a plan.
pub fn load_plan(path: &Path, overrides: &[String]) -> Result<Plan, SweepError> {
    let file = overrides::load(path, overrides)?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("experiment");
    resolve(file, stem, overrides.to_vec())
}
