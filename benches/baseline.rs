//! The in-repo baseline: a plain scalar trainer, one network at a time, for
//! the two course XOR architectures (fixed-size arrays, the standard
//! library's tanh, full-batch SGD on MSE with L1/L2 on the weights, loss and
//! acc_xor after every epoch, curves kept). What a careful hand-written
//! single-network loop does, for the benches to show the ensemble's speed-up
//! side by side. Shared by the bench targets through `#[path]`.

#![allow(dead_code)]

const X: [[f32; 2]; 4] = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]];
const Y: [f32; 4] = [1.0, -1.0, -1.0, 1.0];

/// Hyperparameters of one baseline run.
#[derive(Clone, Copy)]
pub struct Hyper {
    pub lr: f32,
    pub l1: f32,
    pub l2: f32,
}

fn reg_grad(w: f32, h: Hyper) -> f32 {
    h.l1 * w.signum() * (w != 0.0) as i32 as f32 + 2.0 * h.l2 * w
}

fn acc_xor(o: &[f32; 4]) -> f32 {
    let mut hits = 0.0;
    for n in 0..4 {
        let q = if o[n] > 0.5 {
            1.0
        } else if o[n] < -0.5 {
            -1.0
        } else {
            o[n]
        };
        hits += (q == Y[n]) as i32 as f32;
    }
    hits / 4.0
}

/// 2-2-1: w1[i][j], b1[j], w2[j], b2. Returns (loss curve, acc curve).
pub fn train_2_2_1(w1: [[f32; 2]; 2], w2: [f32; 2], h: Hyper, epochs: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut w1, mut w2, mut b1, mut b2) = (w1, w2, [0.0f32; 2], 0.0f32);
    let (mut losses, mut accs) = (Vec::with_capacity(epochs), Vec::with_capacity(epochs));
    for _ in 0..epochs {
        let (mut gw1, mut gb1, mut gw2, mut gb2) = ([[0.0f32; 2]; 2], [0.0f32; 2], [0.0f32; 2], 0.0f32);
        for n in 0..4 {
            let mut hid = [0.0f32; 2];
            for j in 0..2 {
                hid[j] = (X[n][0] * w1[0][j] + X[n][1] * w1[1][j] + b1[j]).tanh();
            }
            let o = (hid[0] * w2[0] + hid[1] * w2[1] + b2).tanh();
            let d = 0.5 * (o - Y[n]) * (1.0 - o * o);
            gb2 += d;
            for j in 0..2 {
                gw2[j] += d * hid[j];
                let dh = d * w2[j] * (1.0 - hid[j] * hid[j]);
                gb1[j] += dh;
                gw1[0][j] += dh * X[n][0];
                gw1[1][j] += dh * X[n][1];
            }
        }
        for i in 0..2 {
            for j in 0..2 {
                w1[i][j] -= h.lr * (gw1[i][j] + reg_grad(w1[i][j], h));
            }
        }
        for j in 0..2 {
            w2[j] -= h.lr * (gw2[j] + reg_grad(w2[j], h));
            b1[j] -= h.lr * gb1[j];
        }
        b2 -= h.lr * gb2;
        // Loss and metric after the update.
        let mut o = [0.0f32; 4];
        let mut loss = 0.0;
        for n in 0..4 {
            let h0 = (X[n][0] * w1[0][0] + X[n][1] * w1[1][0] + b1[0]).tanh();
            let h1 = (X[n][0] * w1[0][1] + X[n][1] * w1[1][1] + b1[1]).tanh();
            o[n] = (h0 * w2[0] + h1 * w2[1] + b2).tanh();
            loss += (o[n] - Y[n]) * (o[n] - Y[n]);
        }
        let pen: f32 = w1.iter().flatten().chain(&w2).map(|w| h.l1 * w.abs() + h.l2 * w * w).sum();
        losses.push(loss / 4.0 + pen);
        accs.push(acc_xor(&o));
    }
    (losses, accs)
}

/// 1 hidden unit + ConcatInput: w1[i], b1, w2 = [x0, x1, h], b2.
pub fn train_concat(w1: [f32; 2], w2: [f32; 3], h: Hyper, epochs: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut w1, mut w2, mut b1, mut b2) = (w1, w2, 0.0f32, 0.0f32);
    let (mut losses, mut accs) = (Vec::with_capacity(epochs), Vec::with_capacity(epochs));
    let out = |w1: &[f32; 2], b1: f32, w2: &[f32; 3], b2: f32, n: usize| {
        let hid = (X[n][0] * w1[0] + X[n][1] * w1[1] + b1).tanh();
        (hid, (X[n][0] * w2[0] + X[n][1] * w2[1] + hid * w2[2] + b2).tanh())
    };
    for _ in 0..epochs {
        let (mut gw1, mut gb1, mut gw2, mut gb2) = ([0.0f32; 2], 0.0f32, [0.0f32; 3], 0.0f32);
        for n in 0..4 {
            let (hid, o) = out(&w1, b1, &w2, b2, n);
            let d = 0.5 * (o - Y[n]) * (1.0 - o * o);
            gb2 += d;
            gw2[0] += d * X[n][0];
            gw2[1] += d * X[n][1];
            gw2[2] += d * hid;
            let dh = d * w2[2] * (1.0 - hid * hid);
            gb1 += dh;
            gw1[0] += dh * X[n][0];
            gw1[1] += dh * X[n][1];
        }
        for i in 0..2 {
            w1[i] -= h.lr * (gw1[i] + reg_grad(w1[i], h));
        }
        for i in 0..3 {
            w2[i] -= h.lr * (gw2[i] + reg_grad(w2[i], h));
        }
        b1 -= h.lr * gb1;
        b2 -= h.lr * gb2;
        let mut o = [0.0f32; 4];
        let mut loss = 0.0;
        for (n, on) in o.iter_mut().enumerate() {
            *on = out(&w1, b1, &w2, b2, n).1;
            loss += (*on - Y[n]) * (*on - Y[n]);
        }
        let pen: f32 = w1.iter().chain(&w2).map(|w| h.l1 * w.abs() + h.l2 * w * w).sum();
        losses.push(loss / 4.0 + pen);
        accs.push(acc_xor(&o));
    }
    (losses, accs)
}
