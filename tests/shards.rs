//! Shards: the split covers every run exactly once and is balanced; `--shard
//! auto` reads Slurm and Kubernetes variables; 4 shards merged equal one
//! process byte for byte; merging a missing, foreign or unfinished shard is
//! refused with exit code 2 and a message naming it.

use netsweep::sweep::{self, plan::Chunk, shard};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Two architectures × two widths × two activations × two optimizers = 16
/// families (the concat network does not use the width) of 2 momentum ×
/// 2 lr × 2 l1 × seeds runs: chunk sizes vary with `seeds`.
const GRID: &str = r#"
name = "grid"
base_seed = 3
seeds = 5
[problem]
kind = "xor"
[architectures."2-H-1"]
layers = [{ type = "dense", units = "hidden" }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 200
loss = "mse"
metric = "acc_xor"
[grid]
optimizer = ["sgd", "adam"]
activation = ["tanh", "sigmoid"]
hidden = [2, 3]
momentum = [0.0, 0.9]
lr = [0.1, 1.0]
l1 = [0.0, 0.01]
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Checks a split: every run once, loads within one (largest) chunk of each other.
fn check_split(chunks: &[Chunk], n: usize) {
    let runs = chunks.last().map_or(0, |c| c.end);
    let split = shard::assign(chunks, n);
    assert_eq!(split.len(), n);
    let mut seen = vec![0u8; runs];
    let mut loads = Vec::new();
    for list in &split {
        assert!(list.windows(2).all(|w| w[0] < w[1]), "chunks of a shard are in order: {list:?}");
        let mut load = 0;
        for &c in list {
            seen[chunks[c].start..chunks[c].end].iter_mut().for_each(|k| *k += 1);
            load += chunks[c].end - chunks[c].start;
        }
        loads.push(load);
    }
    assert!(seen.iter().all(|&k| k == 1), "every run in exactly one shard (n = {n})");
    let largest = chunks.iter().map(|c| c.end - c.start).max().unwrap_or(0);
    let (lo, hi) = (*loads.iter().min().unwrap(), *loads.iter().max().unwrap());
    assert!(hi - lo <= largest, "n = {n}: loads {loads:?} differ by more than the largest chunk ({largest})");
    // The shards' chunk lists, as the runner takes them, agree with the split.
    for (i, list) in split.iter().enumerate() {
        let mine = shard::chunks_of(chunks, shard::Shard::new(i, n).unwrap());
        assert_eq!(mine, list.iter().map(|&c| chunks[c].clone()).collect::<Vec<_>>());
    }
}

#[test]
fn split_covers_every_run_once_and_is_balanced() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "grid.toml", GRID);
    // Small families (one chunk each), and families cut into 256-run chunks with a remainder.
    for seeds in ["seeds=5", "seeds=50", "seeds=100"] {
        let plan = sweep::load_plan(&file, &[seeds.to_string()]).unwrap();
        let chunks = plan.chunks();
        assert_eq!(chunks.last().unwrap().end, plan.runs());
        for n in [1, 2, 3, 4, 5, 7, 8, 16, chunks.len(), chunks.len() + 3] {
            check_split(&chunks, n);
        }
    }
    // Uneven synthetic chunks.
    let sizes = [256, 3, 256, 17, 100, 1, 1, 256, 40, 255, 9];
    let mut chunks = Vec::new();
    let mut start = 0;
    for s in sizes {
        chunks.push(Chunk { family: 0, start, end: start + s });
        start += s;
    }
    for n in 1..=12 {
        check_split(&chunks, n);
    }
    // Equal chunks are dealt round-robin.
    let equal: Vec<Chunk> = (0..8).map(|i| Chunk { family: 0, start: 10 * i, end: 10 * i + 10 }).collect();
    assert_eq!(shard::assign(&equal, 3), vec![vec![0, 3, 6], vec![1, 4, 7], vec![2, 5]]);
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

#[test]
fn shard_auto_reads_slurm_and_kubernetes_variables() {
    let s = |i, n| shard::Shard::new(i, n).unwrap();
    let slurm = [("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "4")];
    assert_eq!(shard::from_env(env_of(&slurm), None).unwrap(), s(2, 4));
    // Without the count: MAX - MIN + 1, and the index counted from MIN.
    let minmax = [("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_MAX", "4")];
    assert_eq!(shard::from_env(env_of(&minmax), None).unwrap(), s(2, 4));
    // An explicit count makes the task id the shard index (resubmitting part of an array).
    let part = [
        ("SLURM_ARRAY_TASK_ID", "5"),
        ("SLURM_ARRAY_TASK_COUNT", "1"),
        ("SLURM_ARRAY_TASK_MIN", "5"),
        ("SLURM_ARRAY_TASK_MAX", "5"),
        ("SWEEP_SHARD_COUNT", "8"),
    ];
    assert_eq!(shard::from_env(env_of(&part), None).unwrap(), s(5, 8));
    assert_eq!(shard::from_env(env_of(&part[..4]), Some(8)).unwrap(), s(5, 8));
    // A non-contiguous array is refused.
    let gaps = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "2"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_MAX", "2"),
    ];
    let e = shard::from_env(env_of(&gaps), None).unwrap_err();
    assert!(e.to_string().contains("not contiguous") && e.exit_code() == 2, "{e}");
    // Kubernetes Indexed Job: the index from JOB_COMPLETION_INDEX, N from the flag or the variable.
    let k8s = [("JOB_COMPLETION_INDEX", "3")];
    assert_eq!(shard::from_env(env_of(&k8s), Some(4)).unwrap(), s(3, 4));
    assert_eq!(shard::from_env(env_of(&[k8s[0], ("SWEEP_SHARD_COUNT", "5")]), None).unwrap(), s(3, 5));
    let e = shard::from_env(env_of(&k8s), None).unwrap_err();
    assert!(e.to_string().contains("--shard-count") && e.to_string().contains("SWEEP_SHARD_COUNT"), "{e}");
    let e = shard::from_env(env_of(&k8s), Some(3)).unwrap_err();
    assert!(e.to_string().contains("0 to 2"), "{e}");
    // Neither.
    let e = shard::from_env(env_of(&[]), Some(4)).unwrap_err();
    assert!(e.to_string().contains("SLURM_ARRAY_TASK_ID") && e.to_string().contains("JOB_COMPLETION_INDEX"), "{e}");
    assert_eq!(e.exit_code(), 2);
}

const SHARD_VARS: [&str; 7] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "JOB_COMPLETION_INDEX",
    "SWEEP_SHARD_COUNT",
];

fn sweep_bin(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sweep"));
    cmd.args(args).current_dir(cwd);
    for v in SHARD_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied());
    let o = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

fn ok(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> String {
    let (code, text) = sweep_bin(args, cwd, env);
    assert_eq!(code, 0, "sweep {args:?}: {text}");
    text
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

const RUN: [&str; 6] = ["run", "grid.toml", "--quiet", "--no-plot", "--set", "seeds=40"];

#[test]
fn four_shards_merged_equal_one_process_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "grid.toml", GRID);
    ok(&[&RUN[..], &["--out", "single"]].concat(), d, &[]);
    for i in 0..4 {
        let s = format!("{i}/4");
        // Alternate the two ways of naming a shard: I/N, and auto from Slurm's variables.
        if i % 2 == 0 {
            ok(&[&RUN[..], &["--out", "sharded", "--shard", &s]].concat(), d, &[]);
        } else {
            let id = i.to_string();
            let env = [("SLURM_ARRAY_TASK_ID", id.as_str()), ("SLURM_ARRAY_TASK_COUNT", "4")];
            ok(&[&RUN[..], &["--out", "sharded", "--shard", "auto", "--threads", "1"]].concat(), d, &env);
        }
        let m: serde_json::Value =
            serde_json::from_slice(&read(d.join(format!("sharded/shards/{i}-of-4/manifest.json")))).unwrap();
        assert_eq!((m["shard"]["index"].as_u64(), m["shard"]["count"].as_u64()), (Some(i), Some(4)));
        assert_eq!(m["status"], "complete");
        assert!(!d.join(format!("sharded/shards/{i}-of-4/summary.json")).exists(), "a shard writes no summary");
    }
    let out = ok(&["merge", "sharded", "--no-plot"], d, &[]);
    assert!(out.contains("merged 4 shards"), "{out}");
    for f in ["summary.json", "runs.jsonl", "summary.csv"] {
        assert!(
            read(d.join("single").join(f)) == read(d.join("sharded").join(f)),
            "{f} differs from a single process's"
        );
    }
    let m: serde_json::Value = serde_json::from_slice(&read(d.join("sharded/manifest.json"))).unwrap();
    assert_eq!(m["status"], "complete");
    assert_eq!(m["merged"]["shards"], 4);
    assert_eq!(m["runs"], 16 * 8 * 40);
    // Merging again is allowed (same experiment) and gives the same bytes.
    ok(&["merge", "sharded", "--no-plot"], d, &[]);
    assert!(read(d.join("single/summary.json")) == read(d.join("sharded/summary.json")));
}

fn refused(args: &[&str], cwd: &Path, needles: &[&str]) {
    let (code, text) = sweep_bin(args, cwd, &[]);
    assert_eq!(code, 2, "expected exit code 2 from {args:?}: {text}");
    for n in needles {
        assert!(text.contains(n), "message should contain {n:?}: {text}");
    }
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn merge_refuses_missing_foreign_and_unfinished_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "grid.toml", GRID);
    let run = ["run", "grid.toml", "--quiet", "--no-plot", "--set", "seeds=4", "--out", "o"];
    refused(&["merge", "o"], d, &["no shards/ folder"]);
    for i in [0, 1, 3] {
        ok(&[&run[..], &["--shard", &format!("{i}/4")]].concat(), d, &[]);
    }
    refused(&["merge", "o"], d, &["missing: 2-of-4"]);
    assert!(!d.join("o/summary.json").exists(), "nothing written on a refused merge");
    // Shard 2 of another experiment.
    ok(&[&run[..], &["--shard", "2/4", "--set", "training.epochs=300"]].concat(), d, &[]);
    refused(&["merge", "o"], d, &["from another experiment", "2-of-4", "training.epochs: 200 -> 300"]);
    // The right shard 2, but unfinished (as if killed): its manifest still says running.
    ok(&[&run[..], &["--shard", "2/4", "--force"]].concat(), d, &[]);
    let mpath = d.join("o/shards/2-of-4/manifest.json");
    let text = String::from_utf8(read(&mpath)).unwrap().replace("\"status\": \"complete\"", "\"status\": \"running\"");
    std::fs::write(&mpath, text).unwrap();
    refused(&["merge", "o"], d, &["incomplete: 2-of-4", "--shard 2/4"]);
    // Resuming it completes it (nothing left to train), then the merge goes through.
    ok(&[&run[..], &["--shard", "2/4"]].concat(), d, &[]);
    ok(&["merge", "o", "--no-plot"], d, &[]);
    assert!(d.join("o/summary.json").is_file());
    // Shards of two different splits side by side.
    ok(&[&run[..], &["--shard", "0/3"]].concat(), d, &[]);
    refused(&["merge", "o"], d, &["different splits", "N=3", "N=4"]);
}

#[test]
fn bad_shard_arguments_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "grid.toml", GRID);
    let run = ["run", "grid.toml", "--quiet", "--no-plot"];
    refused(&[&run[..], &["--shard", "4/4"]].concat(), d, &["0 to 3"]);
    refused(&[&run[..], &["--shard", "x"]].concat(), d, &["I/N"]);
    refused(&[&run[..], &["--shard", "auto"]].concat(), d, &["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"]);
    let (code, text) = sweep_bin(&[&run[..], &["--shard", "auto"]].concat(), d, &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("SWEEP_SHARD_COUNT"), "{text}");
    assert!(!d.join("results").exists(), "nothing written for bad shard arguments");
    ok(&[&run[..], &["--shard", "auto", "--shard-count", "2"]].concat(), d, &[("JOB_COMPLETION_INDEX", "1")]);
    assert!(d.join("results/grid/shards/1-of-2/runs.jsonl").is_file());
}
