//! `manifest.json`: what was run (the experiment, its grid and resolved
//! families), by which build, how fast, and its status. Written by the
//! runner and by `sweep merge`; read by resume, merge and the plots.

use super::config::ExperimentFile;
use super::family::Family;
use super::grid::Grid;
use super::plan::Plan;
use super::shard::ShardInfo;
use serde::{Deserialize, Serialize};

/// `manifest.json`: what was run, by which build, how fast.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Where the sweep stands.
    pub status: Status,
    /// Experiment name.
    pub name: String,
    /// SHA-256 of the resolved experiment (JSON form of `experiment`).
    pub experiment_hash: String,
    /// The experiment after `--set` overrides.
    pub experiment: ExperimentFile,
    /// The overrides, as given on the command line.
    pub overrides: Vec<String>,
    /// The experiment file's path.
    pub experiment_file: String,
    /// The grid's axes, outermost first.
    pub axes: Grid,
    /// The families as resolved (points, architecture, layers, batch size,
    /// ensemble width): what the plots rebuild networks from.
    pub families: Vec<Family>,
    /// Per data set (one per bits value): the training points of a problem
    /// with 2 inputs, for the decision-boundary figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planes: Vec<Option<Plane>>,
    /// Grid points.
    pub points: usize,
    /// Runs (points × seeds).
    pub runs: usize,
    /// Seeds per point.
    pub seeds: usize,
    /// Epochs per run.
    pub epochs: usize,
    /// Root seed.
    pub base_seed: u64,
    /// How each run's seed is derived.
    pub seed_derivation: String,
    /// netsweep version.
    pub netsweep_version: String,
    /// Git commit of the netsweep build, when known.
    pub git_commit: Option<String>,
    /// The kernels' instruction-set level (`baseline`, `avx2`, `avx512`:
    /// detected, or forced by `NETSWEEP_CPU`); results do not depend on it.
    /// In a merged folder, the shards' levels joined by `+` when they differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Worker threads.
    pub threads: usize,
    /// Where the thread count came from: "--threads", "RAYON_NUM_THREADS" or
    /// "cores" (one per core); absent in a merged folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_from: Option<String>,
    /// Start time (RFC 3339, UTC).
    pub started_at: String,
    /// End time.
    pub finished_at: Option<String>,
    /// Wall-clock seconds from start to the last file written.
    pub wall_seconds: Option<f64>,
    /// Runs × epochs.
    pub network_epochs: u64,
    /// Throughput: network-epochs per second of wall time (of the runs
    /// trained by this attempt, when it resumed an earlier one).
    pub network_epochs_per_second: Option<f64>,
    /// The share of a shard's folder (`<out>/shards/I-of-N/`); there `runs`
    /// and `network_epochs` count the shard's runs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// Runs already done (kept from an earlier, interrupted attempt) when
    /// this attempt started; absent for a run that started afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_runs: Option<usize>,
    /// Training samples a network sees per epoch (one data set only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_samples: Option<usize>,
    /// Seeds a point had before this run grew the folder to `seeds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grown_from_seeds: Option<usize>,
    /// Written by `sweep merge`: the shards merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeInfo>,
}

impl Manifest {
    /// The manifest of a plan about to run.
    pub fn start(plan: &Plan, experiment_file: &str, threads: usize) -> Self {
        let commit = env!("NETSWEEP_GIT_COMMIT");
        Manifest {
            status: Status::Running,
            name: plan.name.clone(),
            experiment_hash: plan.hash.clone(),
            experiment: plan.file.clone(),
            overrides: plan.overrides.clone(),
            experiment_file: experiment_file.into(),
            axes: plan.grid.clone(),
            families: plan.families.clone(),
            planes: plan.datasets.iter().map(|d| Plane::of(d)).collect(),
            points: plan.grid.points(),
            runs: plan.runs(),
            seeds: plan.seeds,
            epochs: plan.epochs,
            base_seed: plan.base_seed,
            seed_derivation: "ChaCha8Rng::seed_from_u64(seed) with seed = mix(mix(mix(base_seed) ^ fnv1a(architecture)) ^ seed_index), mix = SplitMix64's finalizer; stream 0 draws the weights, stream 1 shuffles mini-batches. The seed depends on (base_seed, architecture, seed index) only: seed index s starts from the same weights at every point with the same network shape and init.".into(),
            netsweep_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: (!commit.is_empty()).then(|| commit.to_string()),
            cpu: Some(crate::cpu::level().name().into()),
            threads,
            threads_from: None,
            started_at: now(),
            finished_at: None,
            wall_seconds: None,
            network_epochs: (plan.runs() * plan.epochs) as u64,
            network_epochs_per_second: None,
            shard: None,
            resumed_runs: None,
            grown_from_seeds: None,
            train_samples: (plan.datasets.len() == 1).then(|| plan.datasets[0].train.x.nrows()),
            merged: None,
        }
    }
}

/// Where a sweep (or a shard) stands, as `manifest.json` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Training (or killed while training: resumable).
    Running,
    /// Stopped by a signal after saving the chunks in progress (resumable).
    Interrupted,
    /// Every run trained and every file written.
    Complete,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Running => "running",
            Status::Interrupted => "interrupted",
            Status::Complete => "complete",
        })
    }
}

/// The training points of a problem with 2 inputs (at most [`Plane::MAX_ROWS`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plane {
    /// (x1, x2, target or class index) per training sample.
    pub points: Vec<[f32; 3]>,
    /// Number of classes (0: a continuous target).
    pub classes: usize,
}

impl Plane {
    /// Most rows kept.
    pub const MAX_ROWS: usize = 10_000;

    /// The plane of a data set with 2 inputs and not too many rows.
    pub fn of(d: &super::problem::ProblemData) -> Option<Plane> {
        let (x, y) = (&d.train.x, &d.train.y);
        if x.ncols() != 2 || x.nrows() > Self::MAX_ROWS {
            return None;
        }
        let points = x.rows().into_iter().zip(y.rows()).map(|(x, y)| [x[0], x[1], y[0]]).collect();
        Some(Plane { points, classes: if d.classification { d.classes() } else { 0 } })
    }
}

/// The current time as RFC 3339 (UTC, seconds).
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// What a merged manifest records about its shards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergeInfo {
    /// Number of shards.
    pub shards: usize,
    /// Per shard, in index order: runs, threads, wall seconds and throughput.
    pub shard_runs: Vec<MergedShard>,
    /// Seconds the merge itself took.
    pub merge_seconds: f64,
}

/// One merged shard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergedShard {
    /// Shard index.
    pub index: usize,
    /// Its runs.
    pub runs: usize,
    /// Its worker threads.
    pub threads: usize,
    /// Its wall time (last attempt).
    pub wall_seconds: Option<f64>,
    /// Its throughput (last attempt).
    pub network_epochs_per_second: Option<f64>,
}

/// An experiment hash as written: 64 lower-case hex digits (SHA-256).
pub fn check_hash(path: &std::path::Path, hash: &str) -> Result<(), super::error::SweepError> {
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Ok(());
    }
    Err(super::error::SweepError::Results {
        path: path.to_path_buf(),
        msg: "field `experiment_hash` is not a SHA-256 digest (64 hex digits): edited, or not written by netsweep"
            .into(),
    })
}

/// The first 12 characters of a hash, for messages (the whole text if shorter).
pub fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}
