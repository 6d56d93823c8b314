//! Splitting a sweep into N shards that run as separate processes (a Slurm
//! job array, a Kubernetes Indexed Job, or N shells) and are merged later.
//!
//! The unit of work is the plan's [`Chunk`]: a contiguous range of runs that
//! trains as one lockstep ensemble, so a shard never splits an ensemble and
//! every run trains exactly as it would in a single process. Chunks are dealt
//! out by longest-processing-time first: largest chunk first (ties in chunk
//! order), each to the shard with the fewest runs so far (ties to the lowest
//! shard index). Every run has the same number of epochs, so runs are work;
//! the shards' run counts differ by at most the largest chunk. The split
//! depends only on the plan and N, so the merge recomputes and checks it.
//!
//! Shard I of N writes to `<out>/shards/I-of-N/`: a manifest (with a `shard`
//! entry) and its runs.jsonl, in chunk order. It writes no summary: its grid
//! points are incomplete. `sweep merge <out>` aggregates all N.

use super::error::SweepError;
use super::plan::Chunk;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Folder inside a sweep's results folder that holds the shards.
pub const SHARDS: &str = "shards";

/// Environment variable giving N for `--shard auto` (needed for Kubernetes
/// Indexed Jobs; overrides the Slurm array's size when set).
pub const SHARD_COUNT_ENV: &str = "SWEEP_SHARD_COUNT";

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, from 0.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

/// The value of `--shard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    /// `I/N`.
    Fixed(Shard),
    /// `auto`: from the environment (see [`from_env`]).
    Auto,
}

/// Most shards a sweep can be split into.
pub const MAX_SHARDS: usize = 100_000;

impl Shard {
    /// A checked shard.
    pub fn new(index: usize, count: usize) -> Result<Self, SweepError> {
        if count == 0 {
            return Err(SweepError::Config("shard count 0: use at least 1 shard".into()));
        }
        if count > MAX_SHARDS {
            return Err(SweepError::Config(format!("shard count {count}: use at most {MAX_SHARDS} shards")));
        }
        if index >= count {
            return Err(SweepError::Config(format!(
                "shard {index}/{count} does not exist: shard indices run from 0 to {}",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// The folder name, `I-of-N`.
    pub fn folder_name(&self) -> String {
        format!("{}-of-{}", self.index, self.count)
    }

    /// Parses a folder name `I-of-N`.
    pub fn from_folder_name(name: &str) -> Option<Shard> {
        let (i, n) = name.split_once("-of-")?;
        let (i, n) = (i.parse().ok()?, n.parse().ok()?);
        Shard::new(i, n).ok()
    }

    /// The shard's folder inside a sweep's results folder: `<out>/shards/I-of-N`.
    pub fn dir(&self, out: &Path) -> PathBuf {
        out.join(SHARDS).join(self.folder_name())
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for ShardArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "auto" {
            return Ok(ShardArg::Auto);
        }
        let bad = || format!("`{s}` is not a shard: write I/N (e.g. 0/4, I from 0 to N-1) or auto");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        Shard::new(i, n).map(ShardArg::Fixed).map_err(|e| e.to_string())
    }
}

fn parse_var(name: &str, value: &str) -> Result<usize, SweepError> {
    value.trim().parse().map_err(|_| SweepError::Config(format!("{name}={value:?} is not a non-negative whole number")))
}

/// Resolves `--shard auto` from environment variables (`env` looks one up;
/// pass `|k| std::env::var(k).ok()`), `count` being `--shard-count`.
///
/// - Slurm job array: I = `SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`
///   (0 when absent), N = `SLURM_ARRAY_TASK_COUNT`, or
///   `SLURM_ARRAY_TASK_MAX` − `SLURM_ARRAY_TASK_MIN` + 1 without it. The array
///   must be contiguous (no `:step`, no list).
/// - Kubernetes Indexed Job: I = `JOB_COMPLETION_INDEX`, N from `count` or
///   `SWEEP_SHARD_COUNT` (the Job's `completions`).
/// - With `count` or `SWEEP_SHARD_COUNT` set, N is that number and, under
///   Slurm, I is the task id itself: this is how a subset of an array is
///   resubmitted (`SWEEP_SHARD_COUNT=8 sbatch --array=3,5 …`).
///
/// Errors (exit code 2) name what is missing.
pub fn from_env(env: impl Fn(&str) -> Option<String>, count: Option<usize>) -> Result<Shard, SweepError> {
    let cfg = |m: String| SweepError::Config(m);
    let explicit = match (count, env(SHARD_COUNT_ENV)) {
        (Some(n), _) => Some(n),
        (None, Some(v)) if !v.trim().is_empty() => Some(parse_var(SHARD_COUNT_ENV, &v)?),
        _ => None,
    };
    if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
        let id = parse_var("SLURM_ARRAY_TASK_ID", &id)?;
        if let Some(n) = explicit {
            return Shard::new(id, n).map_err(|_| {
                cfg(format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID={id} but the shard count is {n} (from --shard-count or {SHARD_COUNT_ENV}); with an explicit count the array task ids are the shard indices, 0 to {}",
                    n.saturating_sub(1)
                ))
            });
        }
        let get = |k: &str| env(k).map(|v| parse_var(k, &v)).transpose();
        let min = get("SLURM_ARRAY_TASK_MIN")?;
        let max = get("SLURM_ARRAY_TASK_MAX")?;
        let n_env = get("SLURM_ARRAY_TASK_COUNT")?;
        if let Some(step) = get("SLURM_ARRAY_TASK_STEP")? {
            if step != 1 {
                return Err(cfg(format!(
                    "--shard auto: the Slurm array has step {step}; submit a contiguous array (--array=0-{{N-1}}) or set {SHARD_COUNT_ENV}=N"
                )));
            }
        }
        let span = match (min, max) {
            (Some(lo), Some(hi)) if hi >= lo => Some(hi - lo + 1),
            (Some(lo), Some(hi)) => {
                return Err(cfg(format!(
                    "--shard auto: SLURM_ARRAY_TASK_MIN={lo} is above SLURM_ARRAY_TASK_MAX={hi}, which no Slurm array sets; set {SHARD_COUNT_ENV}=N (or --shard-count N) and use the task ids 0 to N-1"
                )))
            }
            _ => None,
        };
        let n = match (n_env, span) {
            (Some(c), Some(s)) if c != s => {
                return Err(cfg(format!(
                    "--shard auto: the Slurm array is not contiguous ({c} tasks with ids {}..={}); set {SHARD_COUNT_ENV}=N (or --shard-count N) and use the task ids 0 to N-1 as shard indices",
                    min.unwrap_or(0),
                    max.unwrap_or(0)
                )))
            }
            (Some(c), _) => c,
            (None, Some(s)) => s,
            (None, None) => {
                return Err(cfg(format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MIN/MAX: cannot tell the number of shards; set {SHARD_COUNT_ENV}=N or pass --shard-count N"
                )))
            }
        };
        let min = min.unwrap_or(0);
        if id < min {
            return Err(cfg(format!("--shard auto: SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")));
        }
        return Shard::new(id - min, n).map_err(|e| cfg(format!("--shard auto (Slurm array): {e}")));
    }
    if let Some(idx) = env("JOB_COMPLETION_INDEX") {
        let idx = parse_var("JOB_COMPLETION_INDEX", &idx)?;
        let n = explicit.ok_or_else(|| {
            cfg(format!(
                "--shard auto: JOB_COMPLETION_INDEX={idx} (Kubernetes Indexed Job) gives the shard index but not the number of shards; pass --shard-count N or set {SHARD_COUNT_ENV}=N (the Job's completions)"
            ))
        })?;
        return Shard::new(idx, n).map_err(|e| cfg(format!("--shard auto (JOB_COMPLETION_INDEX): {e}")));
    }
    Err(cfg(format!(
        "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set{}; pass --shard I/N instead",
        if explicit.is_some() { " (a shard count alone does not say which shard this is)" } else { "" }
    )))
}

/// Deals the chunks out to `n` shards: for each shard, the indices (into
/// `chunks`) of its chunks, ascending. Largest chunk first, each to the
/// shard with the fewest runs so far; ties go to the earlier chunk and the
/// lower shard. Every chunk lands in exactly one shard; run counts differ by
/// at most the largest chunk's size.
pub fn assign(chunks: &[Chunk], n: usize) -> Vec<Vec<usize>> {
    let n = n.max(1);
    let mut order: Vec<usize> = (0..chunks.len()).collect();
    order.sort_by_key(|&c| std::cmp::Reverse(chunks[c].end - chunks[c].start));
    let mut load = vec![0usize; n];
    let mut out = vec![Vec::new(); n];
    for c in order {
        let s = (0..n).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[s] += chunks[c].end - chunks[c].start;
        out[s].push(c);
    }
    for list in &mut out {
        list.sort_unstable();
    }
    out
}

/// The chunks of one shard, in run order.
pub fn chunks_of(chunks: &[Chunk], shard: Shard) -> Vec<Chunk> {
    assign(chunks, shard.count).swap_remove(shard.index).into_iter().map(|c| chunks[c].clone()).collect()
}

/// What a shard's manifest records about its share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// This shard, from 0.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
    /// Chunks (ensembles) this shard trains.
    pub chunks: usize,
    /// Runs this shard trains.
    pub runs: usize,
    /// Runs of the whole sweep.
    pub total_runs: usize,
    /// How the chunks were dealt out.
    pub split: String,
}

/// Name of the split rule, recorded in manifests.
pub const SPLIT_RULE: &str = "chunks dealt largest first to the shard with the fewest runs (netsweep shard split v1)";

impl ShardInfo {
    /// The record of `shard`'s share of `all` chunks.
    pub fn new(shard: Shard, all: &[Chunk], mine: &[Chunk]) -> Self {
        ShardInfo {
            index: shard.index,
            count: shard.count,
            chunks: mine.len(),
            runs: mine.iter().map(|c| c.end - c.start).sum(),
            total_runs: all.last().map_or(0, |c| c.end),
            split: SPLIT_RULE.into(),
        }
    }

    /// The shard it describes.
    pub fn shard(&self) -> Shard {
        Shard { index: self.index, count: self.count }
    }
}
