//! Per-grid-point statistics: convergence rate with its Wilson interval,
//! epochs-to-converge quantiles, final figures, aggregated curves and the
//! fraction converged by each recorded epoch. A point is aggregated from its
//! own runs only, sorted by seed index, so the result never depends on the
//! order in which runs finished.

use super::grid::{Grid, Params};
use super::measure::Criterion;
use super::plan::Plan;
use super::record::{Outcome, RunRecord};
use super::stats::{quantile, wilson, MeanStd, Quantiles, Z95};
use serde::{Deserialize, Serialize};

/// Statistics of one curve across a point's runs, per recorded epoch.
/// Entries are null where no run has a value (every run diverged before).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesStats {
    /// Mean.
    pub mean: Vec<Option<f64>>,
    /// Median.
    pub median: Vec<Option<f64>>,
    /// 10th percentile.
    pub p10: Vec<Option<f64>>,
    /// 25th percentile.
    pub p25: Vec<Option<f64>>,
    /// 75th percentile.
    pub p75: Vec<Option<f64>>,
    /// 90th percentile.
    pub p90: Vec<Option<f64>>,
}

/// Aggregated curves of a point.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PointCurves {
    /// Training loss.
    pub train_loss: SeriesStats,
    /// Training metric.
    pub train_metric: SeriesStats,
    /// Test loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<SeriesStats>,
    /// Test metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_metric: Option<SeriesStats>,
}

/// One entry of `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointSummary {
    /// Grid point index.
    pub point: usize,
    /// Its parameters, by axis name in grid order.
    pub params: Params,
    /// Runs (seeds).
    pub runs: usize,
    /// Runs that met the criterion at some epoch.
    pub converged: usize,
    /// Runs that still met it after the last epoch.
    pub converged_at_end: usize,
    /// Runs whose loss became NaN or infinite.
    pub diverged: usize,
    /// converged / runs.
    pub convergence_rate: f64,
    /// Lower end of the 95% Wilson interval of the rate.
    pub rate_ci_low: f64,
    /// Upper end of the 95% Wilson interval of the rate.
    pub rate_ci_high: f64,
    /// Epochs to converge among converged runs.
    pub epochs_to_converge: Option<Quantiles>,
    /// Final training loss over non-diverged runs.
    pub final_train_loss: Option<MeanStd>,
    /// Final training metric over non-diverged runs.
    pub final_train_metric: Option<MeanStd>,
    /// Final test loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_test_loss: Option<MeanStd>,
    /// Final test metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_test_metric: Option<Quantiles>,
    /// Best test metric over epochs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_test_metric: Option<Quantiles>,
    /// Curves per recorded epoch.
    pub curves: PointCurves,
    /// Fraction of runs converged by each recorded epoch.
    pub converged_by_epoch: Vec<f64>,
}

/// `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Experiment name.
    pub name: String,
    /// Hash of the resolved experiment.
    pub experiment_hash: String,
    /// Epochs per run.
    pub epochs: usize,
    /// Seeds per point.
    pub seeds: usize,
    /// The epochs every curve is recorded at.
    pub record_epochs: Vec<usize>,
    /// Convergence criterion.
    pub criterion: Criterion,
    /// Names of the axes with more than one value.
    pub varying_axes: Vec<String>,
    /// The grid's axes, outermost first.
    pub axes: Grid,
    /// One entry per grid point, in point order. Must stay the last field:
    /// `output::write_summary` writes the points after the rest.
    pub points: Vec<PointSummary>,
}

/// An integer that orders f32 values as `f32::total_cmp` does (flip the
/// magnitude bits of negative values); widening to f64 keeps that order, so
/// sorting these keys sorts the widened values as `f64::total_cmp` would,
/// with plain integer comparisons.
fn total_key(v: f32) -> i32 {
    let b = v.to_bits() as i32;
    b ^ (((b >> 31) as u32) >> 1) as i32
}

/// The value of a [`total_key`] (the flip is its own inverse).
fn from_total_key(k: i32) -> f32 {
    f32::from_bits((k ^ (((k >> 31) as u32) >> 1) as i32) as u32)
}

/// Per-epoch statistics of `len` recorded epochs of some curves (a diverged
/// run's curve stops early; epochs no curve reaches get nulls).
fn series<'a>(curves: impl Iterator<Item = &'a [f32]>, len: usize) -> SeriesStats {
    // Longest first, so the curves that reach epoch e are the first `reach[e]`.
    let mut curves: Vec<&[f32]> = curves.map(|c| &c[..c.len().min(len)]).collect();
    curves.sort_by_key(|c| std::cmp::Reverse(c.len()));
    let n = curves.len();
    let reach: Vec<usize> = (0..len).map(|e| curves.partition_point(|c| c.len() > e)).collect();
    // Epoch-major sort keys (row e: epoch e of each curve that reaches it),
    // gathered in one sequential pass per curve.
    let mut keys = vec![0i32; len * n];
    for (j, c) in curves.iter().enumerate() {
        for (e, &v) in c.iter().enumerate() {
            keys[e * n + j] = total_key(v);
        }
    }
    let mut s = SeriesStats {
        mean: Vec::with_capacity(len),
        median: Vec::with_capacity(len),
        p10: Vec::with_capacity(len),
        p25: Vec::with_capacity(len),
        p75: Vec::with_capacity(len),
        p90: Vec::with_capacity(len),
    };
    let mut column = Vec::with_capacity(n);
    for (e, &m) in reach.iter().enumerate() {
        let row = &mut keys[e * n..e * n + m];
        row.sort_unstable();
        column.clear();
        column.extend(row.iter().map(|&k| from_total_key(k) as f64));
        let stat = |q: f64| (!column.is_empty()).then(|| quantile(&column, q));
        s.mean.push((!column.is_empty()).then(|| column.iter().sum::<f64>() / column.len() as f64));
        s.median.push(stat(0.5));
        s.p10.push(stat(0.1));
        s.p25.push(stat(0.25));
        s.p75.push(stat(0.75));
        s.p90.push(stat(0.9));
    }
    s
}

/// Aggregates the runs of one grid point (any order; they are sorted here).
pub fn aggregate_point(plan: &Plan, point: usize, mut runs: Vec<RunRecord>) -> PointSummary {
    runs.sort_by_key(|r| r.seed_index);
    let n = runs.len();
    let converged = runs.iter().filter(|r| matches!(r.outcome(), Outcome::Converged { .. })).count();
    let (lo, hi) = wilson(converged, n, Z95);
    let etc: Vec<f64> = runs.iter().filter_map(|r| r.epochs_to_converge.map(|e| e as f64)).collect();
    let vals = |f: fn(&RunRecord) -> Option<f32>| -> Vec<f64> { runs.iter().filter_map(f).map(f64::from).collect() };
    let len = plan.record_epochs.len();
    let has_test = plan.datasets[0].test.is_some();
    let curves = PointCurves {
        train_loss: series(runs.iter().map(|r| &r.curves.train_loss[..]), len),
        train_metric: series(runs.iter().map(|r| &r.curves.train_metric[..]), len),
        test_loss: has_test.then(|| series(runs.iter().filter_map(|r| r.curves.test_loss.as_deref()), len)),
        test_metric: has_test.then(|| series(runs.iter().filter_map(|r| r.curves.test_metric.as_deref()), len)),
    };
    let converged_by_epoch = plan
        .record_epochs
        .iter()
        .map(|&e| {
            runs.iter().filter(|r| matches!(r.outcome(), Outcome::Converged { at } if at <= e)).count() as f64
                / n as f64
        })
        .collect();
    PointSummary {
        point,
        params: plan.grid.params(point),
        runs: n,
        converged,
        converged_at_end: runs.iter().filter(|r| r.converged_at_end).count(),
        diverged: runs.iter().filter(|r| matches!(r.outcome(), Outcome::Diverged { .. })).count(),
        convergence_rate: converged as f64 / n as f64,
        rate_ci_low: lo,
        rate_ci_high: hi,
        epochs_to_converge: Quantiles::of(&etc),
        final_train_loss: MeanStd::of(&vals(|r| r.final_train_loss)),
        final_train_metric: MeanStd::of(&vals(|r| r.final_train_metric)),
        final_test_loss: has_test.then(|| MeanStd::of(&vals(|r| r.final_test_loss))).flatten(),
        final_test_metric: has_test.then(|| Quantiles::of(&vals(|r| r.final_test_metric))).flatten(),
        best_test_metric: has_test.then(|| Quantiles::of(&vals(|r| r.best_test_metric))).flatten(),
        curves,
        converged_by_epoch,
    }
}

/// Collects runs as they arrive and aggregates each point as soon as all its
/// seeds are in, so only incomplete points' runs are held in memory.
pub struct Aggregator<'p> {
    plan: &'p Plan,
    pending: std::collections::BTreeMap<usize, Vec<RunRecord>>,
    done: Vec<Option<PointSummary>>,
}

impl<'p> Aggregator<'p> {
    /// An aggregator for a plan.
    pub fn new(plan: &'p Plan) -> Self {
        Aggregator { plan, pending: Default::default(), done: vec![None; plan.grid.points()] }
    }

    /// Adds one run; returns its point's statistics if this run completed it.
    pub fn push(&mut self, r: RunRecord) -> Option<&PointSummary> {
        let point = r.point;
        let list = self.pending.entry(point).or_default();
        list.push(r);
        if list.len() < self.plan.seeds {
            return None;
        }
        let runs = self.pending.remove(&point).expect("the point's runs were just added");
        self.done[point] = Some(aggregate_point(self.plan, point, runs));
        self.done[point].as_ref()
    }

    /// The summary; points with missing runs are an error.
    pub fn finish(self) -> Result<Summary, usize> {
        let plan = self.plan;
        let mut points = Vec::with_capacity(self.done.len());
        for (i, p) in self.done.into_iter().enumerate() {
            points.push(p.ok_or(i)?);
        }
        Ok(Summary {
            name: plan.name.clone(),
            experiment_hash: plan.hash.clone(),
            epochs: plan.epochs,
            seeds: plan.seeds,
            record_epochs: plan.record_epochs.clone(),
            criterion: plan.criterion.clone(),
            varying_axes: plan.grid.varying().iter().map(|s| s.to_string()).collect(),
            axes: plan.grid.clone(),
            points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_keys_sort_like_total_cmp_and_round_trip() {
        let values = [3.5f32, -0.0, f32::INFINITY, -1e-30, 0.0, f32::NEG_INFINITY, 1e-45, -7.25, 1.0, -1e-45];
        let mut by_cmp = values;
        by_cmp.sort_by(f32::total_cmp);
        let mut keys: Vec<i32> = values.iter().map(|&v| total_key(v)).collect();
        keys.sort_unstable();
        let back: Vec<u32> = keys.iter().map(|&k| from_total_key(k).to_bits()).collect();
        assert_eq!(back, by_cmp.map(f32::to_bits));
        // -0.0 sorts before +0.0, as in total_cmp.
        assert!(total_key(-0.0) < total_key(0.0));
    }

    #[test]
    fn series_of_curves_that_stop_early() {
        let curves: [&[f32]; 4] = [&[4.0, 2.0], &[1.0, 6.0, 3.0], &[], &[7.0, 0.0, 9.0, 5.0, 8.0]];
        let s = series(curves.into_iter(), 6);
        // Epoch 0: {1, 4, 7}; 1: {0, 2, 6}; 2: {3, 9}; 3: {5}; 4: {8}; 5: none.
        assert_eq!(s.mean, [Some(4.0), Some(8.0 / 3.0), Some(6.0), Some(5.0), Some(8.0), None]);
        assert_eq!(s.median, [Some(4.0), Some(2.0), Some(6.0), Some(5.0), Some(8.0), None]);
        let near = |got: &[Option<f64>], want: [f64; 5]| {
            assert!(got[5].is_none());
            assert!(got[..5].iter().zip(want).all(|(g, w)| (g.unwrap() - w).abs() < 1e-12), "{got:?} {want:?}");
        };
        near(&s.p10, [1.6, 0.4, 3.6, 5.0, 8.0]);
        near(&s.p90, [6.4, 5.2, 8.4, 5.0, 8.0]);
        // Epochs past `len` are ignored.
        assert_eq!(series(curves.into_iter(), 4).mean, s.mean[..4]);
        let none = vec![None; 2];
        assert_eq!(series(std::iter::empty(), 2).p75, none);
    }
}
