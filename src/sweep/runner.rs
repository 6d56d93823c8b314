//! Running a plan: workers train chunks in parallel (rayon, a shared work
//! counter so chunks are taken in order), the calling thread appends
//! `runs.jsonl` in chunk order as chunks complete (flushed after each
//! chunk) and feeds the runs to [`Summing`], which writes each grid point
//! to summary.json and summary.csv as soon as its runs are in; at the end
//! the summary files are put in place and the manifest completed. Memory
//! holds the chunks in flight and the points not yet complete, never the
//! whole grid.
//!
//! Output does not depend on the number of threads: chunks are fixed by the
//! plan, each is trained by a pure function, and the writer restores chunk
//! order before writing or aggregating.
//!
//! Crash safety and resume ([`super::resume`]): because chunks are written
//! whole and in order, runs.jsonl is always a prefix of complete chunks (plus,
//! after a hard kill, part of the next chunk). Running again on the same
//! folder keeps that prefix and trains the rest. A stop flag (set by the
//! binary's SIGINT/SIGTERM handler) stops handing out chunks; the chunks in
//! progress are finished and written, the manifest says "interrupted", and
//! [`SweepError::Stopped`] is returned.
//!
//! A shard ([`super::shard`]) runs the same loop over its share of the
//! chunks, in `<out>/shards/I-of-N/`, and writes no summary.

use super::adaptive;
use super::error::SweepError;
use super::grow;
use super::lock::FolderLock;
use super::manifest::{now, Manifest, Status};
use super::ordered::{self, Workers};
use super::output::{self, Start};
use super::plan::{Chunk, Plan};
use super::progress::Progress;
use super::report::Ranking;
use super::resume::{self, Scan};
use super::shard::{self, Shard, ShardInfo};
use super::summary_file::Summing;
use super::worker::train_chunk;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Most worker threads `--threads` accepts.
pub const MAX_THREADS: usize = 1024;

/// How to run: `RunOptions::default().out("results/x").threads(4)`.
/// The default: no folder (see [`super::Experiment::run`]), one thread per
/// core, resume rather than replace, no progress output.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results folder (empty: [`super::Experiment::run`] uses a temporary
    /// one; [`run`] needs one).
    pub out: PathBuf,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Start over: replace a folder holding other results, or earlier
    /// results of the same experiment (which would otherwise be resumed).
    pub force: bool,
    /// No progress output.
    pub quiet: bool,
    /// The experiment file, as given (recorded in the manifest).
    pub experiment_file: String,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { out: PathBuf::new(), threads: 0, force: false, quiet: true, experiment_file: String::new() }
    }
}

impl RunOptions {
    /// Writes the results folder `dir`.
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out = dir.into();
        self
    }

    /// Worker threads (0: one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }

    /// Replace what the folder holds instead of resuming or refusing.
    pub fn force(mut self, yes: bool) -> Self {
        self.force = yes;
        self
    }

    /// Progress and the final table on stderr (off by default).
    pub fn progress(mut self, yes: bool) -> Self {
        self.quiet = !yes;
        self
    }
}

/// What a finished sweep hands back. The statistics are in the folder's
/// summary.json ([`super::output::read_summary`]): a sweep's summary can be
/// far larger than the memory it ran in.
pub struct RunResult {
    /// The results folder.
    pub dir: PathBuf,
    /// The best and worst grid points, for the final table.
    pub ranking: Ranking,
    /// The manifest written.
    pub manifest: Manifest,
}

impl RunResult {
    /// Reads back the summary.json the sweep wrote.
    pub fn read_summary(&self) -> Result<super::aggregate::Summary, SweepError> {
        super::output::read_summary(&self.dir)
    }
}

/// What a finished shard hands back.
pub struct ShardResult {
    /// The shard's folder, `<out>/shards/I-of-N`.
    pub dir: PathBuf,
    /// The manifest written there.
    pub manifest: Manifest,
}

/// Trains every run of the plan and writes the results folder (resuming
/// an earlier attempt found there).
pub fn run(plan: &Plan, opts: &RunOptions) -> Result<RunResult, SweepError> {
    run_stoppable(plan, opts, None)
}

/// [`run`], stopping cleanly once `stop` becomes true.
pub fn run_stoppable(plan: &Plan, opts: &RunOptions, stop: Option<&AtomicBool>) -> Result<RunResult, SweepError> {
    let (manifest, ranking) = execute(plan, opts, None, stop)?;
    let ranking = ranking.ok_or_else(|| SweepError::Interrupted("the sweep wrote no summary".into()))?;
    Ok(RunResult { dir: opts.out.clone(), ranking, manifest })
}

/// Trains shard `shard`'s share of the runs into `<opts.out>/shards/I-of-N/`
/// (resuming an earlier attempt found there), stopping cleanly once `stop`
/// becomes true.
pub fn run_shard(
    plan: &Plan,
    opts: &RunOptions,
    shard: Shard,
    stop: Option<&AtomicBool>,
) -> Result<ShardResult, SweepError> {
    let (manifest, _) = execute(plan, opts, Some(shard), stop)?;
    Ok(ShardResult { dir: shard.dir(&opts.out), manifest })
}

/// Worker threads and where the number came from: `--threads N`, else a
/// positive `RAYON_NUM_THREADS` (as rayon itself reads it), else one per core.
pub fn thread_count(flag: usize, env: Option<&str>) -> Result<(usize, &'static str), SweepError> {
    if flag > 0 {
        return Ok((flag, "--threads"));
    }
    match env.map(str::trim).filter(|v| !v.is_empty() && *v != "0") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) => Ok((n, "RAYON_NUM_THREADS")),
            Err(_) => Err(SweepError::Config(format!(
                "RAYON_NUM_THREADS={v} is not a number of threads: unset it, or give a whole number"
            ))),
        },
        None => Ok((std::thread::available_parallelism().map_or(1, |n| n.get()), "cores")),
    }
}

fn execute(
    plan: &Plan,
    opts: &RunOptions,
    shard: Option<Shard>,
    stop: Option<&AtomicBool>,
) -> Result<(Manifest, Option<Ranking>), SweepError> {
    if opts.out.as_os_str().is_empty() {
        return Err(SweepError::Config("no results folder given (RunOptions::out)".into()));
    }
    let (threads, threads_from) = thread_count(opts.threads, std::env::var("RAYON_NUM_THREADS").ok().as_deref())?;
    if threads > MAX_THREADS {
        return Err(SweepError::Config(format!(
            "--threads {threads} is too many: use 0 (one per core) up to {MAX_THREADS}"
        )));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Config(format!("cannot start {threads} threads: {e}")))?;
    if shard.is_some() && plan.adaptive.is_some() {
        return Err(SweepError::Config(
            "adaptive seeds cannot be sharded: each round depends on every point's results so far. Run it in one process, or give a fixed number of seeds and shard that (a complete folder can then grow with more seeds)".into(),
        ));
    }
    let all = plan.chunks();
    let (dir, chunks, info) = match shard {
        Some(s) => {
            let mine = shard::chunks_of(&all, s);
            let info = ShardInfo::new(s, &all, &mine);
            (s.dir(&opts.out), mine, Some(info))
        }
        None => (opts.out.clone(), all, None),
    };
    // A folder that holds this experiment already was accepted once: resuming
    // it is not refused on an estimate (which is an upper bound).
    let resuming = output::read_manifest(&dir).ok().flatten().is_some_and(|m| m.experiment_hash == plan.hash);
    if !opts.force && !resuming {
        super::estimate::check_fits(plan, &dir, threads)?;
    }
    let made = output::create_missing(&dir)?;
    let mut lock = FolderLock::acquire(&dir, "sweep run").inspect_err(|_| output::remove_created(&made))?;
    let start = match output::prepare_dir(&dir, plan, opts.force, info.as_ref()) {
        Ok(start) => start,
        Err(e) => {
            lock.release_refused();
            output::remove_created(&made);
            return Err(e);
        }
    };
    output::remove_stale_temps(&dir);
    let job = Job { plan, opts, dir: &dir, chunks: &chunks, info, pool: &pool, threads, threads_from, stop };
    let result = job.run(start, &mut lock);
    if let Err(e) = &result {
        let empty = std::fs::metadata(dir.join(output::RUNS)).map_or(true, |m| m.len() == 0);
        if !made.is_empty() && empty && !matches!(e, SweepError::Stopped(_)) {
            // A first attempt that failed before finishing any chunk leaves
            // nothing of its own behind (and the folder, if it is then empty).
            output::remove_failed_attempt(&dir);
            lock.release_refused();
            output::remove_created(&made);
        }
    }
    result
}

/// One attempt at a folder.
struct Job<'a> {
    plan: &'a Plan,
    opts: &'a RunOptions,
    dir: &'a Path,
    chunks: &'a [Chunk],
    info: Option<ShardInfo>,
    pool: &'a rayon::ThreadPool,
    threads: usize,
    threads_from: &'static str,
    stop: Option<&'a AtomicBool>,
}

impl Job<'_> {
    /// Runs the attempt; announces it in `lock` once past what can refuse
    /// it without writing (a refused attempt leaves the lock file as it was).
    fn run(self, start: Start, lock: &mut FolderLock) -> Result<(Manifest, Option<Ranking>), SweepError> {
        if let Start::Grow(old) = start {
            grow::check_old(self.plan, self.dir, old.seeds)?;
            lock.announce()?;
            return self.grow(&old).map(|(m, r)| (m, Some(r)));
        }
        if self.plan.adaptive.is_some() {
            lock.announce()?;
            return self.adaptive(start).map(|(m, r)| (m, Some(r)));
        }
        let t0 = Instant::now();
        let runs_path = self.dir.join(output::RUNS);
        let mut manifest = self.start_manifest();
        // Shards cannot aggregate: their grid points are incomplete.
        let mut agg = self.info.is_none().then(|| Summing::create(self.plan, self.dir)).transpose()?;
        let scan = self.scan_earlier_attempt(&start, &runs_path, &mut manifest, agg.as_mut())?;
        lock.announce()?;
        if scan.dropped_bytes > 0 {
            resume::truncate(&runs_path, scan.keep_bytes)?;
        }
        output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
        let (done, runs_file) = self.train_and_write(&runs_path, &scan, manifest.runs, agg.as_mut())?;
        let first = scan.chunks_done;
        let trained: usize = self.chunks[first..done].iter().map(|c| c.end - c.start).sum();
        let sync_runs = || runs_file.sync_all().map_err(|e| SweepError::io(&runs_path, e));
        self.record_speed(&mut manifest, trained, t0);
        if done < self.chunks.len() {
            sync_runs()?;
            return Err(self.stopped(&mut manifest, done, &runs_path)?);
        }
        // runs.jsonl goes to disk while the summary is built and written.
        let ranking = std::thread::scope(|s| {
            let synced = s.spawn(sync_runs);
            let ranking = agg.map(Summing::finish).transpose();
            synced.join().expect("the sync thread does not panic")?;
            ranking
        })?;
        manifest.status = Status::Complete;
        manifest.finished_at = Some(now());
        self.record_speed(&mut manifest, trained, t0);
        output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
        Ok((manifest, ranking))
    }

    /// Grows a complete folder of this experiment with fewer seeds
    /// ([`super::grow`]): trains the new seeds, then rewrites the folder.
    fn grow(&self, old: &Manifest) -> Result<(Manifest, Ranking), SweepError> {
        let t0 = Instant::now();
        let from = old.seeds;
        if !self.opts.quiet {
            crate::tell!(
                "growing {} from {from} to {} seeds a point: training the {} new runs; the {} runs there are kept",
                self.dir.display(),
                self.plan.seeds,
                self.plan.runs() - old.runs,
                old.runs
            );
        }
        let workers = Workers { pool: self.pool, threads: self.threads, stop: self.stop };
        let new_seeds = grow::train_new_seeds(self.plan, self.dir, from, workers, self.opts.quiet)?;
        // Everything is written under temporary names first: until the
        // manifest below, the folder still holds the smaller sweep, whole.
        let mut summing = Summing::create(self.plan, self.dir)?;
        let rewritten = grow::rewrite(self.plan, self.dir, from, &new_seeds, &mut summing);
        let _ = std::fs::remove_file(&new_seeds);
        let runs = rewritten?;
        let summaries = summing.written()?;
        let mut manifest = self.start_manifest();
        manifest.resumed_runs = Some(old.runs);
        manifest.grown_from_seeds = Some(from);
        output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
        runs.commit()?;
        let ranking = summaries.commit()?;
        manifest.status = Status::Complete;
        manifest.finished_at = Some(now());
        self.record_speed(&mut manifest, self.plan.runs() - old.runs, t0);
        output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
        Ok((manifest, ranking))
    }

    /// An adaptive-seeds sweep ([`adaptive`]): rounds until every point's
    /// interval is narrow enough, resuming an earlier attempt by replaying it.
    fn adaptive(&self, start: Start) -> Result<(Manifest, Ranking), SweepError> {
        let t0 = Instant::now();
        let mut manifest = self.start_manifest();
        if let Start::Resume(old) = &start {
            manifest.started_at = old.started_at.clone();
        }
        output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
        let mut summing = Summing::create(self.plan, self.dir)?;
        let workers = Workers { pool: self.pool, threads: self.threads, stop: self.stop };
        let resume = matches!(start, Start::Resume(_));
        let done = adaptive::run(self.plan, self.dir, resume, workers, self.opts.quiet, &mut summing)?;
        manifest.runs = done.runs;
        manifest.network_epochs = (done.runs * self.plan.epochs) as u64;
        manifest.resumed_runs = (done.kept > 0).then_some(done.kept);
        self.record_speed(&mut manifest, done.runs - done.kept, t0);
        if !done.complete {
            manifest.status = Status::Interrupted;
            output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
            return Err(SweepError::Stopped(format!(
                "stopped by a signal: {} runs are saved in {}",
                done.runs,
                self.dir.join(output::RUNS).display()
            )));
        }
        let ranking = summing.finish()?;
        manifest.status = Status::Complete;
        manifest.finished_at = Some(now());
        output::write_json(&self.dir.join(output::MANIFEST), &manifest)?;
        Ok((manifest, ranking))
    }

    /// The manifest of this attempt (a shard's counts its own runs only).
    fn start_manifest(&self) -> Manifest {
        let mut manifest = Manifest::start(self.plan, &self.opts.experiment_file, self.threads);
        manifest.threads_from = Some(self.threads_from.to_string());
        if let Some(info) = &self.info {
            manifest.runs = info.runs;
            manifest.network_epochs = (info.runs * self.plan.epochs) as u64;
        }
        manifest.shard = self.info.clone();
        manifest
    }

    /// On resume: the complete chunks already in runs.jsonl (fed to the
    /// aggregation), and how much after them the caller cuts off.
    fn scan_earlier_attempt(
        &self,
        start: &Start,
        runs_path: &Path,
        manifest: &mut Manifest,
        mut agg: Option<&mut Summing>,
    ) -> Result<Scan, SweepError> {
        let Start::Resume(old) = start else { return Ok(Scan::default()) };
        let scan = resume::scan(runs_path, self.plan, self.chunks, |r| match agg.as_mut() {
            Some(a) => a.push(&r),
            None => Ok(()),
        })?;
        manifest.started_at = old.started_at.clone();
        manifest.resumed_runs = Some(scan.runs_done);
        if !self.opts.quiet {
            crate::tell!("{}", scan.describe(self.chunks.len(), manifest.runs));
        }
        Ok(scan)
    }

    /// Trains the chunks left on the pool and appends their records in chunk
    /// order; returns how many chunks are in runs.jsonl at the end (fewer
    /// than all when stopped) and the file.
    fn train_and_write(
        &self,
        runs_path: &Path,
        scan: &Scan,
        runs_total: usize,
        mut agg: Option<&mut Summing>,
    ) -> Result<(usize, std::fs::File), SweepError> {
        let (plan, chunks) = (self.plan, self.chunks);
        let mut out = RunsWriter::append(runs_path)?;
        let mut progress = Progress::new(runs_total - scan.runs_done, self.opts.quiet);
        let workers = Workers { pool: self.pool, threads: self.threads, stop: self.stop };
        // Serialising in the workers keeps the JSON encoding off the single writer thread.
        let train = |i: usize| train_chunk(plan, &chunks[i]).map(|records| (super::record::jsonl(&records), records));
        let done = ordered::in_order(workers, scan.chunks_done..chunks.len(), train, |(lines, records)| {
            progress.inc(records.len());
            out.write(&lines)?;
            if let Some(a) = agg.as_mut() {
                records.iter().try_for_each(|r| a.push(r))?;
            }
            out.flushed()
        });
        progress.finish();
        Ok((done?, out.into_file()?))
    }

    /// Wall time so far and the throughput of the runs this attempt trained.
    fn record_speed(&self, manifest: &mut Manifest, trained: usize, t0: Instant) {
        let wall = t0.elapsed().as_secs_f64();
        manifest.wall_seconds = Some(wall);
        manifest.network_epochs_per_second =
            (trained > 0).then(|| (trained * self.plan.epochs) as f64 / wall.max(1e-9));
    }

    /// A sweep that stopped before its last chunk: the manifest says so, and
    /// the error says why (a signal, or a worker that failed).
    fn stopped(&self, manifest: &mut Manifest, done: usize, runs_path: &Path) -> Result<SweepError, SweepError> {
        let saved: usize = self.chunks[..done].iter().map(|c| c.end - c.start).sum();
        let runs_total = manifest.runs;
        manifest.status = Status::Interrupted;
        output::write_json(&self.dir.join(output::MANIFEST), manifest)?;
        let msg = format!("stopped by a signal: {saved} of {runs_total} runs are saved in {}", runs_path.display());
        Ok(if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            SweepError::Stopped(msg)
        } else {
            SweepError::Interrupted(format!("the workers stopped early; {saved} of {runs_total} runs were saved"))
        })
    }
}

/// runs.jsonl opened for appending whole chunks: flushed after each (a
/// reader or a resume sees whole chunks), its writeback to disk started
/// then (so that the final sync has little left to wait for), and synced at
/// most every two seconds.
pub struct RunsWriter {
    path: PathBuf,
    out: BufWriter<File>,
    synced: Instant,
}

impl RunsWriter {
    /// Opens (or creates) `path` for appending.
    pub fn append(path: &Path) -> Result<Self, SweepError> {
        let file = output::open_own(output::own_file().create(true).append(true), path)?;
        Ok(RunsWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            synced: Instant::now(),
        })
    }

    /// Appends lines.
    pub fn write(&mut self, lines: &[u8]) -> Result<(), SweepError> {
        self.out.write_all(lines).map_err(|e| SweepError::io(&self.path, e))
    }

    /// Flushes what was written (and syncs it if two seconds have passed).
    pub fn flushed(&mut self) -> Result<(), SweepError> {
        self.out.flush().map_err(|e| SweepError::io(&self.path, e))?;
        if self.synced.elapsed() >= Duration::from_secs(2) {
            self.out.get_ref().sync_data().map_err(|e| SweepError::io(&self.path, e))?;
            self.synced = Instant::now();
        } else {
            output::start_writeback(self.out.get_ref());
        }
        Ok(())
    }

    /// The file, for the caller's final sync.
    pub fn into_file(self) -> Result<File, SweepError> {
        self.out.into_inner().map_err(|e| SweepError::io(&self.path, e.into_error()))
    }
}
