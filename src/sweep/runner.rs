//! Running a plan: workers train chunks in parallel (rayon, a shared work
//! counter so chunks are taken in order), the calling thread writes
//! `runs.jsonl` in run order as chunks complete, aggregates each grid point
//! as soon as its runs are in, and finally writes `summary.json`,
//! `summary.csv` and the completed manifest.
//!
//! Output does not depend on the number of threads: chunks are fixed by the
//! plan, each is trained by a pure function, and the writer restores chunk
//! order before writing or aggregating.

use super::aggregate::{Aggregator, Summary};
use super::error::SweepError;
use super::output::{self, Manifest};
use super::plan::Plan;
use super::progress::Progress;
use super::record::RunRecord;
use super::worker::train_chunk;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results folder.
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Replace a folder holding other results.
    pub force: bool,
    /// No progress output.
    pub quiet: bool,
    /// The experiment file, as given (recorded in the manifest).
    pub experiment_file: String,
}

/// What a finished sweep hands back.
pub struct RunResult {
    /// The summary written.
    pub summary: Summary,
    /// The manifest written.
    pub manifest: Manifest,
}

/// Trains every run of the plan and writes the results folder.
pub fn run(plan: &Plan, opts: &RunOptions) -> Result<RunResult, SweepError> {
    let threads =
        if opts.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { opts.threads };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Config(format!("cannot start {threads} threads: {e}")))?;
    let created = output::prepare_dir(&opts.out, plan, opts.force)?;
    let result = run_in(plan, opts, &pool, threads);
    if result.is_err() && created {
        // A failed first attempt leaves no half-written folder behind.
        let _ = std::fs::remove_dir_all(&opts.out);
    }
    result
}

fn run_in(plan: &Plan, opts: &RunOptions, pool: &rayon::ThreadPool, threads: usize) -> Result<RunResult, SweepError> {
    let dir = &opts.out;
    let start = Instant::now();
    let mut manifest = Manifest::start(plan, &opts.experiment_file, threads);
    output::write_json(&dir.join(output::MANIFEST), &manifest)?;

    let chunks = plan.chunks();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<Vec<RunRecord>, crate::Error>)>(4 * threads);
    let mut progress = Progress::new(plan.runs(), opts.quiet);

    let written = std::thread::scope(|s| {
        s.spawn(|| {
            pool.broadcast(|_| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= chunks.len() || stop.load(Ordering::Relaxed) {
                    break;
                }
                if tx.send((i, train_chunk(plan, &chunks[i]))).is_err() {
                    break;
                }
            });
            drop(tx);
        });
        let r = write_in_order(plan, dir, rx, &mut progress);
        if r.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        r
    });
    progress.finish();
    let summary = written?;

    output::write_json(&dir.join(output::SUMMARY), &summary)?;
    output::write_atomic(&dir.join(output::SUMMARY_CSV), &output::summary_csv(&summary))?;
    let wall = start.elapsed().as_secs_f64();
    manifest.status = "complete".into();
    manifest.finished_at = Some(output::now());
    manifest.wall_seconds = Some(wall);
    manifest.network_epochs_per_second = Some(manifest.network_epochs as f64 / wall.max(1e-9));
    output::write_json(&dir.join(output::MANIFEST), &manifest)?;
    Ok(RunResult { summary, manifest })
}

/// Receives chunks in any order, writes and aggregates them in chunk order.
fn write_in_order(
    plan: &Plan,
    dir: &Path,
    rx: mpsc::Receiver<(usize, Result<Vec<RunRecord>, crate::Error>)>,
    progress: &mut Progress,
) -> Result<Summary, SweepError> {
    let path = dir.join(output::RUNS);
    let file = std::fs::File::create(&path).map_err(|e| SweepError::io(&path, e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut agg = Aggregator::new(plan);
    let mut waiting: BTreeMap<usize, Vec<RunRecord>> = BTreeMap::new();
    let mut expected = 0;
    let mut line = Vec::with_capacity(1 << 14);
    for (i, records) in rx {
        waiting.insert(i, records?);
        while let Some(records) = waiting.remove(&expected) {
            progress.inc(records.len());
            for r in records {
                line.clear();
                serde_json::to_writer(&mut line, &r).map_err(|e| SweepError::io(&path, e.into()))?;
                line.push(b'\n');
                out.write_all(&line).map_err(|e| SweepError::io(&path, e))?;
                agg.push(r);
            }
            out.flush().map_err(|e| SweepError::io(&path, e))?;
            expected += 1;
        }
    }
    out.into_inner()
        .map_err(|e| SweepError::io(&path, e.into_error()))?
        .sync_all()
        .map_err(|e| SweepError::io(&path, e))?;
    agg.finish()
        .map_err(|p| SweepError::Interrupted(format!("grid point {p} is missing runs; the sweep did not finish")))
}
