//! Helpers shared by the tests that drive the `sweep` binary.

use std::path::Path;
use std::process::Command;

/// Runs `sweep ARGS` in `cwd`; returns its exit code and its stdout and
/// stderr together. A panic is a failure whatever the exit code.
pub fn sweep(args: &[&str], cwd: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_sweep")).args(args).current_dir(cwd).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!text.contains("panicked"), "sweep {args:?} panicked: {text}");
    (o.status.code().unwrap_or(-1), text)
}
