//! runs.parquet holds what runs.jsonl holds: read back with the parquet
//! crate's Arrow reader, every run's every field equals its runs.jsonl
//! record (seeds exactly, curves value for value, nulls where JSON has
//! null), for a problem with a test set and kept weights, after a resume
//! and in a merged folder; and `--force` counts it as netsweep's own file.

mod common;
use common::sweep;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use netsweep::sweep::record::RunRecord;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

const DIGITS: &str = r#"
name = "pq"
base_seed = 4
seeds = 3
[problem]
kind = "digits"
test_fraction = 0.2
[architectures."64-8-10"]
layers = [{ type = "dense", units = 8 }, { type = "dense", units = 10, activation = "linear" }]
[architectures."64-10"]
layers = [{ type = "dense", units = 10, activation = "linear" }]
[training]
epochs = 3
batch_size = 64
loss = "cce"
metric = "acc"
optimizer = "adam"
[grid]
architecture = ["64-8-10", "64-10"]
activation = ["relu", "tanh"]
lr = [0.003, 0.03]
[record]
every = 1
weights = 2
"#;

const XOR: &str = r#"
name = "pqx"
base_seed = 8
seeds = 20
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[training]
epochs = 400
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[grid]
lr = [0.1, 1.0, 30.0]
l2 = [0.0, 0.1]
[record]
points = 25
weights = 1
"#;

fn jsonl(dir: &Path) -> Vec<RunRecord> {
    let text = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn parquet(dir: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(dir.join("runs.parquet")).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap().map(|b| b.unwrap()).collect()
}

fn f32_list(b: &RecordBatch, name: &str, row: usize) -> Option<Vec<f32>> {
    let col = b.column_by_name(name).unwrap_or_else(|| panic!("no column {name}")).as_list::<i32>();
    (!col.is_null(row)).then(|| col.value(row).as_primitive::<Float32Type>().values().to_vec())
}

fn f32_opt(b: &RecordBatch, name: &str, row: usize) -> Option<f32> {
    let col = b.column_by_name(name).unwrap().as_primitive::<Float32Type>();
    (!col.is_null(row)).then(|| col.value(row))
}

fn u64_opt(b: &RecordBatch, name: &str, row: usize) -> Option<u64> {
    let col = b.column_by_name(name).unwrap().as_primitive::<UInt64Type>();
    (!col.is_null(row)).then(|| col.value(row))
}

fn flag(b: &RecordBatch, name: &str, row: usize) -> bool {
    b.column_by_name(name).unwrap().as_boolean().value(row)
}

/// Every field of every record against its row, in file order.
fn same_runs(dir: &Path) -> usize {
    let records = jsonl(dir);
    let batches = parquet(dir);
    let mut rows = batches.iter().flat_map(|b| (0..b.num_rows()).map(move |i| (b, i)));
    let bits = |v: Option<f32>| v.map(f32::to_bits);
    let list_bits = |v: Option<Vec<f32>>| v.map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
    for r in &records {
        let (b, i) = rows.next().expect("as many rows as runs");
        let at = format!("run {}", r.run);
        assert_eq!(u64_opt(b, "run", i), Some(r.run as u64), "{at}");
        assert_eq!(u64_opt(b, "point", i), Some(r.point as u64), "{at}");
        assert_eq!(u64_opt(b, "seed_index", i), Some(r.seed_index as u64), "{at}");
        assert_eq!(u64_opt(b, "seed", i), Some(r.seed), "{at}: seeds kept exactly");
        for (name, value) in &r.params.0 {
            let col = b.column_by_name(&format!("params.{name}")).unwrap_or_else(|| panic!("no params.{name}"));
            match value {
                serde_json::Value::Number(n) => {
                    assert_eq!(col.as_primitive::<Float64Type>().value(i), n.as_f64().unwrap(), "{at} {name}")
                }
                serde_json::Value::String(s) => assert_eq!(col.as_string::<i32>().value(i), s, "{at} {name}"),
                other => assert_eq!(col.as_string::<i32>().value(i), other.to_string(), "{at} {name}"),
            }
        }
        assert_eq!(flag(b, "converged", i), r.converged, "{at}");
        assert_eq!(flag(b, "converged_at_end", i), r.converged_at_end, "{at}");
        assert_eq!(flag(b, "diverged", i), r.diverged, "{at}");
        assert_eq!(u64_opt(b, "epochs_to_converge", i), r.epochs_to_converge.map(|e| e as u64), "{at}");
        assert_eq!(u64_opt(b, "diverged_epoch", i), r.diverged_at.map(|e| e as u64), "{at}");
        assert_eq!(b.column_by_name("outcome").unwrap().as_string::<i32>().value(i), r.outcome.name(), "{at}");
        let finals = [
            ("final_train_loss", r.final_train_loss),
            ("final_train_metric", r.final_train_metric),
            ("final_test_loss", r.final_test_loss),
            ("final_test_metric", r.final_test_metric),
            ("best_test_metric", r.best_test_metric),
            ("final_validation_metric", r.final_validation_metric),
        ];
        for (name, v) in finals {
            assert_eq!(bits(f32_opt(b, name, i)), bits(v), "{at} {name}");
        }
        let c = &r.curves;
        assert_eq!(list_bits(f32_list(b, "curves.train_loss", i)), list_bits(Some(c.train_loss.clone())), "{at}");
        assert_eq!(list_bits(f32_list(b, "curves.train_metric", i)), list_bits(Some(c.train_metric.clone())), "{at}");
        assert_eq!(list_bits(f32_list(b, "curves.test_loss", i)), list_bits(c.test_loss.clone()), "{at}");
        assert_eq!(list_bits(f32_list(b, "curves.test_metric", i)), list_bits(c.test_metric.clone()), "{at}");
        assert_eq!(list_bits(f32_list(b, "weights", i)), list_bits(r.weights.clone()), "{at}");
    }
    assert!(rows.next().is_none(), "more rows than runs");
    records.len()
}

#[test]
fn runs_parquet_equals_runs_jsonl_field_for_field() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("d.toml"), DIGITS).unwrap();
    std::fs::write(d.join("x.toml"), XOR).unwrap();
    let (code, text) = sweep(&["run", "d.toml", "--quiet", "--no-plot", "--out", "d"], d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("runs.parquet"), "{text}");
    assert_eq!(same_runs(&d.join("d")), 24);
    let (code, text) = sweep(&["run", "x.toml", "--quiet", "--no-plot", "--out", "x"], d);
    assert_eq!(code, 0, "{text}");
    assert_eq!(same_runs(&d.join("x")), 120);
    // Some runs diverge at lr 30 with L2 (nulls and diverged epochs), some converge.
    let records = jsonl(&d.join("x"));
    assert!(records.iter().any(|r| r.diverged) && records.iter().any(|r| r.converged));
    // The recorded epochs travel in the file's metadata.
    let file = std::fs::File::open(d.join("x").join("runs.parquet")).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let meta = builder.metadata().file_metadata().key_value_metadata().unwrap();
    let epochs = meta.iter().find(|kv| kv.key == "record_epochs").and_then(|kv| kv.value.clone()).unwrap();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("x").join("summary.json")).unwrap()).unwrap();
    assert_eq!(epochs, summary["record_epochs"].to_string());
}

#[test]
fn a_merged_folder_has_the_runs_parquet_of_a_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("x.toml"), XOR).unwrap();
    let (code, text) = sweep(&["run", "x.toml", "--quiet", "--no-plot", "--out", "one"], d);
    assert_eq!(code, 0, "{text}");
    for s in ["0/2", "1/2"] {
        let (code, text) = sweep(&["run", "x.toml", "--quiet", "--no-plot", "--out", "sh", "--shard", s], d);
        assert_eq!(code, 0, "{text}");
    }
    assert!(!d.join("sh/shards/0-of-2/runs.parquet").exists(), "shards write runs.jsonl only");
    let (code, text) = sweep(&["merge", "sh", "--no-plot"], d);
    assert_eq!(code, 0, "{text}");
    assert_eq!(std::fs::read(d.join("sh/runs.parquet")).unwrap(), std::fs::read(d.join("one/runs.parquet")).unwrap());
    assert_eq!(same_runs(&d.join("sh")), 120);
}
