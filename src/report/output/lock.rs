//! The lock that keeps two samsde processes from writing the same output folder at once.
//!
//! The lock is an advisory file lock (`flock` on Unix, `LockFileEx` on Windows, through
//! [`std::fs::File::try_lock`]) on the file `.NAME.lock` beside the folder `NAME`. The operating system releases
//! it when the process ends, however it ends, so a killed run never leaves a lock that blocks the next one; the
//! file itself is removed when the lock is released.

use super::unwritable;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// A held lock; released (and its file removed) on drop.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    file: File,
}

/// The lock file of the output folder `target` (canonical): `.NAME.lock` in its parent.
pub fn lock_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.lock"))
}

impl Lock {
    /// Takes the lock of `target` without waiting. `dir` is the user's spelling (for messages). Fails with exit
    /// status 2: another process holds it, or the file cannot be created (the folder is not writable).
    pub fn acquire(dir: &Path, target: &Path) -> Result<Lock> {
        let path = lock_path(target);
        // A lock file removed by its previous holder between our open and our lock is a stale inode: retry on
        // the file now at the path.
        for _ in 0..8 {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| unwritable(dir, &e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Usage(format!(
                        "--out {}: another samsde run is writing this folder right now (it holds {}); wait for it \
                         to finish, or choose another --out",
                        dir.display(),
                        path.display()
                    )));
                }
                Err(TryLockError::Error(e)) => return Err(unwritable(dir, &e)),
            }
            if same_file(&file, &path) {
                let _ = file.set_len(0);
                let _ = std::io::Write::write_all(&mut &file, format!("{}\n", std::process::id()).as_bytes());
                return Ok(Lock { path, file });
            }
        }
        Err(Error::Usage(format!(
            "--out {}: the lock file {} keeps changing; is another samsde starting?",
            dir.display(),
            path.display()
        )))
    }
}

/// Whether the open `file` is the file at `path` now.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether the open `file` is the file at `path` now (Windows does not remove an open file: always).
#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Remove the file while still holding the lock: a process that opened it meanwhile finds its inode
        // gone from the path and retries (see `acquire`).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}
