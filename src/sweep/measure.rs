//! What a sweep measures: the convergence criterion (from `[convergence]`,
//! with defaults per metric), the loss/metric pairs that fit, and the
//! epochs at which curves are recorded.

use super::config::{Count, ExperimentFile, RecordConfig, Spacing, Split};
use super::error::SweepError;
use super::plan::MAX_RECORDED;
use super::problem::ProblemData;
use crate::ensemble::Target;
use crate::losses::Loss;
use crate::metrics::Metric;
use serde::{Deserialize, Serialize};

fn err(msg: impl Into<String>) -> SweepError {
    SweepError::Config(msg.into())
}

/// When a run counts as converged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// The metric read (training.metric).
    pub metric: Metric,
    /// Split read.
    pub on: Split,
    /// Threshold reached with ≥ (≤ for mse).
    pub threshold: f64,
    /// The rate the table and figures lead with.
    #[serde(default)]
    pub count: Count,
}

/// The last part of training whose loss trend separates a plateau from a
/// slow run: the final quarter of the epochs.
pub const TREND_WINDOW: f64 = 0.25;
/// A run that never met the criterion is on a plateau when its training loss
/// fell by less than this fraction over the trend window (else it is slow).
pub const PLATEAU_TOLERANCE: f64 = 0.01;

/// The epoch after which the trend window starts: E − ⌊E/4⌋.
pub fn trend_epoch(epochs: usize) -> usize {
    epochs - (epochs as f64 * TREND_WINDOW).floor() as usize
}

impl Criterion {
    /// Whether a metric value meets the criterion.
    pub fn met(&self, v: f64) -> bool {
        self.target().met(v)
    }

    /// The criterion as a fit watches it.
    pub fn target(&self) -> Target {
        Target {
            threshold: self.threshold,
            higher_is_better: self.metric.higher_is_better(),
            on_test: self.on == Split::Test,
        }
    }
}

/// `record` with the `record_every` shorthand folded in.
pub fn record_config(file: &ExperimentFile) -> Result<RecordConfig, SweepError> {
    match (file.record_every, file.record.every) {
        (Some(_), Some(_)) => Err(err("record_every and record.every are both set: keep one")),
        (Some(k), None) => Ok(RecordConfig { every: Some(k), ..file.record.clone() }),
        _ => Ok(file.record.clone()),
    }
}

pub fn check_losses(loss: Loss, metric: Metric, classification: bool) -> Result<(), SweepError> {
    if loss == Loss::Cce && !classification {
        return Err(err(
            "training.loss = \"cce\" needs class labels, and this problem's targets are numbers (xor, parity): use loss = \"mse\"",
        ));
    }
    match (loss, metric) {
        (Loss::Cce, Metric::Acc) | (Loss::Mse, Metric::Mse | Metric::AccXor) => Ok(()),
        (l, m) => Err(err(format!(
            "training.loss = {l:?} and training.metric = {} do not fit: use mse with acc_xor or mse, or cce with acc",
            m.name()
        ))),
    }
}

pub fn criterion(file: &ExperimentFile, data: &ProblemData) -> Result<Criterion, SweepError> {
    let metric = file.training.metric;
    let given = file.convergence.as_ref();
    let on = given.map(|c| c.on);
    let (default_on, default_threshold) = match metric {
        Metric::AccXor => (Split::Train, Some(1.0)),
        Metric::Acc if data.test.is_some() => (Split::Test, Some(0.95)),
        Metric::Acc => (Split::Train, Some(1.0)),
        Metric::Mse => (Split::Train, None),
    };
    let Some(threshold) = given.and_then(|c| c.threshold).or(default_threshold) else {
        return Err(err(
            "training.metric = mse has no default convergence threshold: add [convergence] threshold = ...",
        ));
    };
    let c = Criterion {
        metric,
        on: on.unwrap_or(default_on),
        threshold,
        count: given.and_then(|c| c.count).unwrap_or_default(),
    };
    if !c.threshold.is_finite() {
        return Err(err(format!("convergence.threshold = {} must be a finite number", c.threshold)));
    }
    if c.on == Split::Test && data.test.is_none() {
        return Err(err("convergence.on = \"test\" but this problem has no test set"));
    }
    Ok(c)
}

/// About `points` epochs from 1 to `epochs`, first and last included: every
/// epoch at first, then each one the previous times a fixed ratio (rounded
/// up, at least one more), the ratio the largest whose sequence fits in
/// `points` (found by bisection: the same floats, the same epochs).
fn log_epochs(epochs: usize, points: usize) -> Vec<usize> {
    if points >= epochs {
        return (1..=epochs).collect();
    }
    let sequence = |ratio: f64| -> Vec<usize> {
        let mut v = vec![1usize];
        loop {
            let last = *v.last().expect("not empty");
            let next = ((last as f64 * ratio).ceil() as usize).max(last + 1);
            if next >= epochs {
                v.push(epochs);
                return v;
            }
            v.push(next);
        }
    };
    // A larger ratio gives fewer epochs: find the smallest ratio that fits.
    let (mut lo, mut hi) = (1.0f64, epochs as f64);
    for _ in 0..64 {
        let mid = (lo + hi) / 2.0;
        if sequence(mid).len() <= points {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    sequence(hi)
}

/// The epochs kept in curves: every k-th from 1, plus the last.
pub fn record_epochs(epochs: usize, r: &RecordConfig) -> Result<Vec<usize>, SweepError> {
    let every = match r.every {
        Some(0) => return Err(err("record.every = 0: record at least every epoch (1)")),
        Some(k) => k,
        None if r.points < 2 => return Err(err(format!("record.points = {}: keep at least 2 points", r.points))),
        None if r.spacing.unwrap_or_default() == Spacing::Log => {
            if r.points > MAX_RECORDED {
                return Err(err(format!("record.points = {} is more than {MAX_RECORDED}", r.points)));
            }
            return Ok(log_epochs(epochs, r.points));
        }
        None => ((epochs - 1) / (r.points - 1)).max(1),
    };
    if epochs / every > MAX_RECORDED {
        return Err(err(format!(
            "recording every {every} of {epochs} epochs keeps more than {MAX_RECORDED} points per curve: raise record.every"
        )));
    }
    let mut v: Vec<usize> = (1..=epochs).step_by(every).collect();
    if v.last() != Some(&epochs) {
        v.push(epochs);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_epochs_keep_first_and_last() {
        let r = RecordConfig::default();
        let v = record_epochs(2000, &r).unwrap();
        assert_eq!(v[0], 1);
        assert_eq!(*v.last().unwrap(), 2000);
        assert!((195..=205).contains(&v.len()), "{}", v.len());
        assert_eq!(record_epochs(5, &r).unwrap(), vec![1, 2, 3, 4, 5]);
        let every = RecordConfig { every: Some(3), ..r.clone() };
        assert_eq!(record_epochs(10, &every).unwrap(), vec![1, 4, 7, 10]);
        let linear = RecordConfig { spacing: Some(Spacing::Linear), points: 5, ..r };
        assert_eq!(record_epochs(9, &linear).unwrap(), vec![1, 3, 5, 7, 9]);
    }

    #[test]
    fn log_spacing_keeps_every_early_epoch_then_grows_geometrically() {
        let v = log_epochs(2000, 200);
        assert!(v.len() <= 200 && v.len() >= 190, "{}", v.len());
        assert_eq!((v[0], *v.last().unwrap()), (1, 2000));
        // Every early epoch (the best XOR point converges at a median of 25).
        assert_eq!(&v[..30], &(1..=30).collect::<Vec<_>>()[..]);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        // Geometric later: the gaps grow.
        let gaps: Vec<usize> = v.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps[gaps.len() - 2] > 10 * gaps[40], "{gaps:?}");
        assert_eq!(log_epochs(10, 200), (1..=10).collect::<Vec<_>>());
        assert_eq!(log_epochs(1000, 2), vec![1, 1000]);
        let few = log_epochs(1000, 10);
        assert!(few.len() <= 10 && few.len() >= 8 && few[0] == 1 && *few.last().unwrap() == 1000, "{few:?}");
    }
}
