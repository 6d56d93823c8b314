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
    let rates =
        |s: &netsweep::sweep::aggregate::Summary| s.points.iter().map(|p| p.convergence_rate).collect::<Vec<_>>();
    assert_eq!(rates(&done.summary), rates(&from_file));
}

#[test]
fn a_sweep_without_a_folder_leaves_nothing_behind() {
    let before: Vec<_> = netsweep_temp_dirs();
    let done = Experiment::from_toml_str(XOR).unwrap().run(&RunOptions::default().threads(2)).unwrap();
    assert!(done.dir.is_none());
    assert_eq!(done.summary.points.len(), 4);
    assert!(done.summary.points.iter().all(|p| p.runs == 8));
    // Also when the run fails after its folder was made.
    let too_many = Experiment::from_toml_str(XOR).unwrap().run(&RunOptions::default().threads(5000));
    assert!(matches!(too_many, Err(SweepError::Config(_))));
    let after: Vec<_> = netsweep_temp_dirs();
    let left: Vec<_> = after.iter().filter(|p| !before.contains(p)).collect();
    assert!(
        left.iter().all(|p| !p.to_string_lossy().contains(&format!("netsweep-{}-", std::process::id()))),
        "{left:?}"
    );
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

/// Public functions that take user data check it and say what is wrong
/// instead of returning a wrong number or panicking.
#[test]
fn user_data_of_the_wrong_shape_is_an_error_not_a_number_or_a_panic() {
    use netsweep::ndarray::array;
    use netsweep::{Activation, Dense, Ensemble, Error, Init, Loss, Metric, Network};
    use rand::SeedableRng;

    let s = array![[0.5f64, -0.5], [1.0, 0.0]];
    // MSE: targets need the scores' rows and columns.
    assert_eq!(
        Loss::Mse.value(s.view(), array![[0.5, -0.5]].view()),
        Err(Error::RowMismatch { what: "scores and targets", x_rows: 2, y_rows: 1 })
    );
    assert_eq!(
        Loss::Mse.value(s.view(), array![[0.5], [1.0]].view()),
        Err(Error::ColumnMismatch { what: "targets", expected: 2, got: 1 })
    );
    assert!(Loss::Mse.gradient(s.view(), array![[0.5], [1.0]].view()).is_err());
    assert!(Metric::AccXor.value(s.view(), array![[0.5], [1.0]].view()).is_err());
    assert!(Metric::Mse.value(s.view(), array![[1.0, 1.0]].view()).is_err());
    // CCE and acc: one column of labels in 0..outputs.
    assert!(matches!(
        Loss::Cce.value(s.view(), array![[0.0], [2.0]].view()),
        Err(Error::BadLabel { row: 1, classes: 2, .. })
    ));
    assert!(matches!(Metric::Acc.value(s.view(), array![[0.5], [1.0]].view()), Err(Error::BadLabel { row: 0, .. })));
    assert!(Loss::Cce.value(s.view(), array![[0.0, 1.0], [1.0, 0.0]].view()).is_err());
    let none = netsweep::ndarray::Array2::<f64>::zeros((0, 2));
    assert_eq!(Loss::Mse.value(none.view(), none.view()), Err(Error::Empty { what: "scores" }));
    // The right shapes still give the course's numbers.
    assert_eq!(Loss::Mse.value(s.view(), array![[0.5, -0.5], [1.0, 0.0]].view()), Ok(0.0));
    assert_eq!(Metric::Acc.value(s.view(), array![[0.0], [0.0]].view()), Ok(1.0));

    let mut net = Network::<f32>::new(1);
    net.add(Dense::new(2, Activation::Tanh).input_dim(2)).unwrap();
    net.add(Dense::new(1, Activation::Tanh)).unwrap();
    assert_eq!(net.weights(1).unwrap().dim(), (3, 1));
    assert_eq!(net.weights(2), Err(Error::DenseIndex { index: 2, len: 2 }));
    let mut ens = Ensemble::<f32>::new(&[1, 2]);
    ens.add(Dense::new(1, Activation::Tanh).input_dim(2)).unwrap();
    assert!(ens.params(1).is_ok());
    assert_eq!(ens.params(2), Err(Error::MemberIndex { index: 2, members: 2 }));
    assert!(ens.weights(2, 0).is_err());
    assert!(ens.set_params(5, &[0.0; 3]).is_err());

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let mut w = [0.0f32; 4];
    for bad in [Init::Uniform(-1.0), Init::Uniform(f64::NAN), Init::Normal(0.0), Init::Uniform(1e308)] {
        assert!(matches!(bad.fill(&mut w, 2, 2, &mut rng), Err(Error::InvalidHyperparameter { .. })), "{bad:?}");
    }
    assert!(Init::HeNormal.fill(&mut w, 0, 2, &mut rng).is_err());
    assert!(Init::Uniform(0.5).fill(&mut w, 2, 2, &mut rng).is_ok());
    assert!(w.iter().all(|v| v.abs() < 0.5));
}
