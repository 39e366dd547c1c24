//! The output folders samsde writes (a run, a sweep, the paper study, a shard, a submission): the one place
//! that decides whether a folder may be written, and writes it so that nothing is lost.
//!
//! A folder is written in four steps ([`Staging`]):
//! 1. [`Staging::prepare`], before anything is simulated: `--out` is resolved ([`place::resolve`]: symbolic
//!    links and `..` followed) and refused if it is the root, the home folder, the current folder or an
//!    ancestor of one of them ([`place::refuse`]); an existing folder is refused without `--force`, and with
//!    it unless samsde wrote it ([`marker::ownership`]); the lock `.NAME.lock` is taken ([`lock::Lock`]: a second
//!    run on the same folder fails at once); temporary folders `.NAME.tmp-PID` and `.NAME.old-PID` left by
//!    processes that died are removed; and the temporary folder `.NAME.tmp-PID` is created beside the target,
//!    so an unwritable `--out` is reported now (exit status 2), not after the run.
//! 2. The caller fills [`Staging::path`].
//! 3. [`Staging::commit`] writes the marker (every file written), moves the old folder aside to `.NAME.old-PID`,
//!    renames the temporary folder into place, and only then removes the old folder (renamed back if the
//!    rename fails).
//! 4. A staging dropped without commit (an error, a panic) removes its temporary folder.
//!
//! Errors of step 1 have exit status 2 (nothing was written); errors of step 3 exit status 1.

pub mod container;
pub mod lock;
pub mod marker;
pub mod place;

pub use marker::{MARKER, Marker, ownership};

use crate::error::{Error, Result};
use lock::Lock;
use std::path::{Path, PathBuf};

/// The kinds of output folder, as the marker records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `samsde run` and the default job.
    Run,
    /// `samsde sweep`.
    Sweep,
    /// `samsde paper`.
    Paper,
    /// A shard of a run or sweep (`--shard K/N`).
    Shard,
    /// The folder of `samsde submit`: `slurm/`, `shards/` and, once merged, the results ([`container`]).
    Submit,
}

impl Kind {
    /// The marker's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
            Kind::Paper => "paper",
            Kind::Shard => "shard",
            Kind::Submit => "submit",
        }
    }
}

/// An output folder being written: the temporary folder to fill and the lock on the target.
#[derive(Debug)]
pub struct Staging {
    /// The folder as the user gave it (for messages and printed paths).
    dir: PathBuf,
    /// Its canonical absolute path.
    target: PathBuf,
    /// The temporary folder `.NAME.tmp-PID` beside it.
    tmp: PathBuf,
    kind: Kind,
    committed: bool,
    _lock: Lock,
}

/// The exit-status-2 error for an output folder that cannot be written: the user's path and the OS error.
pub fn unwritable(dir: &Path, e: &std::io::Error) -> Error {
    Error::Usage(format!(
        "cannot write the output folder {}: {e}; choose a writable --out",
        dir.display()
    ))
}

/// `.NAME.tmp-PID` / `.NAME.old-PID` beside `target`.
fn sibling(target: &Path, what: &str, pid: u32) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{what}-{pid}"))
}

impl Staging {
    /// Step 1: checks that `dir` may be written (an existing folder only with `replace`, and only if samsde
    /// wrote it), takes its lock, removes stale temporary folders and creates the temporary folder. Every
    /// failure has exit status 2 and leaves the file system as it was.
    pub fn prepare(dir: &Path, kind: Kind, replace: bool) -> Result<Staging> {
        let target = place::resolve(dir)?;
        place::refuse(dir, &target)?;
        let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| unwritable(dir, &e))?;
        let lock = Lock::acquire(dir, &target)?;
        remove_stale(&target);
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            if !meta.is_dir() {
                return Err(Error::Usage(format!(
                    "--out {}: exists and is not a folder; choose a folder name",
                    dir.display()
                )));
            }
            let empty = std::fs::read_dir(&target)
                .map_err(|e| unwritable(dir, &e))?
                .next()
                .is_none();
            if !empty {
                if !replace {
                    return Err(Error::Usage(format!(
                        "output folder {} already exists; pass --force to replace it (only a folder samsde \
                         wrote is replaced), or choose another --out",
                        dir.display()
                    )));
                }
                if let Err(why) = ownership(&target) {
                    return Err(Error::Usage(format!(
                        "--out {}: will not replace this folder: {why}. samsde replaces only folders it wrote \
                         itself; choose another --out, or move the folder away yourself",
                        dir.display()
                    )));
                }
            }
        }
        let tmp = sibling(&target, "tmp", std::process::id());
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| unwritable(dir, &e))?;
        }
        std::fs::create_dir(&tmp).map_err(|e| unwritable(dir, &e))?;
        let staging = Staging {
            dir: dir.to_path_buf(),
            target,
            tmp,
            kind,
            committed: false,
            _lock: lock,
        };
        Marker::new(kind.name(), false, Vec::new())
            .write(&staging.tmp)
            .map_err(|e| match e {
                Error::Io { source, .. } => unwritable(dir, &source),
                other => other,
            })?;
        Ok(staging)
    }

    /// The temporary folder to fill.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// The folder as the user gave it.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `p` (a path inside the temporary folder) as it will be once the folder is in place; other paths as
    /// they are.
    pub fn final_path(&self, p: &Path) -> PathBuf {
        p.strip_prefix(&self.tmp)
            .map(|r| self.dir.join(r))
            .unwrap_or_else(|_| p.to_path_buf())
    }

    /// Step 3: writes the marker, puts the folder in place (the old one moved aside first, removed last) and
    /// releases the lock. Failures have exit status 1; the new results then stay in the temporary folder,
    /// which the message names.
    pub fn commit(mut self) -> Result<()> {
        let files = marker::list_files(&self.tmp)?;
        Marker::new(self.kind.name(), true, files).write(&self.tmp)?;
        let here = self.tmp.display().to_string();
        let keep = |e: Error| Error::Output(format!("{e}; the new results are in {here}"));
        let old = sibling(&self.target, "old", std::process::id());
        let had_old = std::fs::symlink_metadata(&self.target).is_ok();
        // From here on, a failure keeps the new results in the temporary folder.
        self.committed = true;
        if had_old {
            // Files may have been added while the run went on: check again.
            let empty = std::fs::read_dir(&self.target).is_ok_and(|mut r| r.next().is_none());
            if !empty && let Err(why) = ownership(&self.target) {
                return Err(Error::Output(format!(
                    "{}: not replaced: {why} (added during the run?); the new results are in {here}",
                    self.dir.display()
                )));
            }
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(Error::io(&old)).map_err(keep)?;
            }
            std::fs::rename(&self.target, &old)
                .map_err(Error::io(&self.dir))
                .map_err(keep)?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if had_old {
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(keep(Error::io(&self.dir)(e)));
        }
        if had_old && let Err(e) = std::fs::remove_dir_all(&old) {
            eprintln!("warning: could not remove the replaced folder {}: {e}", old.display());
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Removes `.NAME.tmp-PID` and `.NAME.old-PID` beside `target` left by processes that are no longer running
/// (the caller holds the lock of `target`, so no live samsde is writing them) and that are samsde's (they hold
/// the marker, or are a pre-marker samsde folder).
fn remove_stale(target: &Path) {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let f = e.file_name().to_string_lossy().to_string();
        let found = ["tmp", "old"].into_iter().find_map(|w| {
            f.strip_prefix(&format!(".{name}.{w}-"))
                .and_then(|p| p.parse::<u32>().ok())
                .map(|pid| (w, pid))
        });
        let Some((what, pid)) = found else { continue };
        if pid != std::process::id() && alive(pid) {
            continue;
        }
        let p = e.path();
        let ours = Marker::read(&p).is_some() || marker::list_files(&p).is_ok_and(|files| marker::legacy(&files));
        if !ours {
            continue;
        }
        // A process that died between moving the old folder aside and renaming the new one into place left
        // the target missing: the old folder goes back.
        if what == "old" && std::fs::symlink_metadata(target).is_err() && std::fs::rename(&p, target).is_ok() {
            continue;
        }
        let _ = std::fs::remove_dir_all(&p);
    }
}

/// Whether process `pid` is running (Linux: it has a `/proc` entry; elsewhere it cannot be told cheaply and
/// the lock already excludes a live writer, so: no).
fn alive(pid: u32) -> bool {
    cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists()
}

/// Records `files` (paths inside `dir`) in the marker of `dir`, if it has one (e.g. figures `samsde plot`
/// added), so that the folder stays replaceable.
pub fn record(dir: &Path, files: &[PathBuf]) -> Result<()> {
    let Some(mut m) = Marker::read(dir) else {
        return Ok(());
    };
    for f in files {
        if let Ok(r) = f.strip_prefix(dir) {
            let r = r
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if !m.files.contains(&r) {
                m.files.push(r);
            }
        }
    }
    m.files.sort();
    m.write(dir)
}

/// Writes `text` to the file `path`.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(Error::io(path))
}
