//! Crash safety and resume: a sweep killed with SIGKILL part-way, or stopped
//! with SIGTERM, and then run again finishes with the same bytes as an
//! uninterrupted run (summary.json and runs.jsonl); a torn last line is
//! dropped; a changed experiment is refused with the settings that differ.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// 2 architectures × 2 widths × 5 optimizers × 2 activations = 40 families
/// (the concat network does not use the width axis), each one chunk of
/// 2 inits × 2 lr × 8 seeds = 32 runs: 1280 runs in 40 chunks.
const GRID: &str = r#"
name = "resume"
base_seed = 11
seeds = 8
[problem]
kind = "xor"
[architectures."2-H-1"]
layers = [{ type = "dense", units = "hidden" }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 300
loss = "mse"
metric = "acc_xor"
[grid]
optimizer = ["sgd", "adam", "rmsprop", "adagrad", "adadelta"]
activation = ["tanh", "sigmoid"]
hidden = [2, 3]
init = ["glorot_uniform", { uniform = 1.0 }]
lr = [0.1, 0.3]
"#;

const RUNS: usize = 1280;
const CHUNKS: usize = 40;
const CHUNK: usize = 32;
/// Long enough that one thread takes seconds for the whole grid.
const LONG: &str = "training.epochs=30000";

fn sweep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sweep"))
}

fn run_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["run", "grid.toml", "--no-plot", "--out", out];
    v.extend_from_slice(extra);
    v
}

/// Runs the binary to the end: (exit code, stdout + stderr).
fn sweep_bin(args: &[&str], cwd: &Path) -> (i32, String) {
    let o = sweep().args(args).current_dir(cwd).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), text)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.toml"), GRID).unwrap();
    dir
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// An uninterrupted run of the long grid, made once per test process.
fn reference() -> &'static Path {
    static REF: OnceLock<PathBuf> = OnceLock::new();
    REF.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("resume-reference");
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("grid.toml"), GRID).unwrap();
        let (code, text) = sweep_bin(&run_args("ref", &["--quiet", "--set", LONG]), &root);
        assert_eq!(code, 0, "{text}");
        root.join("ref")
    })
}

/// Starts the long grid on one thread (chunks finish one by one) and waits
/// until some, but not all, runs are in runs.jsonl.
fn start_and_wait_for_partial_output(cwd: &Path, out: &str) -> Child {
    let mut child = sweep()
        .args(run_args(out, &["--quiet", "--threads", "1", "--set", LONG]))
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runs = cwd.join(out).join("runs.jsonl");
    let t0 = Instant::now();
    while std::fs::metadata(&runs).map_or(0, |m| m.len()) == 0 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sweep ended ({status}) before writing any run");
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no output after 2 minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

fn lines(p: &Path) -> usize {
    read(p).iter().filter(|&&b| b == b'\n').count()
}

/// Runs the same command again and checks the result against the reference.
fn resume_and_compare(cwd: &Path, out: &str) -> String {
    let (code, text) = sweep_bin(&run_args(out, &["--set", LONG]), cwd);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("resuming:"), "says it resumes: {text}");
    let reference = reference();
    let dir = cwd.join(out);
    assert!(read(dir.join("summary.json")) == read(reference.join("summary.json")), "summary.json differs");
    assert!(read(dir.join("runs.jsonl")) == read(reference.join("runs.jsonl")), "runs.jsonl differs");
    assert!(read(dir.join("summary.csv")) == read(reference.join("summary.csv")), "summary.csv differs");
    let m: serde_json::Value = serde_json::from_slice(&read(dir.join("manifest.json"))).unwrap();
    assert_eq!(m["status"], "complete");
    text
}

#[test]
fn killed_sweep_resumes_to_the_uninterrupted_result() {
    reference();
    let dir = setup();
    let mut child = start_and_wait_for_partial_output(dir.path(), "k");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let out = dir.path().join("k");
    let done = lines(&out.join("runs.jsonl"));
    assert!(done < RUNS, "killed part-way ({done} runs written)");
    assert!(!out.join("summary.json").exists());
    let m: serde_json::Value = serde_json::from_slice(&read(out.join("manifest.json"))).unwrap();
    assert_eq!(m["status"], "running");
    resume_and_compare(dir.path(), "k");
}

#[test]
fn sigterm_stops_cleanly_and_leaves_a_resumable_folder() {
    reference();
    let dir = setup();
    let child = start_and_wait_for_partial_output(dir.path(), "t");
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "exit code 130 after SIGTERM: {err}");
    assert!(err.contains("To resume, run the same command again"), "{err}");
    assert!(err.contains("run grid.toml --no-plot --out t --quiet --threads 1 --set training.epochs=30000"), "{err}");
    let out = dir.path().join("t");
    let runs = read(out.join("runs.jsonl"));
    let done = lines(&out.join("runs.jsonl"));
    assert!(done > 0 && done < RUNS, "stopped part-way ({done} runs)");
    assert_eq!(done % CHUNK, 0, "only whole chunks are written");
    assert_eq!(runs.last(), Some(&b'\n'), "no torn line after a clean stop");
    let m: serde_json::Value = serde_json::from_slice(&read(out.join("manifest.json"))).unwrap();
    assert_eq!(m["status"], "interrupted");
    let text = resume_and_compare(dir.path(), "t");
    assert!(
        text.contains(&format!("{} of {CHUNKS} chunks ({done} of {RUNS} runs) already done", done / CHUNK)),
        "{text}"
    );
}

#[test]
fn torn_last_line_is_dropped_on_resume() {
    let dir = setup();
    let d = dir.path();
    let args = run_args("r", &["--set", "training.epochs=400"]);
    let (code, text) = sweep_bin(&args, d);
    assert_eq!(code, 0, "{text}");
    let out = d.join("r");
    let (runs, summary) = (read(out.join("runs.jsonl")), read(out.join("summary.json")));
    // Cut runs.jsonl in the middle of line 100 (inside the fourth chunk), as a power cut would.
    let mut at = 0;
    for _ in 0..99 {
        at += runs[at..].iter().position(|&b| b == b'\n').unwrap() + 1;
    }
    at += 50;
    std::fs::write(out.join("runs.jsonl"), &runs[..at]).unwrap();
    std::fs::remove_file(out.join("summary.json")).unwrap();
    let (code, text) = sweep_bin(&args, d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("3 of 40 chunks (96 of 1280 runs) already done"), "{text}");
    assert!(text.contains("3 lines after the last complete chunk and a torn last line"), "{text}");
    assert!(read(out.join("runs.jsonl")) == runs, "runs.jsonl differs after resuming");
    assert!(read(out.join("summary.json")) == summary, "summary.json differs after resuming");
    // Garbage appended after complete results is dropped too.
    let mut extra = runs.clone();
    extra.extend_from_slice(b"{\"run\": 3, \"trunc");
    std::fs::write(out.join("runs.jsonl"), &extra).unwrap();
    let (code, text) = sweep_bin(&args, d);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("40 of 40 chunks"), "{text}");
    assert!(read(out.join("runs.jsonl")) == runs);
}

#[test]
fn a_bad_line_with_runs_after_it_is_refused_not_cut_back() {
    let dir = setup();
    let d = dir.path();
    let args = run_args("b", &["--set", "training.epochs=300"]);
    let (code, text) = sweep_bin(&args, d);
    assert_eq!(code, 0, "{text}");
    let out = d.join("b");
    let runs = read(out.join("runs.jsonl"));
    // A blank line after line 10 (inside the first chunk): 1,270 runs follow it.
    let at = runs.iter().enumerate().filter(|(_, &b)| b == b'\n').nth(9).unwrap().0 + 1;
    let edited = [&runs[..at], b"\n", &runs[at..]].concat();
    std::fs::write(out.join("runs.jsonl"), &edited).unwrap();
    let manifest = read(out.join("manifest.json"));
    let (code, text) = sweep_bin(&args, d);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("line 11 is not a run record") && text.contains("does not cut it back"), "{text}");
    assert!(read(out.join("runs.jsonl")) == edited, "the refused file is left as it was");
    assert!(read(out.join("manifest.json")) == manifest, "nothing written on a refusal");
}

#[test]
fn changed_experiment_is_refused_unless_forced() {
    let dir = setup();
    let d = dir.path();
    let (code, text) = sweep_bin(&run_args("c", &["--quiet", "--set", "training.epochs=300"]), d);
    assert_eq!(code, 0, "{text}");
    let before = read(d.join("c/runs.jsonl"));
    let (code, text) = sweep_bin(&run_args("c", &["--quiet", "--set", "training.epochs=400", "--set", "seeds=4"]), d);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("different experiment"), "{text}");
    assert!(text.contains("seeds: 8 -> 4") && text.contains("training.epochs: 300 -> 400"), "{text}");
    assert!(text.contains("--force"), "{text}");
    assert!(read(d.join("c/runs.jsonl")) == before, "refusing leaves the folder alone");
    let (code, text) =
        sweep_bin(&run_args("c", &["--quiet", "--set", "training.epochs=400", "--set", "seeds=4", "--force"]), d);
    assert_eq!(code, 0, "{text}");
    let m: serde_json::Value = serde_json::from_slice(&read(d.join("c/manifest.json"))).unwrap();
    assert_eq!((m["epochs"].as_u64(), m["runs"].as_u64()), (Some(400), Some(640)));
    assert!(m.get("resumed_runs").is_none(), "--force starts over");
    let mut s = String::new();
    std::fs::File::open(d.join("c/runs.jsonl")).unwrap().read_to_string(&mut s).unwrap();
    assert_eq!(s.lines().count(), 640);
}
