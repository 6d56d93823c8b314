//! From a parsed experiment file to an immutable, validated [`Plan`]: the
//! grid ([`super::grid`]), the loaded data, the families with their layers,
//! and the ordered run specs. Every later stage reads the plan and nothing
//! else: the worker never reads the experiment file again.
//!
//! A run's index is its identity: point = run / seeds, seed index = run %
//! seeds, and the point's coordinates are the grid's (see [`super::grid`]
//! for the axis order). Runs of one *family* are contiguous and train
//! together as lockstep ensembles.
//!
//! Seeds follow common random numbers: a run's seed depends on (base_seed,
//! architecture name, seed index) only, so seed index s starts from the same
//! weights and the same shuffling stream at every grid point whose network
//! shape and init are the same.

use super::config::*;
use super::error::SweepError;
use super::family::{self, Family, Settings};
use super::grid::{self, Grid};
use super::measure::{self, Criterion};
use super::names::{slug, MAX_NAME};
use super::problem::{self, ProblemData};
use crate::layers::Layer;
use crate::losses::Loss;
use crate::metrics::Metric;
use crate::optimizers::Kind as OptimizerKind;
use crate::Ensemble;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub use super::family::MAX_ENSEMBLE;
/// Most epochs per run accepted.
pub const MAX_EPOCHS: usize = 100_000_000;
/// Most runs (grid points × seeds) accepted in one sweep.
pub const MAX_RUNS: usize = 100_000_000;
/// Most recorded points per curve.
pub const MAX_RECORDED: usize = 100_000;
/// Most trainable parameters per network.
pub const MAX_PARAMS: usize = 10_000_000;

/// A contiguous range of runs of one family, trained as one ensemble.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The family.
    pub family: usize,
    /// First run index.
    pub start: usize,
    /// One past the last run index.
    pub end: usize,
}

/// Everything a sweep needs, validated and resolved.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Experiment name (results folder).
    pub name: String,
    /// The experiment after overrides (for the manifest and the hash).
    pub file: ExperimentFile,
    /// The overrides applied, as given.
    pub overrides: Vec<String>,
    /// SHA-256 of the resolved experiment (hex).
    pub hash: String,
    /// The grid's axes.
    pub grid: Grid,
    /// Every training field's value where no axis sets it.
    pub base: Settings,
    /// Seeds per point (adaptive: the most a point may get; run indices are
    /// point · seeds + seed index either way).
    pub seeds: usize,
    /// Adaptive seeds, when the file asks for them ([`super::adaptive`]).
    pub adaptive: Option<AdaptiveSeeds>,
    /// Epochs per run.
    pub epochs: usize,
    /// Root of every run's seed.
    pub base_seed: u64,
    /// Training loss.
    pub loss: Loss,
    /// Metric recorded each epoch.
    pub metric: Metric,
    /// Final weights are kept for seed indices below this.
    pub keep_weights: usize,
    /// Epochs recorded in the curves (1-based, increasing, first and last included).
    pub record_epochs: Vec<usize>,
    /// Convergence criterion.
    pub criterion: Criterion,
    /// The families, in point order.
    pub families: Vec<Family>,
    /// The data, shared read-only by every run: one data set per value of
    /// the `bits` axis (one in all for every other problem).
    pub datasets: Vec<Arc<ProblemData>>,
}

/// SplitMix64's output function: a well-mixed 64-bit hash of a 64-bit value.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of a string (stable across platforms and Rust versions).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The seed of run (architecture, seed index): mix(mix(mix(base) ^ fnv1a(arch)) ^ s).
pub fn derive_seed(base_seed: u64, architecture: &str, seed_index: usize) -> u64 {
    mix64(mix64(mix64(base_seed) ^ fnv1a(architecture)) ^ seed_index as u64)
}

impl Plan {
    /// Total runs.
    pub fn runs(&self) -> usize {
        self.grid.points() * self.seeds
    }

    /// Every training field of grid point `p`.
    pub fn settings(&self, p: usize) -> Settings {
        Settings::at(&self.grid, &self.base, p)
    }

    /// The family of grid point `p`.
    pub fn family_of(&self, p: usize) -> &Family {
        &self.families[p / self.grid.family_points()]
    }

    /// The data set a family trains on.
    pub fn data(&self, f: &Family) -> &Arc<ProblemData> {
        &self.datasets[f.data]
    }

    /// The seed of run `run`.
    pub fn run_seed(&self, run: usize) -> u64 {
        let f = self.family_of(run / self.seeds);
        derive_seed(self.base_seed, &f.architecture, run % self.seeds)
    }

    /// Seed indices `seeds` of the points `keep` accepts, per family in run
    /// order, in groups of at most the family's ensemble width: the work of
    /// a growth or of an adaptive round (a run's record does not depend on
    /// which runs share its ensemble).
    pub fn run_groups(&self, seeds: std::ops::Range<usize>, keep: impl Fn(usize) -> bool) -> Vec<(usize, Vec<usize>)> {
        let mut groups = Vec::new();
        for (i, f) in self.families.iter().enumerate() {
            let runs: Vec<usize> = f
                .points
                .clone()
                .filter(|&p| keep(p))
                .flat_map(|p| seeds.clone().map(move |s| p * self.seeds + s))
                .collect();
            groups.extend(balanced(runs.len(), f.width).map(|r| (i, runs[r].to_vec())));
        }
        groups
    }

    /// Ensembles to train: each family cut into pieces of at most its
    /// width, as equal as they can be ([`balanced`]). Depends only on the plan.
    pub fn chunks(&self) -> Vec<Chunk> {
        let mut out = Vec::new();
        for (i, f) in self.families.iter().enumerate() {
            let (start, end) = (f.points.start * self.seeds, f.points.end * self.seeds);
            out.extend(balanced(end - start, f.width).map(|r| Chunk {
                family: i,
                start: start + r.start,
                end: start + r.end,
            }));
        }
        out
    }
}

/// `0..len` in the fewest pieces of at most `width` (at least 1), their
/// sizes differing by at most one (larger first): 60 runs of width 54 are
/// two ensembles of 30, not 54 and 6, so that no piece is left too narrow
/// for the kernels' vectors and the threads get even work.
pub fn balanced(len: usize, width: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let pieces = len.div_ceil(width.max(1)).max(1);
    let (base, extra) = (len / pieces, len % pieces);
    (0..pieces).filter(move |_| len > 0).scan(0, move |start, p| {
        let r = *start..*start + base + usize::from(p < extra);
        *start = r.end;
        Some(r)
    })
}

fn err(msg: impl Into<String>) -> SweepError {
    SweepError::Config(msg.into())
}

/// The identity of an experiment: SHA-256 of its resolved file as JSON.
pub fn experiment_hash(file: &ExperimentFile) -> Result<String, SweepError> {
    let json = serde_json::to_string(file).map_err(|e| err(e.to_string()))?;
    Ok(format!("{:x}", Sha256::digest(json.as_bytes())))
}

/// Validates an experiment file, loads its data and builds the plan.
/// `stem` names the experiment when the file has no `name`.
pub fn resolve(file: ExperimentFile, stem: &str, overrides: Vec<String>) -> Result<Plan, SweepError> {
    let name = check_basics(&file, stem)?;
    crate::cpu::requested().map_err(|e| SweepError::Config(e.to_string()))?;
    let grid = Grid::from_file(&file)?;
    check_architecture_names(&file, &grid)?;
    check_size(&grid, file.seeds.most())?;
    grid::check_training(&file)?;
    let t = &file.training;
    let datasets = load_datasets(&file, &grid)?;
    measure::check_losses(t.loss, t.metric, datasets[0].classification)?;
    let criterion = measure::criterion(&file, &datasets[0])?;
    let record_epochs = measure::record_epochs(t.epochs, &measure::record_config(&file)?)?;
    let hash = experiment_hash(&file)?;
    let base = Settings::from_training(t);
    let families = families(&file, &grid, &base, &datasets)?;
    Ok(Plan {
        base,
        name,
        seeds: file.seeds.most(),
        adaptive: match file.seeds {
            Seeds::Adaptive(a) => Some(a),
            Seeds::Fixed(_) => None,
        },
        epochs: t.epochs,
        base_seed: file.base_seed,
        loss: t.loss,
        metric: t.metric,
        keep_weights: file.record.weights,
        overrides,
        hash,
        grid,
        record_epochs,
        criterion,
        families,
        datasets,
        file,
    })
}

/// The experiment's name, and the checks that need nothing resolved.
fn check_basics(file: &ExperimentFile, stem: &str) -> Result<String, SweepError> {
    let name = file.name.clone().unwrap_or_else(|| stem.to_string());
    if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(err(format!("name `{name}` cannot be a folder name")));
    }
    if name.len() > MAX_NAME {
        return Err(err(format!(
            "name `{}…` is {} bytes long: use at most {MAX_NAME} (it names the results folder)",
            name.chars().take(40).collect::<String>(),
            name.len()
        )));
    }
    match file.seeds {
        Seeds::Fixed(0) => return Err(err("seeds = 0: each grid point needs at least 1 seed")),
        Seeds::Fixed(_) => {}
        Seeds::Adaptive(a) => super::adaptive::check(&a)?,
    }
    let epochs = file.training.epochs;
    if epochs == 0 {
        return Err(err("training.epochs = 0: train at least 1 epoch"));
    }
    if epochs > MAX_EPOCHS {
        return Err(err(format!("training.epochs = {epochs} is more than this tool accepts ({MAX_EPOCHS})")));
    }
    if file.architectures.is_empty() {
        return Err(err("no architectures: define at least one [architectures.<name>] with layers"));
    }
    Ok(name)
}

fn check_architecture_names(file: &ExperimentFile, grid: &Grid) -> Result<(), SweepError> {
    let (_, axis) = grid.axis("architecture").expect("the grid always has an architecture axis");
    let grid::Values::Name(names) = &axis.values else { unreachable!("architecture values are names") };
    let defined: Vec<&String> = file.architectures.keys().collect();
    let mut files: std::collections::BTreeMap<String, &String> = Default::default();
    for a in names {
        if a.len() > MAX_NAME {
            return Err(err(format!(
                "architecture name `{}…` is {} bytes long: use at most {MAX_NAME} (figures are named after it)",
                a.chars().take(40).collect::<String>(),
                a.len()
            )));
        }
        if let Some(other) = files.insert(slug(a), a) {
            return Err(err(if other == a {
                format!("grid.architecture lists `{a}` twice: name each architecture once")
            } else {
                format!(
                    "architectures `{other}` and `{a}` would share the figure file names `…_{}`: rename one (names are lower-cased, and characters other than letters, digits, '.' and '-' become '-')",
                    slug(a)
                )
            }));
        }
        if !file.architectures.contains_key(a) {
            let close = defined.iter().min_by_key(|d| strsim::levenshtein(a, d)).map_or("", |s| s.as_str());
            let list = defined.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            return Err(err(format!(
                "grid.architecture names `{a}`, which is not defined (defined: {list}; did you mean `{close}`?)"
            )));
        }
    }
    Ok(())
}

fn check_size(grid: &Grid, seeds: usize) -> Result<(), SweepError> {
    let points = grid.radices().iter().try_fold(1usize, |acc, &n| acc.checked_mul(n));
    match points.and_then(|p| p.checked_mul(seeds)) {
        Some(runs) if runs <= MAX_RUNS => Ok(()),
        _ => Err(err(format!(
            "{} grid points × {seeds} seeds is more runs than this tool accepts ({MAX_RUNS}); split the grid or use fewer seeds",
            points.map_or("too many".to_string(), |p| p.to_string()),
        ))),
    }
}

/// One data set per value of the bits axis (one for every other problem).
fn load_datasets(file: &ExperimentFile, grid: &Grid) -> Result<Vec<Arc<ProblemData>>, SweepError> {
    let bits = match grid.axis("bits").map(|(_, a)| &a.values) {
        Some(grid::Values::Count(v)) => v.iter().map(|b| Some(*b)).collect(),
        _ => vec![None],
    };
    bits.into_iter()
        .map(|b| {
            let p = match (&file.problem, b) {
                (ProblemConfig::Parity { .. }, Some(bits)) => ProblemConfig::Parity { bits },
                (other, _) => other.clone(),
            };
            problem::load(&p, file.base_seed).map(Arc::new)
        })
        .collect()
}

/// Resolves and checks every family of the grid.
fn families(
    file: &ExperimentFile,
    grid: &Grid,
    base: &Settings,
    datasets: &[Arc<ProblemData>],
) -> Result<Vec<Family>, SweepError> {
    let per = grid.family_points();
    let init_axis = grid.axis("init").is_some();
    let bits_axis = grid.axis("bits").map(|(i, _)| i);
    (0..grid.points() / per)
        .map(|f| {
            let first = f * per;
            let s = Settings::at(grid, base, first);
            let data = bits_axis.map_or(0, |i| grid.coords(first)[i]);
            let input = datasets[data].input_dim();
            let arch = &file.architectures[&s.architecture];
            check_layers(&s.architecture, arch, &s, input)?;
            let (layers, lane_init) = family::layers(arch, &s, input, init_axis);
            check_network(&s.architecture, &layers, file, &datasets[data])?;
            check_optimizers(grid, base, first..first + per)?;
            Ok(Family {
                points: first..first + per,
                architecture: s.architecture.clone(),
                width: family::ensemble_width(&layers),
                layers,
                lane_init,
                optimizer: s.optimizer,
                nesterov: s.nesterov,
                activation: s.activation,
                data,
                batch_size: s.batch_size.resolve(datasets[data].train.x.nrows()),
            })
        })
        .collect()
}

/// Each lane value of the family must make a valid optimizer; the values of
/// each lane axis are checked by the grid, so the first and last points of
/// the family cover every combination's ranges.
fn check_optimizers(grid: &Grid, base: &Settings, points: std::ops::Range<usize>) -> Result<(), SweepError> {
    for p in [points.start, points.end - 1] {
        let s = Settings::at(grid, base, p);
        s.optimizer().validate().map_err(|e| err(format!("training: {e}")))?;
        if s.nesterov && s.optimizer != OptimizerKind::Sgd {
            return Err(err(format!(
                "nesterov = true applies to sgd only, but this grid crosses it with optimizer {}: run the nesterov points as their own sweep with optimizer = \"sgd\"",
                s.optimizer.name()
            )));
        }
    }
    Ok(())
}

/// The architecture's layer specs: an activation for every Dense layer,
/// exactly one of units and units_per_input, sizes within bounds.
fn check_layers(name: &str, arch: &ArchitectureConfig, s: &Settings, input: usize) -> Result<(), SweepError> {
    for (i, l) in arch.layers.iter().enumerate() {
        let LayerConfig::Dense { activation, units, units_per_input, .. } = l else { continue };
        if activation.is_none() && s.activation.is_none() {
            return Err(err(format!(
                "architecture `{name}` layer {i} has no activation, and neither training.activation nor grid.activation is set"
            )));
        }
        let n = match (units, units_per_input) {
            (Some(Units::Count(n)), None) => Some(*n),
            (Some(Units::Axis(axis)), None) => s.width(axis),
            (None, Some(u)) => u.checked_mul(input),
            _ => {
                return Err(err(format!(
                    "architecture `{name}` layer {i}: give exactly one of units and units_per_input"
                )))
            }
        };
        if n.is_none_or(|n| n > MAX_PARAMS) {
            return Err(err(format!("architecture `{name}` layer {i}: too many units")));
        }
    }
    Ok(())
}

/// The resolved network: within the parameter bound, buildable, and its
/// output fits the problem's targets.
fn check_network(name: &str, layers: &[Layer], file: &ExperimentFile, d: &ProblemData) -> Result<(), SweepError> {
    match family::param_count(layers) {
        Some(params) if params <= MAX_PARAMS => {}
        count => {
            let params = count.map_or("too many".to_string(), |p| p.to_string());
            return Err(err(format!(
                "architecture `{name}` has {params} parameters; this tool accepts up to {MAX_PARAMS}"
            )));
        }
    }
    let mut e = Ensemble::<f32>::new(&[0]);
    for l in layers {
        e.add(*l).map_err(|e| err(format!("architecture `{name}`: {e}")))?;
    }
    e.check_complete().map_err(|e| err(format!("architecture `{name}`: {e}")))?;
    let outputs = e.output_dim();
    match file.training.loss {
        Loss::Mse if outputs != d.train.y.ncols() => Err(err(format!(
            "architecture `{name}` outputs {outputs} values, but the problem's targets have {} columns",
            d.train.y.ncols()
        ))),
        Loss::Cce if outputs < d.classes() => Err(err(format!(
            "architecture `{name}` outputs {outputs} scores, but the problem has {} classes",
            d.classes()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_paired_across_points_and_distinct_across_indices() {
        assert_eq!(derive_seed(1, "2-2-1", 5), derive_seed(1, "2-2-1", 5));
        assert_ne!(derive_seed(1, "2-2-1", 5), derive_seed(1, "2-2-1", 6));
        assert_ne!(derive_seed(1, "2-2-1", 5), derive_seed(1, "concat", 5));
        assert_ne!(derive_seed(1, "2-2-1", 5), derive_seed(2, "2-2-1", 5));
        // A literal value: the derivation is part of the file format.
        assert_eq!(mix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn balanced_pieces_cover_the_range_evenly() {
        let sizes = |len, width| balanced(len, width).map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(sizes(60, 54), [30, 30]);
        assert_eq!(sizes(6000, 512), [500; 12]);
        assert_eq!(sizes(6001, 512), [501, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500]);
        assert_eq!(sizes(10, 512), [10]);
        assert_eq!(sizes(7, 1), [1; 7]);
        assert_eq!(sizes(0, 8), Vec::<usize>::new());
        for (len, width) in [(1, 1), (61, 16), (1000, 7), (513, 512)] {
            let pieces: Vec<_> = balanced(len, width).collect();
            assert_eq!(pieces.first().map(|r| r.start), Some(0));
            assert_eq!(pieces.last().map(|r| r.end), Some(len));
            assert!(pieces.windows(2).all(|w| w[0].end == w[1].start));
            assert!(pieces.iter().all(|r| r.len() <= width && r.len() + 1 >= len / pieces.len()));
        }
    }
}
