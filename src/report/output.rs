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
