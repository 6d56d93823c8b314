//! The sweep as a library call: an experiment read from a file or a string,
//! overrides applied as on the command line, checked, and run, handing back
//! the statistics in memory.
//!
//! ```
//! use netsweep::sweep::{Experiment, RunOptions};
//!
//! let toml = r#"
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
//! "#;
//! let sweep = Experiment::from_toml_str(toml)?.set("grid.l2", "[0.0, 0.01]")?;
//! let plan = sweep.validate()?; // nothing trained yet
//! assert_eq!(plan.grid.points(), 4);
//! // No folder given: trained in a temporary folder, removed afterwards.
//! let done = sweep.run(&RunOptions::default().threads(2))?;
//! assert_eq!(done.summary.points.len(), 4);
//! let best = &done.ranking.best()[0];
//! println!("best: {} at {:.2}", plan.grid.varying_label(best.point, ""), best.rate);
//! assert!(best.rate > 0.5);
//! assert!(done.dir.is_none());
//! # Ok::<(), netsweep::sweep::SweepError>(())
//! ```

use super::aggregate::Summary;
use super::config::ExperimentFile;
use super::error::SweepError;
use super::grid::Grid;
use super::manifest::Manifest;
use super::overrides;
use super::plan::{resolve, Plan};
use super::report::Ranking;
use super::runner::{self, RunOptions};
use std::path::{Path, PathBuf};

/// An experiment file's text with overrides, not yet resolved.
#[derive(Clone, Debug)]
pub struct Experiment {
    text: String,
    origin: String,
    stem: String,
    overrides: Vec<String>,
}

/// A finished sweep: its statistics, read back into memory.
pub struct Finished {
    /// Every grid point's statistics (what summary.json holds).
    pub summary: Summary,
    /// The best and worst points, as the terminal table ranks them.
    pub ranking: Ranking,
    /// The manifest of the run.
    pub manifest: Manifest,
    /// The results folder, or `None` when the sweep ran in a temporary
    /// folder that is gone.
    pub dir: Option<PathBuf>,
}

impl Experiment {
    /// Reads an experiment file (checked when parsed).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SweepError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SweepError::Config(format!("cannot read experiment file {}: {e}", path.display())))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("experiment");
        Self::parsed(text, path.display().to_string(), stem.into())
    }

    /// An experiment written as TOML text (checked when parsed).
    pub fn from_toml_str(text: &str) -> Result<Self, SweepError> {
        Self::parsed(text.into(), "experiment text".into(), "experiment".into())
    }

    fn parsed(text: String, origin: String, stem: String) -> Result<Self, SweepError> {
        let e = Experiment { text, origin, stem, overrides: Vec::new() };
        e.file()?;
        Ok(e)
    }

    /// Sets a dotted key to a TOML value, as `--set key=value` does:
    /// `.set("grid.lr", "[0.1, 0.3]")`, `.set("seeds", "50")`. An unknown
    /// key or a bad value is an error here, with the closest valid key.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self, SweepError> {
        self.overrides.push(format!("{key}={value}"));
        Grid::from_file(&self.file()?)?;
        Ok(self)
    }

    /// The experiment with its overrides applied.
    pub fn file(&self) -> Result<ExperimentFile, SweepError> {
        overrides::parse(&self.text, &self.origin, &self.overrides)
    }

    /// Resolves and checks everything a run would (axes, data, sizes),
    /// training nothing: the plan a run would follow.
    pub fn validate(&self) -> Result<Plan, SweepError> {
        resolve(self.file()?, &self.stem, self.overrides.clone())
    }

    /// Trains the sweep as [`RunOptions`] say and reads its statistics back.
    /// With no folder set ([`RunOptions::default`]), it trains in a fresh
    /// temporary folder and removes that folder once read.
    pub fn run(&self, opts: &RunOptions) -> Result<Finished, SweepError> {
        let plan = self.validate()?;
        let mut opts = opts.clone();
        if opts.experiment_file.is_empty() {
            opts.experiment_file = self.origin.clone();
        }
        let temporary = opts.out.as_os_str().is_empty();
        let _guard = if temporary {
            opts.out = fresh_temporary_dir()?;
            Some(RemoveOnDrop(opts.out.clone()))
        } else {
            None
        };
        let r = runner::run(&plan, &opts)?;
        let summary = r.read_summary()?;
        Ok(Finished { summary, ranking: r.ranking, manifest: r.manifest, dir: (!temporary).then_some(r.dir) })
    }
}

/// Removes the folder it holds when dropped, also on an error or a panic.
/// Only for a folder this module created empty and only a run wrote.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new, empty folder under the system's temporary folder.
fn fresh_temporary_dir() -> Result<PathBuf, SweepError> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    for attempt in 0..100u32 {
        let dir = base.join(format!("netsweep-{}-{nanos:x}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(SweepError::io(dir, e)),
        }
    }
    Err(SweepError::Output { path: base, msg: "cannot create a temporary results folder".into() })
}
