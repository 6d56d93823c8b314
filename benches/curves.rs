//! What writing a run's curves costs per value. Three ways over the same
//! 1,000 records shaped like the shipped XOR grid's (2 curves × 200
//! recorded epochs: a loss carrying all of an f32's digits, and an accuracy
//! over 4 samples, so one of 0, 0.25, 0.5, 0.75 and 1):
//! - `serde_json`: `serde_json::to_writer` of each record, as runs.jsonl was
//!   written before it remembered its values' text;
//! - `runs_jsonl`: [`netsweep::sweep::record::jsonl`], the writer of
//!   runs.jsonl (the same bytes);
//! - `zmij`: the shortest round-trip formatting of every curve value alone,
//!   which serde_json calls for each f32: the floor of writing each value
//!   afresh.
//!
//! `cargo bench --bench curves`; see BENCHMARKS.md for figures.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netsweep::sweep::record::{jsonl, RunRecord};
use std::hint::black_box;

/// One record of the shipped XOR grid, curves left empty.
const RECORD: &str = r#"{"run":0,"point":0,"params":{"architecture":"2-2-1","optimizer":"sgd","batch_size":"full","activation":"tanh","lr":0.01,"l2":0.0,"l1":0.0},"seed_index":0,"seed":"0xa9bb601aeda8555c","converged":true,"epochs_to_converge":953,"converged_at_end":true,"diverged":false,"diverged_epoch":null,"outcome":"converged","final_train_loss":0.023263032,"final_train_metric":1.0,"final_test_loss":null,"final_test_metric":null,"best_test_metric":null,"curves":{"train_loss":[],"train_metric":[]}}"#;

/// 1,000 records with curves of 200 values in [0, 1.5) with all their
/// digits (losses) and of quarters (accuracies over 4 samples).
fn records() -> Vec<RunRecord> {
    let mut x = 0x1234_5678u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let template: RunRecord = serde_json::from_str(RECORD).expect("the template parses");
    (0..1000)
        .map(|run| {
            let mut r = template.clone();
            r.run = run;
            r.curves.train_loss = (0..200).map(|_| next() as f32 / u32::MAX as f32 * 1.5).collect();
            r.curves.train_metric = (0..200).map(|_| (next() % 5) as f32 / 4.0).collect();
            r
        })
        .collect()
}

fn writing(c: &mut Criterion) {
    let records = records();
    let values: usize = records.iter().map(|r| r.curves.train_loss.len() + r.curves.train_metric.len()).sum();
    let mut g = c.benchmark_group("curve_values");
    g.throughput(Throughput::Elements(values as u64));
    let mut out = Vec::with_capacity(records.len() * 4096);
    g.bench_function(BenchmarkId::new("serde_json", "records"), |b| {
        b.iter(|| {
            out.clear();
            for r in &records {
                serde_json::to_writer(&mut out, r).expect("a record serialises");
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    g.bench_function(BenchmarkId::new("runs_jsonl", "records"), |b| b.iter(|| black_box(jsonl(&records).len())));
    g.bench_function(BenchmarkId::new("zmij", "formatting_alone"), |b| {
        b.iter(|| {
            let mut len = 0;
            for r in &records {
                for &v in r.curves.train_loss.iter().chain(&r.curves.train_metric) {
                    len += zmij::Buffer::new().format_finite(black_box(v)).len();
                }
            }
            black_box(len)
        })
    });
    g.finish();
}

criterion_group!(benches, writing);
criterion_main!(benches);
