//! Records the git commit the binary was built from (when built from a git
//! checkout), for the sweep manifest.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    // A build without the .git folder (a container build) can pass the commit in.
    println!("cargo:rerun-if-env-changed=NETSWEEP_GIT_COMMIT");
    let given = std::env::var("NETSWEEP_GIT_COMMIT").ok().filter(|c| !c.trim().is_empty());
    let commit = given.map(|c| c.trim().to_string()).or_else(git_head).unwrap_or_default();
    println!("cargo:rustc-env=NETSWEEP_GIT_COMMIT={commit}");
    // `sweep --version`: the package version and the commit it was built from.
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let line = match commit.get(..12) {
        Some(short) => format!("{version} (commit {short})"),
        None => format!("{version} (not built from a git checkout)"),
    };
    println!("cargo:rustc-env=NETSWEEP_VERSION_LINE={line}");
}

/// The commit of the checkout being built, when git can tell.
fn git_head() -> Option<String> {
    Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}
