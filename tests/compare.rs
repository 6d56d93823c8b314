//! `sweep compare` end to end, through the binary: the comparison files of
//! a real small sweep are recomputed here from runs.jsonl by another route
//! (pairs matched by seed index, McNemar's p from exact binomial
//! coefficients, Holm by its definition), and refusals write nothing.

mod common;
use common::sweep;

use serde_json::Value;

const XOR: &str = r#"
name = "c"
base_seed = 7
seeds = 40
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 300
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[grid]
architecture = ["2-2-1", "concat"]
lr = [0.1, 1.0]
l2 = [0.0, 0.01, 0.1]
[record]
points = 5
weights = 0
"#;

/// Two-sided exact binomial p (p = 1/2) of b against c, from Pascal's triangle.
fn mcnemar(b: u64, c: u64) -> f64 {
    let m = (b + c) as usize;
    let mut row = vec![1.0f64];
    for _ in 0..m {
        let mut next = vec![1.0; row.len() + 1];
        for i in 1..row.len() {
            next[i] = row[i - 1] + row[i];
        }
        row = next;
    }
    let k = b.min(c) as usize;
    let tail: f64 = row[..=k].iter().sum::<f64>() / 2f64.powi(m as i32);
    (2.0 * tail).min(1.0)
}

#[test]
fn comparisons_match_a_recomputation_from_runs_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), XOR).unwrap();
    assert_eq!(sweep(&["run", "c.toml", "--quiet", "--no-plot", "--out", "r"], d).0, 0);
    let (code, text) = sweep(&["compare", "r", "--along", "l2"], d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("comparisons along l2 against l2 = 0"), "{text}");
    let file: Value = serde_json::from_slice(&std::fs::read(d.join("r/compare-l2.json")).unwrap()).unwrap();
    assert!(d.join("r/compare-l2.png").is_file() && d.join("r/compare-l2.csv").is_file());
    // Independent route: runs by (architecture, lr, l2, seed index) from their params.
    let runs: Vec<Value> = std::fs::read_to_string(d.join("r/runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let key = |r: &Value| {
        let p = &r["params"];
        (
            p["architecture"].to_string(),
            p["lr"].to_string(),
            p["l2"].as_f64().unwrap(),
            r["seed_index"].as_u64().unwrap(),
        )
    };
    let ok = |r: &Value| r["converged"].as_bool().unwrap() && r["diverged_epoch"].is_null();
    let comparisons = file["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 2 * 2 * 2, "two non-baseline l2 values at each architecture × lr");
    let mut p_values = Vec::new();
    for c in comparisons {
        let l2 = c["params"]["l2"].as_f64().unwrap();
        assert!(l2 > 0.0, "the baseline is l2 = 0");
        let (mut n11, mut n10, mut n01, mut n00) = (0u64, 0u64, 0u64, 0u64);
        for r in runs.iter().filter(|r| r["point"] == c["point"]) {
            let (a, lr, _, s) = key(r);
            let base = runs.iter().find(|b| key(b) == (a.clone(), lr.clone(), 0.0, s)).unwrap();
            assert_eq!(base["seed"], r["seed"], "paired runs share their seed");
            match (ok(r), ok(base)) {
                (true, true) => n11 += 1,
                (true, false) => n10 += 1,
                (false, true) => n01 += 1,
                (false, false) => n00 += 1,
            }
        }
        let got = |f: &str| c[f].as_u64().unwrap();
        assert_eq!((got("n11"), got("n10"), got("n01"), got("n00")), (n11, n10, n01, n00), "{c}");
        assert_eq!(n11 + n10 + n01 + n00, 40);
        let diff = (n10 as f64 - n01 as f64) / 40.0;
        assert!((c["rate_diff"].as_f64().unwrap() - diff).abs() < 1e-12);
        let (lo, hi) = (c["diff_ci_low"].as_f64().unwrap(), c["diff_ci_high"].as_f64().unwrap());
        assert!(lo <= diff && diff <= hi && lo >= -1.0 && hi <= 1.0, "{c}");
        let p = c["p_mcnemar"].as_f64().unwrap();
        assert!((p - mcnemar(n10, n01)).abs() < 1e-12 * p.max(1e-300) + 1e-15, "{p} vs {}", mcnemar(n10, n01));
        p_values.push(p);
    }
    // Holm by definition: the i-th smallest p times (m − i), running maximum, capped at 1.
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut running: f64 = 0.0;
    for (i, &k) in order.iter().enumerate() {
        running = running.max((p_values[k] * (p_values.len() - i) as f64).min(1.0));
        let got = comparisons[k]["p_holm"].as_f64().unwrap();
        assert!((got - running).abs() < 1e-12, "{got} vs {running}");
    }
    // L2 = 0.1 stops XOR at both architectures (the summary's rates are near 0 there).
    assert!(comparisons.iter().any(|c| c["p_holm"].as_f64().unwrap() < 0.05), "some l2 differs: {text}");
    // Another baseline, by value.
    let (code, _) = sweep(&["compare", "r", "--along", "lr", "--baseline", "1", "--no-plot"], d);
    assert_eq!(code, 0);
    let file: Value = serde_json::from_slice(&std::fs::read(d.join("r/compare-lr.json")).unwrap()).unwrap();
    assert_eq!(file["baseline"], "1");
    assert!(file["comparisons"].as_array().unwrap().iter().all(|c| c["value"] == "0.1"));
}

#[test]
fn comparisons_that_cannot_be_paired_are_refused_writing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("c.toml"), XOR).unwrap();
    let sets = ["--set", "seeds=3", "--set", "training.epochs=5"];
    let mut run = vec!["run", "c.toml", "--quiet", "--no-plot", "--out", "r"];
    run.extend(sets);
    assert_eq!(sweep(&run, d).0, 0);
    let before = std::fs::read_dir(d.join("r")).unwrap().count();
    for (args, needle) in [
        (vec!["compare", "r", "--along", "architecture"], "do not start from the same weights"),
        (vec!["compare", "r", "--along", "momentum"], "no axis `momentum`"),
        (vec!["compare", "r", "--along", "l2", "--baseline", "0.5"], "has no value \"0.5\""),
        (vec!["compare", "nowhere", "--along", "l2"], "nowhere"),
    ] {
        let (code, text) = sweep(&args, d);
        assert_eq!(code, 2, "{args:?}: {text}");
        assert!(text.contains(needle), "{args:?}: {text}");
    }
    assert_eq!(std::fs::read_dir(d.join("r")).unwrap().count(), before, "nothing written");
    // A sweep that has not finished is refused.
    let m = d.join("r/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap().replace("\"status\": \"complete\"", "\"status\": \"running\"");
    std::fs::write(&m, text).unwrap();
    let (code, text) = sweep(&["compare", "r", "--along", "l2"], d);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("not complete"), "{text}");
}
