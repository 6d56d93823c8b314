//! One netsweep process per results folder. `sweep run` (and each shard's
//! run), `sweep merge` (on the folder and on every shard folder it reads)
//! and `sweep plot` take an exclusive lock on `.netsweep-lock` inside the
//! folder (`flock` through [`std::fs::File::try_lock`] on the file opened
//! for writing, which NFS also honours), so a second process on the same
//! folder — a Slurm requeue of a running shard, two terminals — stops at
//! once with exit code 2 instead of interleaving lines in runs.jsonl. The
//! operating system releases the lock when its holder dies, however it
//! dies, so a killed run never blocks the next one.
//!
//! The lock file stays (a later process locks the same file) and holds its
//! holder's pid, host, start time and command for the message a second
//! process prints. A process that created it and is then refused removes
//! it again, so a refusal leaves nothing behind (except when two start at
//! once: the file one created and the other locked first stays, with its
//! holder). A symbolic link in its place is refused, never followed. On a
//! file system without locks (ENOSYS, ENOLCK: Lustre without `-o flock`)
//! netsweep warns and goes on unlocked.

use super::error::SweepError;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file, inside the folder it locks.
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
    /// The open lock file (None on a file system without locks).
    file: Option<File>,
    path: PathBuf,
    /// This process created the lock file (so a refusal removes it).
    created: bool,
    command: String,
}

impl FolderLock {
    /// Locks the existing folder `dir` for `command`, or refuses (exit code 2)
    /// naming the process that holds it.
    pub fn acquire(dir: &Path, command: &str) -> Result<FolderLock, SweepError> {
        let busy = |msg: String| SweepError::Output { path: dir.to_path_buf(), msg };
        super::output::refuse_links(dir, &[HOLDER], "")?;
        super::output::refuse_non_files(dir, &[HOLDER])?;
        let path = dir.join(HOLDER);
        // A holder may remove a lock file it created (on refusal) while another
        // process opens it: lock, then check the path still names the locked file.
        for _ in 0..16 {
            // Exactly one of several processes starting at once creates it.
            let open = |new: bool| super::output::own_file().read(true).write(true).create_new(new).open(&path);
            let (file, created) = match open(true) {
                Ok(f) => (f, true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match open(false) {
                    Ok(f) => (f, false),
                    // Removed by its refused creator in between: try again.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(busy(format!("cannot open its lock file {HOLDER}: {e}"))),
                },
                Err(e) => return Err(busy(format!("cannot create its lock file {HOLDER}: {e}"))),
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let who = super::output::read_json_if_any::<Holder>(&path).map_or_else(
                        || "another netsweep process".to_string(),
                        |h| format!("`{}` (pid {} on {}, since {})", h.command, h.pid, h.host, h.since),
                    );
                    return Err(busy(format!(
                        "is in use by {who}: wait for it to finish, or stop it; two processes must not write one results folder"
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) if unsupported(&e) => {
                    crate::tell!("warning: {} cannot be locked on this file system ({e}); going on without a lock: do not run two netsweep processes on it", dir.display());
                    return Ok(FolderLock { file: None, path, created, command: command.into() });
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(busy(format!("cannot be locked: {e}"))),
            }
            if same_file(&file, &path) {
                return Ok(FolderLock { file: Some(file), path, created, command: command.into() });
            }
        }
        Err(busy(format!("its lock file {HOLDER} keeps being replaced: is another program removing it?")))
    }

    /// Records this process as the holder, for others' messages.
    pub fn announce(&mut self) -> Result<(), SweepError> {
        let h = Holder {
            pid: std::process::id(),
            host: host_name(),
            since: super::manifest::now(),
            command: self.command.clone(),
        };
        let Some(f) = self.file.as_mut() else { return Ok(()) };
        let text = serde_json::to_vec(&h).expect("plain data serialises");
        let write = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.rewind()?;
            f.write_all(&text)
        };
        write(f).map_err(|e| SweepError::io(&self.path, e))
    }

    /// Gives the folder up after a refusal: a lock file this process created
    /// goes too, so a refused command leaves nothing behind.
    pub fn release_refused(self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Runs `work` holding `dir`'s lock; if it refuses (exit code 2), a lock
/// file this call created goes too.
pub fn with_lock<T>(
    dir: &Path,
    command: &str,
    work: impl FnOnce(&mut FolderLock) -> Result<T, SweepError>,
) -> Result<T, SweepError> {
    let mut lock = FolderLock::acquire(dir, command)?;
    let result = work(&mut lock);
    if result.as_ref().is_err_and(|e| e.exit_code() == 2) {
        lock.release_refused();
    }
    result
}

/// Locks are not available on this file system (they are not refused).
fn unsupported(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::ENOLCK) | Some(libc::EOPNOTSUPP))
}

/// Whether `path` still names the open `file` (same device and inode).
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
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
        first.announce().unwrap();
        let e = FolderLock::acquire(dir.path(), "sweep plot").err().unwrap();
        let msg = e.to_string();
        assert!(msg.contains("in use by `sweep run`") && msg.contains(&format!("pid {}", std::process::id())), "{msg}");
        assert_eq!(e.exit_code(), 2);
        drop(first);
        let again = FolderLock::acquire(dir.path(), "sweep plot").unwrap();
        assert!(!again.created, "the lock file stays for the next holder");
        again.release_refused();
        assert!(dir.path().join(HOLDER).exists(), "only its creator removes the lock file");
        let fresh = tempfile::tempdir().unwrap();
        FolderLock::acquire(fresh.path(), "sweep run").unwrap().release_refused();
        assert!(!fresh.path().join(HOLDER).exists(), "a refused creator leaves nothing");
    }
}
