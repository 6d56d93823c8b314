//! Seeds that grow. Running a complete folder's experiment again with more
//! seeds (`--set seeds=200` on a 100-seed folder) trains only the new seed
//! indices and leaves the folder as a fresh 200-seed run would have written
//! it, byte for byte: a run's record depends on its seed index, never on
//! the seed count or on the ensemble it trained in, so the old records are
//! kept (only their `run` index, point · seeds + seed index, changes) and
//! the new ones slot in after them, point by point.
//!
//! Two phases, so that the folder holds a whole sweep at (almost) every moment:
//! 1. the new seeds train into a temporary file; the folder still holds
//!    the complete smaller sweep (a stop or a crash leaves it as it was,
//!    and the next run trains the new seeds again);
//! 2. runs.jsonl and the summary files are rebuilt under temporary names
//!    and synced; only then is the manifest rewritten for the larger sweep
//!    (status "running") and the files renamed into place. A failure before
//!    that leaves the smaller sweep untouched; a kill after the renames
//!    leaves a running folder of the larger sweep whose files are whole,
//!    and the next run completes it. Only a kill in the instant between the
//!    manifest and the rename of runs.jsonl costs work: the old file no
//!    longer matches, and the runs are trained again.
//!
//! Fewer seeds than the folder holds are refused: the first n seeds of
//! each point are in runs.jsonl (`seed_index < n`). Shard folders do not
//! grow: merge them, then grow the merged folder.

use super::error::SweepError;
use super::manifest::Manifest;
use super::ordered::{self, Workers};
use super::output::{self, AtomicFile};
use super::plan::{experiment_hash, Plan};
use super::progress::Progress;
use super::record::{jsonl, RunRecord};
use super::summary_file::Summing;
use super::worker::train_runs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// What a folder's manifest is to this plan, seeds aside.
pub enum Seeds {
    /// Another experiment (or the same one).
    Unrelated,
    /// This experiment with `from` seeds per point, fewer than the plan's.
    Fewer {
        /// Seeds in the folder.
        from: usize,
    },
    /// This experiment with more seeds than the plan's.
    More {
        /// Seeds in the folder.
        from: usize,
    },
}

/// Compares a folder's manifest with a plan that hashes differently.
pub fn relation(m: &Manifest, plan: &Plan) -> Seeds {
    if m.seeds == plan.seeds {
        return Seeds::Unrelated;
    }
    let mut file = m.experiment.clone();
    if plan.adaptive.is_some() || !matches!(m.experiment.seeds, super::config::Seeds::Fixed(_)) {
        return Seeds::Unrelated;
    }
    file.seeds = super::config::Seeds::Fixed(plan.seeds);
    match experiment_hash(&file) {
        Ok(h) if h == plan.hash && m.seeds < plan.seeds => Seeds::Fewer { from: m.seeds },
        Ok(h) if h == plan.hash => Seeds::More { from: m.seeds },
        _ => Seeds::Unrelated,
    }
}

/// Phase 1: trains seed indices `from..plan.seeds` of every point into a
/// temporary file next to runs.jsonl, in run order; returns its path.
pub fn train_new_seeds(
    plan: &Plan,
    dir: &Path,
    from: usize,
    workers: Workers,
    quiet: bool,
) -> Result<PathBuf, SweepError> {
    let groups = plan.run_groups(from..plan.seeds, |_| true);
    let total: usize = groups.iter().map(|(_, runs)| runs.len()).sum();
    let tmp = output::temp_name(&dir.join(output::RUNS));
    let mut progress = Progress::new(total, quiet);
    let result = (|| {
        let file =
            std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| SweepError::io(&tmp, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let train = |i: usize| train_runs(plan, groups[i].0, &groups[i].1).map(|records| jsonl(&records));
        let done = ordered::in_order(workers, 0..groups.len(), train, |lines| {
            progress.inc(lines.iter().filter(|&&b| b == b'\n').count());
            out.write_all(&lines).map_err(|e| SweepError::io(&tmp, e))
        })?;
        if done < groups.len() {
            return Err(SweepError::Stopped(format!(
                "stopped by a signal while training the new seeds {from}..{}: the {from}-seed results are intact; run the same command again to grow them",
                plan.seeds
            )));
        }
        out.into_inner()
            .map_err(|e| SweepError::io(&tmp, e.into_error()))?
            .sync_all()
            .map_err(|e| SweepError::io(&tmp, e))
    })();
    progress.finish();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Before phase 1: every old line is a record this sweep can have written
/// ([`RunRecord::check`]), in run order, and nothing follows them; so a
/// hand-edited folder is refused before hours of training, not after.
pub fn check_old(plan: &Plan, dir: &Path, from: usize) -> Result<(), SweepError> {
    let path = dir.join(output::RUNS);
    let mut old = Lines::new(BufReader::with_capacity(1 << 20, output::open_existing(&path)?), &path);
    for p in 0..plan.grid.points() {
        for s in 0..from {
            let line = old.next(p * from + s, p, s)?;
            let r: RunRecord = serde_json::from_slice(&line).map_err(|e| old.bad(&e.to_string()))?;
            r.check(plan).map_err(|why| old.bad(&why))?;
        }
    }
    if !old.at_end() {
        old.number += 1;
        return Err(old.bad("holds more lines than its sweep's runs"));
    }
    Ok(())
}

/// Phase 2: rebuilds runs.jsonl from the old file (`from` seeds a point)
/// and the new seeds' file under a temporary name, feeding every run to
/// the summary; the caller writes the larger sweep's manifest, then commits
/// it (a rename), so the folder changes only once everything is written.
pub fn rewrite(
    plan: &Plan,
    dir: &Path,
    from: usize,
    new_seeds: &Path,
    summing: &mut Summing,
) -> Result<AtomicFile, SweepError> {
    let old_path = dir.join(output::RUNS);
    let open = |p: &Path| output::open_existing(p).map(|f| BufReader::with_capacity(1 << 20, f));
    let (mut old, mut new) = (Lines::new(open(&old_path)?, &old_path), Lines::new(open(new_seeds)?, new_seeds));
    let mut out = AtomicFile::create(&old_path)?;
    for p in 0..plan.grid.points() {
        for s in 0..plan.seeds {
            let run = p * plan.seeds + s;
            let (line, lines) = if s < from {
                // Only the run index changes; the rest of the line is the run's.
                let line = old.next(p * from + s, p, s)?;
                let prefix = format!("{{\"run\":{},", p * from + s);
                let Some(rest) = line.strip_prefix(prefix.as_bytes()) else {
                    return Err(old.bad("does not start with its run index"));
                };
                ([format!("{{\"run\":{run},").as_bytes(), rest].concat(), &old)
            } else {
                (new.next(run, p, s)?, &new)
            };
            let r: RunRecord = serde_json::from_slice(&line).map_err(|e| lines.bad(&e.to_string()))?;
            r.check(plan).map_err(|why| lines.bad(&why))?;
            out.write(&line)?;
            out.write(b"\n")?;
            summing.push(&r)?;
        }
    }
    if !old.at_end() || !new.at_end() {
        return Err(old.bad("holds more lines than its sweep's runs"));
    }
    out.flush_and_sync()?;
    Ok(out)
}

/// Lines of a runs file, each checked to be the expected run.
struct Lines<'a> {
    reader: BufReader<std::fs::File>,
    path: &'a Path,
    line: Vec<u8>,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(reader: BufReader<std::fs::File>, path: &'a Path) -> Self {
        Lines { reader, path, line: Vec::new(), number: 0 }
    }

    fn bad(&self, why: &str) -> SweepError {
        SweepError::Results {
            path: self.path.to_path_buf(),
            msg: format!("line {}: {why}; the folder cannot grow (use --force to start over)", self.number),
        }
    }

    /// The next line (without its newline), which must hold `run` (point `p`, seed `s`).
    fn next(&mut self, run: usize, p: usize, s: usize) -> Result<Vec<u8>, SweepError> {
        self.line.clear();
        self.number += 1;
        let n = self.reader.read_until(b'\n', &mut self.line).map_err(|e| SweepError::io(self.path, e))?;
        if n == 0 || self.line.last() != Some(&b'\n') {
            return Err(self.bad(&format!("the file ends before run {run}")));
        }
        self.line.pop();
        #[derive(serde::Deserialize)]
        struct Id {
            run: usize,
            point: usize,
            seed_index: usize,
        }
        let id: Id = serde_json::from_slice(&self.line).map_err(|e| self.bad(&e.to_string()))?;
        if (id.run, id.point, id.seed_index) != (run, p, s) {
            return Err(self.bad(&format!("holds run {} where run {run} (point {p}, seed {s}) belongs", id.run)));
        }
        Ok(std::mem::take(&mut self.line))
    }

    fn at_end(&mut self) -> bool {
        self.reader.fill_buf().is_ok_and(|b| b.is_empty())
    }
}
