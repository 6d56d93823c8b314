//! Throughput of the XOR reference workload (both course architectures, tanh,
//! MSE, full-batch SGD, loss and acc_xor after every epoch; as the sweep and
//! `avx2_limit` keep them: the first epoch of acc_xor = 1 and of a non-finite
//! loss, and curves at about 200 evenly spaced epochs), in network-epochs per
//! second (`Throughput::Elements`):
//! 1. one epoch of each architecture for one network, engine vs the scalar baseline;
//! 2. the reference workload as ensembles of 1, 64, 1024 and 12,000 networks on 2 threads,
//!    with the scalar baseline (one network at a time, 2 threads) beside it;
//! 3. the whole shipped `experiments/xor_grid.toml` sweep (files written) at 1 and 2 threads.
//!
//! `cargo bench --bench throughput`; see BENCHMARKS.md for figures.

#[path = "baseline.rs"]
mod baseline;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netsweep::ensemble::{Fit, Target, Watch};
use netsweep::sweep::plan::{balanced, MAX_ENSEMBLE};
use netsweep::{data, Activation, ConcatInput, Dense, Ensemble, Input, Layer, Optimizer};
use rayon::prelude::*;
use std::ops::{ControlFlow, Range};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const EPOCHS: usize = 2000;
const LRS: [f64; 5] = [0.01, 0.03, 0.1, 0.3, 1.0];
const L2S: [f64; 3] = [0.0, 0.001, 0.01];
const L1S: [f64; 2] = [0.0, 0.001];

fn layers(concat: bool) -> Vec<Layer> {
    if concat {
        vec![
            Dense::new(1, Activation::Tanh).input_dim(2).into(),
            ConcatInput::new(Input::new(2)).into(),
            Dense::new(1, Activation::Tanh).into(),
        ]
    } else {
        vec![Dense::new(2, Activation::Tanh).input_dim(2).into(), Dense::new(1, Activation::Tanh).into()]
    }
}

/// Network i of the reference grid: (architecture, lr, l2, l1), seed index innermost.
fn hyper(i: usize, n: usize) -> (bool, f64, f64, f64) {
    let per_arch = n.div_ceil(2);
    let g = (i % per_arch) % 30;
    (i >= per_arch, LRS[g / 6], L2S[(g / 2) % 3], L1S[g % 2])
}

/// Curve points kept per network (netsweep's record.points, avx2_limit's curves).
const POINTS: usize = 200;

/// Trains `n` networks as the sweep does: each architecture's networks in
/// lockstep ensembles of at most `MAX_ENSEMBLE`, cut into equal pieces
/// (`plan::balanced`), the pool's threads taking pieces in order from a
/// shared counter; keeps the first epochs of convergence and divergence,
/// and the curves at epoch 1, every `epochs / POINTS`-th and the last.
fn ensembles(n: usize, epochs: usize, pool: &rayon::ThreadPool) -> usize {
    let xor = data::xor::<f32>();
    let every = (epochs / POINTS).max(1);
    let mut at: Vec<usize> = std::iter::once(1).chain((every..=epochs).step_by(every)).chain([epochs]).collect();
    at.dedup();
    let target = Target { threshold: 1.0, higher_is_better: true, on_test: false };
    let watch = Watch { target: Some(target), report_at: Some(&at), stop_when_all_diverged: false };
    let per_arch = n.div_ceil(2);
    let pieces: Vec<Range<usize>> = [0..per_arch, per_arch..n]
        .into_iter()
        .flat_map(|arch| balanced(arch.len(), MAX_ENSEMBLE).map(move |r| arch.start + r.start..arch.start + r.end))
        .collect();
    let train = |piece: &Range<usize>| {
        let concat = hyper(piece.start, n).0;
        let seeds: Vec<u64> = piece.clone().map(|i| i as u64).collect();
        let mut ens = Ensemble::<f32>::new(&seeds);
        for l in layers(concat) {
            ens.add(l).unwrap();
        }
        let mut members = Vec::new();
        for (k, i) in piece.clone().enumerate() {
            let (_, lr, l2, l1) = hyper(i, n);
            ens.set_regularization(k, l1, l2);
            members.push(Optimizer::sgd(lr));
        }
        let cfg = Fit { batch_size: 4, ..Fit::new(epochs, Optimizer::sgd(0.1)) };
        let mut curves = Vec::with_capacity(2 * piece.len() * at.len());
        let watched = ens
            .fit_watched(xor.x.view(), xor.y.view(), &cfg, &members, &watch, |r| {
                curves.extend_from_slice(r.train_loss);
                curves.extend_from_slice(r.train_metric);
                ControlFlow::Continue(())
            })
            .unwrap();
        curves.len() + watched.first_met.len()
    };
    let (next, done) = (AtomicUsize::new(0), AtomicUsize::new(0));
    pool.broadcast(|_| {
        while let Some(piece) = pieces.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.fetch_add(train(piece), Ordering::Relaxed);
        }
    });
    done.into_inner()
}

/// The scalar baseline on the same grid: one network at a time, chunks over the pool.
fn scalar(n: usize, epochs: usize, pool: &rayon::ThreadPool) -> usize {
    pool.install(|| {
        (0..n)
            .into_par_iter()
            .map(|i| {
                let (concat, lr, l2, l1) = hyper(i, n);
                let h = baseline::Hyper { lr: lr as f32, l1: l1 as f32, l2: l2 as f32 };
                let w = 0.3 + (i % 7) as f32 * 0.1;
                let (l, a) = if concat {
                    baseline::train_concat([w, -w], [0.5, -0.4, w], h, epochs)
                } else {
                    baseline::train_2_2_1([[w, -w], [0.4, w]], [0.5, -w], h, epochs)
                };
                l.len() + a.len()
            })
            .sum()
    })
}

fn one_epoch(c: &mut Criterion) {
    let xor = data::xor::<f32>();
    let mut g = c.benchmark_group("one_network_one_epoch");
    g.throughput(Throughput::Elements(1));
    for (name, concat) in [("2-2-1", false), ("concat", true)] {
        g.bench_function(BenchmarkId::new("engine", name), |b| {
            let mut ens = Ensemble::<f32>::new(&[1]);
            for l in layers(concat) {
                ens.add(l).unwrap();
            }
            let cfg = Fit { batch_size: 4, ..Fit::new(1000, Optimizer::sgd(0.1)) };
            // 1000 epochs per iteration; report per epoch via iter_custom.
            b.iter_custom(|iters| {
                let t = std::time::Instant::now();
                for _ in 0..iters.div_ceil(1000) {
                    ens.fit(xor.x.view(), xor.y.view(), &cfg, |_| ControlFlow::Continue(())).unwrap();
                }
                t.elapsed().mul_f64(iters as f64 / (iters.div_ceil(1000) * 1000) as f64)
            });
        });
        g.bench_function(BenchmarkId::new("scalar_baseline", name), |b| {
            let h = baseline::Hyper { lr: 0.1, l1: 0.0, l2: 0.0 };
            b.iter_custom(|iters| {
                let t = std::time::Instant::now();
                for _ in 0..iters.div_ceil(1000) {
                    if concat {
                        std::hint::black_box(baseline::train_concat([0.3, -0.2], [0.5, -0.4, 0.6], h, 1000));
                    } else {
                        std::hint::black_box(baseline::train_2_2_1([[0.3, -0.2], [0.4, 0.1]], [0.5, -0.6], h, 1000));
                    }
                }
                t.elapsed().mul_f64(iters as f64 / (iters.div_ceil(1000) * 1000) as f64)
            });
        });
    }
    g.finish();
}

fn reference_workload(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let mut g = c.benchmark_group("reference_workload_2_threads");
    g.sample_size(10).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(1));
    for n in [1usize, 64, 1024, 12_000] {
        g.throughput(Throughput::Elements((n * EPOCHS) as u64));
        g.bench_with_input(BenchmarkId::new("ensembles", n), &n, |b, &n| b.iter(|| ensembles(n, EPOCHS, &pool)));
        if n <= 1024 {
            g.bench_with_input(BenchmarkId::new("scalar_baseline", n), &n, |b, &n| b.iter(|| scalar(n, EPOCHS, &pool)));
        }
    }
    g.finish();
}

fn whole_sweep(c: &mut Criterion) {
    let plan = netsweep::sweep::load_plan(std::path::Path::new("experiments/xor_grid.toml"), &[]).unwrap();
    let mut g = c.benchmark_group("xor_grid_sweep");
    g.sample_size(10).measurement_time(Duration::from_secs(10)).warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements((plan.runs() * plan.epochs) as u64));
    for threads in [1usize, 2] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &threads| {
            let dir = tempfile::tempdir().unwrap();
            let opts = netsweep::sweep::RunOptions {
                out: dir.path().join("r"),
                threads,
                force: true,
                quiet: true,
                experiment_file: "experiments/xor_grid.toml".into(),
            };
            b.iter(|| netsweep::sweep::run(&plan, &opts).unwrap());
        });
    }
    g.finish();
}

criterion_group!(benches, one_epoch, reference_workload, whole_sweep);
criterion_main!(benches);
