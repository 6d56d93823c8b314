//! Command-line conventions: `--version` names the build's commit, `-j` is
//! `--threads`, `sweep completions SHELL` prints a script, and the long
//! help ends with examples.

mod common;
use common::sweep;

#[test]
fn version_threads_completions_and_examples() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (code, text) = sweep(&["--version"], d);
    assert_eq!(code, 0);
    assert!(text.starts_with("sweep ") && (text.contains("(commit ") || text.contains("not built from")), "{text}");
    for shell in ["bash", "zsh", "fish"] {
        let (code, text) = sweep(&["completions", shell], d);
        assert_eq!(code, 0, "{text}");
        assert!(text.contains("sweep") && text.contains("compare") && text.lines().count() > 20, "{shell}: {text}");
    }
    assert_eq!(sweep(&["completions", "tcsh"], d).0, 2);
    let (code, text) = sweep(&["--help"], d);
    assert_eq!(code, 0);
    assert!(text.contains("Examples:") && text.contains("sweep compare"), "{text}");
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/xor_grid.toml");
    let file = file.to_str().unwrap();
    let sets = ["--set", "seeds=2", "--set", "training.epochs=10", "--set", "grid.lr=[0.1]"];
    let mut args = vec!["run", file, "-j", "1", "--quiet", "--no-plot", "--out", "r"];
    args.extend(sets);
    let (code, text) = sweep(&args, d);
    assert_eq!(code, 0, "{text}");
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("r/manifest.json")).unwrap()).unwrap();
    assert_eq!((m["threads"].as_u64(), m["threads_from"].as_str()), (Some(1), Some("--threads")));
}
