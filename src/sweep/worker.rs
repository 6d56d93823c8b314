//! A worker: trains one chunk of runs (one family, consecutive run indices)
//! as a lockstep ensemble, each member with its own seed, init, optimizer
//! constants and L1/L2, and turns each member's epochs into a [`RunRecord`]
//! ([`super::tracker`]). Pure: the same plan and chunk give the same records.

use super::family::{Family, Settings};
use super::plan::{Chunk, Plan};
use super::record::RunRecord;
use super::tracker::{self, Tracker};
use crate::ensemble::Fit;
use crate::init::Init;
use crate::optimizers::Optimizer;
use crate::Ensemble;

/// Trains the runs `chunk.start..chunk.end` and returns their records in run order.
pub fn train_chunk(plan: &Plan, chunk: &Chunk) -> Result<Vec<RunRecord>, crate::Error> {
    let runs: Vec<usize> = (chunk.start..chunk.end).collect();
    train_runs(plan, chunk.family, &runs)
}

/// Trains the given runs of family `family` (ascending, at most the
/// family's ensemble width) as one ensemble; their records, in that order.
/// A run's record does not depend on which runs share its ensemble.
pub fn train_runs(plan: &Plan, family: usize, runs: &[usize]) -> Result<Vec<RunRecord>, crate::Error> {
    let runs = runs.to_vec();
    let family = &plan.families[family];
    let settings = lane_settings(plan, &runs);
    let seeds: Vec<u64> = runs.iter().map(|&r| plan.run_seed(r)).collect();
    let mut ens = build_ensemble(family, &settings, &seeds)?;
    let optimizers: Vec<Optimizer> = settings.iter().map(|s| s.optimizer()).collect();
    let data = plan.data(family);
    let cfg = Fit {
        epochs: plan.epochs,
        batch_size: family.batch_size,
        optimizer: optimizers[0],
        loss: plan.loss,
        metric: plan.metric,
        test: data.test.as_ref().map(|d| (d.x.view(), d.y.view())),
        print_every: 0,
    };
    let mut tracker = Tracker::new(plan, runs.len(), cfg.test.is_some());
    let report_at = tracker::report_epochs(plan, cfg.test.is_some());
    let watch = tracker::watch(plan, report_at.as_deref());
    let (x, y) = (data.train.x.view(), data.train.y.view());
    let watched = ens.fit_watched(x, y, &cfg, &optimizers, &watch, |r| tracker.on_report(r))?;
    let validation = match &data.validation {
        Some(v) => {
            let last = ens.layers().len() - 1;
            let outputs = ens.forward_upto(last, v.x.view())?;
            Some(outputs.iter().map(|o| plan.metric.value(o.view(), v.y.view())).collect::<Result<Vec<f32>, _>>()?)
        }
        None => None,
    };
    Ok(tracker.records(watched, &runs, &seeds, &ens, validation.as_deref()))
}

/// The initial parameters of run `run` (laid out as [`Ensemble::params`]):
/// what its seed and init draw before any training. Two runs start alike
/// when their seed index, network shape and init are the same.
pub fn initial_params(plan: &Plan, run: usize) -> Result<Vec<f32>, crate::Error> {
    let family = plan.family_of(run / plan.seeds);
    let settings = lane_settings(plan, &[run]);
    Ok(build_ensemble(family, &settings, &[plan.run_seed(run)])?.member_params(0))
}

/// Each run's settings (one per point, shared by its seeds).
fn lane_settings(plan: &Plan, runs: &[usize]) -> Vec<Settings> {
    let mut out: Vec<Settings> = Vec::with_capacity(runs.len());
    for &r in runs {
        let p = r / plan.seeds;
        match out.last() {
            Some(s) if runs[out.len() - 1] / plan.seeds == p => out.push(s.clone()),
            _ => out.push(plan.settings(p)),
        }
    }
    out
}

/// The family's network for these members: each draws its weights from its
/// own seed (and its own init, on layers that follow an init axis) and
/// carries its own L1/L2 strengths.
fn build_ensemble(family: &Family, settings: &[Settings], seeds: &[u64]) -> Result<Ensemble<f32>, crate::Error> {
    let mut ens = Ensemble::<f32>::new(seeds);
    let inits: Vec<Init> = settings.iter().map(|s| s.init).collect();
    for (layer, &lane) in family.layers.iter().zip(&family.lane_init) {
        ens.add_with_inits(*layer, lane.then_some(inits.as_slice()))?;
    }
    for (k, s) in settings.iter().enumerate() {
        ens.set_regularization(k, s.l1, s.l2);
    }
    Ok(ens)
}
