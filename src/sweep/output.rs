//! The results folder: preparing it (refusing to mix experiments), reading
//! its manifest ([`super::manifest`]), atomic writes (temp file + rename, so a reader never sees half a
//! file) and the text of summary.json's points and summary.csv's rows.

use super::aggregate::PointSummary;
use super::error::SweepError;
use super::grid::Grid;
use super::manifest::{short_hash, Manifest};
use super::plan::Plan;
use super::resume;
use super::shard::{ShardInfo, SHARDS};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File names inside a results folder.
pub const MANIFEST: &str = "manifest.json";
/// Runs, one JSON object per line.
pub const RUNS: &str = "runs.jsonl";
/// Per-point statistics.
pub const SUMMARY: &str = "summary.json";
/// Per-point table.
pub const SUMMARY_CSV: &str = "summary.csv";
/// Runs as a columnar table (feature `parquet`).
pub const RUNS_PARQUET: &str = "runs.parquet";
/// The files of a complete results folder, as the terminal lists them.
#[cfg(feature = "parquet")]
pub const FILES_WRITTEN: &str = "manifest.json, runs.jsonl, summary.json, summary.csv, runs.parquet";
/// The files of a complete results folder, as the terminal lists them.
#[cfg(not(feature = "parquet"))]
pub const FILES_WRITTEN: &str = "manifest.json, runs.jsonl, summary.json, summary.csv";

/// The folder of a results folder that holds its figures.
pub const PLOTS: &str = "plots";
/// The list, inside `plots/`, of the files netsweep wrote there: the only
/// files a replot or `--force` ever deletes.
pub const PLOTS_WRITTEN: &str = ".netsweep-plots.json";
/// The report page in `plots/`.
pub const PLOTS_INDEX: &str = "index.html";

/// The files netsweep wrote in `plots` (its list; empty when there is none
/// or it cannot be read, so nothing is deleted on doubt).
pub fn written_plots(plots: &Path) -> Vec<String> {
    let list: Vec<String> = read_json_if_any(&plots.join(PLOTS_WRITTEN)).unwrap_or_default();
    // Plain names only: the list is data, and must not point outside plots/;
    // and names of what plotting writes (figures, the index page): an edited
    // list cannot make netsweep delete a user's notes.txt.
    let drawn = |n: &str| n == PLOTS_INDEX || [".png", ".svg"].iter().any(|x| n.len() > x.len() && n.ends_with(x));
    list.into_iter()
        .filter(|n| !n.starts_with('.') && drawn(n) && Path::new(n).file_name().is_some_and(|f| f == n.as_str()))
        .collect()
}

/// Deletes the files netsweep wrote in `plots` that are not in `keep`,
/// then records `keep` as the list (or removes the list when `keep` is empty).
pub fn remove_listed_plots(plots: &Path, keep: &[String]) -> Result<(), SweepError> {
    for name in written_plots(plots).iter().filter(|n| !keep.contains(n)) {
        let p = plots.join(name);
        // Figures are written as files: a link or a folder there is not one.
        if !p.symlink_metadata().is_ok_and(|m| m.is_file()) {
            continue;
        }
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SweepError::io(&p, e)),
        }
    }
    let list = plots.join(PLOTS_WRITTEN);
    if keep.is_empty() {
        match std::fs::remove_file(&list) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(SweepError::io(&list, e)),
            _ => Ok(()),
        }
    } else {
        write_json(&list, &keep)
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] of what `fill` writes to the temporary file.
fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), SweepError> {
    let mut file = AtomicFile::create(path)?;
    fill(&mut file.out).map_err(|e| SweepError::io(path, e))?;
    file.commit()
}

/// A file written under a temporary name ([`temp_name`]) and renamed into
/// place, durably, by [`AtomicFile::commit`]: a reader sees the old file or
/// the whole new one. Dropped without a commit, it removes its temporary.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    committed: bool,
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self, SweepError> {
        let tmp = temp_name(path);
        let f =
            std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| SweepError::io(path, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            out: std::io::BufWriter::with_capacity(1 << 20, f),
            committed: false,
        })
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SweepError> {
        self.out.write_all(bytes).map_err(|e| SweepError::io(&self.path, e))
    }

    /// Flushes and syncs what was written (still under the temporary name).
    pub fn flush_and_sync(&mut self) -> Result<(), SweepError> {
        self.out.flush().map_err(|e| SweepError::io(&self.path, e))?;
        self.out.get_ref().sync_all().map_err(|e| SweepError::io(&self.path, e))
    }

    /// Flushes, syncs and renames the file into place, then syncs its folder.
    pub fn commit(mut self) -> Result<(), SweepError> {
        let finish = |out: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
            out.flush()?;
            out.get_ref().sync_all()?;
            std::fs::rename(&self.tmp, &self.path)?;
            sync_parent(&self.path)
        };
        let done = finish(&mut self.out).map_err(|e| SweepError::io(&self.path, e));
        self.committed = done.is_ok();
        done
    }
}

/// Starts writing `file`'s dirty pages to disk without waiting for them
/// (Linux's `sync_file_range`; elsewhere nothing): a later sync then waits
/// only for what was written since. Advisory: a failure is left to that sync.
pub fn start_writeback(file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call reads no memory of ours.
        let _ = unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Writing through `std::io::Write` (for writers of other crates).
impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A temporary name next to `path` that no other write uses: hidden, with
/// this process's id and a per-process counter (`.summary.json.1234.7.tmp`).
pub fn temp_name(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().map_or("file".into(), |f| f.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Makes a rename in `path`'s folder durable (the folder's entry is on disk).
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(parent)?.sync_all()
}

/// Serialises `value` as pretty JSON (with a final newline) and writes it
/// atomically, streaming through a buffer rather than building it in memory.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SweepError> {
    write_atomic_with(path, |f| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
        serde_json::to_writer_pretty(&mut out, value)?;
        out.write_all(b"\n")?;
        out.flush()
    })
}

/// One grid point's text inside `summary.json`: serde_json's pretty printing
/// of it, indented for its place in the `points` array (JSON strings hold no
/// raw line breaks, so indenting after each one is exact). The runner renders
/// points as they complete, which keeps this work off the end of the sweep.
pub fn point_json(p: &PointSummary) -> Vec<u8> {
    let text = serde_json::to_vec_pretty(p).expect("plain data serialises");
    let mut out = Vec::with_capacity(text.len() + text.len() / 4);
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\n    ");
        }
        out.extend_from_slice(line);
    }
    out
}

/// Opens a file of a results folder to read it; `None` when there is none.
/// Only a regular file is read: at one of our names, a named pipe would
/// block the reader, a device (a link to /dev/zero) never end and a folder
/// hold no lines, so those are refused (exit code 2) saying what they are.
/// (Opened without blocking, so that a named pipe is refused, not waited on.)
pub fn open_to_read(path: &Path) -> Result<Option<std::fs::File>, SweepError> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // A socket, or a device this user may not open: refused as what it is.
        Err(e) => match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => {
                return Err(SweepError::Results { path: path.to_path_buf(), msg: not_a_file(m.file_type()) })
            }
            _ => return Err(SweepError::io(path, e)),
        },
    };
    let kind = file.metadata().map_err(|e| SweepError::io(path, e))?.file_type();
    if kind.is_file() {
        return Ok(Some(file));
    }
    Err(SweepError::Results { path: path.to_path_buf(), msg: not_a_file(kind) })
}

/// [`open_to_read`] of a file the folder must hold: a missing one is
/// refused too (exit code 2), as a folder that has been edited.
pub fn open_existing(path: &Path) -> Result<std::fs::File, SweepError> {
    open_to_read(path)?.ok_or_else(|| SweepError::Results {
        path: path.to_path_buf(),
        msg: "is missing: this results folder is incomplete (was the file moved or deleted?)".into(),
    })
}

/// Why an entry at one of netsweep's file names is refused: what it is.
fn not_a_file(kind: std::fs::FileType) -> String {
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    format!("is {what}, where netsweep keeps a file of its own: move it away")
}

/// Refuses (exit code 2, before anything is written) a results folder in
/// which one of the names netsweep keeps a file at holds something else (a
/// folder, a named pipe, a device): writing there would fail half-way, after
/// the manifest said the sweep was running. Links are [`refuse_links`]'.
pub fn refuse_non_files(dir: &Path, names: &[&str]) -> Result<(), SweepError> {
    for name in names {
        let p = dir.join(name);
        match p.symlink_metadata() {
            Ok(m) if !m.is_file() && !m.file_type().is_symlink() => {
                return Err(SweepError::Output {
                    path: dir.to_path_buf(),
                    msg: format!("{name} {}", not_a_file(m.file_type())),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads a JSON file of a results folder; `what` names it in messages
/// ("netsweep summary"). Read through a buffer, never whole into memory.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, SweepError> {
    parse_json(open_existing(path)?, path, what)
}

/// A JSON file netsweep keeps for itself (a lock's holder, the list of
/// figures), if there is one and it reads; `None` otherwise (what is done
/// on doubt is the caller's).
pub fn read_json_if_any<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    serde_json::from_reader(std::io::BufReader::new(open_to_read(path).ok()??)).ok()
}

/// [`read_json`] of the file already open at `path`.
fn parse_json<T: serde::de::DeserializeOwned>(file: std::fs::File, path: &Path, what: &str) -> Result<T, SweepError> {
    serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, file)).map_err(|e| {
        let how = match e.classify() {
            serde_json::error::Category::Io => return SweepError::io(path, e.into()),
            serde_json::error::Category::Eof => "is truncated (not complete JSON)",
            serde_json::error::Category::Data => "does not have the format this netsweep version reads",
            serde_json::error::Category::Syntax => "is not valid JSON",
        };
        SweepError::Results { path: path.to_path_buf(), msg: format!("{how} for a {what}: {e}") }
    })
}

/// Reads a results folder's summary.json.
pub fn read_summary(dir: &Path) -> Result<super::aggregate::Summary, SweepError> {
    read_json(&dir.join(SUMMARY), "netsweep summary")
}

/// Reads the manifest of a results folder, if there is one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, SweepError> {
    let path = dir.join(MANIFEST);
    let Some(file) = open_to_read(&path)? else { return Ok(None) };
    let m: Manifest = parse_json(file, &path, "netsweep manifest")?;
    super::manifest::check_hash(&path, &m.experiment_hash)?;
    Ok(Some(m))
}

/// Creates `dir` and any missing parent; returns the folders it created,
/// outermost first, so a refused run can remove exactly those.
pub fn create_missing(dir: &Path) -> Result<Vec<PathBuf>, SweepError> {
    let missing: Vec<PathBuf> =
        dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(Path::to_path_buf).collect();
    // A folder another process made since `exists()` looked is not a link:
    // only an entry that is itself a link, and still leads nowhere, is refused.
    let dangling = |a: &&PathBuf| a.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) && !a.exists();
    if let Some(link) = missing.iter().find(dangling) {
        return Err(SweepError::Output {
            path: dir.to_path_buf(),
            msg: format!(
                "{} is a symbolic link to something that does not exist: fix or remove the link",
                link.display()
            ),
        });
    }
    if missing.is_empty() && !dir.is_dir() {
        return Err(SweepError::Output { path: dir.to_path_buf(), msg: "exists and is not a folder".into() });
    }
    // One level at a time: a folder another process made meanwhile is not ours to remove.
    let mut made = Vec::new();
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(&d) {
            Ok(()) => made.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => {
                remove_created(&made);
                return Err(SweepError::Output { path: dir.to_path_buf(), msg: format!("cannot be created: {e}") });
            }
        }
    }
    Ok(made)
}

/// Removes what netsweep wrote in a results folder whose first attempt
/// failed before any run was saved: its files and its lock file (the caller
/// still holds the lock), then the folder itself if nothing else is in it.
pub fn remove_failed_attempt(dir: &Path) {
    for name in OURS {
        let _ = std::fs::remove_file(dir.join(name));
    }
    remove_stale_temps(dir);
}

/// Deletes temporary files a killed writer of ours left (`.summary.json.<pid>.<n>.tmp`,
/// `.netsweep-write-test`); call with the folder's lock held.
pub fn remove_stale_temps(dir: &Path) {
    remove_matching(dir, is_our_temp);
}

/// Deletes the temporary files ([`temp_name`]) of `files` in `dir` that a
/// killed writer left (plots/: a figure's); call with the folder's lock held.
pub fn remove_stale_temps_of(dir: &Path, files: &[String]) {
    remove_matching(dir, |name| is_temp_of(name, files));
}

fn remove_matching(dir: &Path, matches: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        if matches(&e.file_name().to_string_lossy()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A temporary file name of one of our files as [`temp_name`] makes it
/// (`.<file>.<pid>.<n>.tmp`, nothing else: a user's `.summary.json.old.tmp`
/// is not ours), or the write probe.
fn is_our_temp(name: &str) -> bool {
    name == WRITE_PROBE || is_temp_of(name, &OURS)
}

/// `name` is the temporary name [`temp_name`] makes for one of `files`.
fn is_temp_of(name: &str, files: &[impl AsRef<str>]) -> bool {
    let numbers = |rest: &str| {
        let mut parts = rest.split('.');
        let digits = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        digits(parts.next()) && digits(parts.next()) && parts.next().is_none()
    };
    files.iter().any(|f| {
        name.strip_prefix('.')
            .and_then(|n| n.strip_prefix(f.as_ref()))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
            .is_some_and(numbers)
    })
}

/// Removes the folders [`create_missing`] made, innermost first, as far as
/// they are empty (a refused run leaves nothing behind).
pub fn remove_created(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// How a results folder is to be used.
#[derive(Debug)]
pub enum Start {
    /// Start afresh; `created`: the folder did not exist.
    Fresh {
        /// The folder was created now.
        created: bool,
    },
    /// The folder holds an earlier attempt at the same experiment (and the
    /// same shard): resume it. Its manifest.
    Resume(Box<Manifest>),
    /// The folder holds this experiment complete with fewer seeds: train
    /// the new seeds only ([`super::grow`]). Its manifest.
    Grow(Box<Manifest>),
}

/// The files a sweep writes into a results folder (and replaces on --force).
pub const OURS: [&str; 5] = [MANIFEST, RUNS, SUMMARY, SUMMARY_CSV, RUNS_PARQUET];

/// Makes `dir` ready for `plan` (and `shard`, for a shard's folder).
///
/// - no folder: created, start afresh;
/// - our results of the same experiment and shard: resume them (unless
///   `force`, which deletes them and starts over);
/// - another experiment's results: refused, naming the settings that differ
///   (`training.epochs: 300 -> 400`), unless `force`;
/// - other files (besides a `shards/` folder): refused unless `force`.
pub fn prepare_dir(dir: &Path, plan: &Plan, force: bool, shard: Option<&ShardInfo>) -> Result<Start, SweepError> {
    let out = |msg: String| SweepError::Output { path: dir.to_path_buf(), msg };
    if !dir.exists() {
        return Err(out("disappeared while the sweep was starting (removed by another program?)".into()));
    }
    if !dir.is_dir() {
        return Err(out("exists and is not a folder".into()));
    }
    let files: Vec<&str> = OURS.into_iter().chain([WRITE_PROBE]).collect();
    let names: Vec<&str> = files.iter().copied().chain([PLOTS]).collect();
    refuse_links(dir, &names, ", or use --out to choose another folder")?;
    refuse_non_files(dir, &files)?;
    let manifest = read_manifest(dir).or_else(|e| if force { Ok(None) } else { Err(e) })?;
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| out(format!("cannot be read: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n != SHARDS && n != super::lock::HOLDER && !is_our_temp(n))
        })
        .collect();
    let had_manifest = manifest.is_some();
    match manifest {
        Some(m) if !force => {
            if m.experiment_hash != plan.hash {
                if let Some(start) = seeds_differ(dir, &m, plan, shard)? {
                    return Ok(start);
                }
                let old = serde_json::to_value(&m.experiment).unwrap_or_default();
                let new = serde_json::to_value(&plan.file).unwrap_or_default();
                return Err(out(format!(
                    "holds results of a different experiment (`{}`, hash {}…; this one is {}…): {}. Use --force to start over (it deletes those results), or --out to choose another folder",
                    m.name,
                    short_hash(&m.experiment_hash),
                    short_hash(&plan.hash),
                    resume::differences_phrase(&old, &new)
                )));
            }
            let had = m.shard.as_ref().map(|s| s.shard());
            let want = shard.map(|s| s.shard());
            if had != want {
                let name = |s: Option<super::shard::Shard>| s.map_or("a whole sweep".to_string(), |s| format!("shard {s}"));
                return Err(out(format!(
                    "holds {} of this experiment, not {}. Use --force to start over, or --out to choose another folder",
                    name(had),
                    name(want)
                )));
            }
            probe_writable(dir).map_err(|e| out(format!("is not writable: {e}")))?;
            return Ok(Start::Resume(Box::new(m)));
        }
        None if !entries.is_empty() && !force => {
            return Err(out(
                "is not empty and holds no netsweep results; use --force to write into it, or --out to choose another folder"
                    .into(),
            ))
        }
        _ => {}
    }
    // Without a manifest.json the folder holds no netsweep run: a file in it
    // named like one of ours is someone else's, and --force does not replace it.
    if !dir.join(MANIFEST).exists() {
        if let Some(name) = OURS.iter().find(|n| dir.join(n).symlink_metadata().is_ok()) {
            return Err(out(format!(
                "holds a {name} but no manifest.json, so it is not from a netsweep run; netsweep does not replace files it did not write, even with --force: move it away, or use --out to choose another folder"
            )));
        }
    }
    // Nothing is deleted from a folder this process cannot write to.
    probe_writable(dir).map_err(|e| out(format!("is not writable: {e}")))?;
    // netsweep's own figures go with the results they were drawn from (first:
    // they are the cheaper to lose); anything else in plots/ stays. A failure
    // past the probe has changed the folder: exit code 1, not 2.
    let plots = dir.join(PLOTS);
    if had_manifest && plots.is_dir() {
        remove_listed_plots(&plots, &[])?;
        let _ = std::fs::remove_dir(&plots);
    }
    for name in OURS {
        let p = dir.join(name);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| SweepError::io(&p, e))?;
        }
    }
    Ok(Start::Fresh { created: false })
}

/// A folder holding this experiment with another seed count: grown when it
/// is a complete whole sweep with fewer seeds, refused otherwise (with what
/// to do); `None` when the experiments differ in more than seeds.
fn seeds_differ(dir: &Path, m: &Manifest, plan: &Plan, shard: Option<&ShardInfo>) -> Result<Option<Start>, SweepError> {
    let out = |msg: String| Err(SweepError::Output { path: dir.to_path_buf(), msg });
    let (from, to) = (m.seeds, plan.seeds);
    match super::grow::relation(m, plan) {
        super::grow::Seeds::Unrelated => Ok(None),
        super::grow::Seeds::More { .. } => out(format!(
            "holds {from} seeds of this experiment, and this run asks for {to}: seeds do not shrink in place. The first {to} seeds of each point are in runs.jsonl (seed_index < {to}); use --force to start over with {to}, or --out to choose another folder"
        )),
        super::grow::Seeds::Fewer { .. } if shard.is_some() || m.shard.is_some() => out(format!(
            "holds {from} seeds of this experiment{}; a shard folder does not grow: merge the shards (`sweep merge`), then run with seeds = {to} without --shard to grow the merged folder",
            m.shard.as_ref().map_or(String::new(), |s| format!(" (shard {})", s.shard()))
        )),
        super::grow::Seeds::Fewer { .. } if m.status != super::manifest::Status::Complete => out(format!(
            "holds an unfinished {from}-seed sweep of this experiment ({}): finish it first (run it again with seeds = {from}), then run with seeds = {to} to grow it, or use --force to start over",
            m.status
        )),
        super::grow::Seeds::Fewer { .. } => {
            probe_writable(dir).map_err(|e| SweepError::Output { path: dir.to_path_buf(), msg: format!("is not writable: {e}") })?;
            Ok(Some(Start::Grow(Box::new(m.clone()))))
        }
    }
}

/// The file that tests whether a folder can be written.
const WRITE_PROBE: &str = ".netsweep-write-test";

fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let p = dir.join(WRITE_PROBE);
    own_file().write(true).create(true).truncate(true).open(&p)?;
    std::fs::remove_file(&p)
}

/// Options for opening one of netsweep's own files in place (appending to
/// runs.jsonl, cutting it back, the lock file, the write probe): the open
/// fails (ELOOP) where the name is a symbolic link, instead of writing to
/// whatever the link points at.
pub fn own_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.custom_flags(libc::O_NOFOLLOW);
    o
}

/// Refuses (exit code 2, before anything is written) a results folder in
/// which one of the names netsweep writes in place is a symbolic link: it
/// would truncate or overwrite the link's target, a file that is not its own
/// (or, for `plots/`, write and delete figures in another folder).
/// `or` follows "remove the link" in the message (another way out, or "").
pub fn refuse_links(dir: &Path, names: &[&str], or: &str) -> Result<(), SweepError> {
    for name in names {
        let p = dir.join(name);
        if p.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(link_refused(&p, or));
        }
    }
    Ok(())
}

/// Opens one of netsweep's own files in place with `options` (from
/// [`own_file`]). A name that has become a symbolic link since
/// [`refuse_links`] looked (the open fails with ELOOP) is refused the same
/// way, exit code 2, rather than reported as an I/O error.
pub fn open_own(options: &std::fs::OpenOptions, path: &Path) -> Result<std::fs::File, SweepError> {
    options.open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => link_refused(path, ""),
        _ => SweepError::io(path, e),
    })
}

/// The refusal of a symbolic link at `path`, one of our names.
fn link_refused(path: &Path, or: &str) -> SweepError {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let to = std::fs::read_link(path).map_or_else(|_| "?".into(), |t| t.display().to_string());
    SweepError::Output {
        path: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        msg: format!(
            "{name} is a symbolic link (to {to}); netsweep writes its own files there and does not follow links: remove the link{or}"
        ),
    }
}

/// `summary.csv`'s header: the point, one column per axis (in grid
/// order), then the point's statistics.
pub fn csv_header(grid: &Grid) -> Vec<u8> {
    let [point, stats @ ..] = super::names::CSV_COLUMNS;
    csv_line(std::iter::once(point).chain(grid.axes().iter().map(|a| a.name.as_str())).chain(stats))
}

/// `summary.csv`'s row of one grid point (`epochs`: the budget, for a
/// censored median, written `>epochs`).
pub fn csv_row(grid: &Grid, epochs: usize, p: &PointSummary) -> Vec<u8> {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let axes = grid.axes().iter().zip(grid.coords(p.point)).map(|(a, i)| a.values.label(i));
    csv_line(std::iter::once(p.point.to_string()).chain(axes).chain([
        p.runs.to_string(),
        p.converged.to_string(),
        p.convergence_rate.to_string(),
        format!("{:.6}", p.rate_ci_low),
        format!("{:.6}", p.rate_ci_high),
        p.converged_at_end.to_string(),
        p.solved_at_end_rate.to_string(),
        format!("{:.6}", p.solved_ci_low),
        format!("{:.6}", p.solved_ci_high),
        p.outcomes.transient.to_string(),
        p.outcomes.plateau.to_string(),
        p.outcomes.slow.to_string(),
        p.diverged.to_string(),
        opt(p.epochs_to_converge.as_ref().map(|q| q.median)),
        p.median_epochs_all.map_or_else(|| format!(">{}", epochs), |m| m.to_string()),
        opt(p.final_train_loss.as_ref().map(|m| m.mean)),
        opt(p.final_train_metric.as_ref().map(|m| m.mean)),
        opt(p.final_test_metric.as_ref().map(|q| q.median)),
    ]))
}

/// One CSV line (fields quoted where they need it).
fn csv_line<S: AsRef<[u8]>>(fields: impl IntoIterator<Item = S>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().buffer_capacity(256).from_writer(Vec::new());
    let _ = w.write_record(fields);
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod temp_tests {
    use super::*;

    #[test]
    fn only_our_temporary_names_are_ours() {
        let made = temp_name(Path::new("/r/summary.json"));
        assert!(is_our_temp(made.file_name().unwrap().to_str().unwrap()));
        for ours in [".summary.json.123.0.tmp", ".runs.jsonl.9.17.tmp", ".runs.parquet.1.2.tmp", WRITE_PROBE] {
            assert!(is_our_temp(ours), "{ours}");
        }
        for theirs in [
            ".summary.json.old.tmp",
            ".summary.json.1.tmp",
            ".summary.json.1.2.3.tmp",
            ".summary.json..2.tmp",
            ".summary.json.1.2.tmp.bak",
            "summary.json.1.2.tmp",
            ".notes.1.2.tmp",
            ".summary.jsonx.1.2.tmp",
        ] {
            assert!(!is_our_temp(theirs), "{theirs}");
        }
    }

    /// A link met at the open itself (made after `refuse_links` looked) is
    /// refused as that check refuses it, and nothing is written through it.
    #[test]
    fn a_link_met_at_the_open_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("theirs.txt");
        std::fs::write(&theirs, "their lines\n").unwrap();
        let link = dir.path().join(RUNS);
        std::os::unix::fs::symlink(&theirs, &link).unwrap();
        for options in [own_file().create(true).append(true), own_file().write(true)] {
            let e = open_own(options, &link).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{e}");
            let msg = e.to_string();
            assert!(msg.contains("runs.jsonl is a symbolic link") && msg.contains("remove the link"), "{msg}");
        }
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "their lines\n");
        // A plain file opens as before.
        std::fs::remove_file(&link).unwrap();
        assert!(open_own(own_file().create(true).append(true), &link).is_ok());
    }
}
