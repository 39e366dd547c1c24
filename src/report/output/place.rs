//! Where an output folder really is, and the places samsde never writes to.
//!
//! `--out` is resolved as the operating system will resolve it: relative to the current folder, with every
//! symbolic link and `..` of its existing part followed ([`resolve`]). The result must not be the root, the
//! home folder or one of its ancestors, nor the current folder or one of its ancestors ([`refuse`]): those are
//! never replaced, with or without `--force`.

use crate::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// The absolute, canonical path `dir` denotes: the longest existing prefix canonicalised (symbolic links and
/// `..` followed), the missing rest appended. A `..` inside the missing rest cannot be resolved without
/// creating folders, so it is refused.
pub fn resolve(dir: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir()
        .map_err(|e| Error::Usage(format!("--out {}: cannot read the current folder: {e}", dir.display())))?;
    let abs = cwd.join(dir);
    let parts: Vec<Component<'_>> = abs.components().collect();
    // The longest prefix that exists (the root always does).
    let mut k = parts.len();
    let mut base = loop {
        let prefix: PathBuf = parts[..k].iter().collect();
        if k <= 1 || prefix.symlink_metadata().is_ok() {
            break prefix;
        }
        k -= 1;
    };
    base = base.canonicalize().map_err(|e| {
        Error::Usage(format!(
            "--out {}: cannot resolve {}: {e}",
            dir.display(),
            base.display()
        ))
    })?;
    for c in &parts[k..] {
        match c {
            Component::Normal(n) => base.push(n),
            Component::CurDir => {}
            _ => {
                return Err(Error::Usage(format!(
                    "--out {}: `..` after a folder that does not exist; give the folder without `..`",
                    dir.display()
                )));
            }
        }
    }
    Ok(base)
}

/// The home folder, canonical, if known.
fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .and_then(|h| h.canonicalize().ok())
}

/// Fails (exit status 2) if `target` (canonical, from [`resolve`]) is the root, the home folder or an ancestor
/// of it, or the current folder or an ancestor of it. `dir` is the path as the user gave it (for the message).
pub fn refuse(dir: &Path, target: &Path) -> Result<()> {
    let why = if target.parent().is_none() {
        Some("the root folder".to_string())
    } else if let Some(cwd) = std::env::current_dir().ok().and_then(|c| c.canonicalize().ok())
        && cwd.starts_with(target)
    {
        Some(if cwd == target {
            "the current folder".to_string()
        } else {
            format!("an ancestor of the current folder {}", cwd.display())
        })
    } else if let Some(h) = home()
        && h.starts_with(target)
    {
        Some(if h == target {
            "the home folder".to_string()
        } else {
            format!("an ancestor of the home folder {}", h.display())
        })
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => {
            let same = dir == target;
            Err(Error::Usage(format!(
                "--out {}{}: refusing to write there, it is {why}; samsde writes only into a folder of its own, \
                 e.g. --out output/NAME",
                dir.display(),
                if same {
                    String::new()
                } else {
                    format!(" (= {})", target.display())
                }
            )))
        }
    }
}
