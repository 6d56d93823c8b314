//! The fused epochs of tiny networks against the general kernels, bit for
//! bit: every report (loss and metric of every member after every epoch) and
//! the final weights, over shapes, activations, momentum, L1/L2, diverging
//! members, sample counts that are not a multiple of the row block, member
//! counts that leave idle lanes, and training stopped by the callback.

use ndarray::{concatenate, s, Array2, Axis};
use netsweep::ensemble::fused::{BLOCK, W};
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

type Reports = Vec<(usize, Vec<u32>, Vec<u32>)>;

/// Trains the case on `rows` samples, fused or not, stopping after the
/// report of epoch `stop` if given: every report's bits and every member's
/// final parameters' bits.
fn train(c: &Case, rows: usize, fused: bool, stop: Option<usize>) -> (Reports, Vec<Vec<u32>>) {
    let (x, y) = dataset(c.inputs, rows);
    let seeds: Vec<u64> = (100..100 + c.members as u64).collect();
    let mut ens = Ensemble::<f32>::new(&seeds);
    for l in layers(c) {
        ens.add(l).unwrap();
    }
    ens.set_fused(fused);
    let lrs = [0.01, 0.03, 0.1, 0.3, c.lr_max, 0.2, 0.05];
    let mus = [c.momentum, 0.0, c.momentum];
    let optimizers: Vec<Optimizer> =
        (0..c.members).map(|k| Optimizer::sgd_momentum(lrs[k % lrs.len()], mus[k % mus.len()], c.nesterov)).collect();
    if c.regularize {
        let (l1s, l2s) = ([0.0, 0.001, 0.01, 0.0, 0.02], [0.0, 0.0, 0.001, 0.01, 0.1, 0.003]);
        for k in 0..c.members {
            ens.set_regularization(k, l1s[k % l1s.len()], l2s[k % l2s.len()]);
        }
    }
    let cfg = Fit { metric: c.metric, ..Fit::new(c.epochs, optimizers[0]) };
    assert_eq!(ens.fused_for(rows, &cfg).is_some(), fused, "the fused path is taken when allowed");
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut reports = Vec::new();
    ens.fit_members(x.view(), y.view(), &cfg, &optimizers, |r| {
        reports.push((r.epoch, bits(r.train_loss), bits(r.train_metric)));
        if Some(r.epoch) == stop {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    let params = (0..c.members).map(|k| bits(&ens.params(k).unwrap())).collect();
    (reports, params)
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
