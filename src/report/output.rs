//! The output folder of a run or a sweep: the one place that decides whether a folder may be written and
//! writes it. A folder is filled in a temporary sibling and renamed into place, so a failed run leaves no
//! half-written folder; an existing folder is replaced only when asked (`--force`).

use crate::error::{Error, Result};
use std::path::Path;

/// Fails (usage error) if `dir` exists and `force` is not set.
pub fn check(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() && !force {
        return Err(Error::Usage(format!(
            "output folder {} already exists; pass --force to replace it, or --out DIR",
            dir.display()
        )));
    }
    Ok(())
}

/// Writes into a temporary sibling of `dir` with `fill`, then renames it into place (replacing `dir`).
pub fn write_atomically(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(Error::io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(Error::io(&tmp))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(Error::io(dir))?;
    }
    std::fs::rename(&tmp, dir).map_err(Error::io(dir))
}

/// Writes `text` to the file `path`.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(Error::io(path))
}

/// Files that mark a folder's results as complete; [`write_into`] moves them into place last.
const COMPLETE_MARKERS: [&str; 2] = ["summary.json", "sweep.json"];

/// Writes result files into `dir`, an existing folder that also holds subfolders which must stay (the
/// `shards/` and `slurm/` of `samsde submit`): `fill` writes into a temporary subfolder, then its files are
/// moved up, `summary.json` / `sweep.json` last, so their presence means the results are complete. Result
/// files already at the top of `dir` are an error unless `force`, which removes them first; subfolders are
/// never touched.
pub fn write_into(dir: &Path, force: bool, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let mut old = Vec::new();
    for e in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let e = e.map_err(Error::io(dir))?;
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with('.') && e.file_type().map_err(Error::io(e.path()))?.is_file() {
            old.push(e.path());
        }
    }
    old.sort();
    if !old.is_empty() && !force {
        return Err(Error::Usage(format!(
            "{} already holds results ({}); pass --force to replace them",
            dir.display(),
            old.iter()
                .filter_map(|p| p.file_name())
                .map(|n| n.to_string_lossy())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let tmp = dir.join(format!(".results.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(Error::io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(Error::io(&tmp))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    for p in &old {
        std::fs::remove_file(p).map_err(Error::io(p))?;
    }
    let mut new: Vec<_> = std::fs::read_dir(&tmp)
        .map_err(Error::io(&tmp))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(Error::io(&tmp))?;
    new.sort_by_key(|n| (COMPLETE_MARKERS.iter().any(|m| n == m), n.clone()));
    for n in new {
        let to = dir.join(&n);
        std::fs::rename(tmp.join(&n), &to).map_err(Error::io(&to))?;
    }
    std::fs::remove_dir(&tmp).map_err(Error::io(&tmp))
}
