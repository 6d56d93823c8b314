//! Seeds that grow, through the binary: a complete folder run again with
//! more seeds trains only the new seed indices and ends byte-identical
//! (runs.jsonl, summary.json, summary.csv) to a fresh run with that many
//! seeds, also after growing twice and after a crash mid-growth; fewer
//! seeds and shard folders are refused, changing nothing.

mod common;
use common::sweep;

use std::path::Path;

const XOR: &str = r#"
name = "g"
base_seed = 3
seeds = 10
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 150
loss = "mse"
metric = "acc_xor"
activation = "tanh"
batch_size = 2
[grid]
architecture = ["2-2-1", "concat"]
lr = [0.1, 1.0]
l2 = [0.0, 0.01]
[record]
points = 20
weights = 3
"#;

fn run(d: &Path, out: &str, seeds: usize, threads: &str) -> (i32, String) {
    let seeds = format!("seeds={seeds}");
    sweep(&["run", "g.toml", "--quiet", "--no-plot", "--threads", threads, "--out", out, "--set", &seeds], d)
}

fn same_results(a: &Path, b: &Path) {
    for f in ["runs.jsonl", "summary.json", "summary.csv"] {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn growing_seeds_equals_a_fresh_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("g.toml"), XOR).unwrap();
    assert_eq!(run(d, "fresh40", 40, "2").0, 0);
    assert_eq!(run(d, "grow", 20, "1").0, 0);
    let (code, text) = run(d, "grow", 40, "2");
    assert_eq!(code, 0, "{text}");
    same_results(&d.join("grow"), &d.join("fresh40"));
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("grow/manifest.json")).unwrap()).unwrap();
    assert_eq!(
        (m["seeds"].as_u64(), m["grown_from_seeds"].as_u64(), m["status"].as_str()),
        (Some(40), Some(20), Some("complete"))
    );
    // Twice, with uneven steps.
    assert_eq!(run(d, "twice", 7, "2").0, 0);
    assert_eq!(run(d, "twice", 13, "1").0, 0);
    assert_eq!(run(d, "twice", 40, "2").0, 0);
    same_results(&d.join("twice"), &d.join("fresh40"));
    // Fewer seeds: refused, nothing changes.
    let before = std::fs::read(d.join("grow/runs.jsonl")).unwrap();
    let (code, text) = run(d, "grow", 30, "2");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("do not shrink") && text.contains("seed_index < 30"), "{text}");
    assert!(std::fs::read(d.join("grow/runs.jsonl")).unwrap() == before);
}

#[test]
fn a_crash_mid_growth_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("g.toml"), XOR).unwrap();
    assert_eq!(run(d, "fresh", 25, "2").0, 0);
    assert_eq!(run(d, "c", 10, "2").0, 0);
    let old_runs = std::fs::read(d.join("c/runs.jsonl")).unwrap();
    assert_eq!(run(d, "c", 25, "2").0, 0);
    // As if killed after the larger sweep's manifest was written and before
    // runs.jsonl was replaced: the old file, a running manifest, a temporary.
    std::fs::write(d.join("c/runs.jsonl"), &old_runs).unwrap();
    let m = d.join("c/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap().replace("\"status\": \"complete\"", "\"status\": \"running\"");
    std::fs::write(&m, text).unwrap();
    std::fs::remove_file(d.join("c/summary.json")).unwrap();
    std::fs::write(d.join("c/.runs.jsonl.999999.0.tmp"), b"{\"run\":").unwrap();
    let (code, text) = run(d, "c", 25, "1");
    assert_eq!(code, 0, "{text}");
    same_results(&d.join("c"), &d.join("fresh"));
    assert!(!d.join("c/.runs.jsonl.999999.0.tmp").exists());
}

#[test]
fn unfinished_and_shard_folders_do_not_grow() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("g.toml"), XOR).unwrap();
    for s in ["0/2", "1/2"] {
        let (code, text) = sweep(&["run", "g.toml", "--quiet", "--no-plot", "--out", "s", "--shard", s], d);
        assert_eq!(code, 0, "{text}");
    }
    let (code, text) = sweep(&["run", "g.toml", "--quiet", "--out", "s", "--shard", "0/2", "--set", "seeds=20"], d);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("does not grow") && text.contains("sweep merge"), "{text}");
    assert_eq!(run(d, "u", 10, "2").0, 0);
    let m = d.join("u/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap().replace("\"status\": \"complete\"", "\"status\": \"interrupted\"");
    std::fs::write(&m, text).unwrap();
    let (code, text) = run(d, "u", 20, "2");
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("unfinished 10-seed sweep"), "{text}");
}
