//! Finite-difference gradient checks, in f64, of whole networks: every
//! activation, both losses, both regularizers, Dense and ConcatInput, and the
//! course's two XOR architectures with regularizers on.
//!
//! Tolerance: central differences with h = 1e-6 in f64 agree with the
//! analytic gradient to a relative error below 1e-6 (the error of the
//! difference quotient is O(h²) plus rounding O(ε/h) ≈ 1e-10 relative).

use ndarray::{array, Array2};
use netsweep::{Activation, ConcatInput, Dense, Init, Input, Loss, Network, Regularizer};

fn check(net: &Network<f64>, x: &Array2<f64>, y: &Array2<f64>, loss: Loss) {
    let (_, analytic) = net.backward(x.view(), y.view(), loss).unwrap();
    let p0 = net.params();
    assert_eq!(analytic.len(), p0.len());
    let h = 1e-6;
    let mut probe = net.clone();
    for i in 0..p0.len() {
        let mut p = p0.clone();
        p[i] = p0[i] + h;
        probe.set_params(&p).unwrap();
        let up = probe.backward(x.view(), y.view(), loss).unwrap().0;
        p[i] = p0[i] - h;
        probe.set_params(&p).unwrap();
        let down = probe.backward(x.view(), y.view(), loss).unwrap().0;
        let numeric = (up - down) / (2.0 * h);
        let scale = analytic[i].abs().max(numeric.abs()).max(1e-4);
        let rel = (numeric - analytic[i]).abs() / scale;
        assert!(rel < 1e-6, "param {i}: analytic {} numeric {numeric} (rel {rel:e})", analytic[i]);
    }
}

fn xor() -> (Array2<f64>, Array2<f64>) {
    (array![[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]], array![[1.0], [-1.0], [-1.0], [1.0]])
}

#[test]
fn xor_2_2_1_with_l2_and_l1_matches_finite_difference() {
    let (x, y) = xor();
    for seed in 0..5 {
        let mut net = Network::<f64>::new(seed);
        net.add(Dense::new(2, Activation::Tanh).input_dim(2).regularizer(Regularizer::L2(0.1))).unwrap();
        net.add(Dense::new(1, Activation::Tanh).regularizer(Regularizer::L1(0.2))).unwrap();
        check(&net, &x, &y, Loss::Mse);
    }
}

#[test]
fn xor_concat_architecture_matches_finite_difference() {
    let (x, y) = xor();
    for seed in 0..5 {
        let mut net = Network::<f64>::new(seed);
        net.add(Dense::new(1, Activation::Tanh).input_dim(2).regularizer(Regularizer::L2(0.1))).unwrap();
        net.add(ConcatInput::new(Input::new(2))).unwrap();
        net.add(Dense::new(1, Activation::Tanh).regularizer(Regularizer::L1(0.2))).unwrap();
        check(&net, &x, &y, Loss::Mse);
    }
}

fn random_data(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    // Deterministic, irregular values away from activation kinks.
    Array2::from_shape_fn((rows, cols), |(r, c)| {
        let v = ((r * 31 + c * 17 + seed as usize * 7) % 23) as f64 / 23.0;
        2.0 * v - 0.9
    })
}

#[test]
fn every_activation_through_dense_layers_matches_finite_difference() {
    let acts =
        [Activation::Tanh, Activation::Relu, Activation::Sigmoid, Activation::Linear, Activation::LeakyRelu(0.1)];
    let x = random_data(6, 3, 1);
    let y = random_data(6, 2, 2);
    for act in acts {
        let mut net = Network::<f64>::new(11);
        net.add(Dense::new(4, act).input_dim(3).init(Init::Uniform(0.8))).unwrap();
        net.add(Dense::new(2, act).regularizer(Regularizer::L1L2 { l1: 0.01, l2: 0.03 })).unwrap();
        check(&net, &x, &y, Loss::Mse);
    }
}

#[test]
fn cce_softmax_network_matches_finite_difference() {
    let x = random_data(7, 4, 3);
    let y = array![[0.0], [2.0], [1.0], [2.0], [0.0], [1.0], [1.0]];
    let mut net = Network::<f64>::new(5);
    net.add(Dense::new(5, Activation::Sigmoid).input_dim(4).regularizer(Regularizer::L2(0.01))).unwrap();
    net.add(ConcatInput::new(Input::new(4))).unwrap();
    net.add(Dense::new(3, Activation::Linear).init(Init::Normal(0.5))).unwrap();
    check(&net, &x, &y, Loss::Cce);
}

#[test]
fn large_layers_match_finite_difference() {
    // 20·16 = 320 weights: register tiles of 16 units (and one unit at a time
    // for the 4-unit output).
    let x = random_data(5, 20, 4);
    let y = array![[0.0], [3.0], [1.0], [2.0], [3.0]];
    let mut net = Network::<f64>::new(9);
    net.add(Dense::new(16, Activation::Tanh).input_dim(20).regularizer(Regularizer::L2(0.02))).unwrap();
    net.add(Dense::new(4, Activation::Linear).regularizer(Regularizer::L1(0.01))).unwrap();
    check(&net, &x, &y, Loss::Cce);
}

#[test]
fn deep_chain_of_concat_layers_matches_finite_difference() {
    let x = random_data(5, 2, 6);
    let y = random_data(5, 1, 7);
    let mut net = Network::<f64>::new(3);
    net.add(Input::new(2)).unwrap();
    net.add(Dense::new(3, Activation::Tanh)).unwrap();
    net.add(ConcatInput::new(Input::new(2))).unwrap();
    net.add(Dense::new(2, Activation::Sigmoid).input_dim(5)).unwrap();
    net.add(ConcatInput::new(Input::new(2))).unwrap();
    net.add(Dense::new(1, Activation::Tanh).regularizer(Regularizer::L2(0.05))).unwrap();
    check(&net, &x, &y, Loss::Mse);
}
