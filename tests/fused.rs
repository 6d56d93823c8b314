//! The fused epochs of tiny networks against the general kernels, bit for
//! bit: every report (loss and metric of every member after every epoch) and
//! the final weights, over shapes, activations, momentum, L1/L2, diverging
//! members, sample counts that are not a multiple of the row block, member
//! counts that leave idle lanes, and training stopped by the callback; and
//! the watch (first epoch meeting a target, first non-finite loss, the
//! reported epochs, the stop once all have diverged), also recomputed from
//! every epoch's report.

use ndarray::{concatenate, s, Array2, Axis};
use netsweep::ensemble::fused::{BLOCK, W};
use netsweep::ensemble::{Target, Watch, Watched};
use netsweep::{data, Activation, ConcatInput, Dense, Ensemble, Fit, Input, Layer, Metric, Optimizer};
use std::ops::ControlFlow;

#[derive(Clone)]
struct Case {
    inputs: usize,
    hidden: usize,
    concat: bool,
    act: (Activation, Activation),
    members: usize,
    epochs: usize,
    momentum: f64,
    nesterov: bool,
    metric: Metric,
    /// L1/L2 on some members; none at all when false.
    regularize: bool,
    /// Largest learning rate (large ones make members diverge).
    lr_max: f64,
    /// Every member's learning rate, instead of a spread up to `lr_max`.
    lr_all: Option<f64>,
}

fn base() -> Case {
    Case {
        inputs: 2,
        hidden: 2,
        concat: false,
        act: (Activation::Tanh, Activation::Tanh),
        members: W + 5,
        epochs: 3 * BLOCK + 7,
        momentum: 0.0,
        nesterov: false,
        metric: Metric::AccXor,
        regularize: true,
        lr_max: 1.0,
        lr_all: None,
    }
}

fn layers(c: &Case) -> Vec<Layer> {
    let mut out: Vec<Layer> = vec![Dense::new(c.hidden, c.act.0).input_dim(c.inputs).into()];
    if c.concat {
        out.push(ConcatInput::new(Input::new(c.inputs)).into());
    }
    out.push(Dense::new(1, c.act.1).into());
    out
}

/// XOR, parity, or XOR with its first rows repeated to make `rows` samples.
fn dataset(inputs: usize, rows: usize) -> (Array2<f32>, Array2<f32>) {
    let d = if inputs == 2 { data::xor::<f32>() } else { data::parity::<f32>(inputs) };
    if rows <= d.x.nrows() {
        return (d.x, d.y);
    }
    let extra = rows - d.x.nrows();
    let x = concatenate![Axis(0), d.x, d.x.slice(s![..extra, ..])];
    let y = concatenate![Axis(0), d.y, d.y.slice(s![..extra, ..])];
    (x, y)
}

/// Epoch, loss bits, metric bits, diverged-at epochs.
type Reports = Vec<(usize, Vec<u32>, Vec<u32>, Vec<u32>)>;

/// Trains the case on `rows` samples, fused or not, stopping after the
/// report of epoch `stop` if given: every report's bits and every member's
/// final parameters' bits.
fn train(c: &Case, rows: usize, fused: bool, stop: Option<usize>) -> (Reports, Vec<Vec<u32>>) {
    let (reports, params, _) = train_watched(c, rows, fused, stop, &Watch::default());
    (reports, params)
}

/// [`train`] under `watch`, with what the watch found.
fn train_watched(
    c: &Case,
    rows: usize,
    fused: bool,
    stop: Option<usize>,
    watch: &Watch,
) -> (Reports, Vec<Vec<u32>>, Watched) {
    let (x, y) = dataset(c.inputs, rows);
    let seeds: Vec<u64> = (100..100 + c.members as u64).collect();
    let mut ens = Ensemble::<f32>::new(&seeds);
    for l in layers(c) {
        ens.add(l).unwrap();
    }
    ens.set_fused(fused);
    let lrs = [0.01, 0.03, 0.1, 0.3, c.lr_max, 0.2, 0.05];
    let mus = [c.momentum, 0.0, c.momentum];
    let lr = |k: usize| c.lr_all.unwrap_or(lrs[k % lrs.len()]);
    let optimizers: Vec<Optimizer> =
        (0..c.members).map(|k| Optimizer::sgd_momentum(lr(k), mus[k % mus.len()], c.nesterov)).collect();
    if c.regularize {
        let (l1s, l2s) = ([0.0, 0.001, 0.01, 0.0, 0.02], [0.0, 0.0, 0.001, 0.01, 0.1, 0.003]);
        for k in 0..c.members {
            ens.set_regularization(k, l1s[k % l1s.len()], l2s[k % l2s.len()]);
        }
    }
    let cfg = Fit { metric: c.metric, ..Fit::new(c.epochs, optimizers[0]) };
    assert_eq!(ens.fused_for(rows, &cfg).is_some(), fused, "the fused path is taken when allowed");
    // Every NaN as one: the sign and payload of a NaN an operation makes are
    // unspecified (the compiler may swap an addition's operands), and the
    // results files store NaN as one value too.
    let bits = |v: &[f32]| v.iter().map(|x| if x.is_nan() { f32::NAN } else { *x }.to_bits()).collect::<Vec<_>>();
    let mut reports = Vec::new();
    let watched = ens
        .fit_watched(x.view(), y.view(), &cfg, &optimizers, watch, |r| {
            reports.push((r.epoch, bits(r.train_loss), bits(r.train_metric), r.diverged_at.to_vec()));
            if Some(r.epoch) == stop {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    let params = (0..c.members).map(|k| bits(&ens.params(k).unwrap())).collect();
    (reports, params, watched)
}

/// What a watch should find, from every epoch's report (an independent
/// route: the f64 comparison of the target, the running first epochs).
fn recomputed(every: &Reports, members: usize, target: &Target) -> Watched {
    let mut w = Watched::new(members);
    for (epoch, loss, metric, diverged) in every {
        for k in 0..members {
            if w.diverged_at[k] == 0 && !f32::from_bits(loss[k]).is_finite() {
                w.diverged_at[k] = *epoch as u32;
            }
            if w.first_met[k] == 0 && target.met(f32::from_bits(metric[k]) as f64) {
                w.first_met[k] = *epoch as u32;
            }
        }
        assert_eq!(diverged, &w.diverged_at, "epoch {epoch}: the report's diverged-at epochs");
    }
    w
}

fn same(c: &Case, rows: usize, stop: Option<usize>, what: &str) {
    let general = train(c, rows, false, stop);
    let fused = train(c, rows, true, stop);
    let expected = stop.unwrap_or(c.epochs).min(c.epochs);
    assert_eq!(general.0.len(), expected, "{what}: one report per epoch");
    assert_eq!(fused.0.len(), general.0.len(), "{what}: report count");
    for (f, g) in fused.0.iter().zip(&general.0) {
        assert_eq!(f, g, "{what}: report of epoch {}", g.0);
    }
    assert_eq!(fused.1, general.1, "{what}: final parameters");
}

#[test]
fn the_course_architectures_match_the_general_kernels() {
    same(&base(), 4, None, "2-2-1 tanh, L1/L2");
    let concat = Case { hidden: 1, concat: true, metric: Metric::Mse, ..base() };
    same(&concat, 4, None, "concat tanh, mse metric");
}

#[test]
fn momentum_and_nesterov_match() {
    same(&Case { momentum: 0.9, ..base() }, 4, None, "momentum, some members without");
    let nesterov = Case { momentum: 0.5, nesterov: true, concat: true, hidden: 1, ..base() };
    same(&nesterov, 4, None, "nesterov");
}

#[test]
fn other_activations_and_shapes_match() {
    let cases = [
        Case { hidden: 3, act: (Activation::Sigmoid, Activation::Tanh), ..base() },
        Case { hidden: 4, act: (Activation::Relu, Activation::Linear), metric: Metric::Mse, ..base() },
        Case { hidden: 8, concat: true, act: (Activation::LeakyRelu(0.1), Activation::Sigmoid), ..base() },
        Case { inputs: 3, hidden: 6, act: (Activation::Tanh, Activation::Tanh), ..base() },
        Case { inputs: 5, hidden: 5, members: 3, ..base() },
    ];
    for (i, c) in cases.iter().enumerate() {
        let rows = if c.inputs == 2 { 4 } else { 1 << c.inputs };
        same(c, rows, None, &format!("case {i}"));
    }
}

#[test]
fn row_counts_off_the_row_block_match() {
    for rows in [5, 6, 7] {
        same(&Case { hidden: 3, concat: true, ..base() }, rows, None, &format!("{rows} rows"));
    }
}

#[test]
fn single_members_and_idle_lanes_match() {
    for members in [1, W - 1, W, 2 * W + 1] {
        same(&Case { members, ..base() }, 4, None, &format!("{members} members"));
    }
}

#[test]
fn diverging_members_with_and_without_regularization_match() {
    // lr 40 sends weights to ±inf and NaN within a few epochs.
    let wild = Case { lr_max: 40.0, act: (Activation::Linear, Activation::Linear), ..base() };
    same(&wild, 4, None, "diverging, regularised");
    same(&Case { regularize: false, ..wild.clone() }, 4, None, "diverging, no member regularised");
    same(&Case { regularize: false, act: (Activation::Relu, Activation::Tanh), ..wild }, 4, None, "relu");
}

#[test]
fn stopping_early_leaves_the_same_weights() {
    let c = Case { momentum: 0.9, ..base() };
    for stop in [1, 2, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 5, c.epochs] {
        same(&c, 4, Some(stop), &format!("stopped after epoch {stop}"));
    }
}

#[test]
fn watched_fits_match_and_equal_the_reports() {
    let wild = Case { lr_max: 40.0, act: (Activation::Linear, Activation::Linear), ..base() };
    let mse = Case { hidden: 3, concat: true, metric: Metric::Mse, ..base() };
    let cases = [
        (base(), Target { threshold: 1.0, higher_is_better: true, on_test: false }),
        (mse, Target { threshold: 0.1, higher_is_better: false, on_test: false }),
        (wild, Target { threshold: 0.5, higher_is_better: true, on_test: false }),
    ];
    for (i, (c, target)) in cases.iter().enumerate() {
        let at = [1, 5, BLOCK - 1, BLOCK, BLOCK + 3, 2 * BLOCK + 1, c.epochs];
        let watch = Watch { target: Some(*target), report_at: Some(&at), stop_when_all_diverged: false };
        let general = train_watched(c, 4, false, None, &watch);
        let fused = train_watched(c, 4, true, None, &watch);
        assert_eq!(fused, general, "case {i}: reports, weights and watch");
        assert_eq!(general.0.iter().map(|r| r.0).collect::<Vec<_>>(), at, "case {i}: the reported epochs");
        let every = train(c, 4, false, None).0;
        for r in &general.0 {
            assert_eq!(Some(r), every.iter().find(|e| e.0 == r.0), "case {i}: epoch {} as reported every epoch", r.0);
        }
        let expected = recomputed(&every, c.members, target);
        assert_eq!(general.2, expected, "case {i}: the watch, recomputed");
        assert!(expected.first_met.iter().any(|&e| e > 0), "case {i}: some member meets the target");
        assert!(expected.first_met.contains(&0) || i == 1, "case {i}: some member does not");
    }
}

#[test]
fn training_stops_once_every_member_has_diverged() {
    // Every member at lr 40: all diverge, at different epochs.
    let c = Case { lr_all: Some(40.0), act: (Activation::Linear, Activation::Linear), ..base() };
    let target = Target { threshold: 1.0, higher_is_better: true, on_test: false };
    let every = train(&c, 4, false, None).0;
    let last = *recomputed(&every, c.members, &target).diverged_at.iter().max().unwrap() as usize;
    assert!(last > 1 && last < c.epochs, "the case diverges within the fit (all by epoch {last})");
    for at in [None, Some(vec![1, last - 1, last, last + 1])] {
        let watch = Watch { target: Some(target), report_at: at.as_deref(), stop_when_all_diverged: true };
        let general = train_watched(&c, 4, false, None, &watch);
        let fused = train_watched(&c, 4, true, None, &watch);
        assert_eq!(fused, general, "reports {at:?}: reports, weights and watch");
        assert_eq!(general.0.last().unwrap().0, last, "reports {at:?}: the last report is the epoch all had diverged");
        assert!(general.2.diverged_at.iter().all(|&d| d > 0 && d as usize <= last));
    }
}

#[test]
fn short_fits_match() {
    for epochs in [0, 1, 2, BLOCK, BLOCK + 1] {
        same(&Case { epochs, ..base() }, 4, None, &format!("{epochs} epochs"));
    }
}

#[test]
fn other_fits_take_the_general_kernels() {
    let c = base();
    let (x, _) = dataset(2, 4);
    let mut ens = Ensemble::<f32>::new(&[1, 2]);
    for l in layers(&c) {
        ens.add(l).unwrap();
    }
    let fit = Fit::new(10, Optimizer::sgd(0.1));
    assert!(ens.fused_for(x.nrows(), &fit).is_some());
    assert!(ens.fused_for(x.nrows(), &Fit { batch_size: 2, ..fit.clone() }).is_none(), "mini-batches");
    assert!(ens.fused_for(x.nrows(), &Fit { metric: Metric::Acc, ..fit.clone() }).is_none(), "acc");
    assert!(ens.fused_for(x.nrows(), &Fit::new(10, Optimizer::adam(0.1))).is_none(), "adam");
    let mut wide = Ensemble::<f32>::new(&[1]);
    wide.add(Dense::new(2, Activation::Tanh).input_dim(2)).unwrap();
    wide.add(Dense::new(2, Activation::Tanh)).unwrap();
    assert!(wide.fused_shape().is_none(), "two outputs");
    let mut odd = Ensemble::<f32>::new(&[1]);
    odd.add(Dense::new(7, Activation::Tanh).input_dim(2)).unwrap();
    odd.add(Dense::new(1, Activation::Tanh)).unwrap();
    assert!(odd.fused_shape().is_none(), "a shape not compiled in");
}
