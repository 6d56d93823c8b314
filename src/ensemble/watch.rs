//! Watching a fit without reading every epoch's report: the first epoch
//! each member meets a criterion and the first epoch its training loss is
//! not finite are kept as running minima inside the fit, and the caller's
//! callback sees only the epochs it asks for
//! ([`super::Ensemble::fit_watched`]).
//!
//! A sweep records a few hundred epochs of a 20,000-epoch run but must know
//! at every epoch whether a member has converged or diverged. Scanning every
//! epoch's K-member report outside the training loop cost about as much as
//! a sixth of the training of the course's XOR networks; the fused kernels
//! ([`super::fused`]) keep these two figures in registers instead. On the
//! general path [`Watcher`] scans each epoch's report; both give the same
//! figures (`tests/fused.rs`).

use super::EpochReport;
use crate::scalar::Real;
use std::ops::ControlFlow;

/// When a member counts as having met its goal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// The metric value to reach.
    pub threshold: f64,
    /// Met with ≥ the threshold (else with ≤).
    pub higher_is_better: bool,
    /// Read on the test set's metric (else on the training metric).
    pub on_test: bool,
}

impl Target {
    /// Whether a metric value meets the target.
    #[inline(always)]
    pub fn met(&self, v: f64) -> bool {
        if self.higher_is_better {
            v >= self.threshold
        } else {
            v <= self.threshold
        }
    }

    /// The value b of F such that, for every v of F, `met(v)` exactly when
    /// v ≥ b (v ≤ b when lower is better): the threshold rounded inward to
    /// F, so the comparison can be made in F, where it vectorises.
    #[inline(always)]
    pub fn bound<F: Real>(&self) -> F {
        let b = F::of(self.threshold);
        let back = b.to_f64().unwrap_or(f64::NAN);
        let outside = if self.higher_is_better { back < self.threshold } else { back > self.threshold };
        if outside {
            b.adjacent(self.higher_is_better)
        } else {
            b
        }
    }
}

/// What a fit watches at every epoch, and which epochs reach the callback.
#[derive(Clone, Copy, Debug, Default)]
pub struct Watch<'a> {
    /// The target whose first epoch is kept (none: nothing is kept).
    pub target: Option<Target>,
    /// The epochs whose reports reach the callback, ascending (none: every epoch).
    pub report_at: Option<&'a [usize]>,
    /// Stop training after the epoch at which the last member's training
    /// loss became non-finite (after that epoch's report, if it has one).
    pub stop_when_all_diverged: bool,
}

impl Watch<'_> {
    /// Whether epoch `epoch` is reported, `next` being the position in
    /// `report_at` of the first epoch not yet reported.
    pub(super) fn reports(&self, epoch: usize, next: &mut usize) -> bool {
        let Some(at) = self.report_at else { return true };
        while at.get(*next).is_some_and(|&e| e < epoch) {
            *next += 1;
        }
        at.get(*next) == Some(&epoch)
    }
}

/// What a watched fit found, per member; epochs count from 1, 0 is "never".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watched {
    /// The first epoch after whose update the member met the target.
    pub first_met: Vec<u32>,
    /// The first epoch after whose update its training loss was not finite.
    pub diverged_at: Vec<u32>,
}

impl Watched {
    /// Nothing met, nothing diverged, for `members` members.
    pub fn new(members: usize) -> Self {
        Watched { first_met: vec![0; members], diverged_at: vec![0; members] }
    }

    /// Forgets what happened after epoch `epoch` (training stopped there).
    pub(super) fn truncate_after(&mut self, epoch: usize) {
        for v in self.first_met.iter_mut().chain(&mut self.diverged_at) {
            if *v as usize > epoch {
                *v = 0;
            }
        }
    }

    /// Marks the members whose `loss` is not finite and those whose
    /// `metric` meets `target` at epoch `epoch`.
    #[inline]
    pub(super) fn mark<F: Real>(&mut self, epoch: usize, loss: &[F], metric: &[F], target: Option<&Target>) {
        let epoch = epoch as u32;
        mark_diverged(&mut self.diverged_at, loss, epoch);
        if let Some(t) = target {
            mark_met(&mut self.first_met, metric, epoch, t);
        }
    }

    /// The epoch at which the last member diverged, once every member has.
    pub(super) fn all_diverged_at(&self) -> Option<usize> {
        self.diverged_at.iter().try_fold(0, |last, &d| (d > 0).then(|| last.max(d as usize)))
    }
}

/// Sets `first[k] = epoch` where it is still 0 and `hit(values[k])`.
#[inline(always)]
fn mark_first<F: Copy>(first: &mut [u32], values: &[F], epoch: u32, hit: impl Fn(F) -> bool) {
    for (c, &v) in first.iter_mut().zip(values) {
        // Arithmetic, not a branch or a select (which becomes a slow masked
        // store on some CPUs), so the loop vectorises into plain stores.
        *c += ((*c == 0) & hit(v)) as u32 * epoch;
    }
}

/// Marks the members whose `loss` is not finite at `epoch`.
#[inline(always)]
pub(super) fn mark_diverged<F: Real>(first: &mut [u32], loss: &[F], epoch: u32) {
    // Divergence is rare: one vectorisable scan first.
    if !loss.iter().fold(true, |ok, v| ok & v.is_finite()) {
        mark_first(first, loss, epoch, |v: F| !v.is_finite());
    }
}

/// Marks the members meeting `target` in `values` at `epoch`: one
/// monomorphic, branch-free loop per direction.
#[inline(always)]
pub(super) fn mark_met<F: Real>(first: &mut [u32], values: &[F], epoch: u32, target: &Target) {
    let b: F = target.bound();
    if target.higher_is_better {
        mark_first(first, values, epoch, |v| v >= b);
    } else {
        mark_first(first, values, epoch, |v| v <= b);
    }
}

/// The general path's watch: scans each epoch's report.
pub(super) struct Watcher<'w> {
    watch: &'w Watch<'w>,
    found: Watched,
    next: usize,
}

impl<'w> Watcher<'w> {
    pub(super) fn new(watch: &'w Watch<'w>, members: usize) -> Self {
        Watcher { watch, found: Watched::new(members), next: 0 }
    }

    /// Takes epoch `r.epoch`'s report: marks, passes it on if asked for,
    /// and says whether training goes on.
    pub(super) fn see<F: Real>(
        &mut self,
        r: &EpochReport<F>,
        on_report: &mut impl FnMut(&EpochReport<F>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let target = self.watch.target.as_ref();
        let metric = if target.is_some_and(|t| t.on_test) { r.test_metric.unwrap_or_default() } else { r.train_metric };
        self.found.mark(r.epoch, r.train_loss, metric, target);
        if self.watch.reports(r.epoch, &mut self.next) {
            on_report(&EpochReport { diverged_at: &self.found.diverged_at, ..*r })?;
        }
        let all = self.watch.stop_when_all_diverged && self.found.all_diverged_at().is_some();
        if all {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    pub(super) fn found(self) -> Watched {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    /// The bound in F agrees with the comparison in f64 on every f32 near
    /// the threshold, for thresholds on and between f32 values.
    #[test]
    fn bound_agrees_with_met() {
        for threshold in [1.0, 0.1, 0.3, 1e-7, -2.5, 0.0, 3.4e38, 1e39, f64::INFINITY] {
            for higher_is_better in [true, false] {
                let t = Target { threshold, higher_is_better, on_test: false };
                let b: f32 = t.bound();
                let near = threshold.clamp(-3.0e38, 3.0e38) as f32;
                let mut v = near;
                for _ in 0..4 {
                    v = v.next_down();
                }
                for _ in 0..9 {
                    let in_f32 = if higher_is_better { v >= b } else { v <= b };
                    assert_eq!(in_f32, t.met(v as f64), "threshold {threshold}, v {v}, bound {b}");
                    v = v.next_up();
                }
                for v in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.0, f32::MAX] {
                    let in_f32 = if higher_is_better { v >= b } else { v <= b };
                    assert_eq!(in_f32, t.met(v as f64), "threshold {threshold}, v {v}, bound {b}");
                }
            }
        }
    }
}
