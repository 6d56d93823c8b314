//! `sweep merge DIR`: gathers the N shards in `DIR/shards/I-of-N/` into the
//! results a single process would have written in DIR.
//!
//! Checks first, writes nothing until they pass: every shard 0..N-1 is
//! present, of the same experiment (hash; foreign ones are named with the
//! settings that differ), split as this netsweep splits (chunk and run
//! counts), and complete (status "complete"). Then it reads the shards'
//! runs.jsonl chunk by chunk in chunk order, copying each line verbatim
//! into DIR/runs.jsonl (run order, byte-identical to a single process's) and
//! aggregating as the runner does, so summary.json is byte-identical to a
//! single-process run's. Files are written atomically (temp file + rename).

use super::error::SweepError;
use super::lock::{with_lock, FolderLock};
use super::manifest::{now, short_hash, Manifest, MergeInfo, MergedShard, Status};
use super::output::{self, AtomicFile};
use super::plan::{self, Plan};
use super::report::Ranking;
use super::resume::{self, ChunkRead, RunsReader};
use super::shard::{self, Shard, ShardInfo, SHARDS};
use super::summary_file::Summing;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// What `sweep merge` hands back (the statistics are in summary.json).
pub struct MergeResult {
    /// The best and worst grid points, for the final table.
    pub ranking: Ranking,
    /// The manifest written.
    pub manifest: Manifest,
}

fn problem(dir: &Path, msg: String) -> SweepError {
    SweepError::Results { path: dir.to_path_buf(), msg }
}

/// Merges the shards of `dir` (a sweep's results folder, holding `shards/`)
/// into `dir`. `force` lets it replace results of another experiment in
/// `dir` itself.
pub fn merge(dir: &Path, force: bool) -> Result<MergeResult, SweepError> {
    let t0 = Instant::now();
    let shards_dir = dir.join(SHARDS);
    if !shards_dir.is_dir() {
        return Err(problem(
            dir,
            format!("no {SHARDS}/ folder here: pass the results folder the shards ran with (their --out)"),
        ));
    }
    with_lock(dir, "sweep merge", |lock| merge_locked(dir, &shards_dir, force, lock, t0))
}

/// [`merge`] once the folder is locked.
fn merge_locked(
    dir: &Path,
    shards_dir: &Path,
    force: bool,
    lock: &mut FolderLock,
    t0: Instant,
) -> Result<MergeResult, SweepError> {
    let n = shard_count(shards_dir)?;
    let (manifests, missing) = shard_manifests(dir, n)?;
    let reference = reference_manifest(shards_dir, &manifests, &missing)?;
    let plan = resolve_reference(shards_dir, &reference)?;
    let chunks = plan.chunks();
    let split = shard::assign(&chunks, n);
    check_shards(dir, &plan, &reference, &manifests, missing, (&chunks, &split))?;
    check_folder(dir, &plan, &reference, force)?;
    output::refuse_non_files(dir, &output::OURS)?;
    // The shards must not change while they are read (a requeued shard task).
    // All locked before anything is written; a refusal removes the shard lock
    // files this call created.
    let mut shard_locks = Vec::with_capacity(n);
    for i in 0..n {
        match FolderLock::acquire(&Shard { index: i, count: n }.dir(dir), "sweep merge") {
            Ok(l) => shard_locks.push(l),
            Err(e) => {
                shard_locks.into_iter().for_each(FolderLock::release_refused);
                return Err(e);
            }
        }
    }
    lock.announce()?;
    output::remove_stale_temps(dir);
    let ranking = write_merged(dir, &plan, &chunks, &split, n)?;
    let manifest = merged_manifest(&plan, &reference, manifests.into_iter().flatten().collect(), t0);
    output::write_json(&dir.join(output::MANIFEST), &manifest)?;
    Ok(MergeResult { ranking, manifest })
}

/// N, from the shard folders (`I-of-N`) present; all must agree.
fn shard_count(shards_dir: &Path) -> Result<usize, SweepError> {
    let mut found: BTreeMap<usize, Vec<Shard>> = BTreeMap::new();
    for e in std::fs::read_dir(shards_dir).map_err(|e| SweepError::io(shards_dir, e))? {
        let e = e.map_err(|e| SweepError::io(shards_dir, e))?;
        if let Some(s) = e.file_name().to_str().and_then(Shard::from_folder_name) {
            if e.path().is_dir() {
                found.entry(s.count).or_default().push(s);
            }
        }
    }
    match found.len() {
        0 => Err(problem(shards_dir, "holds no shard folders (named I-of-N)".into())),
        1 => match found.keys().next() {
            Some(&n) if n <= super::shard::MAX_SHARDS => Ok(n),
            _ => Err(problem(shards_dir, "holds a shard folder with an impossible shard count".into())),
        },
        _ => {
            let splits: Vec<String> = found
                .iter()
                .map(|(n, v)| {
                    let names: Vec<String> = v.iter().map(|s| s.folder_name()).collect();
                    format!("N={n} ({})", names.join(", "))
                })
                .collect();
            Err(problem(
                shards_dir,
                format!(
                    "holds shards of different splits: {}; remove the folders of the split you do not want",
                    splits.join("; ")
                ),
            ))
        }
    }
}

/// The manifest of each shard 0..n (None where missing) and the missing folders' names.
fn shard_manifests(dir: &Path, n: usize) -> Result<(Vec<Option<Manifest>>, Vec<String>), SweepError> {
    let mut missing = Vec::new();
    let mut manifests = Vec::with_capacity(n);
    for i in 0..n {
        let s = Shard { index: i, count: n };
        let sdir = s.dir(dir);
        let m = if sdir.is_dir() { output::read_manifest(&sdir)? } else { None };
        if m.is_none() {
            missing.push(s.folder_name());
        }
        manifests.push(m);
    }
    Ok((manifests, missing))
}

/// The experiment: the hash most shards hold (ties: the lowest shard's).
fn reference_manifest(
    shards_dir: &Path,
    manifests: &[Option<Manifest>],
    missing: &[String],
) -> Result<Manifest, SweepError> {
    let mut votes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, m) in manifests.iter().enumerate() {
        if let Some(m) = m {
            let v = votes.entry(m.experiment_hash.as_str()).or_insert((0, i));
            v.0 += 1;
        }
    }
    votes
        .iter()
        .max_by_key(|(_, (count, first))| (*count, std::cmp::Reverse(*first)))
        .and_then(|(_, (_, first))| manifests[*first].clone())
        .ok_or_else(|| {
            problem(
                shards_dir,
                format!(
                    "none of the {} shards of this split has a manifest.json: missing {}",
                    manifests.len(),
                    missing.join(", ")
                ),
            )
        })
}

/// The reference experiment's plan; it must resolve to the hash it recorded.
fn resolve_reference(shards_dir: &Path, reference: &Manifest) -> Result<Plan, SweepError> {
    let plan = plan::resolve(reference.experiment.clone(), &reference.name, reference.overrides.clone())?;
    if plan.hash != reference.experiment_hash {
        return Err(problem(
            shards_dir,
            format!(
                "the shards' experiment resolves to hash {}…, not the {}… their manifests record (edited manifest, or another netsweep version?)",
                short_hash(&plan.hash),
                short_hash(&reference.experiment_hash)
            ),
        ));
    }
    Ok(plan)
}

/// Every shard present, of this experiment, split as this netsweep splits,
/// and complete; otherwise one message listing every problem.
fn check_shards(
    dir: &Path,
    plan: &Plan,
    reference: &Manifest,
    manifests: &[Option<Manifest>],
    missing: Vec<String>,
    (chunks, split): (&[plan::Chunk], &[Vec<usize>]),
) -> Result<(), SweepError> {
    let n = manifests.len();
    let ref_json = serde_json::to_value(&reference.experiment).unwrap_or_default();
    let mut foreign = Vec::new();
    let mut incomplete = Vec::new();
    for (i, m) in manifests.iter().enumerate() {
        let Some(m) = m else { continue };
        let s = Shard { index: i, count: n };
        if m.experiment_hash != plan.hash {
            let theirs = serde_json::to_value(&m.experiment).unwrap_or_default();
            foreign.push(format!(
                "{i}-of-{n} (`{}`, hash {}…: {})",
                m.name,
                short_hash(&m.experiment_hash),
                resume::differences_phrase(&ref_json, &theirs)
            ));
            continue;
        }
        let mine: Vec<_> = split[i].iter().map(|&c| chunks[c].clone()).collect();
        let expected = ShardInfo::new(s, chunks, &mine);
        match &m.shard {
            Some(info) if info.index == i && info.count == n && info.chunks == expected.chunks && info.runs == expected.runs => {}
            Some(info) if (info.index, info.count) != (i, n) => foreign.push(format!(
                "{} (holds shard {}/{}'s results: a copied or renamed folder? run `sweep run … --shard {s}` into a fresh {} instead)",
                s.folder_name(), info.index, info.count, s.folder_name()
            )),
            Some(info) => foreign.push(format!(
                "{} (split differently: shard {}/{} with {} chunks and {} runs, expected {} chunks and {} runs; another netsweep version?)",
                s.folder_name(), info.index, info.count, info.chunks, info.runs, expected.chunks, expected.runs
            )),
            None => foreign.push(format!("{} (its manifest is not a shard's)", s.folder_name())),
        }
        if m.status != Status::Complete {
            let lines = count_lines(&s.dir(dir).join(output::RUNS));
            incomplete.push(format!(
                "{} (status {}, {lines} of {} runs in runs.jsonl; run its `sweep run … --shard {s}` again to resume it)",
                s.folder_name(),
                m.status,
                expected.runs
            ));
        }
    }
    if missing.is_empty() && foreign.is_empty() && incomplete.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "cannot merge: {n} shards of `{}` (hash {}…) expected",
        reference.name,
        short_hash(&reference.experiment_hash)
    );
    for (what, list) in [("missing", missing), ("from another experiment", foreign), ("incomplete", incomplete)] {
        if !list.is_empty() {
            msg.push_str(&format!("\n  {what}: {}", list.join(if what == "missing" { ", " } else { "; " })));
        }
    }
    Err(problem(&dir.join(SHARDS), msg))
}

/// The folder itself: another experiment's results are refused unless forced.
fn check_folder(dir: &Path, plan: &Plan, reference: &Manifest, force: bool) -> Result<(), SweepError> {
    let Some(m) = output::read_manifest(dir).or_else(|e| if force { Ok(None) } else { Err(e) })? else {
        return Ok(());
    };
    if m.experiment_hash == plan.hash || force {
        return Ok(());
    }
    let theirs = serde_json::to_value(&m.experiment).unwrap_or_default();
    let ours = serde_json::to_value(&reference.experiment).unwrap_or_default();
    Err(SweepError::Output {
        path: dir.to_path_buf(),
        msg: format!(
            "holds results of a different experiment (`{}`: {}); use --force to replace them",
            m.name,
            resume::differences_phrase(&theirs, &ours)
        ),
    })
}

/// The merged folder's manifest: the shards' earliest start, their
/// critical path and their combined throughput (shards run side by side).
fn merged_manifest(plan: &Plan, reference: &Manifest, shards: Vec<Manifest>, t0: Instant) -> Manifest {
    let mut manifest = Manifest::start(plan, &reference.experiment_file, shards.iter().map(|m| m.threads).sum());
    manifest.started_at = shards.iter().map(|m| m.started_at.clone()).min().unwrap_or_else(now);
    manifest.status = Status::Complete;
    let mut levels: Vec<String> = shards.iter().filter_map(|m| m.cpu.clone()).collect();
    levels.sort();
    levels.dedup();
    manifest.cpu = (!levels.is_empty()).then(|| levels.join("+"));
    manifest.finished_at = Some(now());
    manifest.wall_seconds = shards.iter().filter_map(|m| m.wall_seconds).reduce(f64::max);
    manifest.network_epochs_per_second = Some(shards.iter().filter_map(|m| m.network_epochs_per_second).sum());
    let shard_runs = shards
        .iter()
        .enumerate()
        .map(|(i, m)| MergedShard {
            index: i,
            runs: m.runs,
            threads: m.threads,
            wall_seconds: m.wall_seconds,
            network_epochs_per_second: m.network_epochs_per_second,
        })
        .collect();
    manifest.merged = Some(MergeInfo { shards: shards.len(), shard_runs, merge_seconds: t0.elapsed().as_secs_f64() });
    manifest
}

/// Copies the shards' records into `dir/runs.jsonl` in run order (through a
/// temporary file) and aggregates them into the summary files.
fn write_merged(
    dir: &Path,
    plan: &Plan,
    chunks: &[plan::Chunk],
    split: &[Vec<usize>],
    n: usize,
) -> Result<Ranking, SweepError> {
    let mut owner = vec![0usize; chunks.len()];
    for (s, list) in split.iter().enumerate() {
        for &c in list {
            owner[c] = s;
        }
    }
    let mut readers = Vec::with_capacity(n);
    for i in 0..n {
        let path = Shard { index: i, count: n }.dir(dir).join(output::RUNS);
        let r = RunsReader::open(&path)?
            .ok_or_else(|| problem(&path, "is missing, though the shard's manifest says it is complete".into()))?;
        readers.push((path, r));
    }
    let mut out = AtomicFile::create(&dir.join(output::RUNS))?;
    let mut summing = Summing::create(plan, dir)?;
    for (c, chunk) in chunks.iter().enumerate() {
        let (path, reader) = &mut readers[owner[c]];
        match reader.read_chunk(plan, chunk)? {
            ChunkRead::Complete { bytes, records } => {
                out.write(&bytes)?;
                records.iter().try_for_each(|r| summing.push(r))?;
            }
            ChunkRead::Incomplete(why) => {
                let s = Shard { index: owner[c], count: n };
                return Err(problem(
                    path,
                    format!(
                        "runs {}..{}: {why}; its manifest says complete, so the file was cut or edited afterwards: run `sweep run … --shard {s} --force` again to redo that shard",
                        chunk.start, chunk.end
                    ),
                ));
            }
        }
    }
    for (path, reader) in &mut readers {
        if !reader.at_end()? {
            return Err(problem(path, "holds lines after the shard's last run".into()));
        }
    }
    out.commit()?;
    summing.finish()
}

fn count_lines(path: &Path) -> usize {
    resume::count_tail(path, 0).map_or(0, |(lines, _)| lines)
}
