//! The grid as data: axes of any training field, width axes, ranges and
//! scalars; the documented order; families split only by shape and code
//! path; seeds paired across numeric axes; byte-identical results across
//! threads with the new axes; bad grids refused with exit code 2.

use netsweep::sweep::{self, record::RunRecord, worker, RunOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A width axis (used by one architecture only), momentum, init and lr.
const WIDE: &str = r#"
name = "wide"
base_seed = 5
seeds = 4
[problem]
kind = "xor"
[architectures.wide]
layers = [{ type = "dense", units = "hidden" }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 150
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[grid]
architecture = ["wide", "concat"]
hidden = [2, 3, 8]
init = ["glorot_uniform", { uniform = 1.5 }]
momentum = [0.0, 0.9]
lr = { log = [0.1, 1.0], points = 2 }
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn plan(text: &str, sets: &[&str]) -> sweep::Plan {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", text);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sweep::load_plan(&file, &sets).unwrap()
}

fn run(file: &Path, out: &Path, threads: usize, sets: &[&str]) -> sweep::runner::RunResult {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let plan = sweep::load_plan(file, &sets).unwrap();
    let opts = RunOptions { out: out.to_path_buf(), threads, force: false, quiet: true, experiment_file: "g".into() };
    sweep::run(&plan, &opts).unwrap()
}

#[test]
fn axes_follow_the_documented_order_and_only_shape_or_code_splits_families() {
    let p = plan(WIDE, &[]);
    let names: Vec<&str> = p.grid.axes().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        ["architecture", "hidden", "optimizer", "batch_size", "activation", "init", "momentum", "lr", "l2", "l1"]
    );
    assert_eq!(p.grid.varying(), ["architecture", "hidden", "init", "momentum", "lr"]);
    assert_eq!(p.grid.points(), 2 * 3 * 2 * 2 * 2);
    // One family per network shape: init, momentum and lr share an ensemble.
    assert_eq!(p.grid.family_points(), 8);
    assert_eq!(p.families.len(), 6);
    let units: Vec<usize> = p
        .families
        .iter()
        .map(|f| match f.layers[0] {
            netsweep::Layer::Dense(d) => d.units,
            _ => 0,
        })
        .collect();
    assert_eq!(units, [2, 3, 8, 1, 1, 1], "the width axis sets wide's hidden layer; concat ignores it");
    assert!(p.families.iter().all(|f| f.lane_init == [true, true] || f.lane_init == [true, false, true]));
    assert_eq!(p.chunks().len(), 6, "8 points × 4 seeds fit one ensemble per family");
    // Point 13 = (wide, hidden 3, init uniform, momentum 0, lr 1): lr fastest, then momentum, init, hidden.
    let s = p.settings(8 + 4 + 1);
    assert_eq!((s.architecture.as_str(), s.width("hidden"), s.momentum, s.lr), ("wide", Some(3), 0.0, 1.0));
    assert_eq!(s.init, netsweep::Init::Uniform(1.5));
    let params = serde_json::to_string(&p.grid.params(13)).unwrap();
    assert_eq!(
        params,
        r#"{"architecture":"wide","hidden":3,"optimizer":"sgd","batch_size":"full","activation":"tanh","init":{"uniform":1.5},"momentum":0.0,"lr":1.0,"l2":0.0,"l1":0.0}"#
    );
    // Every point's coordinates round-trip.
    for q in 0..p.grid.points() {
        assert_eq!(p.grid.point(&p.grid.coords(q)), q);
    }
}

#[test]
fn seeds_start_from_the_same_weights_wherever_shape_and_init_agree() {
    let p = plan(WIDE, &[]);
    let seeds = p.seeds;
    let init_of = |point: usize| p.settings(point).init;
    for family in &p.families {
        for s in 0..seeds {
            let runs: Vec<usize> = family.points.clone().map(|q| q * seeds + s).collect();
            let w: Vec<Vec<f32>> = runs.iter().map(|&r| worker::initial_params(&p, r).unwrap()).collect();
            for (i, a) in family.points.clone().enumerate() {
                for (j, b) in family.points.clone().enumerate() {
                    // Paired across momentum and lr; an init axis changes the draw.
                    assert_eq!(w[i] == w[j], init_of(a) == init_of(b), "seed {s}, points {a} and {b}");
                }
            }
        }
    }
    // Different widths are different networks; seed indices differ from each other.
    let a = worker::initial_params(&p, 0).unwrap();
    assert_ne!(a.len(), worker::initial_params(&p, 8 * seeds).unwrap().len());
    assert_ne!(a, worker::initial_params(&p, 1).unwrap());
}

#[test]
fn lane_axes_do_not_change_what_a_member_computes() {
    // The run at (wide, hidden 3, uniform 1.5, momentum 0.9, lr 0.1), trained inside
    // its 32-member ensemble, equals the same settings swept alone as constants.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", WIDE);
    let all = run(&file, &dir.path().join("all"), 2, &[]);
    let alone = run(
        &file,
        &dir.path().join("alone"),
        1,
        &[
            "grid.architecture=[\"wide\"]",
            "grid.hidden=3",
            "grid.init={uniform=1.5}",
            "grid.momentum=0.9",
            "grid.lr=0.1",
        ],
    );
    let point = 8 + 4 + 2;
    assert_eq!(all.read_summary().unwrap().axes.params(point), alone.read_summary().unwrap().axes.params(0));
    let runs = |dir: &str| -> Vec<RunRecord> {
        let text = std::fs::read_to_string(dir).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let (big, small) = (
        runs(&format!("{}/all/runs.jsonl", dir.path().display())),
        runs(&format!("{}/alone/runs.jsonl", dir.path().display())),
    );
    for s in 0..4 {
        let (a, b) = (&big[point * 4 + s], &small[s]);
        assert_eq!(
            (a.seed, &a.curves, &a.weights, a.epochs_to_converge),
            (b.seed, &b.curves, &b.weights, b.epochs_to_converge)
        );
    }
    // The momentum points differ from the plain ones (the axis is not ignored).
    let plain = &big[(point - 2) * 4];
    assert_ne!(plain.curves, big[point * 4].curves);
}

#[test]
fn new_axes_give_byte_identical_files_for_1_and_2_threads() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", WIDE);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&file, &a, 1, &[]);
    run(&file, &b, 2, &[]);
    for f in ["summary.json", "runs.jsonl", "summary.csv"] {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    let csv = std::fs::read_to_string(a.join("summary.csv")).unwrap();
    assert!(
        csv.starts_with("point,architecture,hidden,optimizer,batch_size,activation,init,momentum,lr,l2,l1,runs,"),
        "{csv}"
    );
    assert!(csv.lines().nth(14).unwrap().starts_with("13,wide,3,sgd,full,tanh,uniform(1.5),0,1,0,0,4,"), "{csv}");
}

#[test]
fn scalars_ranges_and_every_training_field_are_axes() {
    let p = plan(WIDE, &["grid.lr=0.1", "grid.hidden=4"]);
    assert_eq!(p.grid.axis("lr").unwrap().1.values.len(), 1);
    let p = plan(WIDE, &["grid.lr={log=[0.01,1],points=3}"]);
    assert_eq!(p.grid.axis("lr").unwrap().1.values, netsweep::sweep::grid::Values::Number(vec![0.01, 0.1, 1.0]));
    let p = plan(WIDE, &["grid.momentum={linear=[0,0.5],points=3}"]);
    assert_eq!(p.grid.axis("momentum").unwrap().1.values, netsweep::sweep::grid::Values::Number(vec![0.0, 0.25, 0.5]));
    // The optimizer's constants, as axes and as [training] fields; Keras' defaults otherwise.
    let p = plan(
        WIDE,
        &[
            "grid.optimizer=[\"adam\"]",
            "grid.momentum=0.0",
            "grid.beta1=[0.5,0.9]",
            "grid.beta2=0.99",
            "training.epsilon=1e-5",
        ],
    );
    assert_eq!(p.grid.family_points(), 2 * 2 * 2, "beta1 is a lane axis");
    let o = p.settings(1).optimizer();
    assert_eq!(o, netsweep::Optimizer::Adam { lr: 1.0, beta1: 0.5, beta2: 0.99, epsilon: 1e-5 });
    let p = plan(WIDE, &["grid.optimizer=[\"rmsprop\",\"adadelta\",\"adagrad\"]", "grid.momentum=0.0"]);
    let kinds: Vec<_> = p.families.iter().take(3).map(|f| p.settings(f.points.start).optimizer()).collect();
    assert_eq!(kinds[0], netsweep::Optimizer::rmsprop(0.1));
    assert_eq!(kinds[1], netsweep::Optimizer::adadelta(0.1));
    assert_eq!(kinds[2], netsweep::Optimizer::adagrad(0.1));
    let p = plan(
        WIDE,
        &[
            "grid.optimizer=[\"rmsprop\",\"adagrad\"]",
            "grid.momentum=0.0",
            "grid.rho=[0.5,0.8]",
            "grid.initial_accumulator=[0.0,1.0]",
            "grid.l1=[0.0,0.001]",
            "grid.l2=[0.0,0.01]",
        ],
    );
    assert_eq!(p.grid.family_points(), 2 * 2 * 2 * 2 * 2 * 2, "init, rho, initial_accumulator, lr, l2, l1 are lanes");
    let last = p.families[0].points.end - 1;
    let s = p.settings(last);
    assert_eq!((s.l1, s.l2), (0.001, 0.01));
    assert_eq!(s.optimizer(), netsweep::Optimizer::RmsProp { lr: 1.0, rho: 0.8, epsilon: 1e-7 });
    let adagrad = p.settings(p.families[1].points.end - 1).optimizer();
    assert_eq!(adagrad, netsweep::Optimizer::Adagrad { lr: 1.0, initial_accumulator: 1.0, epsilon: 1e-7 });
    let p = plan(
        WIDE,
        &["grid.nesterov=[false,true]", "grid.batch_size=[2,\"full\"]", "grid.activation=[\"tanh\",\"relu\"]"],
    );
    assert_eq!(p.families.len(), 6 * 2 * 2 * 2, "nesterov, batch size and activation start families");
}

fn sweep_bin(args: &[&str], cwd: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_sweep")).args(args).current_dir(cwd).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Exit code 2, a message holding every needle, and nothing written.
fn refused(text: &str, sets: &[&str], needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.toml", text);
    for cmd in ["validate", "run"] {
        let mut args = vec![cmd, "bad.toml"];
        for s in sets {
            args.extend(["--set", s]);
        }
        let (code, err) = sweep_bin(&args, dir.path());
        assert_eq!(code, 2, "{cmd} {sets:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{cmd} {sets:?}: message should contain {n:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(!dir.path().join("results").exists(), "{cmd} {sets:?} wrote results");
    }
}

#[test]
fn bad_grids_are_refused_with_the_key_named() {
    refused(WIDE, &["grid.hiden=[2]"], &["grid.hiden is not an axis", "did you mean `hidden`"]);
    refused(WIDE, &["grid.momentm=[0.5]"], &["did you mean `momentum`"]);
    refused(&WIDE.replace("hidden = [2, 3, 8]", "width = [2, 3, 8]"), &[], &["line 18", "grid.width is not an axis"]);
    refused(WIDE, &["grid.hidden=[2, 0]"], &["grid.hidden = 0", "whole numbers from 1"]);
    refused(WIDE, &["grid.hidden=[2.5]"], &["grid.hidden", "whole numbers"]);
    refused(WIDE, &["grid.hidden=[]"], &["grid.hidden is empty"]);
    refused(WIDE, &["grid.lr={log=[0.01,1],points=0}"], &["grid.lr", "points must be a whole number >= 1"]);
    refused(WIDE, &["grid.lr={log=[0,1],points=3}"], &["grid.lr", "bounds > 0"]);
    refused(WIDE, &["grid.lr={log=[0.01,1]}"], &["grid.lr", "points"]);
    refused(WIDE, &["grid.hidden={linear=[1,8],points=3}"], &["grid.hidden", "list the values"]);
    refused(WIDE, &["grid.momentum=[0.0, 1.0]"], &["grid.momentum = 1", "[0, 1)"]);
    refused(WIDE, &["grid.init=[{uniform=-1.0}]"], &["grid.init", "positive"]);
    refused(WIDE, &["grid.epochs=[10, 20]"], &["grid.epochs", "cannot be an axis"]);
    refused(
        &WIDE.replace("activation = \"tanh\"", "activation = \"tanh\"\nmomentum = 0.5"),
        &[],
        &["momentum is set in both [training]", "[grid]"],
    );
    refused(
        &WIDE.replace("hidden = [2, 3, 8]\n", ""),
        &[],
        &["architecture `wide`", "units = \"hidden\"", "no axis `hidden`"],
    );
    refused(WIDE, &["grid.optimizer=[\"adam\"]", "grid.nesterov=true"], &["nesterov", "sgd only"]);
    refused(&WIDE.replace("units = \"hidden\"", "units = \"lr\""), &[], &["units = \"lr\"", "name the width axis"]);
    refused(&WIDE.replace("units = \"hidden\"", "units = \"runs\""), &[], &["a column of summary.csv"]);
    refused(&WIDE.replace("units = \"hidden\"", "units = 2.5"), &[], &["line 8", "whole number of units"]);
    refused(WIDE, &["training.l2=nan"], &["training.l2 = NaN", ">= 0"]);
    refused(WIDE, &["training.batch_size=0"], &["training.batch_size"]);
    refused(WIDE, &["grid.lr={log=[0.01,1],points=1}"], &["points = 1", "single value"]);
    refused(WIDE, &["grid.lr={lin=[0.01,1],points=3}"], &["grid.lr", "must be a range"]);
}

#[test]
fn an_override_moves_a_field_between_training_and_grid() {
    let with_const = WIDE.replace("activation = \"tanh\"", "activation = \"tanh\"\nl2 = 0.001");
    let p = plan(&with_const, &["grid.l2=[0.0,0.01]"]);
    assert_eq!(p.grid.axis("l2").unwrap().1.values.len(), 2);
    let p = plan(WIDE, &["training.momentum=0.5"]);
    assert!(p.grid.axis("momentum").is_none());
    assert_eq!(p.settings(0).momentum, 0.5);
}

#[test]
fn plot_refuses_a_summary_whose_axes_were_edited() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", WIDE);
    let out = dir.path().join("r");
    run(&file, &out, 2, &["seeds=2", "training.epochs=20"]);
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 3] = [
        ("out of grid order", |j| j["axes"].as_array_mut().unwrap().swap(0, 1)),
        ("has no values", |j| j["axes"][0]["values"] = serde_json::json!([])),
        ("more grid points", |j| {
            let many: Vec<f64> = (1..=20_000).map(|i| i as f64).collect();
            for k in [7, 8, 9] {
                j["axes"][k]["values"] = serde_json::json!(many.clone());
            }
        }),
    ];
    for (needle, edit) in edits {
        let mut edited = json.clone();
        edit(&mut edited);
        std::fs::write(out.join("summary.json"), serde_json::to_vec(&edited).unwrap()).unwrap();
        let (code, err) = sweep_bin(&["plot", "r"], dir.path());
        assert_eq!(code, 2, "{needle}: {err}");
        assert!(err.contains("summary.json") && err.contains(needle), "{needle}: {err}");
    }
    // A point index outside the grid.
    json["points"][0]["point"] = serde_json::json!(1_000_000);
    std::fs::write(out.join("summary.json"), serde_json::to_vec(&json).unwrap()).unwrap();
    let (code, err) = sweep_bin(&["plot", "r"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outside the grid"), "{err}");
}

#[test]
fn plot_draws_any_two_axes_chosen_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "g.toml", WIDE);
    run(&file, &dir.path().join("r"), 2, &["seeds=2", "training.epochs=20"]);
    let (code, err) = sweep_bin(&["plot", "r", "--x", "momentum", "--y", "hidden"], dir.path());
    assert_eq!(code, 0, "{err}");
    let plots = dir.path().join("r/plots");
    let names = || -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(&plots).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    // x = momentum, y = hidden, z (panels) = lr; the init axis is a facet: one file per init.
    let files = names();
    for f in ["rate_vs_momentum_glorot-uniform.png", "rate_vs_momentum_uniform-1.5.png", "index.html"] {
        assert!(files.contains(&f.to_string()), "{f} in {files:?}");
    }
    assert!(files.iter().any(|f| f.starts_with("rate_heatmap_wide")), "{files:?}");
    // Replotting with the default view removes the figures of the other x axis.
    let (code, err) = sweep_bin(&["plot", "r"], dir.path());
    assert_eq!(code, 0, "{err}");
    let files = names();
    assert!(files.iter().any(|f| f.starts_with("rate_vs_lr")), "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with("rate_vs_momentum")), "{files:?}");
    let (code, err) = sweep_bin(&["plot", "r", "--x", "width"], dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no axis `width`") && err.contains("hidden"), "{err}");
}
