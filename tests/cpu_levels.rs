//! The kernels' instruction-set level (src/cpu.rs) changes speed, never
//! results: the same sweeps run at every level this CPU has
//! (`NETSWEEP_CPU=baseline|avx2|avx512`) write byte-identical runs.jsonl,
//! summary.json and summary.csv, and the manifest records the level. A
//! level that is not one, or that the CPU lacks, is refused with exit 2
//! and nothing written.

use netsweep::cpu::Level;
use std::path::Path;
use std::process::Command;

/// XOR ensembles of both course architectures: full batch and mini-batches,
/// SGD with and without momentum, L1 and L2, tanh and sigmoid.
const XOR: &str = r#"
name = "levels"
base_seed = 11
seeds = 12
[problem]
kind = "xor"
[architectures."2-3-1"]
layers = [{ type = "dense", units = 3 }, { type = "dense", units = 1 }]
[architectures.concat]
layers = [{ type = "dense", units = 1 }, { type = "concat_input" }, { type = "dense", units = 1 }]
[training]
epochs = 300
loss = "mse"
metric = "acc_xor"
[grid]
architecture = ["2-3-1", "concat"]
activation = ["tanh", "sigmoid"]
batch_size = [2, 4]
momentum = [0.0, 0.9]
lr = [0.1, 1.0]
l2 = [0.0, 0.01]
l1 = [0.0, 0.001]
[record]
points = 30
weights = 3
"#;

/// The digits with softmax + cross-entropy, relu and leaky relu, Adam and
/// RMSProp: the other losses, metrics and update rules. Families of 20
/// members (whole AVX-512 vectors and an overlapping one) of 5 seeds, whose
/// members share mini-batches (the lookup tables of every level).
const DIGITS: &str = r#"
name = "levels_digits"
base_seed = 5
seeds = 5
[problem]
kind = "digits"
test_fraction = 0.2
[architectures."64-12-10"]
layers = [{ type = "dense", units = 12 }, { type = "dense", units = 10, activation = "linear" }]
[training]
epochs = 4
batch_size = 64
loss = "cce"
metric = "acc"
[grid]
activation = ["relu", { leaky_relu = 0.1 }]
optimizer = ["adam", "rmsprop"]
lr = [0.003, 0.03]
l2 = [0.0, 0.001]
"#;

fn run_at(level: &str, toml: &str, dir: &Path) -> (i32, String) {
    std::fs::write(dir.join("e.toml"), toml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sweep"))
        .args(["run", "e.toml", "--quiet", "--no-plot", "--threads", "2", "--out", level])
        .env("NETSWEEP_CPU", level)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!text.contains("panicked"), "{text}");
    (o.status.code().unwrap_or(-1), text)
}

fn same_bytes_at_every_level(toml: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let levels = Level::available();
    assert!(levels.len() >= 2 || !cfg!(target_arch = "x86_64"), "an x86-64 test machine without AVX2: {levels:?}");
    for level in &levels {
        let (code, text) = run_at(level.name(), toml, tmp.path());
        assert_eq!(code, 0, "{}: {text}", level.name());
        let manifest = std::fs::read_to_string(tmp.path().join(level.name()).join("manifest.json")).unwrap();
        assert!(manifest.contains(&format!("\"cpu\": \"{}\"", level.name())), "{manifest}");
    }
    let first = tmp.path().join(levels[0].name());
    for level in &levels[1..] {
        for file in ["runs.jsonl", "summary.json", "summary.csv"] {
            let a = std::fs::read(first.join(file)).unwrap();
            let b = std::fs::read(tmp.path().join(level.name()).join(file)).unwrap();
            assert!(a == b, "{file} differs between {} and {}", levels[0].name(), level.name());
        }
    }
}

#[test]
fn xor_sweeps_give_the_same_bytes_at_every_level() {
    same_bytes_at_every_level(XOR);
}

#[test]
fn digits_sweeps_give_the_same_bytes_at_every_level() {
    same_bytes_at_every_level(DIGITS);
}

#[test]
fn a_bad_or_missing_level_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, text) = run_at("sse9", XOR, tmp.path());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("NETSWEEP_CPU=\"sse9\" is not a level; use baseline, avx2 or avx512"), "{text}");
    assert!(!tmp.path().join("sse9").exists());
    if let Some(missing) = Level::ALL.into_iter().find(|l| !l.supported()) {
        let (code, text) = run_at(missing.name(), XOR, tmp.path());
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("needs instructions this CPU lacks"), "{text}");
        assert!(!tmp.path().join(missing.name()).exists());
    }
}
