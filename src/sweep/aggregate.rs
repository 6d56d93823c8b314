//! Per-grid-point statistics: convergence rate with its Wilson interval,
//! epochs-to-converge quantiles, final figures, aggregated curves and the
//! fraction converged by each recorded epoch. A point is aggregated from its
//! own runs only, sorted by seed index, so the result never depends on the
//! order in which runs finished.

use super::config::Count;
use super::grid::{Grid, Params};
use super::measure::Criterion;
use super::plan::Plan;
use super::point_runs::{from_total_key, PointRuns};
use super::record::RunRecord;
use super::stats::{quantile_by, wilson, MeanStd, Quantiles, Z95};
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
    /// converged_at_end / runs: the runs that still met the criterion after the last epoch.
    pub solved_at_end_rate: f64,
    /// Lower end of its 95% Wilson interval.
    pub solved_ci_low: f64,
    /// Upper end of its 95% Wilson interval.
    pub solved_ci_high: f64,
    /// Runs per outcome class.
    pub outcomes: Outcomes,
    /// Epochs to converge among the runs that converged (first hit), and
    /// only those: conditional on converging.
    pub epochs_to_converge: Option<Quantiles>,
    /// Median epochs to converge over all runs, a run that never converged
    /// counting as never (the time-to-converge curve's median); null when at
    /// most half the runs converged, i.e. more than the epoch budget.
    pub median_epochs_all: Option<f64>,
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
    /// 95% interval of the mean final test metric over seeds (normal
    /// approximation: mean ± 1.96 · s / √n, s the sample standard deviation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_metric_mean_ci: Option<[f64; 2]>,
    /// Final metric on the validation set (the best point is picked on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_validation_metric: Option<Quantiles>,
    /// Curves per recorded epoch.
    pub curves: PointCurves,
    /// Fraction of runs converged by each recorded epoch.
    pub converged_by_epoch: Vec<f64>,
}

/// Runs per outcome class ([`super::record::Class`]); they add up to the runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Met the criterion and still met it at the end.
    pub converged: usize,
    /// Met it, lost it by the end.
    pub transient: usize,
    /// Never met it; training loss flat over the last quarter.
    pub plateau: usize,
    /// Never met it; still improving.
    pub slow: usize,
    /// Loss became NaN or infinite.
    pub diverged: usize,
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

/// How points rank in tables and for "the best point": higher rate first,
/// then fewer median epochs among converged runs (none last), then the
/// lower point index. Each side is (rate, median epochs, point).
pub fn rank_order(a: (f64, Option<f64>, usize), b: (f64, Option<f64>, usize)) -> std::cmp::Ordering {
    let epochs = |m: Option<f64>| m.unwrap_or(f64::INFINITY);
    b.0.total_cmp(&a.0).then(epochs(a.1).total_cmp(&epochs(b.1))).then(a.2.cmp(&b.2))
}

impl PointSummary {
    /// Its side of [`rank_order`] by the rate `count` names.
    pub fn rank_key(&self, count: Count) -> (f64, Option<f64>, usize) {
        (self.rate(count).0, self.epochs_to_converge.as_ref().map(|q| q.median), self.point)
    }

    /// The rate `count` names, with its 95% Wilson interval.
    pub fn rate(&self, count: Count) -> (f64, f64, f64) {
        match count {
            Count::FirstHit => (self.convergence_rate, self.rate_ci_low, self.rate_ci_high),
            Count::AtEnd => (self.solved_at_end_rate, self.solved_ci_low, self.solved_ci_high),
        }
    }
}

impl Summary {
    /// The summary of `plan` without its points: everything that comes
    /// before them in summary.json.
    pub fn head(plan: &Plan) -> Summary {
        Summary {
            name: plan.name.clone(),
            experiment_hash: plan.hash.clone(),
            epochs: plan.epochs,
            seeds: plan.seeds,
            record_epochs: plan.record_epochs.clone(),
            criterion: plan.criterion.clone(),
            varying_axes: plan.grid.varying().iter().map(|s| s.to_string()).collect(),
            axes: plan.grid.clone(),
            points: Vec::new(),
        }
    }
}

/// Per-epoch statistics of one curve from its columns (`columns[e]`: the
/// sort keys of the runs that reach recorded epoch e), sorting each column
/// in place; epochs no run reaches (and epochs past the columns, up to
/// `len`) get nulls.
fn series(columns: &mut [Vec<i32>], len: usize) -> SeriesStats {
    let mut s = SeriesStats {
        mean: Vec::with_capacity(len),
        median: Vec::with_capacity(len),
        p10: Vec::with_capacity(len),
        p25: Vec::with_capacity(len),
        p75: Vec::with_capacity(len),
        p90: Vec::with_capacity(len),
    };
    for e in 0..len {
        let column = columns.get_mut(e).map_or(&mut [][..], |c| &mut c[..]);
        column.sort_unstable();
        let n = column.len();
        let at = |i: usize| from_total_key(column[i]) as f64;
        let stat = |q: f64| (n > 0).then(|| quantile_by(n, q, at));
        s.mean.push((n > 0).then(|| column.iter().map(|&k| from_total_key(k) as f64).sum::<f64>() / n as f64));
        s.median.push(stat(0.5));
        s.p10.push(stat(0.1));
        s.p25.push(stat(0.25));
        s.p75.push(stat(0.75));
        s.p90.push(stat(0.9));
    }
    s
}

/// A point's statistics from its runs' columns.
fn summarise(plan: &Plan, point: usize, mut runs: PointRuns) -> PointSummary {
    let n = runs.runs;
    let (lo, hi) = wilson(runs.converged, n, Z95);
    let (solved_lo, solved_hi) = wilson(runs.converged_at_end, n, Z95);
    let [converged, transient, plateau, slow, diverged] = runs.classes;
    let etc: Vec<f64> = runs.epochs_to_converge.iter().map(|&e| e as f64).collect();
    let [train_loss, train_metric, test_loss, test_metric, best_test, validation] =
        runs.finals.each_ref().map(|v| v.iter().map(|&x| f64::from(x)).collect::<Vec<f64>>());
    let len = plan.record_epochs.len();
    let has_test = plan.datasets[0].test.is_some();
    let [c_train_loss, c_train_metric, c_test_loss, c_test_metric] = &mut runs.curves;
    let curves = PointCurves {
        train_loss: series(c_train_loss, len),
        train_metric: series(c_train_metric, len),
        test_loss: has_test.then(|| series(c_test_loss, len)),
        test_metric: has_test.then(|| series(c_test_metric, len)),
    };
    runs.converged_at.sort_unstable();
    let k = runs.converged_at.len();
    // Runs that never converged count as +∞ epochs.
    let at = |i: usize| if i < k { runs.converged_at[i] as f64 } else { f64::INFINITY };
    let median_epochs_all = (n > 0).then(|| quantile_by(n, 0.5, at)).filter(|m| m.is_finite());
    let converged_by_epoch = plan
        .record_epochs
        .iter()
        .map(|&e| runs.converged_at.partition_point(|&at| at as usize <= e) as f64 / n as f64)
        .collect();
    PointSummary {
        point,
        params: plan.grid.params(point),
        runs: n,
        converged: runs.converged,
        converged_at_end: runs.converged_at_end,
        diverged: runs.diverged,
        convergence_rate: runs.converged as f64 / n as f64,
        rate_ci_low: lo,
        rate_ci_high: hi,
        solved_at_end_rate: runs.converged_at_end as f64 / n as f64,
        solved_ci_low: solved_lo,
        solved_ci_high: solved_hi,
        outcomes: Outcomes { converged, transient, plateau, slow, diverged },
        epochs_to_converge: Quantiles::of(&etc),
        median_epochs_all,
        final_train_loss: MeanStd::of(&train_loss),
        final_train_metric: MeanStd::of(&train_metric),
        final_test_loss: has_test.then(|| MeanStd::of(&test_loss)).flatten(),
        final_test_metric: has_test.then(|| Quantiles::of(&test_metric)).flatten(),
        best_test_metric: has_test.then(|| Quantiles::of(&best_test)).flatten(),
        test_metric_mean_ci: has_test.then(|| MeanStd::of(&test_metric)).flatten().filter(|m| m.n > 1).map(|m| {
            // The sample standard deviation (n − 1) from the population one.
            let sd = m.std * (m.n as f64 / (m.n - 1) as f64).sqrt();
            let half = Z95 * sd / (m.n as f64).sqrt();
            [m.mean - half, m.mean + half]
        }),
        final_validation_metric: Quantiles::of(&validation),
        curves,
        converged_by_epoch,
    }
}

/// Aggregates the runs of one grid point (any order; they are sorted here).
pub fn aggregate_point(plan: &Plan, point: usize, mut runs: Vec<RunRecord>) -> PointSummary {
    runs.sort_by_key(|r| r.seed_index);
    let (len, test) = (plan.record_epochs.len(), plan.datasets[0].test.is_some());
    let mut columns = PointRuns::with_capacity(runs.len(), len, test);
    for r in &runs {
        columns.add(r, len);
    }
    summarise(plan, point, columns)
}

/// Collects runs as they arrive, in run order, and aggregates each point as
/// soon as all its seeds are in. Only the points not yet complete are held,
/// as columns ([`PointRuns`]); a completed point's statistics are handed to
/// the caller and not kept.
pub struct Aggregator<'p> {
    plan: &'p Plan,
    pending: std::collections::BTreeMap<usize, PointRuns>,
}

impl<'p> Aggregator<'p> {
    /// An aggregator for a plan.
    pub fn new(plan: &'p Plan) -> Self {
        Aggregator { plan, pending: Default::default() }
    }

    /// Adds one run; returns its point's statistics if this run completed
    /// it. A run outside the grid, or out of seed order within its point, is
    /// refused with a message.
    pub fn push(&mut self, r: &RunRecord) -> Result<Option<PointSummary>, String> {
        self.push_hold(r)?;
        if self.pending[&r.point].runs < self.plan.seeds {
            return Ok(None);
        }
        Ok(self.take(r.point))
    }

    /// Adds one run and holds its point open whatever its count (adaptive
    /// seeds: a point is complete when the rounds end, [`Aggregator::take`]).
    pub fn push_hold(&mut self, r: &RunRecord) -> Result<(), String> {
        let plan = self.plan;
        if r.point >= plan.grid.points() || r.seed_index >= plan.seeds {
            return Err(format!(
                "run {} is at grid point {} seed {}, outside this experiment's {} points × {} seeds",
                r.run,
                r.point,
                r.seed_index,
                plan.grid.points(),
                plan.seeds
            ));
        }
        let len = plan.record_epochs.len();
        // Adaptive points grow from the first round's seeds; fixed ones get all at once.
        let room = plan.adaptive.map_or(plan.seeds, |a| a.min);
        let columns = self
            .pending
            .entry(r.point)
            .or_insert_with(|| PointRuns::with_capacity(room, len, plan.datasets[0].test.is_some()));
        columns.push(r, len)
    }

    /// The statistics of point `point` from the runs it holds (and drops them).
    pub fn take(&mut self, point: usize) -> Option<PointSummary> {
        self.pending.remove(&point).map(|columns| summarise(self.plan, point, columns))
    }

    /// The first point still missing runs, if any.
    pub fn incomplete(&self) -> Option<usize> {
        self.pending.keys().next().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::point_runs::total_key;
    use super::*;

    #[test]
    fn series_of_curves_that_stop_early() {
        let curves: [&[f32]; 4] = [&[4.0, 2.0], &[1.0, 6.0, 3.0], &[], &[7.0, 0.0, 9.0, 5.0, 8.0]];
        // Columns as PointRuns fills them: epoch e holds the curves reaching it.
        let columns = |len: usize| -> Vec<Vec<i32>> {
            (0..len).map(|e| curves.iter().filter_map(|c| c.get(e)).map(|&v| total_key(v)).collect()).collect()
        };
        let s = series(&mut columns(6), 6);
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
        assert_eq!(series(&mut columns(4), 4).mean, s.mean[..4]);
        // Epochs past the columns are null.
        assert_eq!(series(&mut columns(4), 6).mean, [&s.mean[..4], &[None, None]].concat());
        let none = vec![None; 2];
        assert_eq!(series(&mut [], 2).p75, none);
    }
}
