//! A worker: trains one chunk of runs (one family, consecutive run indices)
//! as a lockstep ensemble and turns each member's epochs into a
//! [`RunRecord`]. Pure: the same plan and chunk give the same records.

use super::config::Split;
use super::family::{Family, Settings};
use super::plan::{Chunk, Plan};
use super::record::{Curves, RunRecord};
use crate::ensemble::{EpochReport, FitConfig};
use crate::init::Init;
use crate::optimizers::Optimizer;
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
    let seeds_per_point = plan.seeds;
    let runs: Vec<usize> = (chunk.start..chunk.end).collect();
    let family = &plan.families[chunk.family];
    let settings = lane_settings(plan, &runs);
    let seeds: Vec<u64> = runs.iter().map(|&r| plan.run_seed(r)).collect();
    let mut ens = build_ensemble(family, &settings, &seeds)?;
    let optimizers: Vec<Optimizer> = settings.iter().map(|s| s.optimizer()).collect();
    let data = plan.data(family);
    let cfg = FitConfig {
        epochs: plan.epochs,
        batch_size: family.batch_size,
        optimizer: optimizers[0],
        loss: plan.loss,
        metric: plan.metric,
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
    let mut alive = runs.len();
    // First epoch meeting the criterion per member (0: not yet).
    let mut first_met = vec![0u32; runs.len()];
    let criterion = &plan.criterion;
    let epochs = plan.epochs;
    ens.fit_members(data.train.x.view(), data.train.y.view(), &cfg, &optimizers, |r: &EpochReport<f32>| {
        // Divergence: rare, so one vectorisable scan first (a fold, not a short-circuiting `all`).
        if !r.train_loss.iter().fold(true, |ok, v| ok & v.is_finite()) {
            for (tr, v) in tracks.iter_mut().zip(r.train_loss) {
                if !v.is_finite() && tr.diverged_at.is_none() {
                    tr.diverged_at = Some(r.epoch);
                    alive -= 1;
                }
            }
        }
        let watched = match criterion.on {
            Split::Train => r.train_metric,
            // `resolve` refuses on = "test" for problems without a test set.
            Split::Test => r.test_metric.expect("criterion on a test set that exists"),
        };
        // Structure-of-arrays and branch-free, so this per-epoch scan vectorises.
        let epoch = r.epoch as u32;
        let threshold = criterion.threshold;
        if criterion.metric.higher_is_better() {
            mark_first(&mut first_met, watched, epoch, |v| v as f64 >= threshold);
        } else {
            mark_first(&mut first_met, watched, epoch, |v| v as f64 <= threshold);
        }
        if let Some(tm) = r.test_metric {
            let higher = criterion.metric.higher_is_better();
            for (tr, &v) in tracks.iter_mut().zip(tm) {
                if tr.diverged_at.is_none() && tr.best_test.is_none_or(|b| if higher { v > b } else { v < b }) {
                    tr.best_test = Some(v);
                }
            }
        }
        let record = plan.record_epochs.get(next_record) == Some(&r.epoch);
        if record {
            next_record += 1;
        }
        if record || r.epoch == epochs {
            for (k, tr) in tracks.iter_mut().enumerate().filter(|(_, tr)| tr.diverged_at.is_none()) {
                let (tl, tm) = (r.test_loss.map(|v| v[k]), r.test_metric.map(|v| v[k]));
                if record {
                    let c = &mut tr.curves;
                    c.train_loss.push(r.train_loss[k]);
                    c.train_metric.push(r.train_metric[k]);
                    if let (Some(l), Some(m), Some(tl), Some(tm)) =
                        (c.test_loss.as_mut(), c.test_metric.as_mut(), tl, tm)
                    {
                        l.push(tl);
                        m.push(tm);
                    }
                }
                if r.epoch == epochs {
                    tr.last = Some((r.train_loss[k], r.train_metric[k], tl, tm));
                    tr.met_at_end = criterion.met(watched[k] as f64);
                }
            }
        }
        if alive == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    for (tr, &c) in tracks.iter_mut().zip(&first_met) {
        tr.converged_at = (c > 0).then_some(c as usize);
    }
    let keep_weights = plan.keep_weights;
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
                params: plan.grid.params(run / seeds_per_point),
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

/// The initial parameters of run `run` (laid out as [`Ensemble::params`]):
/// what its seed and init draw before any training. Two runs start alike
/// when their seed index, network shape and init are the same.
pub fn initial_params(plan: &Plan, run: usize) -> Result<Vec<f32>, crate::Error> {
    let family = plan.family_of(run / plan.seeds);
    let settings = lane_settings(plan, &[run]);
    Ok(build_ensemble(family, &settings, &[plan.run_seed(run)])?.params(0))
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

/// Sets `first[k] = epoch` where it is still 0 and `met(values[k])`: one
/// monomorphic, branch-free loop per direction of the criterion.
#[inline(always)]
fn mark_first(first: &mut [u32], values: &[f32], epoch: u32, met: impl Fn(f32) -> bool) {
    for (c, &v) in first.iter_mut().zip(values) {
        // Arithmetic, not a branch or a select (which becomes a slow masked
        // store on some CPUs), so the loop vectorises into plain stores.
        *c += ((*c == 0) & met(v)) as u32 * epoch;
    }
}
