//! Reading a results folder for plotting: `summary.json` (required),
//! `manifest.json` (optional, for decision boundaries) and the few lines of
//! `runs.jsonl` that hold final weights, plus an index from grid points to
//! their statistics and the facets of the figures (see [`super::view`]).

pub use super::view::{Choice, Coord, Facet, View};
use crate::sweep::aggregate::{rank_order, PointSummary, Summary};
use crate::sweep::estimate::{human_bytes, MAX_PLOTTED_SUMMARY};
use crate::sweep::manifest::Manifest;
use crate::sweep::output::{read_json, MANIFEST, RUNS, SUMMARY};
use crate::sweep::record::RunRecord;
use crate::sweep::SweepError;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A loaded results folder.
pub struct Results {
    /// The folder.
    pub dir: PathBuf,
    /// summary.json.
    pub summary: Summary,
    /// manifest.json, when present.
    pub manifest: Option<Manifest>,
    /// Which axis each figure role shows.
    pub view: View,
    /// The slice the learning-curve and time-to-converge figures show.
    pub slice: Slice,
    /// Position in `summary.points` of each grid point it holds.
    index: BTreeMap<usize, usize>,
}

fn results_err(path: impl Into<PathBuf>, msg: impl Into<String>) -> SweepError {
    SweepError::Results { path: path.into(), msg: msg.into() }
}

/// Why the figures of `dir` are not drawn, when its summary.json is larger
/// than [`MAX_PLOTTED_SUMMARY`] (plotting holds the summary in memory).
pub fn too_large(dir: &Path) -> Option<String> {
    let size = std::fs::metadata(dir.join(SUMMARY)).ok()?.len();
    (size > MAX_PLOTTED_SUMMARY).then(|| {
        format!(
            "its summary.json is {}, more than figures are drawn from ({}): the statistics are in summary.json and summary.csv; for figures, sweep fewer grid points or record fewer epochs (record.points)",
            human_bytes(size),
            human_bytes(MAX_PLOTTED_SUMMARY)
        )
    })
}

/// A slice of the grid: the y, z and facet coordinates the learning-curve
/// and time-to-converge figures are drawn at (x and architecture vary).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice {
    /// y coordinate.
    pub y: usize,
    /// z coordinate.
    pub z: usize,
    /// Facet.
    pub facet: Facet,
    /// How it was chosen, for subtitles.
    pub how: String,
}

/// The message for a folder without summary.json.
pub const NOT_RESULTS: &str = "no summary.json: not a results folder (run `sweep run` first)";

/// What the figures rely on in a summary.json that may have been edited:
/// recorded epochs that increase, rates that are proportions, and every
/// point's curves with one value per recorded epoch (a diverged run's
/// statistics are null there, not missing), as the figures index them.
fn check_summary(path: &Path, s: &Summary) -> Result<(), SweepError> {
    if s.record_epochs.first() == Some(&0) || s.record_epochs.windows(2).any(|w| w[0] >= w[1]) {
        return Err(results_err(path, "field `record_epochs` does not count up from epoch 1"));
    }
    let n = s.record_epochs.len();
    for p in &s.points {
        let rates = [
            ("convergence_rate", p.convergence_rate),
            ("rate_ci_low", p.rate_ci_low),
            ("rate_ci_high", p.rate_ci_high),
            ("solved_at_end_rate", p.solved_at_end_rate),
            ("solved_ci_low", p.solved_ci_low),
            ("solved_ci_high", p.solved_ci_high),
        ];
        if let Some((name, v)) = rates.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(results_err(path, format!("grid point {}: field `{name}` is {v}, not a proportion", p.point)));
        }
        let c = &p.curves;
        let series = [Some(&c.train_loss), Some(&c.train_metric), c.test_loss.as_ref(), c.test_metric.as_ref()];
        let lengths =
            series.into_iter().flatten().flat_map(|st| [&st.mean, &st.median, &st.p10, &st.p25, &st.p75, &st.p90]);
        if lengths.map(Vec::len).chain([p.converged_by_epoch.len()]).any(|len| len != n) {
            return Err(results_err(
                path,
                format!(
                    "grid point {}: its curves do not have one value per epoch of field `record_epochs` ({n})",
                    p.point
                ),
            ));
        }
    }
    Ok(())
}

impl Results {
    /// Reads `dir`'s summary.json and manifest.json; `choice` picks the
    /// axes of the figures (defaults where `None`).
    pub fn load(dir: &Path, choice: &Choice) -> Result<Results, SweepError> {
        if !dir.exists() {
            return Err(results_err(dir, "no such folder"));
        }
        if !dir.is_dir() {
            return Err(results_err(dir, "is not a folder (give a results folder)"));
        }
        let path = dir.join(SUMMARY);
        // Anything at the name is read, or refused saying what it is.
        if path.symlink_metadata().is_err() {
            return Err(results_err(dir, NOT_RESULTS));
        }
        if let Some(msg) = too_large(dir) {
            return Err(results_err(dir, msg));
        }
        let summary: Summary = read_json(&path, "netsweep summary")?;
        crate::sweep::manifest::check_hash(&path, &summary.experiment_hash)?;
        check_summary(&path, &summary)?;
        let mpath = dir.join(MANIFEST);
        let manifest: Option<Manifest> =
            if mpath.symlink_metadata().is_ok() { Some(read_json(&mpath, "netsweep manifest")?) } else { None };
        if let Some(m) = &manifest {
            crate::sweep::manifest::check_hash(&mpath, &m.experiment_hash)?;
            // (A sweep that is growing rewrites its manifest just before its summary.)
            let complete = m.status == crate::sweep::manifest::Status::Complete;
            if complete && m.experiment_hash != summary.experiment_hash {
                return Err(results_err(
                    dir,
                    format!(
                        "summary.json (`experiment_hash` {}) and manifest.json ({}) are of different experiments",
                        summary.experiment_hash, m.experiment_hash
                    ),
                ));
            }
        }
        let view = View::new(&summary.axes, choice).map_err(|msg| results_err(dir, msg))?;
        let slice = Slice { y: 0, z: 0, facet: 0, how: String::new() };
        let mut r = Results { dir: dir.to_path_buf(), summary, manifest, view, slice, index: BTreeMap::new() };
        r.build_index().map_err(|msg| results_err(&path, msg))?;
        r.slice = r.pick_slice(&choice.at).map_err(|msg| results_err(dir, msg))?;
        Ok(r)
    }

    /// The slice through the best point (by the leading rate, then fewer
    /// epochs), with the axes `at` names set to their values.
    fn pick_slice(&self, at: &[(String, String)]) -> Result<Slice, String> {
        let count = self.summary.criterion.count;
        let best = self
            .summary
            .points
            .iter()
            .min_by(|a, b| rank_order(a.rank_key(count), b.rank_key(count)))
            .ok_or("holds no grid points")?;
        let g = &self.summary.axes;
        let mut coords = g.coords(best.point);
        for (name, value) in at {
            let (i, axis) = g.axis(name).ok_or_else(|| {
                format!("--at {name}=…: this sweep has no axis `{name}` (axes: {})", g.varying().join(", "))
            })?;
            if [self.view.x.0, self.view.arch.0].contains(&Some(i)) {
                return Err(format!(
                    "--at {name}=…: `{name}` is drawn as the lines or the panels of these figures; choose another axis with --x to slice it"
                ));
            }
            coords[i] = axis.values.find(value).ok_or_else(|| {
                let all: Vec<String> = (0..axis.values.len()).map(|v| axis.values.short(v)).collect();
                format!("--at {name}={value}: `{name}` has no such value; its values: {}", all.join(", "))
            })?;
        }
        let c = self.view.coord(g, g.point(&coords));
        let how =
            if at.is_empty() { "the best point's slice".to_string() } else { "the slice chosen with --at".to_string() };
        Ok(Slice { y: c.y, z: c.z, facet: c.facet, how })
    }

    fn build_index(&mut self) -> Result<(), String> {
        let n = self.summary.axes.points();
        if n == 0 {
            return Err("an axis of the grid has no values".into());
        }
        if self.summary.points.is_empty() {
            return Err("holds no grid points".into());
        }
        for (pos, p) in self.summary.points.iter().enumerate() {
            if p.point >= n {
                return Err(format!("grid point {} is outside the grid's {n} points (field `point`)", p.point));
            }
            if self.index.insert(p.point, pos).is_some() {
                return Err(format!("grid point {} is listed twice (field `point`)", p.point));
            }
        }
        Ok(())
    }

    /// The coordinate of a point.
    pub fn coord_of(&self, p: &PointSummary) -> Coord {
        self.view.coord(&self.summary.axes, p.point)
    }

    /// The point at a coordinate, if the results hold it.
    pub fn at(&self, c: Coord) -> Option<&PointSummary> {
        let p = self.view.point(&self.summary.axes, c);
        self.index.get(&p).map(|&i| &self.summary.points[i])
    }

    /// Every facet, in grid order.
    pub fn facets(&self) -> Vec<Facet> {
        (0..self.view.facets(&self.summary.axes)).collect()
    }

    /// The facet axes as (name, value) for `f`: those that vary, or all
    /// (when `all`; axes of one value included).
    fn facet_parts(&self, f: Facet, all: bool) -> Vec<(String, String)> {
        self.view
            .facet_values(&self.summary.axes, f)
            .into_iter()
            .filter(|(a, _)| all || a.values.len() > 1)
            .map(|(a, i)| (a.name.clone(), a.values.short(i)))
            .collect()
    }

    /// "optimizer adam · batch_size 4" for the varying facet axes ("" when none varies).
    pub fn facet_label(&self, f: Facet) -> String {
        self.facet_parts(f, false).iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")
    }

    /// Every facet value, varying or not: "optimizer sgd · batch_size full · activation tanh".
    pub fn facet_full(&self, f: Facet) -> String {
        self.facet_parts(f, true).iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")
    }

    /// The facet values that never vary in this grid: "batch_size 32 · activation tanh".
    pub fn facet_common(&self) -> String {
        let parts = self.facet_parts(0, true);
        let varying: Vec<String> = self.facet_parts(0, false).into_iter().map(|(k, _)| k).collect();
        parts
            .iter()
            .filter(|(k, _)| !varying.contains(k))
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// Groups of facets drawn in one file: every facet alone, or (when
    /// `as_rows` and some facet axis varies) up to 6 facets as panel rows.
    pub fn facet_groups(&self, as_rows: bool) -> Vec<Vec<Facet>> {
        let f = self.facets();
        if as_rows {
            f.chunks(6).map(|c| c.to_vec()).collect()
        } else {
            f.into_iter().map(|x| vec![x]).collect()
        }
    }

    /// File-name suffix of a group of facets (its position when the facets are split over files).
    pub fn group_slug(&self, group: &[Facet], index: usize, groups: usize) -> String {
        match group {
            [f] => self.facet_slug(*f),
            _ if groups > 1 => format!("_part{}", index + 1),
            _ => String::new(),
        }
    }

    /// What stays fixed in a group's panels, for a subtitle.
    pub fn group_fixed(&self, group: &[Facet]) -> String {
        match group {
            [f] => self.facet_full(*f),
            _ => self.facet_common(),
        }
    }

    /// A file-name suffix for a facet ("" when no facet axis varies).
    pub fn facet_slug(&self, f: Facet) -> String {
        self.facet_parts(f, false).iter().map(|(_, v)| format!("_{}", crate::sweep::names::slug(v))).collect()
    }

    /// Subtitle of the convergence-rate figures for one facet group.
    pub fn rate_subtitle(&self, group: &[Facet]) -> String {
        format!(
            "fraction of {} seeds {} {} within {} epochs · {}",
            self.summary.seeds,
            self.summary.criterion.count.meaning(),
            self.criterion(),
            self.summary.epochs,
            self.group_fixed(group)
        )
    }

    /// The criterion in words: "acc_xor ≥ 1 on train".
    pub fn criterion(&self) -> String {
        let c = &self.summary.criterion;
        let op = if c.metric.higher_is_better() { "≥" } else { "≤" };
        let on = match c.on {
            crate::sweep::config::Split::Train => "train",
            crate::sweep::config::Split::Test => "test",
        };
        format!("{} {op} {} on {on}", c.metric.name(), super::style::num(c.threshold))
    }

    /// Final weights of the first seeds of `points` (by point index), read from
    /// runs.jsonl, sorted by seed index. Only lines holding weights are parsed.
    pub fn weights(&self, points: &[usize]) -> Result<BTreeMap<usize, Vec<RunRecord>>, SweepError> {
        let path = self.dir.join(RUNS);
        let mut out: BTreeMap<usize, Vec<RunRecord>> = points.iter().map(|p| (*p, Vec::new())).collect();
        let Some(file) = crate::sweep::output::open_to_read(&path)? else { return Ok(out) };
        let keep = self.manifest.as_ref().map_or(usize::MAX, |m| m.experiment.record.weights.min(m.seeds));
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut buf = Vec::new();
        let mut line_no = 0usize;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(|e| SweepError::io(&path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let complete = buf.last() == Some(&b'\n');
            let Ok(line) = std::str::from_utf8(&buf) else {
                return Err(results_err(&path, format!("line {line_no} is not UTF-8 text")));
            };
            if !line.contains("\"weights\"") {
                continue;
            }
            let rec: RunRecord = match serde_json::from_str(line) {
                Ok(r) => r,
                // A hard kill can leave half a last line; the summary never counts it.
                Err(_) if !complete => break,
                Err(e) => {
                    return Err(results_err(&path, format!("line {line_no} is not a valid run record: {e}")));
                }
            };
            if let (Some(list), true) = (out.get_mut(&rec.point), rec.weights.is_some()) {
                list.push(rec);
                if out.values().all(|l| l.len() >= keep) {
                    break;
                }
            }
        }
        for list in out.values_mut() {
            list.sort_by_key(|r| r.seed_index);
        }
        Ok(out)
    }
}
