//! `sweep compare DIR --along AXIS [--baseline VALUE]`: paired comparisons
//! along one axis. Seed index s starts from the same weights at every grid
//! point with the same network shape and init, so two points that differ
//! only in AXIS are compared seed by seed: the 2×2 table of converged /
//! not converged over the shared seeds, the difference of convergence rates
//! with Newcombe's paired interval, McNemar's exact p-value, Holm's
//! adjustment over every comparison of the command, and, over the seeds
//! that converged at both points, the median paired difference in epochs to
//! converge with a Wilcoxon signed-rank p-value ([`super::paired`]).
//!
//! Reads manifest.json (the grid) and runs.jsonl (a few fields of each run,
//! 16 bytes a run in memory); writes `compare-<axis>.json` and
//! `compare-<axis>.csv` in DIR, atomically, holding the folder's lock.
//! Refuses (exit 2, nothing written) an incomplete folder, an unknown axis
//! or baseline, and an axis whose points do not share initial weights.

use super::config::Count;
use super::error::SweepError;
use super::grid::{kind_of, Grid, Kind, Params};
use super::lock::with_lock;
use super::manifest::{Manifest, Status};
use super::output::{self, read_manifest};
use super::paired::{holm, median, wilcoxon, Table};
use super::record::Outcome;
use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Significance level of the printed table (on Holm-adjusted p-values).
pub const ALPHA: f64 = 0.05;

/// What `sweep compare` is asked.
#[derive(Clone, Debug, Default)]
pub struct CompareOptions {
    /// The axis to compare along.
    pub along: String,
    /// The value every other is compared with (default: the axis' first).
    pub baseline: Option<String>,
}

/// One grid point against its baseline point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The compared grid point.
    pub point: usize,
    /// The point that differs from it only in the axis, at the baseline value.
    pub baseline_point: usize,
    /// The compared point's value of the axis.
    pub value: String,
    /// The compared point's parameters, by axis name.
    pub params: Params,
    /// Seeds both points share (the pairs).
    pub n: usize,
    /// Pairs converged at both points.
    pub n11: usize,
    /// Pairs converged at the compared point only.
    pub n10: usize,
    /// Pairs converged at the baseline point only.
    pub n01: usize,
    /// Pairs converged at neither.
    pub n00: usize,
    /// Convergence rate at the compared point.
    pub rate: f64,
    /// Convergence rate at the baseline point.
    pub baseline_rate: f64,
    /// rate − baseline_rate.
    pub rate_diff: f64,
    /// Lower end of its 95% interval (Newcombe, paired).
    pub diff_ci_low: f64,
    /// Upper end of its 95% interval.
    pub diff_ci_high: f64,
    /// McNemar's exact two-sided p-value.
    pub p_mcnemar: f64,
    /// p_mcnemar adjusted by Holm's method over every comparison in the file.
    pub p_holm: f64,
    /// Pairs that converged (first hit) at both points: the epochs statistics' sample.
    pub both_converged: usize,
    /// Median over those pairs of (epochs to converge at the point − at the baseline).
    pub median_epochs_diff: Option<f64>,
    /// Wilcoxon signed-rank two-sided p-value of those differences.
    pub p_wilcoxon: Option<f64>,
}

/// `compare-<axis>.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareFile {
    /// Experiment name.
    pub name: String,
    /// Hash of the experiment compared.
    pub experiment_hash: String,
    /// The axis compared along.
    pub axis: String,
    /// Its baseline value.
    pub baseline: String,
    /// Seeds per point.
    pub seeds: usize,
    /// What a pair's outcome is.
    pub outcome: String,
    /// The methods, with their references.
    pub methods: Methods,
    /// One entry per compared point, in point order.
    pub comparisons: Vec<Comparison>,
}

/// The statistical methods of a comparison file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Methods {
    /// The interval of rate_diff.
    pub interval: String,
    /// The test of p_mcnemar.
    pub test: String,
    /// The adjustment of p_holm.
    pub adjustment: String,
    /// The test of p_wilcoxon.
    pub epochs: String,
}

impl Methods {
    fn used() -> Methods {
        Methods {
            interval: "95% Newcombe hybrid score (square-and-add) interval for paired proportions, Newcombe (1998) Stat Med 17:2635, method 10".into(),
            test: "exact McNemar: two-sided binomial test (p = 1/2) on the discordant pairs n10, n01".into(),
            adjustment: "Holm (1979) step-down, over every comparison in this file".into(),
            epochs: "Wilcoxon signed-rank, two-sided, zeros dropped; exact below 51 untied differences, else normal approximation with tie correction".into(),
        }
    }
}

/// The comparison file names in DIR for `axis`.
pub fn file_names(dir: &Path, axis: &str) -> (PathBuf, PathBuf) {
    let stem = format!("compare-{}", super::names::slug(axis));
    (dir.join(format!("{stem}.json")), dir.join(format!("{stem}.csv")))
}

fn refuse(dir: &Path, msg: String) -> SweepError {
    SweepError::Results { path: dir.to_path_buf(), msg }
}

/// Compares along `opts.along` in the results folder `dir`, writes the
/// comparison files and hands them back, with the sweep's grid.
pub fn compare(dir: &Path, opts: &CompareOptions) -> Result<(CompareFile, Grid), SweepError> {
    let manifest = read_complete_manifest(dir)?;
    let grid = &manifest.axes;
    let (axis, baseline) = pick_axis(dir, grid, opts)?;
    with_lock(dir, "sweep compare", |lock| {
        let outcomes = read_outcomes(dir, &manifest)?;
        let file = build(&manifest, axis, baseline, &outcomes).map_err(|msg| refuse(dir, msg))?;
        lock.announce()?;
        let (json, csv) = file_names(dir, &file.axis);
        output::write_json(&json, &file)?;
        output::write_atomic(&csv, &csv_text(grid, &file))?;
        Ok(file)
    })
    .map(|file| (file, manifest.axes.clone()))
}

fn read_complete_manifest(dir: &Path) -> Result<Manifest, SweepError> {
    if !dir.exists() {
        return Err(refuse(dir, "no such folder".into()));
    }
    if !dir.is_dir() {
        return Err(refuse(dir, "is not a folder: give the results folder of a sweep".into()));
    }
    let m = read_manifest(dir)?.ok_or_else(|| refuse(dir, "no manifest.json: not a results folder".into()))?;
    if m.shard.is_some() {
        return Err(refuse(
            dir,
            "is one shard's folder: merge the shards (`sweep merge`) and compare the merged folder".into(),
        ));
    }
    let points = m.axes.axes().iter().try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    if points != Some(m.points) {
        return Err(SweepError::Results {
            path: dir.join(output::MANIFEST),
            msg: format!("its `axes` do not make the {} grid points its `points` says: the file was edited", m.points),
        });
    }
    if m.status != Status::Complete {
        return Err(refuse(
            dir,
            format!("the sweep is {}, not complete: finish it (run the same command again) before comparing", m.status),
        ));
    }
    Ok(m)
}

/// The axis' index and the baseline value's index.
fn pick_axis(dir: &Path, grid: &Grid, opts: &CompareOptions) -> Result<(usize, usize), SweepError> {
    let varying = match grid.varying() {
        v if v.is_empty() => "none".to_string(),
        v => v.join(", "),
    };
    let Some((a, axis)) = grid.axis(&opts.along) else {
        return Err(refuse(
            dir,
            format!("this sweep has no axis `{}`; axes with more than one value: {}", opts.along, varying),
        ));
    };
    let n = axis.values.len();
    if n < 2 {
        return Err(refuse(
            dir,
            format!("axis `{}` has one value only: nothing to compare (axes that vary: {})", axis.name, varying),
        ));
    }
    let why = match kind_of(&axis.name) {
        Kind::Architecture | Kind::Bits | Kind::Width => Some("a different network shape"),
        Kind::Init => Some("a different weight initialisation"),
        _ => None,
    };
    if let Some(why) = why {
        return Err(refuse(
            dir,
            format!(
                "points that differ in `{}` do not start from the same weights ({why}): seeds cannot be paired across them; compare along an axis such as lr, l2 or optimizer, or compare rates with their intervals in summary.csv",
                axis.name
            ),
        ));
    }
    let baseline = match &opts.baseline {
        None => 0,
        Some(want) => axis.values.find(want).ok_or_else(|| {
            let all: Vec<String> = (0..n).map(|i| axis.values.label(i)).collect();
            refuse(dir, format!("axis `{}` has no value {want:?}; its values: {}", axis.name, all.join(", ")))
        })?,
    };
    Ok((a, baseline))
}

/// What a run of runs.jsonl contributes: success (by the criterion's
/// count), epochs to first converge (0: never), seed.
#[derive(Clone, Copy)]
struct Paired {
    success: bool,
    epochs: u32,
    seed: u64,
}

/// Each point's runs by seed index (adaptive sweeps give points different counts).
type Outcomes = Vec<Vec<Paired>>;

/// The few fields of a run record that a comparison reads.
#[derive(Deserialize)]
struct RunFields {
    run: usize,
    point: usize,
    seed_index: usize,
    #[serde(with = "super::record::seed_text")]
    seed: u64,
    converged: bool,
    epochs_to_converge: Option<usize>,
    converged_at_end: bool,
    #[serde(rename = "diverged_epoch", alias = "diverged_at")]
    diverged_at: Option<usize>,
    params: super::grid::Params,
}

fn read_outcomes(dir: &Path, m: &Manifest) -> Result<Outcomes, SweepError> {
    let path = dir.join(output::RUNS);
    let file = output::open_existing(&path)?;
    let count = count_of(m);
    let bad = |line: usize, msg: String| SweepError::Results { path: path.clone(), msg: format!("line {line}: {msg}") };
    let mut out: Outcomes = vec![Vec::new(); m.axes.points()];
    let mut lines = 0;
    for (i, line) in std::io::BufReader::with_capacity(1 << 20, file).lines().enumerate() {
        let line = line.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => bad(i + 1, "is not UTF-8 text".into()),
            _ => SweepError::io(&path, e),
        })?;
        let r: RunFields = serde_json::from_str(&line).map_err(|e| bad(i + 1, format!("not a run record: {e}")))?;
        // Seeds come in order within each point (in rounds, for adaptive seeds).
        let fits =
            r.point < out.len() && r.seed_index == out[r.point].len() && r.run == r.point * m.seeds + r.seed_index;
        if !fits || i >= m.runs {
            return Err(bad(
                i + 1,
                format!(
                    "holds run {} (point {}, seed {}) out of place: not this sweep's file",
                    r.run, r.point, r.seed_index
                ),
            ));
        }
        // The labels of the comparisons come from the manifest's axes: each
        // point's first run says they are its values.
        if r.seed_index == 0 && !r.params.same_as(&m.axes.params(r.point)) {
            return Err(bad(
                i + 1,
                format!(
                    "its `params` are not those manifest.json's axes give grid point {}: one of them was edited",
                    r.point
                ),
            ));
        }
        let outcome = Outcome::of(r.diverged_at, r.epochs_to_converge, r.converged);
        out[r.point].push(Paired {
            success: outcome.counts(count, r.converged_at_end),
            epochs: match outcome {
                Outcome::Converged { at } => at as u32,
                _ => 0,
            },
            seed: r.seed,
        });
        lines += 1;
    }
    if lines != m.runs {
        return Err(SweepError::Results {
            path,
            msg: format!("holds {lines} runs, and the manifest says {}: cut or edited", m.runs),
        });
    }
    Ok(out)
}

/// Every comparison along axis `a` against value `b0`.
fn build(m: &Manifest, a: usize, b0: usize, o: &Outcomes) -> Result<CompareFile, String> {
    let grid = &m.axes;
    let axis = &grid.axes()[a];
    let seeds = m.seeds;
    let mut comparisons = Vec::new();
    for p in 0..grid.points() {
        let mut coords = grid.coords(p);
        if coords[a] == b0 {
            continue;
        }
        let value = axis.values.label(coords[a]);
        coords[a] = b0;
        let q = grid.point(&coords);
        let (mut t, mut diffs) = (Table::default(), Vec::new());
        // The seed indices both points have.
        for (s, (x, y)) in o[p].iter().zip(&o[q]).enumerate() {
            if x.seed != y.seed {
                return Err(format!(
                    "seed index {s} at points {p} and {q} was trained from different seeds: they cannot be paired"
                ));
            }
            t.add(x.success, y.success);
            if x.epochs > 0 && y.epochs > 0 {
                diffs.push(x.epochs as f64 - y.epochs as f64);
            }
        }
        let (lo, hi) = t.diff_ci();
        let n = t.n().max(1) as f64;
        comparisons.push(Comparison {
            point: p,
            baseline_point: q,
            value,
            params: grid.params(p),
            n: t.n(),
            n11: t.n11,
            n10: t.n10,
            n01: t.n01,
            n00: t.n00,
            rate: (t.n11 + t.n10) as f64 / n,
            baseline_rate: (t.n11 + t.n01) as f64 / n,
            rate_diff: t.diff(),
            diff_ci_low: lo,
            diff_ci_high: hi,
            p_mcnemar: t.p_mcnemar(),
            p_holm: f64::NAN,
            both_converged: diffs.len(),
            p_wilcoxon: wilcoxon(&diffs),
            median_epochs_diff: median(&mut diffs),
        });
    }
    let adjusted = holm(&comparisons.iter().map(|c| c.p_mcnemar).collect::<Vec<_>>());
    comparisons.iter_mut().zip(adjusted).for_each(|(c, p)| c.p_holm = p);
    Ok(CompareFile {
        name: m.name.clone(),
        experiment_hash: m.experiment_hash.clone(),
        axis: axis.name.clone(),
        baseline: axis.values.label(b0),
        seeds,
        outcome: match count_of(m) {
            Count::FirstHit => "converged: met the convergence criterion at some epoch and did not diverge (convergence_rate in summary.json)",
            Count::AtEnd => "solved at end: still met the convergence criterion after the last epoch (solved_at_end_rate in summary.json)",
        }
        .into(),
        methods: Methods::used(),
        comparisons,
    })
}

/// The rate a comparison counts: the experiment's `[convergence] count`.
fn count_of(m: &Manifest) -> Count {
    m.experiment.convergence.as_ref().and_then(|c| c.count).unwrap_or_default()
}

/// `compare-<axis>.csv`: one row per comparison, one column per grid axis.
fn csv_text(grid: &Grid, f: &CompareFile) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let head = ["point", "baseline_point"]
        .into_iter()
        .map(String::from)
        .chain(grid.axes().iter().map(|a| a.name.clone()))
        .chain(
            [
                "baseline",
                "n",
                "n11",
                "n10",
                "n01",
                "n00",
                "rate",
                "baseline_rate",
                "rate_diff",
                "diff_ci_low",
                "diff_ci_high",
                "p_mcnemar",
                "p_holm",
                "both_converged",
                "median_epochs_diff",
                "p_wilcoxon",
            ]
            .map(String::from),
        );
    let _ = w.write_record(head);
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for c in &f.comparisons {
        let axes = grid.axes().iter().zip(grid.coords(c.point)).map(|(a, i)| a.values.label(i));
        let row = [c.point.to_string(), c.baseline_point.to_string()].into_iter().chain(axes).chain([
            f.baseline.clone(),
            c.n.to_string(),
            c.n11.to_string(),
            c.n10.to_string(),
            c.n01.to_string(),
            c.n00.to_string(),
            c.rate.to_string(),
            c.baseline_rate.to_string(),
            c.rate_diff.to_string(),
            c.diff_ci_low.to_string(),
            c.diff_ci_high.to_string(),
            c.p_mcnemar.to_string(),
            c.p_holm.to_string(),
            c.both_converged.to_string(),
            opt(c.median_epochs_diff),
            opt(c.p_wilcoxon),
        ]);
        let _ = w.write_record(row);
    }
    w.into_inner().unwrap_or_default()
}

/// Most rows of each part of the printed table.
const SHOWN: usize = 20;

/// The table printed by `sweep compare`: significant differences first
/// (Holm-adjusted p below [`ALPHA`], smallest first), then the rest.
pub fn table(grid: &Grid, f: &CompareFile) -> String {
    use std::fmt::Write;
    let at = |c: &Comparison| grid.varying_label(c.point, &f.axis);
    let mut order: Vec<&Comparison> = f.comparisons.iter().collect();
    order.sort_by(|x, y| x.p_holm.total_cmp(&y.p_holm).then(x.point.cmp(&y.point)));
    let (sig, rest): (Vec<&Comparison>, Vec<&Comparison>) = order.into_iter().partition(|c| c.p_holm < ALPHA);
    let width = f.comparisons.iter().map(|c| at(c).chars().count()).max().unwrap_or(0).max(2);
    let vw = f.comparisons.iter().map(|c| c.value.chars().count()).max().unwrap_or(0).max(f.axis.len());
    let mut s = String::new();
    let (fewest, most) = f.comparisons.iter().fold((usize::MAX, 0), |(l, h), c| (l.min(c.n), h.max(c.n)));
    let pairs = if fewest >= most { format!("{most}") } else { format!("{fewest}–{most}") };
    let _ = writeln!(
        s,
        "{} comparisons along {} against {} = {} over {pairs} paired seeds each; {} differ at the 5% level (Holm-adjusted McNemar)",
        f.comparisons.len(),
        f.axis,
        f.axis,
        f.baseline,
        sig.len()
    );
    let header = format!(
        "{:<width$}  {:<vw$}  {:>6} {:>6}  {:>7}  {:<17}  {:>9} {:>9}  {:>9}",
        "at", f.axis, "rate", "base", "diff", "95% CI (paired)", "p McNemar", "p Holm", "Δ epochs"
    );
    let row = |s: &mut String, c: &Comparison| {
        let _ = writeln!(
            s,
            "{:<width$}  {:<vw$}  {:>6.3} {:>6.3}  {:>+7.3}  [{:>+6.3}, {:>+6.3}]  {:>9} {:>9}  {:>9}",
            at(c),
            c.value,
            c.rate,
            c.baseline_rate,
            c.rate_diff,
            c.diff_ci_low,
            c.diff_ci_high,
            p_text(c.p_mcnemar),
            p_text(c.p_holm),
            c.median_epochs_diff.map_or("-".into(), |d| format!("{d:+.0}"))
        );
    };
    for (title, list) in [("significant (p Holm < 0.05):", &sig), ("not significant:", &rest)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{title}\n{header}");
        list.iter().take(SHOWN).for_each(|c| row(&mut s, c));
        if list.len() > SHOWN {
            let _ = writeln!(s, "… {} more in compare-{}.csv", list.len() - SHOWN, super::names::slug(&f.axis));
        }
    }
    s
}

/// A p-value in 4 significant digits, or "<1e-9".
fn p_text(p: f64) -> String {
    if p < 1e-9 {
        "<1e-9".into()
    } else if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}
