//! What a worker keeps of each member while its ensemble trains: its curves
//! at the recorded epochs, its best test metric and its final figures; and
//! the [`RunRecord`]s made from them at the end. The epoch a member first met
//! the criterion and the epoch it diverged are kept by the fit itself
//! ([`Watch`]), which stops once every member has diverged and hands the
//! tracker only the epochs it records (every epoch when there is a test set,
//! whose best metric it keeps).

use super::config::Split;
use super::plan::Plan;
use super::record::{one_nan, Class, Curves, RunRecord};
use crate::ensemble::{EpochReport, Watch, Watched};
use crate::Ensemble;
use std::ops::ControlFlow;

/// One member's figures after the last epoch: train loss, train metric, test loss, test metric.
type Last = (f32, f32, Option<f32>, Option<f32>);

/// Per-member bookkeeping while the ensemble trains.
#[derive(Default)]
struct Track {
    curves: Curves,
    last: Option<Last>,
    best_test: Option<f32>,
    met_at_end: bool,
    /// Training loss after the epoch that starts the trend window.
    trend_loss: Option<f32>,
}

/// The epochs a tracker reads, ascending: the recorded ones, the start of
/// the trend window and the last; every epoch (`None`) with a test set.
pub fn report_epochs(plan: &Plan, has_test: bool) -> Option<Vec<usize>> {
    if has_test {
        return None;
    }
    let mut at = plan.record_epochs.clone();
    at.extend([super::measure::trend_epoch(plan.epochs), plan.epochs]);
    at.sort_unstable();
    at.dedup();
    Some(at)
}

/// What a sweep's fit watches: the convergence criterion, the epochs
/// `report_at` (from [`report_epochs`]), and a stop once all have diverged.
pub fn watch<'a>(plan: &Plan, report_at: Option<&'a [usize]>) -> Watch<'a> {
    Watch { target: Some(plan.criterion.target()), report_at, stop_when_all_diverged: true }
}

/// Every member's bookkeeping, updated from the reported epochs.
pub struct Tracker<'p> {
    plan: &'p Plan,
    tracks: Vec<Track>,
    /// Position in `plan.record_epochs` of the next epoch to record.
    next_record: usize,
}

impl<'p> Tracker<'p> {
    /// Bookkeeping for `members` runs (with test curves when the problem has a test set).
    pub fn new(plan: &'p Plan, members: usize, has_test: bool) -> Self {
        // Each curve's room for all its recorded epochs from the start.
        let n = plan.record_epochs.len();
        let curve = || Vec::with_capacity(n);
        let track = || Track {
            curves: Curves {
                train_loss: curve(),
                train_metric: curve(),
                test_loss: has_test.then(curve),
                test_metric: has_test.then(curve),
            },
            ..Track::default()
        };
        Tracker { plan, tracks: (0..members).map(|_| track()).collect(), next_record: 0 }
    }

    /// Takes one reported epoch (members that have diverged by then are left as they were).
    pub fn on_report(&mut self, r: &EpochReport<f32>) -> ControlFlow<()> {
        let watched = match self.plan.criterion.on {
            Split::Train => r.train_metric,
            // `resolve` refuses on = "test" for problems without a test set.
            Split::Test => r.test_metric.expect("criterion on a test set that exists"),
        };
        self.keep_best_test(r);
        self.record(r, watched);
        ControlFlow::Continue(())
    }

    fn keep_best_test(&mut self, r: &EpochReport<f32>) {
        let Some(tm) = r.test_metric else { return };
        let higher = self.plan.criterion.metric.higher_is_better();
        for ((tr, &v), &d) in self.tracks.iter_mut().zip(tm).zip(r.diverged_at) {
            if d == 0 && tr.best_test.is_none_or(|b| if higher { v > b } else { v < b }) {
                tr.best_test = Some(one_nan(v));
            }
        }
    }

    /// The curves at recorded epochs, and the final figures at the last epoch.
    fn record(&mut self, r: &EpochReport<f32>, watched: &[f32]) {
        let record = self.plan.record_epochs.get(self.next_record) == Some(&r.epoch);
        if record {
            self.next_record += 1;
        }
        let last = r.epoch == self.plan.epochs;
        let trend = r.epoch == super::measure::trend_epoch(self.plan.epochs);
        if !record && !last && !trend {
            return;
        }
        let criterion = &self.plan.criterion;
        let alive = self.tracks.iter_mut().zip(r.diverged_at).enumerate().filter(|(_, (_, &d))| d == 0);
        for (k, (tr, _)) in alive {
            let (tl, tm) = (r.test_loss.map(|v| one_nan(v[k])), r.test_metric.map(|v| one_nan(v[k])));
            let (loss, metric) = (one_nan(r.train_loss[k]), one_nan(r.train_metric[k]));
            if record {
                let c = &mut tr.curves;
                c.train_loss.push(loss);
                c.train_metric.push(metric);
                if let (Some(l), Some(m), Some(tl), Some(tm)) = (c.test_loss.as_mut(), c.test_metric.as_mut(), tl, tm) {
                    l.push(tl);
                    m.push(tm);
                }
            }
            if trend {
                tr.trend_loss = Some(loss);
            }
            if last {
                tr.last = Some((loss, metric, tl, tm));
                tr.met_at_end = criterion.met(watched[k] as f64);
            }
        }
    }

    /// The records of runs `runs` (member k is run `runs[k]`, seeded `seeds[k]`)
    /// once `ens` has trained and its fit found `watched`; final weights for
    /// the first seeds of each point.
    pub fn records(
        self,
        watched: Watched,
        runs: &[usize],
        seeds: &[u64],
        ens: &Ensemble<f32>,
        validation: Option<&[f32]>,
    ) -> Vec<RunRecord> {
        let plan = self.plan;
        // One point's parameters serve all its seeds.
        let mut params: Option<(usize, crate::sweep::grid::Params)> = None;
        self.tracks
            .into_iter()
            .zip(watched.first_met.into_iter().zip(watched.diverged_at))
            .enumerate()
            .map(|(k, (tr, (first, diverged_at)))| {
                let (run, point, seed_index) = (runs[k], runs[k] / plan.seeds, runs[k] % plan.seeds);
                let diverged_at = (diverged_at > 0).then_some(diverged_at as usize);
                let diverged = diverged_at.is_some();
                let converged_at = (first > 0 && !diverged).then_some(first as usize);
                let last = if diverged { None } else { tr.last };
                let met_at_end = !diverged && tr.met_at_end;
                let trend = tr.trend_loss.zip(last.map(|l| l.0));
                RunRecord {
                    run,
                    point,
                    params: match &params {
                        Some((p, v)) if *p == point => v.clone(),
                        _ => params.insert((point, plan.grid.params(point))).1.clone(),
                    },
                    seed_index,
                    seed: seeds[k],
                    converged: converged_at.is_some(),
                    epochs_to_converge: converged_at,
                    converged_at_end: met_at_end,
                    diverged,
                    diverged_at,
                    outcome: Class::of(diverged, converged_at.is_some(), met_at_end, trend),
                    final_train_loss: last.map(|l| l.0),
                    final_train_metric: last.map(|l| l.1),
                    final_test_loss: last.and_then(|l| l.2),
                    final_test_metric: last.and_then(|l| l.3),
                    best_test_metric: if diverged { None } else { tr.best_test },
                    final_validation_metric: validation.filter(|_| !diverged).map(|v| one_nan(v[k])),
                    curves: tr.curves,
                    weights: (seed_index < plan.keep_weights && !diverged)
                        .then(|| ens.member_params(k).into_iter().map(one_nan).collect()),
                }
            })
            .collect()
    }
}
