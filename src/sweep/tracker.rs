//! What a worker keeps of each member while its ensemble trains: the epoch
//! it first met the criterion, the epoch it diverged, its best test metric,
//! its curves at the recorded epochs and its final figures; and the
//! [`RunRecord`]s made from them at the end.

use super::config::Split;
use super::plan::Plan;
use super::record::{Class, Curves, RunRecord};
use crate::ensemble::EpochReport;
use crate::Ensemble;
use std::ops::ControlFlow;

/// One member's figures after the last epoch: train loss, train metric, test loss, test metric.
type Last = (f32, f32, Option<f32>, Option<f32>);

/// Per-member bookkeeping while the ensemble trains.
#[derive(Default)]
struct Track {
    curves: Curves,
    diverged_at: Option<usize>,
    last: Option<Last>,
    best_test: Option<f32>,
    met_at_end: bool,
    /// Training loss after the epoch that starts the trend window.
    trend_loss: Option<f32>,
}

/// Every member's bookkeeping, updated from each epoch's report.
pub struct Tracker<'p> {
    plan: &'p Plan,
    tracks: Vec<Track>,
    /// First epoch meeting the criterion per member (0: not yet); apart from
    /// `tracks` so the per-epoch scan is a plain, vectorisable array loop.
    first_met: Vec<u32>,
    /// Position in `plan.record_epochs` of the next epoch to record.
    next_record: usize,
    /// Members that have not diverged.
    alive: usize,
}

impl<'p> Tracker<'p> {
    /// Bookkeeping for `members` runs (with test curves when the problem has a test set).
    pub fn new(plan: &'p Plan, members: usize, has_test: bool) -> Self {
        let track = || Track {
            curves: Curves {
                test_loss: has_test.then(Vec::new),
                test_metric: has_test.then(Vec::new),
                ..Curves::default()
            },
            ..Track::default()
        };
        Tracker {
            plan,
            tracks: (0..members).map(|_| track()).collect(),
            first_met: vec![0; members],
            next_record: 0,
            alive: members,
        }
    }

    /// Takes one epoch's report; stops training once every member has diverged.
    pub fn on_epoch(&mut self, r: &EpochReport<f32>) -> ControlFlow<()> {
        self.mark_diverged(r);
        let watched = match self.plan.criterion.on {
            Split::Train => r.train_metric,
            // `resolve` refuses on = "test" for problems without a test set.
            Split::Test => r.test_metric.expect("criterion on a test set that exists"),
        };
        self.mark_met(watched, r.epoch);
        self.keep_best_test(r);
        self.record(r, watched);
        if self.alive == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// Divergence: rare, so one vectorisable scan first (a fold, not a short-circuiting `all`).
    fn mark_diverged(&mut self, r: &EpochReport<f32>) {
        if r.train_loss.iter().fold(true, |ok, v| ok & v.is_finite()) {
            return;
        }
        for (tr, v) in self.tracks.iter_mut().zip(r.train_loss) {
            if !v.is_finite() && tr.diverged_at.is_none() {
                tr.diverged_at = Some(r.epoch);
                self.alive -= 1;
            }
        }
    }

    /// The first epoch each member meets the criterion: one monomorphic,
    /// branch-free loop per direction of the criterion.
    fn mark_met(&mut self, watched: &[f32], epoch: usize) {
        let c = &self.plan.criterion;
        let (epoch, threshold) = (epoch as u32, c.threshold);
        if c.metric.higher_is_better() {
            mark_first(&mut self.first_met, watched, epoch, |v| v as f64 >= threshold);
        } else {
            mark_first(&mut self.first_met, watched, epoch, |v| v as f64 <= threshold);
        }
    }

    fn keep_best_test(&mut self, r: &EpochReport<f32>) {
        let Some(tm) = r.test_metric else { return };
        let higher = self.plan.criterion.metric.higher_is_better();
        for (tr, &v) in self.tracks.iter_mut().zip(tm) {
            if tr.diverged_at.is_none() && tr.best_test.is_none_or(|b| if higher { v > b } else { v < b }) {
                tr.best_test = Some(v);
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
        for (k, tr) in self.tracks.iter_mut().enumerate().filter(|(_, tr)| tr.diverged_at.is_none()) {
            let (tl, tm) = (r.test_loss.map(|v| v[k]), r.test_metric.map(|v| v[k]));
            if record {
                let c = &mut tr.curves;
                c.train_loss.push(r.train_loss[k]);
                c.train_metric.push(r.train_metric[k]);
                if let (Some(l), Some(m), Some(tl), Some(tm)) = (c.test_loss.as_mut(), c.test_metric.as_mut(), tl, tm) {
                    l.push(tl);
                    m.push(tm);
                }
            }
            if trend {
                tr.trend_loss = Some(r.train_loss[k]);
            }
            if last {
                tr.last = Some((r.train_loss[k], r.train_metric[k], tl, tm));
                tr.met_at_end = criterion.met(watched[k] as f64);
            }
        }
    }

    /// The records of runs `runs` (member k is run `runs[k]`, seeded `seeds[k]`)
    /// once `ens` has trained; final weights for the first seeds of each point.
    pub fn records(
        self,
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
            .zip(self.first_met)
            .enumerate()
            .map(|(k, (tr, first))| {
                let (run, point, seed_index) = (runs[k], runs[k] / plan.seeds, runs[k] % plan.seeds);
                let diverged = tr.diverged_at.is_some();
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
                    diverged_at: tr.diverged_at,
                    outcome: Class::of(diverged, converged_at.is_some(), met_at_end, trend),
                    final_train_loss: last.map(|l| l.0),
                    final_train_metric: last.map(|l| l.1),
                    final_test_loss: last.and_then(|l| l.2),
                    final_test_metric: last.and_then(|l| l.3),
                    best_test_metric: if diverged { None } else { tr.best_test },
                    final_validation_metric: validation.filter(|_| !diverged).map(|v| v[k]),
                    curves: tr.curves,
                    weights: (seed_index < plan.keep_weights && !diverged).then(|| ens.member_params(k)),
                }
            })
            .collect()
    }
}

/// Sets `first[k] = epoch` where it is still 0 and `met(values[k])`.
#[inline(always)]
fn mark_first(first: &mut [u32], values: &[f32], epoch: u32, met: impl Fn(f32) -> bool) {
    for (c, &v) in first.iter_mut().zip(values) {
        // Arithmetic, not a branch or a select (which becomes a slow masked
        // store on some CPUs), so the loop vectorises into plain stores.
        *c += ((*c == 0) & met(v)) as u32 * epoch;
    }
}
