//! netsweep under hostile and careless use, through the binary: it deletes
//! only what it wrote, lets one process at a time write a results folder,
//! never panics on a closed or full stdout, and refuses hand-edited or
//! impossible inputs with exit code 2, writing nothing.

mod common;
use common::sweep;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const XOR: &str = r#"
name = "x"
base_seed = 1
seeds = 3
[problem]
kind = "xor"
[architectures."2-2-1"]
layers = [{ type = "dense", units = 2 }, { type = "dense", units = 1 }]
[training]
epochs = 50
loss = "mse"
metric = "acc_xor"
activation = "tanh"
[grid]
lr = [0.1, 1.0]
"#;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.toml"), XOR).unwrap();
    dir
}

/// `sweep CMD FILE --set S …` as arguments.
fn with_sets<'a>(cmd: &'a str, file: &'a str, sets: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![cmd, file];
    for s in sets {
        args.extend(["--set", s]);
    }
    args
}

fn refused(args: &[&str], cwd: &Path, needles: &[&str]) {
    let (code, text) = sweep(args, cwd);
    assert_eq!(code, 2, "sweep {args:?}: {text}");
    for n in needles {
        assert!(text.contains(n), "sweep {args:?}: message should contain {n:?}: {text}");
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn only_files_netsweep_wrote_are_ever_deleted() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(sweep(&["run", "x.toml", "--quiet"], d).0, 0);
    let plots = d.join("results/x/plots");
    // A user's copy named like a figure, and a note.
    std::fs::write(plots.join("rate_vs_lr_paper.png"), b"mine").unwrap();
    std::fs::write(plots.join("notes.txt"), b"mine").unwrap();
    // A user's backup named like one of netsweep's temporaries, but not one.
    std::fs::write(d.join("results/x/.summary.json.old.tmp"), b"mine").unwrap();
    // netsweep's list of what it drew, edited to name the note and a link
    // of the user's named like a figure: neither is a figure it drew.
    std::fs::write(d.join("theirs.png"), b"theirs").unwrap();
    std::os::unix::fs::symlink(d.join("theirs.png"), plots.join("link.png")).unwrap();
    let list = plots.join(".netsweep-plots.json");
    let mut listed: Vec<String> = serde_json::from_slice(&std::fs::read(&list).unwrap()).unwrap();
    listed.extend(["notes.txt".into(), "link.png".into()]);
    std::fs::write(&list, serde_json::to_vec(&listed).unwrap()).unwrap();
    assert_eq!(sweep(&["plot", "results/x", "--format", "svg"], d).0, 0);
    assert!(plots.join("link.png").symlink_metadata().is_ok(), "a link is not a figure netsweep wrote");
    std::fs::remove_file(plots.join("link.png")).unwrap();
    assert_eq!(std::fs::read(d.join("theirs.png")).unwrap(), b"theirs");
    assert_eq!(sweep(&["plot", "results/x"], d).0, 0);
    // Another experiment into the same folder with --force replaces netsweep's files only.
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--force", "--no-plot", "--set", "seeds=2"], d).0, 0);
    assert_eq!(std::fs::read(plots.join("rate_vs_lr_paper.png")).unwrap(), b"mine");
    assert_eq!(std::fs::read(plots.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(files_in(&plots), ["notes.txt", "rate_vs_lr_paper.png"], "netsweep's own figures went with --force");
    // No temporary files are left behind; the lock file stays for the next holder.
    let left: Vec<String> = files_in(&d.join("results/x")).into_iter().filter(|f| f.starts_with('.')).collect();
    assert_eq!(left, [".netsweep-lock", ".summary.json.old.tmp"]);
    assert_eq!(std::fs::read(d.join("results/x/.summary.json.old.tmp")).unwrap(), b"mine");
}

/// --force into a folder that holds no netsweep run (no manifest.json)
/// refuses to replace a file of the user's that has one of netsweep's names.
#[test]
fn force_does_not_replace_a_users_file_named_like_ours() {
    let dir = setup();
    let d = dir.path();
    for name in ["summary.csv", "runs.jsonl", "manifest.json.txt"] {
        let out = d.join(format!("mine-{name}"));
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(name), "my own table\n").unwrap();
        let args = ["run", "x.toml", "--quiet", "--no-plot", "--force", "--out", out.to_str().unwrap()];
        if name.ends_with(".txt") {
            // Not one of netsweep's names: --force writes beside it.
            assert_eq!(sweep(&args, d).0, 0);
            assert!(out.join("manifest.json").exists());
        } else {
            refused(&args, d, &[name, "no manifest.json", "did not write"]);
            assert_eq!(files_in(&out), [name], "nothing written");
        }
        assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), "my own table\n");
    }
}

#[test]
fn a_second_process_on_a_folder_is_refused_naming_the_first() {
    let dir = setup();
    let d = dir.path();
    let mut first = Command::new(env!("CARGO_BIN_EXE_sweep"))
        .args(["run", "x.toml", "--quiet", "--no-plot", "--threads", "1", "--set", "training.epochs=200000"])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let holder = d.join("results/x/.netsweep-lock");
    let t0 = Instant::now();
    while std::fs::metadata(&holder).map_or(true, |m| m.len() == 0) {
        assert!(t0.elapsed() < Duration::from_secs(60), "the first run never took the folder");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = format!("pid {}", first.id());
    refused(
        &["run", "x.toml", "--quiet", "--no-plot", "--threads", "1", "--set", "training.epochs=200000"],
        d,
        &["in use by `sweep run`", &pid],
    );
    refused(&["plot", "results/x"], d, &["in use by `sweep run`"]);
    // A killed holder's lock dies with it: the next run resumes.
    first.kill().unwrap();
    first.wait().unwrap();
    let (code, text) = sweep(&["run", "x.toml", "--quiet", "--no-plot", "--set", "training.epochs=200"], d);
    assert_eq!(code, 2, "another experiment, not a lock: {text}");
    assert!(text.contains("different experiment") && !text.contains("in use"), "{text}");
}

#[test]
fn a_closed_or_full_stdout_is_not_a_failure() {
    let dir = setup();
    let d = dir.path();
    let bin = env!("CARGO_BIN_EXE_sweep");
    // A pipe whose reader is gone (`| head -0`).
    for args in [vec!["validate", "x.toml"], vec!["run", "x.toml", "--out", "p", "--no-plot"]] {
        let mut child =
            Command::new(bin).args(&args).current_dir(d).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(d.join("p/summary.json").is_file(), "the results are complete");
    // A full device on stdout and on stderr.
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = Command::new(bin)
        .args(["run", "x.toml", "--out", "f"])
        .current_dir(d)
        .stdout(full())
        .stderr(full())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(d.join("f/summary.csv").is_file() && d.join("f/plots/index.html").is_file());
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

#[test]
fn hand_edited_results_are_refused_naming_the_file_and_field() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot"], d).0, 0);
    let res: PathBuf = d.join("results/x");
    let summary = std::fs::read(res.join("summary.json")).unwrap();
    let manifest = std::fs::read(res.join("manifest.json")).unwrap();
    // compare labels its rows with the manifest's axes: edited ones are refused.
    let set_lr = |values: serde_json::Value| {
        edit_json(&res.join("manifest.json"), |v| {
            let axes = v["axes"].as_array_mut().unwrap();
            axes.iter_mut().find(|a| a["name"] == "lr").unwrap()["values"] = values;
        })
    };
    set_lr(serde_json::json!((1..=100_000).map(|i| i as f64 * 0.01).collect::<Vec<_>>()));
    refused(&["compare", "results/x", "--along", "lr"], d, &["manifest.json", "`axes`", "`points`"]);
    std::fs::write(res.join("manifest.json"), &manifest).unwrap();
    set_lr(serde_json::json!([1.0, 0.1]));
    refused(&["compare", "results/x", "--along", "lr"], d, &["runs.jsonl", "line 1", "`params`"]);
    std::fs::write(res.join("manifest.json"), &manifest).unwrap();
    edit_json(&res.join("summary.json"), |v| v["record_epochs"] = serde_json::json!([1, 2]));
    refused(&["plot", "results/x"], d, &["summary.json", "record_epochs"]);
    std::fs::write(res.join("summary.json"), &summary).unwrap();
    edit_json(&res.join("summary.json"), |v| v["record_epochs"].as_array_mut().unwrap().swap(1, 2));
    refused(&["plot", "results/x"], d, &["summary.json", "`record_epochs` does not count up"]);
    std::fs::write(res.join("summary.json"), &summary).unwrap();
    edit_json(&res.join("summary.json"), |v| v["points"][1]["convergence_rate"] = serde_json::json!(-5.0));
    refused(&["plot", "results/x"], d, &["summary.json", "grid point 1", "`convergence_rate` is -5"]);
    std::fs::write(res.join("summary.json"), &summary).unwrap();
    edit_json(&res.join("summary.json"), |v| v["experiment_hash"] = serde_json::json!("a".repeat(64)));
    refused(&["plot", "results/x"], d, &["summary.json", "manifest.json", "different experiments"]);
    std::fs::write(res.join("summary.json"), &summary).unwrap();
    edit_json(&res.join("summary.json"), |v| v["experiment_hash"] = serde_json::json!("é".repeat(40)));
    refused(&["plot", "results/x"], d, &["summary.json", "experiment_hash"]);
    std::fs::write(res.join("summary.json"), &summary).unwrap();
    edit_json(&res.join("manifest.json"), |v| v["experiment_hash"] = serde_json::json!("ü".repeat(40)));
    refused(&["plot", "results/x"], d, &["manifest.json", "experiment_hash"]);
    refused(&["run", "x.toml", "--quiet", "--no-plot"], d, &["manifest.json", "experiment_hash"]);
}

/// A runs.jsonl line that is a record, but not one the sweep can have
/// written, is refused by resuming, growing and merging (they rebuilt the
/// summary from it and exited 0), naming the line and field; nothing is
/// written.
#[test]
fn impossible_run_records_are_refused_when_read_back() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot"], d).0, 0);
    let runs = d.join("results/x/runs.jsonl");
    let original = std::fs::read(&runs).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(Edit, &str); 5] = [
        (|r| drop(r["curves"]["train_loss"].as_array_mut().unwrap().pop()), "curve `curves.train_loss` has"),
        (|r| r["epochs_to_converge"] = 4_000_000_000u64.into(), "`epochs_to_converge` is 4000000000"),
        (|r| r["final_train_loss"] = serde_json::Value::Null, "`final_train_loss`"),
        (|r| r["params"]["lr"] = 0.5.into(), "`params` are not those of grid point 1"),
        (|r| r["diverged"] = true.into(), "`diverged` and `diverged_epoch` disagree"),
    ];
    for (edit, says) in edits {
        let text = String::from_utf8(original.clone()).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut r: serde_json::Value = serde_json::from_str(&lines[4]).unwrap();
        edit(&mut r);
        lines[4] = serde_json::to_string(&r).unwrap();
        std::fs::write(&runs, lines.join("\n") + "\n").unwrap();
        let before = contents(&d.join("results/x"));
        for grow in [None, Some("seeds=4")] {
            let mut args = vec!["run", "x.toml", "--quiet", "--no-plot"];
            args.extend(grow.iter().flat_map(|s| ["--set", *s]));
            refused(&args, d, &["runs.jsonl", "line 5", says]);
            assert_eq!(contents(&d.join("results/x")), before, "{args:?} ({says}): nothing written");
        }
    }
    std::fs::write(&runs, &original).unwrap();
}

#[test]
fn impossible_inputs_are_refused_and_nothing_is_written() {
    let dir = setup();
    let d = dir.path();
    let deep = vec!["a"; 50_000].join(".") + "=1";
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (vec![deep], vec!["dotted parts"]),
        (vec!["training.loss=\"cce\"".into(), "training.metric=\"acc\"".into()], vec!["cce", "class labels"]),
        (vec!["grid.architecture=[\"2-2-1\",\"2-2-1\"]".into()], vec!["grid.architecture lists 2-2-1 twice"]),
        (vec![format!("name=\"{}\"", "n".repeat(300))], vec!["300 bytes long"]),
        (
            vec![
                format!("architectures.{}.layers=[{{type=\"dense\",units=1}}]", "a".repeat(300)),
                format!("grid.architecture=[\"{}\"]", "a".repeat(300)),
            ],
            vec!["300 bytes long"],
        ),
        (vec!["grid.lr=[0.1, 0.1]".into()], vec!["0.1 twice"]),
    ];
    for (sets, needles) in cases {
        let mut args = vec!["run", "x.toml", "--quiet"];
        for s in &sets {
            args.extend(["--set", s.as_str()]);
        }
        refused(&args, d, &needles);
        assert!(!d.join("results").exists(), "{needles:?}: a refused run wrote results/");
    }
    // Two architecture names that map to one file name.
    let clash = XOR.replace("[training]", "[architectures.\"A B\"]\nlayers = [{ type = \"dense\", units = 2 }, { type = \"dense\", units = 1 }]\n[architectures.a-b]\nlayers = [{ type = \"dense\", units = 1 }]\n[training]");
    std::fs::write(d.join("clash.toml"), clash).unwrap();
    refused(
        &["run", "clash.toml", "--quiet", "--set", "grid.architecture=[\"A B\",\"a-b\"]"],
        d,
        &["`A B` and `a-b`", "file names"],
    );
    assert!(!d.join("results").exists());
    // An --out through a dangling symbolic link.
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("link")).unwrap();
    refused(&["run", "x.toml", "--quiet", "--out", "link/r"], d, &["symbolic link"]);
    assert!(!d.join("nowhere").exists());
}

/// Every file in `dir` with its bytes (links as their target's name).
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_in(dir)
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let bytes = match std::fs::read_link(&p) {
                Ok(t) => t.to_string_lossy().as_bytes().to_vec(),
                Err(_) => std::fs::read(&p).unwrap_or_default(),
            };
            (n, bytes)
        })
        .collect()
}

/// A name netsweep writes in place (the lock file, runs.jsonl it appends to
/// and cuts back, the write probe, plots/) that is a symbolic link is
/// refused: what it points at is not netsweep's and stays as it was, with
/// --force too, and the folder is left byte for byte as it was.
#[test]
fn links_in_place_of_our_files_are_refused_and_their_targets_kept() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot"], d).0, 0);
    let out = d.join("results/x");
    let theirs = d.join("theirs.txt");
    let their_folder = d.join("their-plots");
    std::fs::create_dir(&their_folder).unwrap();
    std::fs::write(their_folder.join("figure.png"), "their figure").unwrap();
    for (name, cmd, extra, no_lock) in [
        (".netsweep-lock", "run", None, false),
        ("runs.jsonl", "run", None, true),
        ("runs.jsonl", "run", Some("--force"), false),
        (".netsweep-write-test", "run", Some("--force"), false),
        ("summary.json", "run", None, false),
        ("plots", "run", Some("--force"), false),
        ("plots", "plot", None, false),
        (".netsweep-lock", "plot", None, false),
    ] {
        std::fs::write(&theirs, "someone else's lines\n").unwrap();
        if no_lock {
            // The lock file is then created, and removed again on refusal.
            std::fs::remove_file(out.join(".netsweep-lock")).unwrap();
        }
        let link = out.join(name);
        let kept = link.with_extension("kept");
        if link.exists() {
            std::fs::rename(&link, &kept).unwrap();
        }
        let target = if name == "plots" { &their_folder } else { &theirs };
        std::os::unix::fs::symlink(target, &link).unwrap();
        let (before, theirs_before) = (contents(&out), contents(d));
        let mut args = vec![cmd];
        args.extend(if cmd == "run" {
            ["x.toml", "--quiet", "--no-plot"].as_slice()
        } else {
            ["results/x"].as_slice()
        });
        args.extend(extra);
        refused(&args, d, &[name, "symbolic link", "remove the link"]);
        let case = format!("{cmd} with {name} {extra:?}");
        assert_eq!(contents(&out), before, "{case}: the folder is as it was");
        assert_eq!(contents(d), theirs_before, "{case}: their files are as they were");
        assert_eq!(contents(&their_folder), [("figure.png".to_string(), b"their figure".to_vec())], "{case}");
        std::fs::remove_file(&link).unwrap();
        if kept.exists() {
            std::fs::rename(&kept, &link).unwrap();
        }
    }
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot"], d).0, 0, "the folder resumes once the links are gone");
}

/// A named pipe, a device or a folder at one of netsweep's file names is
/// refused (exit code 2) by every command that reads or writes it, before
/// anything is written: a pipe would block the reader, /dev/zero never end,
/// and a folder at a name written last would fail the sweep after the
/// manifest said it was running.
#[test]
fn things_that_are_not_files_in_place_of_ours_are_refused() {
    let dir = setup();
    let d = dir.path();
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot"], d).0, 0);
    let out = d.join("results/x");
    let fifo = |p: &Path| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    let run = ["run", "x.toml", "--quiet", "--no-plot"].as_slice();
    let (plot, compare) = (["plot", "results/x"].as_slice(), ["compare", "results/x", "--along", "lr"].as_slice());
    for (name, what, args) in [
        ("runs.jsonl", "pipe", run),
        ("runs.jsonl", "pipe", plot),
        ("runs.jsonl", "pipe", compare),
        ("manifest.json", "pipe", run),
        ("manifest.json", "pipe", compare),
        (".netsweep-lock", "pipe", plot),
        ("runs.jsonl", "device", plot),
        ("runs.jsonl", "device", compare),
        ("runs.parquet", "folder", run),
        ("summary.csv", "folder", run),
        ("summary.json", "folder", plot),
    ] {
        let p = out.join(name);
        let kept = p.with_extension("kept");
        std::fs::rename(&p, &kept).unwrap();
        match what {
            "pipe" => fifo(&p),
            "device" => std::os::unix::fs::symlink("/dev/zero", &p).unwrap(),
            _ => std::fs::create_dir(&p).unwrap(),
        }
        // (The test reads the manifest only where it is a file: a pipe would block it too.)
        let manifest = || {
            let m = out.join("manifest.json");
            m.symlink_metadata().unwrap().is_file().then(|| std::fs::read(&m).unwrap())
        };
        let before = (files_in(&out), manifest());
        refused(args, d, &[name, what, "move it away"]);
        assert_eq!((files_in(&out), manifest()), before, "{args:?} with a {what} at {name}: nothing written");
        if what == "folder" {
            std::fs::remove_dir(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
        std::fs::rename(&kept, &p).unwrap();
    }
    assert_eq!(sweep(run, d).0, 0, "the folder resumes once they are gone");
}

#[test]
fn rayon_num_threads_is_honoured_and_recorded() {
    let dir = setup();
    let d = dir.path();
    let threads_with = |extra: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sweep"))
            .args(["run", "x.toml", "--quiet", "--no-plot", "--force"])
            .args(extra)
            .env("RAYON_NUM_THREADS", "1")
            .current_dir(d)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0));
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("results/x/manifest.json")).unwrap()).unwrap();
        (m["threads"].as_u64().unwrap(), m["threads_from"].as_str().unwrap().to_string())
    };
    assert_eq!(threads_with(&[]), (1, "RAYON_NUM_THREADS".into()));
    assert_eq!(threads_with(&["--threads", "2"]), (2, "--threads".into()));
}

#[test]
fn a_data_path_that_is_not_a_file_is_refused() {
    let dir = setup();
    let sets = [
        "problem.kind=\"csv\"",
        "problem.path=\"/dev/zero\"",
        "problem.label=\"y\"",
        "training.loss=\"cce\"",
        "training.metric=\"acc\"",
        "grid.architecture=[\"2-2-1\"]",
    ];
    let args = with_sets("validate", "x.toml", &sets);
    refused(&args, dir.path(), &["/dev/zero", "not a regular file"]);
}

#[test]
fn a_sweep_that_cannot_fit_is_refused_before_anything_is_written() {
    let dir = setup();
    let d = dir.path();
    let huge =
        ["training.epochs=100000", "record.every=1", "grid.lr={log=[0.001,1],points=20000}", "grid.l2=[0.0,0.1]"];
    let validate = with_sets("validate", "x.toml", &huge);
    let (code, text) = sweep(&validate, d);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("of runs.jsonl") && text.contains("peak memory up to about") && text.contains("TB"),
        "{text}"
    );
    assert!(text.contains("(20000 values in all)"), "long axes are abbreviated: {text}");
    let mut run = with_sets("run", "x.toml", &huge);
    run.push("--quiet");
    refused(&run, d, &["writes about", "TB", "free", "--force runs it anyway"]);
    assert!(!d.join("results").exists());
    // Memory grows with the seeds of one point (their columns), not with points.
    let many_seeds = ["seeds=100000000", "training.epochs=1000", "record.points=1000", "grid.lr=0.1", "grid.l2=0"];
    let mut run = with_sets("run", "x.toml", &many_seeds);
    run.push("--quiet");
    refused(&run, d, &["needs up to about", "available now", "fewer seeds per grid point", "--force runs it anyway"]);
    assert!(!d.join("results").exists());
}

#[test]
fn broken_shards_are_named_with_the_command_that_fixes_them() {
    let dir = setup();
    let d = dir.path();
    // Two activations: two families, one chunk for each shard.
    let two = "grid.activation=[\"tanh\",\"sigmoid\"]";
    for s in ["0/2", "1/2"] {
        assert_eq!(sweep(&["run", "x.toml", "--quiet", "--out", "o", "--shard", s, "--set", two], d).0, 0);
    }
    // A shard folder copied over another.
    let (one, copy) = (d.join("o/shards/1-of-2"), d.join("o/shards/0-of-2"));
    let saved = std::fs::read(one.join("manifest.json")).unwrap();
    std::fs::write(one.join("manifest.json"), std::fs::read(copy.join("manifest.json")).unwrap()).unwrap();
    refused(&["merge", "o"], d, &["1-of-2 (holds shard 0/2's results", "--shard 1/2"]);
    std::fs::write(one.join("manifest.json"), saved).unwrap();
    // A shard whose runs.jsonl lost its last line after it completed.
    let runs = std::fs::read_to_string(one.join("runs.jsonl")).unwrap();
    let cut: Vec<&str> = runs.lines().collect();
    std::fs::write(one.join("runs.jsonl"), cut[..cut.len() - 1].join("\n") + "\n").unwrap();
    refused(&["merge", "o"], d, &["says complete", "--shard 1/2 --force"]);
    assert!(!d.join("o/summary.json").exists());
}

#[test]
fn a_csv_of_labels_alone_is_refused() {
    let dir = setup();
    std::fs::write(dir.path().join("labels.csv"), "y\n0\n1\n0\n1\n").unwrap();
    let sets = [
        "problem.kind=\"csv\"",
        "problem.path=\"labels.csv\"",
        "problem.label=\"y\"",
        "training.loss=\"cce\"",
        "training.metric=\"acc\"",
    ];
    let args = with_sets("validate", "x.toml", &sets);
    refused(&args, dir.path(), &["labels.csv", "only the label column"]);
}

#[test]
fn refusals_leave_folders_as_they_were_and_stale_temporaries_go() {
    let dir = setup();
    let d = dir.path();
    // A folder of the user's: refused, and not even a lock file is left in it.
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/notes.txt"), b"keep").unwrap();
    refused(&["run", "x.toml", "--quiet", "--out", "mine"], d, &["holds no netsweep results"]);
    refused(&["plot", "mine"], d, &["no summary.json"]);
    assert_eq!(files_in(&d.join("mine")), ["notes.txt"]);
    // A temporary file a killed writer left does not make a results folder "foreign", and goes.
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot"], d).0, 0);
    std::fs::write(d.join("results/x/.summary.json.999999.0.tmp"), b"half").unwrap();
    assert_eq!(sweep(&["run", "x.toml", "--quiet", "--no-plot", "--set", "seeds=2", "--force"], d).0, 0);
    assert!(!d.join("results/x/.summary.json.999999.0.tmp").exists());
}

#[test]
fn bad_seed_counts_and_adaptive_settings_are_refused_with_what_to_write() {
    let dir = setup();
    let d = dir.path();
    for (value, needle) in [
        ("seeds=-1", "whole number of seeds"),
        ("seeds=2.5", "whole number of seeds"),
        ("seeds=\"x\"", "whole number of seeds"),
        ("seeds={min=5,max=20}", "missing field `ci_half_width`"),
        ("seeds={min=0,max=20,ci_half_width=0.1}", "min = 0"),
        ("seeds={min=50,max=20,ci_half_width=0.1}", "below min"),
        ("seeds={min=5,max=20,ci_half_width=0.7}", "below 0.5"),
    ] {
        refused(&["validate", "x.toml", "--set", value], d, &[needle]);
        refused(&["run", "x.toml", "--quiet", "--set", value], d, &[needle]);
    }
    assert!(!d.join("results").exists());
}

/// Shards started at once create the same missing parent folders: each must
/// take a folder another made meanwhile as existing (not as a dangling link,
/// the race that once failed a Slurm array), and report only its own.
#[test]
fn concurrent_shards_create_shared_parents() {
    use netsweep::sweep::output::create_missing;
    let dir = tempfile::tempdir().unwrap();
    for round in 0..200 {
        let base = dir.path().join(format!("r{round}/results/x/shards"));
        let barrier = std::sync::Barrier::new(4);
        let made: Vec<Vec<PathBuf>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let (base, barrier) = (&base, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        create_missing(&base.join(format!("{i}-of-4"))).expect("a shared parent is not an error")
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (i, m) in made.iter().enumerate() {
            assert!(m.ends_with(&[base.join(format!("{i}-of-4"))]), "{m:?}");
        }
        // Every shared parent was made by exactly one of them.
        let shared: Vec<&PathBuf> = made.iter().flatten().filter(|p| !p.starts_with(&base) || **p == base).collect();
        assert_eq!(shared.len(), 4, "{shared:?}");
    }
}

/// Adaptive seeds replay runs.jsonl round by round: a bad line with more
/// whole lines after it than one unfinished group is refused there too,
/// not cut back (runs.jsonl is left as it was).
#[test]
fn an_adaptive_resume_refuses_a_bad_line_with_runs_after_it() {
    let dir = setup();
    let d = dir.path();
    let adaptive = XOR.replace("seeds = 3", "seeds = { min = 4, max = 16, ci_half_width = 0.05 }");
    std::fs::write(d.join("a.toml"), adaptive).unwrap();
    assert_eq!(sweep(&["run", "a.toml", "--quiet", "--no-plot"], d).0, 0);
    let runs = d.join("results/x/runs.jsonl");
    let text = std::fs::read_to_string(&runs).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 8, "{} runs", lines.len());
    lines.insert(3, "");
    let edited = lines.join("\n") + "\n";
    std::fs::write(&runs, &edited).unwrap();
    refused(&["run", "a.toml", "--quiet", "--no-plot"], d, &["runs.jsonl", "does not cut it back"]);
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), edited, "runs.jsonl is left as it was");
}
