//! What writing a run's curves costs per value: a curve of f32 encoded as
//! runs.jsonl encodes it (serde_json, as `sweep::record::jsonl` writes each
//! record), against the shortest round-trip formatting alone (zmij, which
//! serde_json calls for every f32). The gap between the two is all that a
//! hand-written curve writer could save; the formatting is the floor.
//!
//! `cargo bench --bench curves`; see BENCHMARKS.md for figures.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

/// Curves of a 500-run chunk: 2 curves × 200 recorded epochs per run, with
/// values in [0, 1.5) carrying all of an f32's digits, as losses do.
fn curves() -> Vec<Vec<f32>> {
    let mut x = 0x1234_5678u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as f32 / u32::MAX as f32 * 1.5
    };
    (0..1000).map(|_| (0..200).map(|_| next()).collect()).collect()
}

fn writing(c: &mut Criterion) {
    let curves = curves();
    let values: usize = curves.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("curve_values");
    g.throughput(Throughput::Elements(values as u64));
    let mut out = Vec::with_capacity(values * 16);
    g.bench_function(BenchmarkId::new("serde_json", "runs.jsonl"), |b| {
        b.iter(|| {
            out.clear();
            for curve in &curves {
                serde_json::to_writer(&mut out, curve).expect("a Vec<f32> serialises");
            }
            black_box(out.len())
        })
    });
    g.bench_function(BenchmarkId::new("zmij", "formatting_alone"), |b| {
        b.iter(|| {
            let mut len = 0;
            for &v in curves.iter().flatten() {
                len += zmij::Buffer::new().format_finite(black_box(v)).len();
            }
            black_box(len)
        })
    });
    g.finish();
}

criterion_group!(benches, writing);
criterion_main!(benches);
