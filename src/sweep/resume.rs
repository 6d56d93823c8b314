//! Picking up an interrupted sweep, and reading runs.jsonl back chunk by chunk.
//!
//! The runner appends runs.jsonl in chunk order, one whole chunk at a time,
//! flushed as each chunk is written: whatever a crash leaves is a prefix of
//! complete chunks, possibly followed by part of the next chunk and a torn
//! last line. Resuming keeps the longest prefix of complete chunks (every
//! record present, parseable, in order and belonging to this experiment),
//! cuts the file back to its end, and trains the rest. The finished file is
//! byte-identical to an uninterrupted run's, and so is summary.json.
//!
//! A folder is resumed only for the same resolved experiment (same hash);
//! otherwise [`differences`] says which settings changed.

use super::error::SweepError;
use super::plan::{Chunk, Plan};
use super::record::RunRecord;
use serde_json::Value;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Reads runs.jsonl one chunk at a time, checking each record.
pub struct RunsReader {
    reader: BufReader<File>,
    path: PathBuf,
    line_no: usize,
    offset: u64,
    line: Vec<u8>,
}

/// One chunk read back.
pub enum ChunkRead {
    /// Every record of the chunk, in order: the lines as bytes (newlines
    /// included) and the parsed records.
    Complete {
        /// The chunk's lines, exactly as in the file.
        bytes: Vec<u8>,
        /// The parsed records.
        records: Vec<RunRecord>,
    },
    /// The chunk is not all there (or a line is wrong): why.
    Incomplete(String),
}

impl RunsReader {
    /// Opens a runs file; `None` if it does not exist.
    pub fn open(path: &Path) -> Result<Option<Self>, SweepError> {
        Ok(super::output::open_to_read(path)?.map(|f| RunsReader {
            reader: BufReader::with_capacity(1 << 20, f),
            path: path.to_path_buf(),
            line_no: 0,
            offset: 0,
            line: Vec::with_capacity(1 << 14),
        }))
    }

    /// Bytes of complete chunks read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the records of `chunk`, which must come next. On
    /// [`ChunkRead::Incomplete`] the reader is left somewhere inside the
    /// chunk; stop reading then.
    pub fn read_chunk(&mut self, plan: &Plan, chunk: &Chunk) -> Result<ChunkRead, SweepError> {
        self.read_runs(plan, chunk.start..chunk.end)
    }

    /// Reads the lines of `runs`, in that order, as [`RunsReader::read_chunk`].
    pub fn read_runs(
        &mut self,
        plan: &Plan,
        runs: impl ExactSizeIterator<Item = usize>,
    ) -> Result<ChunkRead, SweepError> {
        let mut bytes = Vec::new();
        let mut records = Vec::with_capacity(runs.len());
        for run in runs {
            self.line.clear();
            let n = self.reader.read_until(b'\n', &mut self.line).map_err(|e| SweepError::io(&self.path, e))?;
            self.line_no += 1;
            if n == 0 {
                return Ok(ChunkRead::Incomplete(format!("ends before run {run}")));
            }
            if self.line.last() != Some(&b'\n') {
                return Ok(ChunkRead::Incomplete(format!("line {} is cut short (torn last line)", self.line_no)));
            }
            let r: RunRecord = match serde_json::from_slice(&self.line[..self.line.len() - 1]) {
                Ok(r) => r,
                Err(e) => return Ok(ChunkRead::Incomplete(format!("line {} is not a run record: {e}", self.line_no))),
            };
            let seeds = plan.seeds;
            if r.run != run || r.point != run / seeds || r.seed_index != run % seeds || r.seed != plan.run_seed(run) {
                return Ok(ChunkRead::Incomplete(format!(
                    "line {} holds run {} (seed {}) where run {run} (seed {}) was expected",
                    self.line_no,
                    r.run,
                    r.seed,
                    plan.run_seed(run)
                )));
            }
            // A line that is a record, but not one this sweep can have
            // written, was edited: refused, never cut back.
            r.check(plan).map_err(|why| SweepError::Results {
                path: self.path.clone(),
                msg: format!("line {}: {why}: the line was edited; mend or remove it", self.line_no),
            })?;
            bytes.extend_from_slice(&self.line);
            records.push(r);
        }
        self.offset += bytes.len() as u64;
        Ok(ChunkRead::Complete { bytes, records })
    }

    /// Whether the file ends here.
    pub fn at_end(&mut self) -> Result<bool, SweepError> {
        self.reader.fill_buf().map(|b| b.is_empty()).map_err(|e| SweepError::io(&self.path, e))
    }
}

/// What a resume found in runs.jsonl.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scan {
    /// Leading chunks complete (they are kept).
    pub chunks_done: usize,
    /// Runs in those chunks.
    pub runs_done: usize,
    /// Length of the kept part of the file.
    pub keep_bytes: u64,
    /// Bytes after it, dropped.
    pub dropped_bytes: u64,
    /// Whole lines dropped (records of an unfinished chunk, or lines that do not fit after it).
    pub dropped_lines: usize,
    /// The file ended in the middle of a line.
    pub torn_line: bool,
    /// Why reading stopped before the end of the file, when it did.
    pub reason: Option<String>,
}

impl Scan {
    /// One line for the log: what is kept and what is dropped.
    pub fn describe(&self, chunks: usize, runs: usize) -> String {
        let mut s = format!(
            "resuming: {} of {chunks} chunks ({} of {runs} runs) already done",
            self.chunks_done, self.runs_done
        );
        if self.dropped_bytes > 0 {
            let mut parts = Vec::new();
            if self.dropped_lines > 0 {
                parts.push(format!("{} lines after the last complete chunk", self.dropped_lines));
            }
            if self.torn_line {
                parts.push("a torn last line".to_string());
            }
            if parts.is_empty() {
                parts.push(format!("{} bytes", self.dropped_bytes));
            }
            s.push_str(&format!("; dropped {}", parts.join(" and ")));
            if let Some(r) = &self.reason {
                s.push_str(&format!(" ({r})"));
            }
        }
        s
    }
}

/// Reads the leading complete chunks of `path` (in the order of `chunks`),
/// handing each of their records to `each`, and says what is kept. A missing
/// file is an empty one. Does not change the file: see [`truncate`].
///
/// What a stopped sweep leaves after its complete chunks is part of one
/// chunk: some of its lines, perhaps a torn last one (or, after a power
/// loss, a block of zeros). That is dropped, to be trained again. More
/// whole lines than that chunk holds did not come from a stop: the file was
/// edited or mixed with another, and it is refused (exit code 2) rather
/// than cut back, which would throw away every run after the bad line.
pub fn scan(
    path: &Path,
    plan: &Plan,
    chunks: &[Chunk],
    mut each: impl FnMut(RunRecord) -> Result<(), SweepError>,
) -> Result<Scan, SweepError> {
    let Some(mut reader) = RunsReader::open(path)? else {
        return Ok(Scan::default());
    };
    let mut scan = Scan::default();
    // Lines the unfinished chunk, if any, may have left.
    let mut unfinished = 0;
    for chunk in chunks {
        match reader.read_chunk(plan, chunk)? {
            ChunkRead::Complete { records, .. } => {
                scan.chunks_done += 1;
                scan.runs_done += records.len();
                records.into_iter().try_for_each(&mut each)?;
            }
            ChunkRead::Incomplete(why) => {
                scan.reason = Some(why);
                unfinished = chunk.end - chunk.start;
                break;
            }
        }
    }
    scan.keep_bytes = reader.offset();
    let len = std::fs::metadata(path).map_err(|e| SweepError::io(path, e))?.len();
    scan.dropped_bytes = len.saturating_sub(scan.keep_bytes);
    if scan.dropped_bytes > 0 {
        if scan.reason.is_none() {
            scan.reason = Some("lines after the last run".into());
        }
        (scan.dropped_lines, scan.torn_line) =
            refuse_unless_stopped(path, scan.keep_bytes, unfinished, scan.reason.as_deref().unwrap_or_default())?;
    }
    Ok(scan)
}

/// What follows the first `kept` bytes of `path` (its last whole group of
/// runs) must be what a stopped sweep leaves: at most the `unfinished` runs
/// of the group it was writing, as whole lines, and perhaps a torn last
/// line. More whole lines were not left by a stop (the file was edited or
/// mixed with another): refused (exit code 2), so that they are not cut
/// off. `why` says where reading stopped. Returns the whole lines and
/// whether a torn line ends the file.
pub fn refuse_unless_stopped(
    path: &Path,
    kept: u64,
    unfinished: usize,
    why: &str,
) -> Result<(usize, bool), SweepError> {
    let (lines, torn) = count_tail(path, kept)?;
    if lines <= unfinished {
        return Ok((lines, torn));
    }
    let after = if unfinished == 0 {
        format!("{lines} whole lines follow the sweep's last run")
    } else {
        format!("{lines} whole lines follow the last whole group of runs, more than the {unfinished} of the one group a stopped sweep leaves unfinished")
    };
    Err(SweepError::Results {
        path: path.to_path_buf(),
        msg: format!(
            "{why}; {after}: the file was edited or mixed with another, so netsweep does not cut it back; mend or remove those lines, or start over with --force"
        ),
    })
}

/// The whole lines of `path` after its first `from` bytes, and whether a
/// line is left without its newline at the end (read through a buffer).
pub fn count_tail(path: &Path, from: u64) -> Result<(usize, bool), SweepError> {
    let io = |e| SweepError::io(path, e);
    let mut f = super::output::open_existing(path)?;
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(from)).map_err(io)?;
    let mut reader = BufReader::with_capacity(1 << 20, f);
    let (mut lines, mut last) = (0, b'\n');
    loop {
        let buf = reader.fill_buf().map_err(io)?;
        let Some(&end) = buf.last() else { break };
        lines += buf.iter().filter(|&&b| b == b'\n').count();
        last = end;
        let n = buf.len();
        reader.consume(n);
    }
    Ok((lines, last != b'\n'))
}

/// Cuts `path` back to its first `len` bytes (what [`scan`] kept).
pub fn truncate(path: &Path, len: u64) -> Result<(), SweepError> {
    let f = super::output::open_own(super::output::own_file().write(true), path)?;
    f.set_len(len).map_err(|e| SweepError::io(path, e))?;
    f.sync_all().map_err(|e| SweepError::io(path, e))
}

/// The settings that differ between two resolved experiments (JSON forms),
/// as `path: old -> new` lines in document order, e.g.
/// `training.epochs: 300 -> 400`. Unset values read `(unset)`.
pub fn differences(old: &Value, new: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into("", old, new, &mut out);
    out
}

fn show(v: &Value) -> String {
    let s = match v {
        Value::Null => "(unset)".to_string(),
        v => v.to_string(),
    };
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn diff_into(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().collect();
            keys.extend(b.keys().filter(|k| !a.contains_key(*k)));
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                diff_into(&p, a.get(k).unwrap_or(&Value::Null), b.get(k).unwrap_or(&Value::Null), out);
            }
        }
        (a, b) if a != b => {
            out.push(format!("{}: {} -> {}", if path.is_empty() { "(experiment)" } else { path }, show(a), show(b)))
        }
        _ => {}
    }
}

/// [`differences`] as one phrase: the first few, then how many more.
pub fn differences_phrase(old: &Value, new: &Value) -> String {
    let d = differences(old, new);
    match d.len() {
        0 => "no setting differs (the experiment hash does; was the manifest edited?)".into(),
        n if n <= 4 => d.join(", "),
        n => format!("{}, and {} more", d[..4].join(", "), n - 4),
    }
}

/// The resume hint: `argv` as a shell command, quoted where needed, with
/// `--force` left out (it would start over).
pub fn resume_command(argv: &[String]) -> String {
    argv.iter().filter(|a| a.as_str() != "--force").map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        && !s.starts_with('=');
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
