//! Outcome classes and the two rates, through the binary: every run has a
//! class, the classes add up to the runs at every point, the rates and the
//! unconditional median are recomputed here from runs.jsonl, L2 = 0.1 traps
//! XOR on plateaus (or lets it solve and lose it), and lr = 100 diverges
//! with L2 (without it, tanh saturates on a plateau).

mod common;
use common::sweep;

use serde_json::Value;
use std::path::Path;

const XOR: &str = r#"
name = "o"
base_seed = 11
seeds = 30
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[training]
epochs = 1000
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[grid]
lr = [0.3, 1.0, 100.0]
l2 = [0.0, 0.1]
[record]
points = 10
weights = 0
"#;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn classes_add_up_and_rates_and_medians_match_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("o.toml"), XOR).unwrap();
    let (code, text) = sweep(&["run", "o.toml", "--out", "r"], d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("at end") && text.contains("median all"), "the table shows both rates: {text}");
    assert!(d.join("r/plots/outcomes.png").is_file());
    let summary = json(&d.join("r/summary.json"));
    let runs: Vec<Value> = std::fs::read_to_string(d.join("r/runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for p in summary["points"].as_array().unwrap() {
        let mine: Vec<&Value> = runs.iter().filter(|r| r["point"] == p["point"]).collect();
        let n = mine.len();
        let o = &p["outcomes"];
        let classes = ["converged", "transient", "plateau", "slow", "diverged"];
        let total: u64 = classes.iter().map(|c| o[*c].as_u64().unwrap()).sum();
        assert_eq!(total as usize, n, "classes add up to the runs: {o}");
        for c in classes {
            let count = mine.iter().filter(|r| r["outcome"] == c).count();
            assert_eq!(o[c].as_u64().unwrap() as usize, count, "{c} at point {}", p["point"]);
        }
        let at_end = mine.iter().filter(|r| r["converged_at_end"] == true).count();
        assert_eq!(p["solved_at_end_rate"].as_f64().unwrap(), at_end as f64 / n as f64);
        assert_eq!(o["converged"].as_u64().unwrap() as usize, at_end, "converged = still met at the end");
        // The unconditional median: never-converged runs count as infinite.
        let mut e: Vec<f64> = mine
            .iter()
            .map(|r| {
                if r["diverged_epoch"].is_null() { r["epochs_to_converge"].as_f64() } else { None }
                    .unwrap_or(f64::INFINITY)
            })
            .collect();
        e.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 { e[n / 2] } else { (e[n / 2 - 1] + e[n / 2]) / 2.0 };
        match p["median_epochs_all"].as_f64() {
            Some(m) => assert_eq!(m, median, "point {}", p["point"]),
            None => assert!(median.is_infinite(), "censored only when at most half converge: {median}"),
        }
        let lr = p["params"]["lr"].as_f64().unwrap();
        let l2 = p["params"]["l2"].as_f64().unwrap();
        if lr == 100.0 && l2 == 0.1 {
            assert_eq!(o["diverged"].as_u64().unwrap() as usize, n, "lr 100 with L2 overflows: {o}");
        } else if lr == 100.0 {
            // Without L2, tanh saturates at once and the loss sits at 2: flat, not infinite.
            assert_eq!(o["plateau"].as_u64().unwrap() as usize, n, "lr 100 saturates: {o}");
        } else if l2 == 0.1 {
            let trapped = o["plateau"].as_u64().unwrap() + o["transient"].as_u64().unwrap();
            assert_eq!(trapped as usize, n, "L2 = 0.1 traps every run at lr {lr}: {o}");
        }
    }
    let csv = std::fs::read_to_string(d.join("r/summary.csv")).unwrap();
    assert!(csv.lines().next().unwrap().contains("solved_at_end_rate,solved_ci_low,solved_ci_high,transient,plateau,slow,diverged,median_epochs_among_converged,median_epochs_all"));
    assert!(csv.contains(",>1000,"), "a censored median reads >epochs: {csv}");
}

#[test]
fn count_at_end_leads_the_table_and_the_comparisons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("o.toml"), XOR.replace("[record]", "[convergence]\ncount = \"at_end\"\n[record]")).unwrap();
    let (code, text) = sweep(&["run", "o.toml", "--out", "r", "--no-plot", "--set", "grid.lr=[0.3,1.0]"], d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("at end  95% CI"), "{text}");
    let summary = json(&d.join("r/summary.json"));
    assert_eq!(summary["criterion"]["count"], "at_end");
    let (code, text) = sweep(&["compare", "r", "--along", "l2", "--no-plot"], d);
    assert_eq!(code, 0, "{text}");
    let file = json(&d.join("r/compare-l2.json"));
    assert!(file["outcome"].as_str().unwrap().starts_with("solved at end"));
    for c in file["comparisons"].as_array().unwrap() {
        let p = &summary["points"][c["point"].as_u64().unwrap() as usize];
        assert_eq!(c["rate"].as_f64().unwrap(), p["solved_at_end_rate"].as_f64().unwrap());
    }
}
