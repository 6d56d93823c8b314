//! One training step (forward, backward, SGD update) of a Dense network with
//! ReLU and softmax-CCE, as in `../shared/peers/mlp_bench.py`: 64-32-10 at
//! batch 32 and 784-128-10 at batch 64, one thread, in samples per second.
//!
//! `cargo bench --bench dense`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use netsweep::ensemble::Trainer;
use netsweep::{Activation, Dense, Ensemble, Loss, Optimizer};

fn step(c: &mut Criterion) {
    let mut g = c.benchmark_group("dense_training_step");
    for (inputs, hidden, classes, batch) in [(64usize, 32usize, 10usize, 32usize), (784, 128, 10, 64)] {
        let name = format!("{inputs}-{hidden}-{classes}_batch{batch}");
        let x = Array2::from_shape_fn((batch, inputs), |(r, c)| ((r * 31 + c * 7) % 17) as f32 / 17.0);
        let y = Array2::from_shape_fn((batch, 1), |(r, _)| (r % classes) as f32);
        let mut ens = Ensemble::<f32>::new(&[1]);
        ens.add(Dense::new(hidden, Activation::Relu).input_dim(inputs)).unwrap();
        ens.add(Dense::new(classes, Activation::Linear)).unwrap();
        let mut trainer = Trainer::new(&ens, batch, &[Optimizer::sgd(0.01)], Loss::Cce).unwrap();
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(BenchmarkId::new("netsweep", name), |b| {
            b.iter(|| trainer.step(&mut ens, x.view(), y.view()).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
