//! One run's result: a line of `runs.jsonl`. The struct is the documented
//! schema (see `docs/results.md`).

use super::grid::Params;
use serde::{Deserialize, Serialize};

/// The recorded curves of a run, one value per recorded epoch (see the
/// summary's `record_epochs`). A diverged run's curves stop before the epoch
/// at which its loss stopped being finite.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// Training loss (penalty included).
    pub train_loss: Vec<f32>,
    /// Training metric.
    pub train_metric: Vec<f32>,
    /// Test loss, when the problem has a test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<Vec<f32>>,
    /// Test metric, when the problem has a test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_metric: Option<Vec<f32>>,
}

/// How a run ended, from its record's fields (the file keeps the fields:
/// `converged`, `diverged`, `epochs_to_converge`, `diverged_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Met the criterion at this epoch (and did not diverge).
    Converged {
        /// First epoch meeting it.
        at: usize,
    },
    /// Trained every epoch without meeting it.
    NotConverged,
    /// Its loss stopped being finite at this epoch; training stopped there.
    Diverged {
        /// The epoch.
        at: usize,
    },
}

impl Outcome {
    /// The outcome of a record's fields.
    pub fn of(diverged_at: Option<usize>, epochs_to_converge: Option<usize>, converged: bool) -> Outcome {
        match (diverged_at, epochs_to_converge) {
            (Some(at), _) => Outcome::Diverged { at },
            (None, Some(at)) if converged => Outcome::Converged { at },
            _ => Outcome::NotConverged,
        }
    }
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run index (identity): point · seeds + seed_index.
    pub run: usize,
    /// Grid point index.
    pub point: usize,
    /// The point's parameters, by axis name in grid order.
    pub params: Params,
    /// Seed index within the point.
    pub seed_index: usize,
    /// The derived seed of the run's ChaCha8 streams.
    pub seed: u64,
    /// Reached the convergence criterion at some epoch (and did not diverge).
    pub converged: bool,
    /// First epoch (from 1) at which the criterion was met, after that epoch's update.
    pub epochs_to_converge: Option<usize>,
    /// The criterion still holds after the last epoch.
    pub converged_at_end: bool,
    /// The loss became NaN or infinite; the run was stopped there.
    pub diverged: bool,
    /// Epoch at which the loss stopped being finite.
    pub diverged_at: Option<usize>,
    /// Training loss after the last epoch (null if diverged).
    pub final_train_loss: Option<f32>,
    /// Training metric after the last epoch (null if diverged).
    pub final_train_metric: Option<f32>,
    /// Test loss after the last epoch.
    pub final_test_loss: Option<f32>,
    /// Test metric after the last epoch.
    pub final_test_metric: Option<f32>,
    /// Best test metric over all epochs.
    pub best_test_metric: Option<f32>,
    /// Recorded curves.
    pub curves: Curves,
    /// Final parameters (per Dense layer: weights row-major, then biases), kept for the first seeds of each point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f32>>,
}

impl RunRecord {
    /// How the run ended.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(self.diverged_at, self.epochs_to_converge, self.converged)
    }
}

/// The runs.jsonl lines of records: compact JSON, one per line.
pub fn jsonl(records: &[RunRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 4096);
    for r in records {
        // Serialising plain data into a Vec cannot fail.
        serde_json::to_writer(&mut out, r).expect("run records serialise");
        out.push(b'\n');
    }
    out
}
