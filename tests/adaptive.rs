//! Adaptive seeds through the binary: every point ends with its interval's
//! half-width at most the target or at the most seeds, the files are the
//! same bytes for 1 and 2 threads and after a kill and a resume, an
//! adaptive point's first n seeds are the runs a fixed n-seed sweep trains,
//! and sharding is refused.

mod common;
use common::sweep;

use serde_json::Value;
use std::path::Path;

const XOR: &str = r#"
name = "a"
base_seed = 5
seeds = { min = 10, max = 160, ci_half_width = 0.08 }
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 200
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[grid]
architecture = ["2-2-1", "concat"]
lr = [0.1, 1.0]
l2 = [0.0, 0.1]
[record]
points = 8
weights = 2
"#;

fn run(d: &Path, out: &str, threads: &str) {
    let (code, text) = sweep(&["run", "a.toml", "--quiet", "--no-plot", "--threads", threads, "--out", out], d);
    assert_eq!(code, 0, "{text}");
}

fn same(a: &Path, b: &Path) {
    for f in ["runs.jsonl", "summary.json", "summary.csv"] {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

fn runs(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("runs.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn adaptive_points_meet_their_target_the_same_way_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.toml"), XOR).unwrap();
    let (code, text) = sweep(&["validate", "a.toml"], d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("10 → 20 → 40 → 80 → 160") && text.contains("between 80 and 1280 runs"), "{text}");
    run(d, "one", "1");
    run(d, "two", "2");
    same(&d.join("one"), &d.join("two"));
    let summary: Value = serde_json::from_slice(&std::fs::read(d.join("one/summary.json")).unwrap()).unwrap();
    let mut counts = Vec::new();
    for p in summary["points"].as_array().unwrap() {
        let n = p["runs"].as_u64().unwrap();
        let half = (p["rate_ci_high"].as_f64().unwrap() - p["rate_ci_low"].as_f64().unwrap()) / 2.0;
        assert!(half <= 0.08 || n == 160, "point {}: ±{half} at {n} seeds", p["point"]);
        assert!([10, 20, 40, 80, 160].contains(&n), "{n}");
        counts.push(n);
    }
    assert!(
        counts.iter().any(|&n| n > 10) && counts.iter().any(|&n| n < 160),
        "points stop at different rounds: {counts:?}"
    );
    let all = runs(&d.join("one"));
    assert_eq!(all.len() as u64, counts.iter().sum::<u64>());
    let manifest: Value = serde_json::from_slice(&std::fs::read(d.join("one/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["runs"].as_u64().unwrap(), all.len() as u64);
    // A fixed 20-seed sweep trains the same first 20 seeds of every point (only `run` differs).
    let fixed = XOR.replace("seeds = { min = 10, max = 160, ci_half_width = 0.08 }", "seeds = 20");
    std::fs::write(d.join("f.toml"), fixed).unwrap();
    assert_eq!(sweep(&["run", "f.toml", "--quiet", "--no-plot", "--out", "fixed"], d).0, 0);
    let strip = |mut r: Value| {
        r.as_object_mut().unwrap().remove("run");
        r
    };
    for f in runs(&d.join("fixed")) {
        let twin = all.iter().find(|r| r["point"] == f["point"] && r["seed_index"] == f["seed_index"]).unwrap();
        assert_eq!(strip(twin.clone()), strip(f.clone()));
    }
    // Killed part-way (a torn line, a running manifest): the resume ends with the same bytes.
    let text = std::fs::read(d.join("two/runs.jsonl")).unwrap();
    std::fs::write(d.join("two/runs.jsonl"), &text[..text.len() * 2 / 3]).unwrap();
    std::fs::remove_file(d.join("two/summary.json")).unwrap();
    let m = d.join("two/manifest.json");
    let t = std::fs::read_to_string(&m).unwrap().replace("\"status\": \"complete\"", "\"status\": \"running\"");
    std::fs::write(&m, t).unwrap();
    run(d, "two", "2");
    same(&d.join("one"), &d.join("two"));
    // Comparisons pair the seeds both points have.
    let (code, text) = sweep(&["compare", "one", "--along", "l2", "--no-plot"], d);
    assert_eq!(code, 0, "{text}");
    let file: Value = serde_json::from_slice(&std::fs::read(d.join("one/compare-l2.json")).unwrap()).unwrap();
    for c in file["comparisons"].as_array().unwrap() {
        let (p, q) = (c["point"].as_u64().unwrap() as usize, c["baseline_point"].as_u64().unwrap() as usize);
        assert_eq!(c["n"].as_u64().unwrap(), counts[p].min(counts[q]));
    }
    // Sharding is refused.
    let (code, text) = sweep(&["run", "a.toml", "--quiet", "--out", "s", "--shard", "0/2"], d);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("cannot be sharded"), "{text}");
}
