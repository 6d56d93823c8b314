//! What a sweep will cost before it starts: the size of runs.jsonl and
//! summary.json, and the peak memory, from the plan alone. `sweep validate`
//! prints them; `sweep run` refuses (exit 2, unless `--force`) a sweep whose
//! files would not fit on the output disk or whose memory would not fit in
//! the memory available now.
//!
//! The file sizes are measured, not modelled: one synthetic record per
//! family (every curve at its recorded length, weights where kept) and one
//! synthetic point summary are serialised exactly as the runner would, and
//! multiplied out. Values are written as 9-digit floats such as 0.12345679,
//! the typical width of an f32 in shortest round-trip form.

use super::aggregate::aggregate_point;
use super::family::param_count;
use super::output::point_json;
use super::plan::Plan;
use super::record::{Curves, RunRecord};

/// A sweep's cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Bytes of runs.jsonl.
    pub runs_bytes: u64,
    /// Bytes of summary.json.
    pub summary_bytes: u64,
    /// Bytes of runs.parquet (its values uncompressed; 0 without the
    /// `parquet` feature).
    pub parquet_bytes: u64,
    /// Peak resident memory of `sweep run`, bytes.
    pub peak_memory: u64,
}

/// What the process itself takes (binary, font, threads' stacks, the
/// allocator's per-thread arenas), measured: 6 MB for a one-run sweep, and
/// up to 32 MB once a million-point sweep has passed through the arenas.
const BASE_MEMORY: u64 = 32 << 20;

/// The largest summary.json figures are drawn from ([`crate::plot`] holds
/// the summary in memory, about twice its size on disk, measured): past it,
/// `sweep run` and `sweep merge` skip the figures and `sweep plot` refuses,
/// so plotting's memory is bounded like the sweep's.
pub const MAX_PLOTTED_SUMMARY: u64 = 128_000_000;

/// Memory of plotting per byte of summary.json.
const PLOT_MEMORY_PER_BYTE: u64 = 2;

/// Buffers of the files written while training (runs.jsonl, summary.json, summary.csv).
const FILE_BUFFERS: u64 = 3 << 20;

/// A run's record at full length: every recorded epoch, weights if `weights`.
fn typical_record(plan: &Plan, run: usize, weights: bool) -> RunRecord {
    let family = plan.family_of(run / plan.seeds);
    let n = plan.record_epochs.len();
    let has_test = plan.data(family).test.is_some();
    let curve = || vec![0.123_456_79f32; n];
    RunRecord {
        run,
        point: run / plan.seeds,
        params: plan.grid.params(run / plan.seeds),
        seed_index: run % plan.seeds,
        seed: u64::MAX / 3,
        converged: true,
        epochs_to_converge: Some(plan.epochs),
        converged_at_end: true,
        diverged: false,
        diverged_at: None,
        outcome: super::record::Class::Transient,
        final_train_loss: Some(0.123_456_79),
        final_train_metric: Some(0.123_456_79),
        final_test_loss: has_test.then_some(0.123_456_79),
        final_test_metric: has_test.then_some(0.123_456_79),
        best_test_metric: has_test.then_some(0.123_456_79),
        final_validation_metric: has_test.then_some(0.123_456_79),
        curves: Curves {
            train_loss: curve(),
            train_metric: curve(),
            test_loss: has_test.then(curve),
            test_metric: has_test.then(curve),
        },
        weights: weights.then(|| vec![0.123_456_79f32; param_count(&family.layers).unwrap_or(0)]),
    }
}

fn json_len(r: &RunRecord) -> u64 {
    serde_json::to_vec(r).map_or(0, |v| v.len() as u64 + 1)
}

/// The cost of `plan` run on `threads` worker threads.
pub fn estimate(plan: &Plan, threads: usize) -> Estimate {
    let kept = plan.keep_weights.min(plan.seeds) as u64;
    let (mut runs_bytes, mut summary_bytes, mut chunk_bytes, mut pending, mut ensemble) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for f in &plan.families {
        let first = f.points.start * plan.seeds;
        let plain = json_len(&typical_record(plan, first, false));
        let with_weights = json_len(&typical_record(plan, first, true));
        let points = f.points.len() as u64;
        runs_bytes += points * (plan.seeds as u64 * plain + kept * with_weights.saturating_sub(plain));
        let sample: Vec<RunRecord> = (0..plan.seeds.min(4)).map(|s| typical_record(plan, first + s, false)).collect();
        summary_bytes += points * (point_json(&aggregate_point(plan, f.points.start, sample)).len() as u64 + 8);
        chunk_bytes = chunk_bytes.max(f.width as u64 * with_weights);
        // Points not yet complete hold their seeds' columns: those a chunk
        // spans, and the next.
        // Adaptive sweeps hold every point open until the last round.
        let open_points = if plan.adaptive.is_some() {
            f.points.len() as u64
        } else {
            (f.width / plan.seeds + 2).min(f.points.len()) as u64
        };
        pending = pending.max(open_points * plan.seeds as u64 * column_bytes(plan));
        ensemble = ensemble.max(ensemble_bytes(plan, f));
    }
    let data: u64 = plan
        .datasets
        .iter()
        .map(|d| 4 * (d.train.x.len() + d.train.y.len() + d.test.as_ref().map_or(0, |t| t.x.len() + t.y.len())) as u64)
        .sum();
    // Training: a chunk per worker and about as many queued for the writer,
    // as records (about three times their JSON) and as JSON lines, plus the
    // open points' columns. Then the figures, from summary.json.
    let (parquet_bytes, parquet_memory) = parquet_cost(plan);
    let training = (2 * threads as u64 + 1) * chunk_bytes * 4
        + threads as u64 * ensemble
        + pending
        + FILE_BUFFERS
        + parquet_memory;
    let figures = if summary_bytes <= MAX_PLOTTED_SUMMARY { PLOT_MEMORY_PER_BYTE * summary_bytes } else { 0 };
    Estimate { runs_bytes, summary_bytes, parquet_bytes, peak_memory: BASE_MEMORY + data + training.max(figures) }
}

/// What one worker's ensemble of family `f` holds while it trains: per
/// member its weights, their gradients and up to three optimizer arrays,
/// and the layers' outputs and deltas for a batch and for an evaluation
/// chunk, and its copy of the targets; plus one copy of the inputs.
fn ensemble_bytes(plan: &Plan, f: &super::family::Family) -> u64 {
    let members = f.width.min(plan.seeds * f.points.len()).max(1) as u64;
    let params = param_count(&f.layers).unwrap_or(0) as u64;
    let units: u64 =
        f.layers.iter().map(|l| if let crate::layers::Layer::Dense(d) = l { d.units as u64 } else { 0 }).sum();
    let d = plan.data(f);
    let rows = f.batch_size.min(d.train.x.nrows()) as u64;
    let eval_rows = crate::ensemble::EVAL_CHUNK as u64;
    let (x, y) = (d.train.x.len() as u64, d.train.y.len() as u64);
    4 * (members * (5 * params + 2 * (rows + eval_rows) * units + y) + x)
}

/// runs.parquet's bytes (uncompressed: an upper bound) and the memory of
/// its row groups in flight: the one being filled, the one queued and the
/// one being encoded, twice over for the encoder's pages, plus the encoder
/// thread's own buffers (zstd, column writers: measured 8–16 MB by
/// `scripts/bench-memory.sh`).
#[cfg(feature = "parquet")]
const ENCODER_MEMORY: u64 = 16 << 20;

#[cfg(feature = "parquet")]
fn parquet_cost(plan: &Plan) -> (u64, u64) {
    use super::runs_parquet::{ROWS_PER_GROUP, VALUES_PER_GROUP};
    let curves = if plan.datasets[0].test.is_some() { 4 } else { 2 };
    let values = (plan.record_epochs.len() * curves) as u64;
    let weights = plan.families.iter().filter_map(|f| super::family::param_count(&f.layers)).max().unwrap_or(0) as u64;
    let kept = (plan.keep_weights.min(plan.seeds) * plan.grid.points()) as u64;
    let runs = plan.runs() as u64;
    let bytes = runs * (4 * values + 128) + kept * 4 * weights;
    let group = (ROWS_PER_GROUP as u64).min(runs) * (values + weights + 32).min(VALUES_PER_GROUP as u64);
    (bytes, 4 * 4 * group.min(VALUES_PER_GROUP as u64 + 32 * ROWS_PER_GROUP as u64) + ENCODER_MEMORY)
}

#[cfg(not(feature = "parquet"))]
fn parquet_cost(_: &Plan) -> (u64, u64) {
    (0, 0)
}

/// Bytes a run takes in its point's columns ([`super::point_runs`]): 4 per
/// recorded curve value and final figure, 8 for its epochs to converge.
fn column_bytes(plan: &Plan) -> u64 {
    use super::point_runs::{CURVES, FINALS};
    // Without a test set only the training curves and finals are kept.
    let (curves, finals) = if plan.datasets[0].test.is_some() { (CURVES, FINALS) } else { (2, 2) };
    (4 * (plan.record_epochs.len() * curves + finals) + 8) as u64
}

/// Bytes as people read them: "937 MB", "4.2 GB", "812 kB".
pub fn human_bytes(b: u64) -> String {
    let b = b as f64;
    match b {
        _ if b >= 1e12 => format!("{:.1} TB", b / 1e12),
        _ if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        _ if b >= 1e6 => format!("{:.0} MB", b / 1e6),
        _ if b >= 1e3 => format!("{:.0} kB", b / 1e3),
        _ => format!("{b:.0} B"),
    }
}

/// Memory the system can give now (Linux's MemAvailable), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Free bytes for an unprivileged writer on the file system holding `dir`
/// (or its nearest existing ancestor), if known.
pub fn free_disk(dir: &std::path::Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let existing =
        dir.ancestors().find(|a| a.exists() && !a.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let c = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a valid out-pointer for the call.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| (s.f_bavail as u64).saturating_mul(s.f_frsize as u64))
}

/// Refuses (exit 2) a sweep into `dir` whose peak memory exceeds the memory
/// available now, or whose files exceed the output disk's free space (less
/// what an earlier attempt already wrote there); `--force` skips this check.
pub fn check_fits(plan: &Plan, dir: &std::path::Path, threads: usize) -> Result<(), super::error::SweepError> {
    let e = estimate(plan, threads);
    let refuse = |msg: String| Err(super::error::SweepError::Output { path: dir.to_path_buf(), msg });
    if let Some(free) = available_memory().filter(|&m| e.peak_memory > m) {
        return refuse(format!(
            "this sweep needs up to about {} of memory, and {} is available now: use fewer seeds per grid point, or record fewer points per curve (record.points); --force runs it anyway",
            human_bytes(e.peak_memory),
            human_bytes(free)
        ));
    }
    let written = std::fs::metadata(dir.join(super::output::RUNS)).map_or(0, |m| m.len());
    let needed = (e.runs_bytes + e.summary_bytes + e.parquet_bytes).saturating_sub(written);
    if let Some(free) = free_disk(dir).filter(|&f| needed > f) {
        return refuse(format!(
            "this sweep writes about {} (runs.jsonl, summary.json, runs.parquet), and its disk has {} free: use fewer grid points or seeds, or record fewer points per curve (record.points, record.weights); --force runs it anyway",
            human_bytes(needed),
            human_bytes(free)
        ));
    }
    Ok(())
}
