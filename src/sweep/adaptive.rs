//! Adaptive seeds: `seeds = { min = 50, max = 5000, ci_half_width = 0.02 }`.
//! Training goes in rounds of doubling: every point gets `min` seeds, then
//! each point whose rate's 95% Wilson interval is wider than ±ci_half_width
//! gets as many again (2·min, 4·min, …, capped at `max`), until no point
//! needs more. The rate is the one `[convergence] count` leads with.
//!
//! Seed index s is the same stream as in a fixed-seed run (its run index is
//! point · max + s), so the first n seeds of an adaptive point are the runs
//! a fixed n-seed run trains. runs.jsonl holds the rounds one after another
//! (within a round, points and seeds in order): which runs a round trains
//! depends only on the runs before it, so the file is a prefix of one
//! deterministic list of runs. The same for any `--threads`; after a kill,
//! the next run replays the file round by round, keeps its complete groups
//! and trains the rest. Every point stays open until the last round
//! ([`super::summary_file::Summing`] holds its columns), then summary.json
//! is written in point order. Shards are refused: rounds need every point's
//! results so far.

use super::config::AdaptiveSeeds;
use super::error::SweepError;
use super::ordered::{self, Workers};
use super::output;
use super::plan::Plan;
use super::progress::Progress;
use super::record::{jsonl, RunRecord};
use super::resume::{self, ChunkRead, RunsReader};
use super::runner::RunsWriter;
use super::stats::{wilson, Z95};
use super::summary_file::Summing;
use super::worker::train_runs;
use std::path::Path;

/// Refuses adaptive settings that cannot run.
pub fn check(a: &AdaptiveSeeds) -> Result<(), SweepError> {
    let err = |m: String| Err(SweepError::Config(format!("seeds = {{ min, max, ci_half_width }}: {m}")));
    if a.min == 0 {
        return err("min = 0: every point needs at least 1 seed".into());
    }
    if a.max < a.min {
        return err(format!("max = {} is below min = {}", a.max, a.min));
    }
    if !(a.ci_half_width > 0.0 && a.ci_half_width < 0.5) {
        return err(format!("ci_half_width = {} must be above 0 and below 0.5", a.ci_half_width));
    }
    Ok(())
}

/// Seeds a point has after each round: min, 2·min, 4·min, …, max.
pub fn schedule(a: &AdaptiveSeeds) -> Vec<usize> {
    let mut v = vec![a.min];
    while *v.last().expect("not empty") < a.max {
        v.push((v.last().expect("not empty") * 2).min(a.max));
    }
    v
}

/// Whether a point with `k` successes in `n` seeds needs more.
pub fn needs_more(a: &AdaptiveSeeds, k: usize, n: usize) -> bool {
    let (lo, hi) = wilson(k, n, Z95);
    n < a.max && (hi - lo) / 2.0 > a.ci_half_width
}

/// The fewest and the most runs the sweep can take.
pub fn bounds(plan: &Plan, a: &AdaptiveSeeds) -> (usize, usize) {
    let points = plan.grid.points();
    (points * a.min, points * a.max)
}

/// What an adaptive sweep did.
pub struct Done {
    /// Runs in runs.jsonl.
    pub runs: usize,
    /// Of them, kept from an earlier attempt.
    pub kept: usize,
    /// Whether every round finished (else a signal stopped it).
    pub complete: bool,
}

/// Trains an adaptive sweep into `dir`, replaying the runs.jsonl an earlier
/// attempt left (`resume`); every run goes to `summing`.
pub fn run(
    plan: &Plan,
    dir: &Path,
    resume: bool,
    w: Workers,
    quiet: bool,
    summing: &mut Summing,
) -> Result<Done, SweepError> {
    let a = plan.adaptive.expect("an adaptive plan");
    let path = dir.join(output::RUNS);
    let mut reader = if resume { RunsReader::open(&path)? } else { None };
    let count = plan.criterion.count;
    let mut successes = vec![0usize; plan.grid.points()];
    let mut active = vec![true; plan.grid.points()];
    let mut done = Done { runs: 0, kept: 0, complete: true };
    let mut out: Option<RunsWriter> = None;
    let feed = |r: &RunRecord, summing: &mut Summing, successes: &mut [usize], runs: &mut usize| {
        successes[r.point] += usize::from(r.counts_as_success(count));
        *runs += 1;
        summing.push(r)
    };
    let mut before = 0;
    for (round, &n) in schedule(&a).iter().enumerate() {
        if round > 0 {
            for (p, on) in active.iter_mut().enumerate() {
                *on = *on && needs_more(&a, successes[p], before);
            }
        }
        if !active.contains(&true) {
            break;
        }
        let groups = plan.run_groups(before..n, |p| active[p]);
        let mut first = 0;
        if let Some(r) = reader.as_mut() {
            while first < groups.len() {
                match r.read_runs(plan, groups[first].1.iter().copied())? {
                    ChunkRead::Complete { records, .. } => {
                        done.kept += records.len();
                        for rec in &records {
                            feed(rec, summing, &mut successes, &mut done.runs)?;
                        }
                        first += 1;
                    }
                    ChunkRead::Incomplete(_) => break,
                }
            }
            if first < groups.len() {
                // The earlier attempt stopped inside this round: cut what follows its last whole group.
                let why = format!("the runs of seeds {before}..{n} stop short");
                resume::refuse_unless_stopped(&path, r.offset(), groups[first].1.len(), &why)?;
                resume::truncate(&path, r.offset())?;
                reader = None;
            }
        }
        if first == groups.len() {
            before = n;
            continue;
        }
        let writer = match out.as_mut() {
            Some(wr) => wr,
            None => out.insert(RunsWriter::append(&path)?),
        };
        let total: usize = groups[first..].iter().map(|g| g.1.len()).sum();
        if !quiet {
            let points = active.iter().filter(|&&x| x).count();
            crate::tell!("round {}: {points} points × seeds {before}..{n} ({total} runs)", round + 1);
        }
        let mut progress = Progress::new(total, quiet);
        let train = |i: usize| train_runs(plan, groups[i].0, &groups[i].1).map(|records| (jsonl(&records), records));
        let reached = ordered::in_order(w, first..groups.len(), train, |(lines, records)| {
            progress.inc(records.len());
            writer.write(&lines)?;
            for rec in &records {
                feed(rec, summing, &mut successes, &mut done.runs)?;
            }
            writer.flushed()
        })?;
        progress.finish();
        if reached < groups.len() {
            done.complete = false;
            break;
        }
        before = n;
    }
    if let Some(r) = reader.as_mut() {
        if !r.at_end()? {
            resume::refuse_unless_stopped(&path, r.offset(), 0, "lines after the last round")?;
            resume::truncate(&path, r.offset())?;
        }
    }
    if let Some(wr) = out {
        wr.into_file()?.sync_all().map_err(|e| SweepError::io(&path, e))?;
    }
    Ok(done)
}
