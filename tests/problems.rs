//! The classification and parity problems through the whole sweep: the
//! built-in digits learn well above chance, parity runs, and a user's CSV is
//! split, scaled and trained.

use netsweep::sweep::{self, aggregate::Summary, RunOptions};
use std::path::Path;

/// Runs an experiment and reads back its summary.json.
fn run(file: &Path, sets: &[&str], out: &Path) -> Summary {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let plan = sweep::load_plan(file, &sets).unwrap();
    let opts = RunOptions { out: out.into(), threads: 2, force: false, quiet: true, experiment_file: "t".into() };
    sweep::run(&plan, &opts).unwrap().read_summary().unwrap()
}

#[test]
fn digits_sweep_on_a_tiny_grid_is_far_above_chance() {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        "seeds=2",
        "training.epochs=5",
        "grid.architecture=[\"64-32-10\"]",
        "grid.optimizer=[\"adam\"]",
        "grid.activation=[\"relu\"]",
        "grid.lr=[0.01]",
        "grid.l2=[0.0]",
    ];
    let r = run(Path::new("experiments/digits_grid.toml"), &sets, &dir.path().join("d"));
    let p = &r.points[0];
    let acc = p.final_test_metric.as_ref().unwrap();
    // Chance is 0.1; five epochs of Adam reach well above 0.9.
    assert!(acc.min > 0.9, "test accuracy {acc:?}");
    assert_eq!(p.curves.test_metric.as_ref().unwrap().median.len(), 5);
    assert!(p.best_test_metric.as_ref().unwrap().max >= acc.max);
    // The validation split (10% of the training data) is measured too, and
    // the test mean carries its interval over seeds.
    let val = p.final_validation_metric.as_ref().expect("validation metric");
    assert!(val.min > 0.85 && val.max <= 1.0, "{val:?}");
    let [lo, hi] = p.test_metric_mean_ci.unwrap();
    assert!(lo <= acc.mean && acc.mean <= hi, "{lo} {} {hi}", acc.mean);
}

#[test]
fn parity_problem_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let sets = [
        "problem.kind=\"parity\"",
        "problem.bits=3",
        "seeds=4",
        "training.epochs=200",
        "grid.architecture=[\"2-2-1\"]",
        "grid.lr=[0.3]",
        "grid.l2=[0.0]",
        "grid.l1=[0.0]",
    ];
    // The 2-2-1 architecture reads its input size from the problem: here 3 inputs.
    let r = run(Path::new("experiments/xor_grid.toml"), &sets, &dir.path().join("p"));
    assert_eq!(r.points.len(), 1);
    assert_eq!(r.points[0].runs, 4);
}

#[test]
fn csv_problem_is_split_scaled_and_trained() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("a,b,label\n");
    for i in 0..60 {
        let class = i % 2;
        let (a, b) = if class == 0 { (10.0 + i as f64 * 0.1, 1.0) } else { (-10.0 - i as f64 * 0.1, -1.0) };
        csv += &format!("{a},{b},{class}\n");
    }
    std::fs::write(dir.path().join("data.csv"), csv).unwrap();
    let toml = format!(
        r#"
seeds = 2
[problem]
kind = "csv"
path = "{}"
label = "label"
[architectures.linear]
layers = [{{ type = "dense", units = 2, activation = "linear" }}]
[training]
epochs = 30
batch_size = 8
loss = "cce"
metric = "acc"
optimizer = "adam"
lr = 0.05
"#,
        dir.path().join("data.csv").display()
    );
    std::fs::write(dir.path().join("csv.toml"), toml).unwrap();
    let r = run(&dir.path().join("csv.toml"), &[], &dir.path().join("c"));
    let acc = r.points[0].final_test_metric.as_ref().unwrap();
    assert_eq!(acc.min, 1.0, "two separable blobs: {acc:?}");
}

#[test]
fn parity_grid_crosses_bits_with_relative_widths() {
    let sets: Vec<String> =
        ["grid.bits=[2,4]", "seeds=3", "training.epochs=50", "grid.lr=[0.3]"].map(String::from).to_vec();
    let plan = sweep::load_plan(Path::new("experiments/parity_grid.toml"), &sets).unwrap();
    assert_eq!(plan.grid.points(), 2 * 2);
    // Point order: bits outermost, then architecture in grid order (N, 2N).
    let p = plan.settings(3);
    assert_eq!((p.bits, p.architecture.as_str()), (Some(4), "2N"));
    assert_eq!(plan.data(plan.family_of(3)).train.x.dim(), (16, 4));
    let widths: Vec<usize> = (0..4)
        .map(|i| match plan.family_of(i).layers[0] {
            netsweep::Layer::Dense(d) => d.units,
            _ => 0,
        })
        .collect();
    assert_eq!(widths, vec![2, 4, 4, 8], "N and 2N hidden units for N = 2, 4");
    let dir = tempfile::tempdir().unwrap();
    let opts =
        RunOptions { out: dir.path().join("p"), threads: 2, force: false, quiet: true, experiment_file: "t".into() };
    let r = sweep::run(&plan, &opts).unwrap();
    assert_eq!(r.read_summary().unwrap().points.len(), 4);
    assert!(sweep::load_plan(Path::new("experiments/xor_grid.toml"), &["grid.bits=[2]".into()]).is_err());
}
