//! The sweep pipeline end to end: grid order, seed pairing, determinism
//! across thread counts, divergence as data, and every bad input rejected with
//! exit code 2 and nothing written.

use netsweep::sweep::{self, record::RunRecord, RunOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const SMALL: &str = r#"
name = "small"
base_seed = 7
seeds = 6
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
lr = [0.1, 1.0]
l2 = [0.0, 0.01]
l1 = [0.0, 0.001, 0.01]
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run_lib(file: &Path, out: &Path, threads: usize, sets: &[&str]) -> sweep::runner::RunResult {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let plan = sweep::load_plan(file, &sets).unwrap();
    let opts = RunOptions { out: out.to_path_buf(), threads, force: false, quiet: true, experiment_file: "x".into() };
    sweep::run(&plan, &opts).unwrap()
}

#[test]
fn grid_expands_in_documented_order_with_paired_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let plan = sweep::load_plan(&file, &[]).unwrap();
    assert_eq!(plan.grid.points(), 2 * 2 * 2 * 3);
    assert_eq!(plan.runs(), 24 * 6);
    // l1 fastest, then l2, lr, architecture (names sorted as defined: "2-2-1", "concat").
    let p1 = plan.settings(1);
    assert_eq!((p1.architecture.as_str(), p1.lr, p1.l2, p1.l1), ("2-2-1", 0.1, 0.0, 0.001));
    let p3 = plan.settings(3);
    assert_eq!((p3.lr, p3.l2, p3.l1), (0.1, 0.01, 0.0));
    let p6 = plan.settings(6);
    assert_eq!((p6.lr, p6.l2, p6.l1), (1.0, 0.0, 0.0));
    assert_eq!(plan.settings(12).architecture, "concat");
    // Common random numbers: seed index s has the same seed at every point of an architecture.
    for s in 0..6 {
        let seeds: Vec<u64> = (0..12).map(|p| plan.run_seed(p * 6 + s)).collect();
        assert!(seeds.iter().all(|&x| x == seeds[0]));
        assert_ne!(plan.run_seed(s), plan.run_seed(12 * 6 + s), "architectures differ");
    }
    let distinct: std::collections::HashSet<u64> = (0..6).map(|s| plan.run_seed(s)).collect();
    assert_eq!(distinct.len(), 6);
    // Overrides change the plan and are recorded.
    let plan = sweep::load_plan(&file, &["seeds=2".into(), "grid.lr=[0.3]".into()]).unwrap();
    assert_eq!(plan.runs(), 2 * 6 * 2);
    assert_eq!(plan.overrides, vec!["seeds=2", "grid.lr=[0.3]"]);
    // record_every = k keeps every k-th epoch and the last.
    let plan = sweep::load_plan(&file, &["record_every=100".into()]).unwrap();
    assert_eq!(plan.record_epochs, vec![1, 101, 201, 300]);
    // By default about record.points (200) epochs, log-spaced: every early one.
    let log = sweep::load_plan(&file, &[]).unwrap().record_epochs;
    assert!(log.len() <= 200 && log[..50] == (1..=50).collect::<Vec<_>>()[..] && log.last() == Some(&300));
    let linear = sweep::load_plan(&file, &["record.spacing=\"linear\"".into()]).unwrap().record_epochs;
    assert_eq!(linear.len(), 300, "300 epochs, 200 points evenly: every epoch kept");
}

#[test]
fn results_are_byte_identical_for_1_and_2_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    run_lib(&file, &a, 1, &[]);
    run_lib(&file, &b, 2, &[]);
    for f in ["summary.json", "runs.jsonl", "summary.csv"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn records_are_consistent_and_paired_runs_start_alike() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("r");
    let result = run_lib(&file, &out, 2, &[]);
    let summary = result.read_summary().unwrap();
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let runs: Vec<RunRecord> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The runner streams summary.json as points complete, from columns of
    // their runs: it must be serde_json's pretty printing of the summary
    // aggregated afresh from runs.jsonl's records.
    let plan = sweep::load_plan(&file, &[]).unwrap();
    let mut again = sweep::aggregate::Summary::head(&plan);
    again.points = (0..24)
        .map(|p| sweep::aggregate::aggregate_point(&plan, p, runs.iter().filter(|r| r.point == p).cloned().collect()))
        .collect();
    let mut want = serde_json::to_vec_pretty(&again).unwrap();
    want.push(b'\n');
    assert!(std::fs::read(out.join("summary.json")).unwrap() == want, "summary.json differs from serde_json's");
    assert_eq!(runs.len(), 144);
    assert!(runs.iter().enumerate().all(|(i, r)| r.run == i));
    let epochs = &summary.record_epochs;
    for r in &runs {
        assert_eq!(r.curves.train_loss.len(), epochs.len());
        assert_eq!(r.converged, r.epochs_to_converge.is_some());
        if let Some(e) = r.epochs_to_converge {
            // The curve agrees with the convergence epoch wherever it was recorded.
            for (i, &ep) in epochs.iter().enumerate() {
                if ep < e {
                    assert!(r.curves.train_metric[i] < 1.0, "run {} met at {ep} before {e}", r.run);
                }
            }
        }
    }
    // Seed index 0 at lr 0.1 and lr 1.0 (same architecture) start from the same weights:
    // after one epoch of SGD the loss is identical before the update has any effect? No:
    // but the first recorded loss at epoch 1 is computed after one update, so compare seeds instead.
    assert_eq!(runs[0].seed, runs[6 * 6].seed);
    let s = &summary;
    assert_eq!(s.points.len(), 24);
    for p in &s.points {
        assert!(p.rate_ci_low <= p.convergence_rate && p.convergence_rate <= p.rate_ci_high);
        assert_eq!(p.converged_by_epoch.len(), epochs.len());
        assert_eq!(*p.converged_by_epoch.last().unwrap(), p.convergence_rate);
    }
    assert!(s.points.iter().any(|p| p.converged > 0), "some point converges");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(
        csv.starts_with("point,architecture,optimizer,batch_size,activation,lr,l2,l1,runs,converged,convergence_rate")
    );
    assert_eq!(csv.lines().count(), 25);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "complete");
    assert_eq!(manifest["runs"], 144);
    assert!(manifest["network_epochs_per_second"].as_f64().unwrap() > 0.0);
}

#[test]
fn diverging_runs_are_data_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("d");
    let result = run_lib(&file, &out, 2, &["grid.lr=[1e30]", "grid.l2=[0.1]", "grid.l1=[0.0]"]);
    let summary = result.read_summary().unwrap();
    let total_diverged: usize = summary.points.iter().map(|p| p.diverged).sum();
    assert_eq!(total_diverged, 12, "every run at lr 1e30 with L2 overflows");
    assert!(summary.points.iter().all(|p| p.converged == 0 && p.final_train_loss.is_none()));
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let r: RunRecord = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(r.diverged && r.diverged_at.is_some() && r.final_train_loss.is_none());
}

fn sweep_bin(args: &[&str], cwd: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_sweep")).args(args).current_dir(cwd).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn end_to_end_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let (code, err) = sweep_bin(&["validate", "small.toml"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (code, err) = sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--set", "seeds=3"], dir.path());
    assert_eq!(code, 0, "{err}");
    for f in ["manifest.json", "runs.jsonl", "summary.json", "summary.csv"] {
        assert!(dir.path().join("results/small").join(f).is_file(), "{f}");
    }
    // Same experiment again: allowed (resumed; nothing is left to train). Another experiment: refused.
    let (code, _) = sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--set", "seeds=3"], dir.path());
    assert_eq!(code, 0);
    let (code, err) =
        sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--set", "training.epochs=7"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("different experiment") && err.contains("--force"), "{err}");
    let (code, _) =
        sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--set", "training.epochs=7", "--force"], dir.path());
    assert_eq!(code, 0);
}

/// Each bad input: exit code 2, a message containing `needle`, and no results folder.
fn rejected(text: &str, sets: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.toml", text);
    let mut args = vec!["run", "bad.toml", "--quiet", "--no-plot"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let (code, err) = sweep_bin(&args, dir.path());
    assert_eq!(code, 2, "expected exit code 2 for {needle}: {err}");
    assert!(err.contains(needle), "message for {needle:?} was: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("results").exists(), "results folder left behind for {needle}");
}

#[test]
fn bad_inputs_are_refused_with_a_clear_message_and_nothing_written() {
    rejected(&SMALL.replace("[grid]\nlr", "[grid]\nlrr"), &[], "line 17");
    rejected(&SMALL.replace("[grid]\nlr", "[grid]\nlrr"), &[], "did you mean `lr`");
    rejected(&SMALL.replace("epochs = 300", "epochs = \"many\""), &[], "epochs");
    rejected(SMALL, &["grid.lr=[]"], "grid.lr is empty");
    rejected(SMALL, &["grid.lr=[0.1,-0.5]"], "every lr must be > 0");
    rejected(SMALL, &["grid.l2=[-1.0]"], "must be >= 0");
    rejected(SMALL, &["seeds=0"], "seeds = 0");
    rejected(SMALL, &["grid.architecture=[\"2-2-2\"]"], "not defined");
    rejected(
        &SMALL.replace(
            "layers = [{ type = \"dense\", units = 1 }, { type = \"concat_input\" }",
            "layers = [{ type = \"concat_input\" }, { type = \"dense\", units = 1 }",
        ),
        &[],
        "cannot be the first layer",
    );
    rejected(SMALL, &["architectures.concat.layers=[{type=\"dense\",units=0}]"], "units = 0");
    rejected(SMALL, &["training.metric=\"acc\""], "do not fit");
    rejected(SMALL, &["training.optimizer=\"sgdd\""], "did you mean `sgd`");
    rejected(SMALL, &["problem.kind=\"parity\"", "problem.bits=1"], "bits = 1");
    rejected(SMALL, &["problem.kind=\"mnist\"", "problem.path=\"/nonexistent/mnist\""], "/nonexistent/mnist");
    rejected(SMALL, &["lr"], "expected key=value");
    rejected(SMALL, &["seeds=1000000000000"], "more runs than this tool accepts");
    rejected(SMALL, &["training.epochs=1000000000000"], "more than this tool accepts");
    rejected(SMALL, &["training.momentum=1.5"], "momentum");
    rejected(SMALL, &["architectures.concat.layers=[{type=\"dense\",units=100000000}]"], "too many units");
    rejected(
        SMALL,
        &["architectures.concat.layers=[{type=\"dense\",units=5000000},{type=\"dense\",units=1}]"],
        "parameters; this tool accepts up to",
    );
    rejected(SMALL, &["record_every=1", "record.every=2"], "both set");
}

#[test]
fn absurd_thread_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let (code, err) = sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--threads", "100000"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--threads 100000 is too many"), "{err}");
    assert!(!dir.path().join("results").exists());
}

#[test]
fn unwritable_output_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    let file_in_the_way = write(dir.path(), "taken", "not a folder");
    let (code, err) = sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--out", "taken/sub"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be created"), "{err}");
    assert!(file_in_the_way.is_file());
    // A non-empty folder that is not a results folder is refused too.
    std::fs::create_dir(dir.path().join("mine")).unwrap();
    write(&dir.path().join("mine"), "notes.txt", "keep me");
    let (code, err) = sweep_bin(&["run", "small.toml", "--quiet", "--no-plot", "--out", "mine"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds no netsweep results"), "{err}");
    assert!(dir.path().join("mine/notes.txt").is_file());
}
