//! One netsweep process per results folder. `sweep run` (and each shard's
//! run), `sweep merge` and `sweep plot` take an exclusive lock on the folder
//! itself (`flock` through [`std::fs::File::try_lock`] on the open
//! directory), so a second process on the same folder — a Slurm requeue of
//! a running shard, two terminals — stops at once with exit code 2 instead
//! of interleaving lines in runs.jsonl. The operating system releases the
//! lock when its holder dies, however it dies, so a killed run never blocks
//! the next one.
//!
//! Locking writes nothing. Once the folder is known to be usable, the holder
//! records itself (pid, host, start time) in `.netsweep-lock` inside it, for
//! the message a second process prints; the file is removed when the lock
//! is released, and a stale one (its holder killed) is simply overwritten.

use super::error::SweepError;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The file that names a folder's holder.
pub const HOLDER: &str = ".netsweep-lock";

/// Who holds a folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// When it took the lock (RFC 3339, UTC).
    pub since: String,
    /// What it is doing: "sweep run", "sweep merge", "sweep plot".
    pub command: String,
}

/// An exclusive lock on a folder, held until dropped.
pub struct FolderLock {
    /// The open folder the lock is taken on.
    _dir: File,
    /// The holder file, once written.
    holder: Option<PathBuf>,
    /// What this process is doing (for the holder file).
    command: String,
}

impl FolderLock {
    /// Locks the existing folder `dir` for `command`, or refuses (exit code 2)
    /// naming the process that holds it.
    pub fn acquire(dir: &Path, command: &str) -> Result<FolderLock, SweepError> {
        let busy = |msg: String| SweepError::Output { path: dir.to_path_buf(), msg };
        let file = File::open(dir).map_err(|e| busy(format!("cannot be opened to lock it: {e}")))?;
        match file.try_lock() {
            Ok(()) => Ok(FolderLock { _dir: file, holder: None, command: command.to_string() }),
            Err(std::fs::TryLockError::WouldBlock) => {
                let who = read_holder(dir).map_or_else(
                    || "another netsweep process".to_string(),
                    |h| format!("`{}` (pid {} on {}, since {})", h.command, h.pid, h.host, h.since),
                );
                Err(busy(format!(
                    "is in use by {who}: wait for it to finish, or stop it; two processes must not write one results folder"
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(busy(format!("cannot be locked: {e}"))),
        }
    }

    /// Records this process as the holder, for others' messages.
    pub fn announce(&mut self, dir: &Path) -> Result<(), SweepError> {
        let h = Holder {
            pid: std::process::id(),
            host: host_name(),
            since: super::manifest::now(),
            command: self.command.clone(),
        };
        let path = dir.join(HOLDER);
        let text = serde_json::to_vec(&h).expect("plain data serialises");
        std::fs::write(&path, text).map_err(|e| SweepError::io(&path, e))?;
        self.holder = Some(path);
        Ok(())
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        if let Some(p) = &self.holder {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn read_holder(dir: &Path) -> Option<Holder> {
    let bytes = std::fs::read(dir.join(HOLDER)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// This machine's name (Linux's, else $HOSTNAME, else "unknown host").
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = FolderLock::acquire(dir.path(), "sweep run").unwrap();
        first.announce(dir.path()).unwrap();
        let e = FolderLock::acquire(dir.path(), "sweep plot").err().unwrap();
        let msg = e.to_string();
        assert!(msg.contains("in use by `sweep run`") && msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        assert_eq!(e.exit_code(), 2);
        drop(first);
        assert!(!dir.path().join(HOLDER).exists(), "the holder file goes with the lock");
        let _again = FolderLock::acquire(dir.path(), "sweep plot").unwrap();
    }
}
