//! netsweep used as a library: the programmatic sweep gives the bytes the
//! command line gives, overrides fail early with the command line's
//! messages, and a run without a folder leaves nothing behind.

mod common;
use common::sweep;

use netsweep::sweep::{Experiment, RunOptions, SweepError};

const XOR: &str = r#"
name = "lib"
base_seed = 9
seeds = 8
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
"#;

#[test]
fn a_programmatic_sweep_writes_what_the_command_line_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("e.toml"), XOR).unwrap();
    let (code, text) =
        sweep(&["run", "e.toml", "--quiet", "--no-plot", "--set", "grid.l2=[0.0, 0.01]", "--out", "cli"], d);
    assert_eq!(code, 0, "{text}");
    let done = Experiment::from_file(d.join("e.toml"))
        .unwrap()
        .set("grid.l2", "[0.0, 0.01]")
        .unwrap()
        .run(&RunOptions::default().out(d.join("lib")).threads(1))
        .unwrap();
    assert_eq!(done.dir.as_deref(), Some(d.join("lib").as_path()));
    assert_eq!(done.summary.points.len(), 8);
    for file in ["runs.jsonl", "summary.json", "summary.csv"] {
        let a = std::fs::read(d.join("cli").join(file)).unwrap();
        let b = std::fs::read(d.join("lib").join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }
    // The in-memory summary is the file's.
    let from_file = netsweep::sweep::output::read_summary(&d.join("cli")).unwrap();
    let rates = |s: &netsweep::sweep::aggregate::Summary| s.points.iter().map(|p| p.convergence_rate).collect::<Vec<_>>();
    assert_eq!(rates(&done.summary), rates(&from_file));
}

#[test]
fn a_sweep_without_a_folder_leaves_nothing_behind() {
    let before: Vec<_> = netsweep_temp_dirs();
    let done = Experiment::from_toml_str(XOR).unwrap().run(&RunOptions::default().threads(2)).unwrap();
    assert!(done.dir.is_none());
    assert_eq!(done.summary.points.len(), 4);
    assert!(done.summary.points.iter().all(|p| p.runs == 8));
    let after: Vec<_> = netsweep_temp_dirs();
    let left: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
    assert!(left.iter().all(|p| !p.to_string_lossy().contains(&format!("netsweep-{}-", std::process::id()))), "{left:?}");
}

fn netsweep_temp_dirs() -> Vec<std::path::PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("netsweep-")))
        .collect()
}

#[test]
fn bad_overrides_and_files_fail_early_with_the_command_line_messages() {
    let e = Experiment::from_toml_str(XOR).unwrap();
    let Err(SweepError::Config(msg)) = e.clone().set("grid.lrr", "[0.1]") else { panic!("accepted grid.lrr") };
    assert!(msg.contains("lrr"), "{msg}");
    let Err(SweepError::Config(msg)) = e.clone().set("seeds", "\"many\"") else { panic!("accepted seeds = \"many\"") };
    assert!(msg.contains("seeds"), "{msg}");
    assert!(matches!(Experiment::from_toml_str("name = "), Err(SweepError::Config(_))));
    assert!(matches!(Experiment::from_file("/nonexistent/e.toml"), Err(SweepError::Config(_))));
    // A plan is checked without training.
    let plan = e.set("seeds", "3").unwrap().validate().unwrap();
    assert_eq!(plan.runs(), 12);
    // run() into a folder needs one; RunOptions::default() alone is for Experiment::run.
    let plan = Experiment::from_toml_str(XOR).unwrap().validate().unwrap();
    assert!(matches!(netsweep::sweep::run(&plan, &RunOptions::default()), Err(SweepError::Config(_))));
}
