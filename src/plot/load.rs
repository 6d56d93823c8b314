//! Reading a results folder for plotting: `summary.json` (required),
//! `manifest.json` (optional, for decision boundaries) and the few lines of
//! `runs.jsonl` that hold final weights, plus an index from grid
//! coordinates to points.

use crate::sweep::aggregate::{PointSummary, Summary};
use crate::sweep::output::{Manifest, MANIFEST, RUNS, SUMMARY};
use crate::sweep::record::RunRecord;
use crate::sweep::SweepError;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The values of the axes a figure does not show as x, y or panels
/// (parity bits, optimizer, batch size, activation), as indices into the axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Facet {
    /// Parity bits index.
    pub bits: usize,
    /// Optimizer index.
    pub optimizer: usize,
    /// Batch size index.
    pub batch: usize,
    /// Activation index.
    pub activation: usize,
}

/// A grid coordinate: one index per axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coord {
    /// Architecture index.
    pub arch: usize,
    /// Optimizer, batch size and activation.
    pub facet: Facet,
    /// Learning-rate index.
    pub lr: usize,
    /// L2 index.
    pub l2: usize,
    /// L1 index.
    pub l1: usize,
}

/// A loaded results folder.
pub struct Results {
    /// The folder.
    pub dir: PathBuf,
    /// summary.json.
    pub summary: Summary,
    /// manifest.json, when present.
    pub manifest: Option<Manifest>,
    /// Position in `summary.points` of each grid coordinate (flattened).
    index: Vec<Option<usize>>,
}

fn results_err(path: impl Into<PathBuf>, msg: impl Into<String>) -> SweepError {
    SweepError::Results { path: path.into(), msg: msg.into() }
}

/// The message for a folder without summary.json.
pub const NOT_RESULTS: &str = "no summary.json: not a results folder (run `sweep run` first)";

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, SweepError> {
    let bytes = std::fs::read(path).map_err(|e| SweepError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let how = match e.classify() {
            serde_json::error::Category::Eof => "is truncated (not complete JSON)",
            serde_json::error::Category::Data => "does not have the format this netsweep version reads",
            _ => "is not valid JSON",
        };
        results_err(path, format!("{how} for a {what}: {e}"))
    })
}

impl Results {
    /// Reads `dir`'s summary.json and manifest.json.
    pub fn load(dir: &Path) -> Result<Results, SweepError> {
        if !dir.exists() {
            return Err(results_err(dir, "no such folder"));
        }
        if !dir.is_dir() {
            return Err(results_err(dir, "is not a folder (give a results folder)"));
        }
        let path = dir.join(SUMMARY);
        if !path.is_file() {
            return Err(results_err(dir, NOT_RESULTS));
        }
        let summary: Summary = read_json(&path, "netsweep summary")?;
        let mpath = dir.join(MANIFEST);
        let manifest = if mpath.is_file() { Some(read_json(&mpath, "netsweep manifest")?) } else { None };
        let mut r = Results { dir: dir.to_path_buf(), summary, manifest, index: Vec::new() };
        r.build_index().map_err(|msg| results_err(&path, msg))?;
        Ok(r)
    }

    fn dims(&self) -> [usize; 8] {
        self.summary.axes.radices()
    }

    fn flat(&self, c: Coord) -> usize {
        let d = self.dims();
        let f = c.facet;
        let idx = [f.bits, c.arch, f.optimizer, f.batch, f.activation, c.lr, c.l2, c.l1];
        idx.iter().zip(d).fold(0, |acc, (i, n)| acc * n + i)
    }

    fn build_index(&mut self) -> Result<(), String> {
        let dims = self.dims();
        if dims.contains(&0) {
            return Err("an axis of the grid has no values".into());
        }
        if self.summary.points.is_empty() {
            return Err("holds no grid points".into());
        }
        self.index = vec![None; dims.iter().product()];
        for (pos, p) in self.summary.points.iter().enumerate() {
            let c = self
                .coord_of(p)
                .ok_or_else(|| format!("grid point {} has parameters that are not among the grid's axes", p.point))?;
            let f = self.flat(c);
            self.index[f] = Some(pos);
        }
        Ok(())
    }

    /// The coordinate of a point (None when its values are not on the axes).
    pub fn coord_of(&self, p: &PointSummary) -> Option<Coord> {
        let a = &self.summary.axes;
        let q = &p.params;
        Some(Coord {
            arch: a.architecture.iter().position(|v| *v == q.architecture)?,
            facet: Facet {
                bits: a.bits.iter().position(|v| *v == q.bits)?,
                optimizer: a.optimizer.iter().position(|v| *v == q.optimizer)?,
                batch: a.batch_size.iter().position(|v| *v == q.batch_size)?,
                activation: a.activation.iter().position(|v| *v == q.activation)?,
            },
            lr: a.lr.iter().position(|v| *v == q.lr)?,
            l2: a.l2.iter().position(|v| *v == q.l2)?,
            l1: a.l1.iter().position(|v| *v == q.l1)?,
        })
    }

    /// The point at a coordinate, if the grid has it.
    pub fn at(&self, c: Coord) -> Option<&PointSummary> {
        self.index.get(self.flat(c)).copied().flatten().map(|i| &self.summary.points[i])
    }

    /// Every combination of bits, optimizer, batch size and activation, in grid order.
    pub fn facets(&self) -> Vec<Facet> {
        let d = self.dims();
        let mut out = Vec::new();
        for bits in 0..d[0] {
            for optimizer in 0..d[2] {
                for batch in 0..d[3] {
                    for activation in 0..d[4] {
                        out.push(Facet { bits, optimizer, batch, activation });
                    }
                }
            }
        }
        out
    }

    /// The facet axes that vary, as (name, value) for `f`.
    fn facet_parts(&self, f: Facet, all: bool) -> Vec<(&'static str, String)> {
        let a = &self.summary.axes;
        let mut v = Vec::new();
        if a.bits.len() > 1 || (all && a.bits[f.bits].is_some()) {
            v.push(("bits", a.bits[f.bits].map_or("-".to_string(), |b| b.to_string())));
        }
        if all || a.optimizer.len() > 1 {
            v.push(("optimizer", a.optimizer[f.optimizer].as_str().to_string()));
        }
        if all || a.batch_size.len() > 1 {
            v.push(("batch", a.batch_size[f.batch].to_string()));
        }
        if all || a.activation.len() > 1 {
            let name = a.activation[f.activation].map_or("per layer".to_string(), |x| x.name());
            v.push(("activation", name));
        }
        v
    }

    /// "optimizer adam · batch 4" for the varying facet axes ("" when none varies).
    pub fn facet_label(&self, f: Facet) -> String {
        self.facet_parts(f, false).iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")
    }

    /// Every facet value, varying or not: "optimizer sgd · batch full · activation tanh".
    pub fn facet_full(&self, f: Facet) -> String {
        self.facet_parts(f, true).iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")
    }

    /// The facet values that never vary in this grid: "batch 32 · activation tanh".
    pub fn facet_common(&self) -> String {
        let f = self.facets()[0];
        let varying: Vec<&str> = self.facet_parts(f, false).iter().map(|(k, _)| *k).collect();
        let parts = self.facet_parts(f, true);
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
        self.facet_parts(f, false).iter().map(|(_, v)| format!("_{}", slug(v))).collect()
    }

    /// Subtitle of the convergence-rate figures for one facet group.
    pub fn rate_subtitle(&self, group: &[Facet]) -> String {
        format!(
            "fraction of {} seeds reaching {} within {} epochs · {}",
            self.summary.seeds,
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

    /// The index of the regulariser setting shown when one is picked:
    /// l2 = 0 and l1 = 0 when the grid has them, else the first values.
    pub fn base_reg(&self) -> (usize, usize) {
        let a = &self.summary.axes;
        (a.l2.iter().position(|v| *v == 0.0).unwrap_or(0), a.l1.iter().position(|v| *v == 0.0).unwrap_or(0))
    }

    /// Final weights of the first seeds of `points` (by point index), read from
    /// runs.jsonl, sorted by seed index. Only lines holding weights are parsed.
    pub fn weights(&self, points: &[usize]) -> Result<BTreeMap<usize, Vec<RunRecord>>, SweepError> {
        let path = self.dir.join(RUNS);
        let mut out: BTreeMap<usize, Vec<RunRecord>> = points.iter().map(|p| (*p, Vec::new())).collect();
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(SweepError::io(&path, e)),
        };
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

/// Lower-case letters, digits, '-' and '.'; anything else becomes '-'.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect()
}
