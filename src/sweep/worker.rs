//! A worker: trains one chunk of runs (one family, consecutive run indices)
//! as a lockstep ensemble and turns each member's epochs into a
//! [`RunRecord`]. Pure: the same plan and chunk give the same records.

use super::config::Split;
use super::plan::{Chunk, Plan};
use super::record::{Curves, RunRecord};
use crate::ensemble::{EpochReport, FitConfig};
use crate::Ensemble;
use std::ops::ControlFlow;

/// Per-member bookkeeping while the ensemble trains.
#[derive(Default)]
struct Track {
    curves: Curves,
    converged_at: Option<usize>,
    diverged_at: Option<usize>,
    last: Option<(f32, f32, Option<f32>, Option<f32>)>,
    best_test: Option<f32>,
    met_at_end: bool,
}

/// Trains the runs `chunk.start..chunk.end` and returns their records in run order.
pub fn train_chunk(plan: &Plan, chunk: &Chunk) -> Result<Vec<RunRecord>, crate::Error> {
    let seeds_per_point = plan.seeds();
    let runs: Vec<usize> = (chunk.start..chunk.end).collect();
    let params: Vec<_> = runs.iter().map(|&r| plan.point(r / seeds_per_point)).collect();
    let first = &params[0];
    let seeds: Vec<u64> = runs.iter().map(|&r| plan.run_seed(r)).collect();
    let mut ens = Ensemble::<f32>::new(&seeds);
    for layer in plan.layers(&first.architecture, first.activation) {
        ens.add(layer)?;
    }
    for (k, p) in params.iter().enumerate() {
        ens.set_regularization(k, p.l1, p.l2);
    }
    let lrs: Vec<f64> = params.iter().map(|p| p.lr).collect();
    let data = &plan.data;
    let t = &plan.file.training;
    let cfg = FitConfig {
        epochs: t.epochs,
        batch_size: first.batch_size.resolve(data.train.x.nrows()),
        optimizer: plan.optimizer(first),
        loss: t.loss,
        metric: t.metric,
        test: data.test.as_ref().map(|d| (d.x.view(), d.y.view())),
    };
    let has_test = cfg.test.is_some();
    let mut tracks: Vec<Track> = runs
        .iter()
        .map(|_| Track {
            curves: Curves {
                test_loss: has_test.then(Vec::new),
                test_metric: has_test.then(Vec::new),
                ..Curves::default()
            },
            ..Track::default()
        })
        .collect();
    let mut next_record = 0;
    let criterion = &plan.criterion;
    ens.fit(data.train.x.view(), data.train.y.view(), &cfg, &lrs, |r: &EpochReport<f32>| {
        let record = plan.record_epochs.get(next_record) == Some(&r.epoch);
        if record {
            next_record += 1;
        }
        let mut alive = 0;
        for (k, tr) in tracks.iter_mut().enumerate() {
            if tr.diverged_at.is_some() {
                continue;
            }
            let loss = r.train_loss[k];
            if !loss.is_finite() {
                tr.diverged_at = Some(r.epoch);
                continue;
            }
            alive += 1;
            let metric = r.train_metric[k];
            let test_loss = r.test_loss.map(|v| v[k]);
            let test_metric = r.test_metric.map(|v| v[k]);
            let watched = match criterion.on {
                Split::Train => metric as f64,
                Split::Test => test_metric.map_or(f64::NAN, f64::from),
            };
            let met = criterion.met(watched);
            if met && tr.converged_at.is_none() {
                tr.converged_at = Some(r.epoch);
            }
            tr.met_at_end = met;
            if let Some(tm) = test_metric {
                let better = |b: f32| if criterion.metric.higher_is_better() { tm > b } else { tm < b };
                if tr.best_test.is_none_or(better) {
                    tr.best_test = Some(tm);
                }
            }
            tr.last = Some((loss, metric, test_loss, test_metric));
            if record {
                let c = &mut tr.curves;
                c.train_loss.push(loss);
                c.train_metric.push(metric);
                if let (Some(l), Some(m)) = (c.test_loss.as_mut(), c.test_metric.as_mut()) {
                    l.push(r.test_loss.map_or(f32::NAN, |v| v[k]));
                    m.push(r.test_metric.map_or(f32::NAN, |v| v[k]));
                }
            }
        }
        if alive == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    let keep_weights = plan.file.record.weights;
    Ok(tracks
        .into_iter()
        .enumerate()
        .map(|(k, tr)| {
            let run = runs[k];
            let seed_index = run % seeds_per_point;
            let diverged = tr.diverged_at.is_some();
            let last = if diverged { None } else { tr.last };
            RunRecord {
                run,
                point: run / seeds_per_point,
                params: params[k].clone(),
                seed_index,
                seed: seeds[k],
                converged: !diverged && tr.converged_at.is_some(),
                epochs_to_converge: if diverged { None } else { tr.converged_at },
                converged_at_end: !diverged && tr.met_at_end,
                diverged,
                diverged_at: tr.diverged_at,
                final_train_loss: last.map(|l| l.0),
                final_train_metric: last.map(|l| l.1),
                final_test_loss: last.and_then(|l| l.2),
                final_test_metric: last.and_then(|l| l.3),
                best_test_metric: if diverged { None } else { tr.best_test },
                curves: tr.curves,
                weights: (seed_index < keep_weights && !diverged).then(|| ens.params(k)),
            }
        })
        .collect())
}
