//! The marker of an output folder samsde wrote, and the one rule for replacing a folder.
//!
//! Every folder samsde writes (a run, a sweep, the paper study, a shard) holds the file [`MARKER`]: which kind
//! of folder it is, the samsde version, and the list of every file samsde put there. **Rule:** an existing
//! folder is replaced (`--force`, the default job, `paper`) only if it holds the marker and nothing that the
//! marker does not list ([`ownership`]). A folder with a file of anyone else (a model file, a thesis, a
//! notebook added later) is never replaced. Folders written before the marker existed are recognised by their
//! files alone ([`legacy`]): the key files of a run, sweep or paper folder and nothing but the kinds of file
//! samsde writes.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// File name of the marker.
pub const MARKER: &str = ".samsde-output.json";

/// What samsde records in [`MARKER`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Always `"samsde output folder"` (so the file explains itself).
    pub written_by: String,
    /// `run`, `sweep`, `paper` or `shard`.
    pub kind: String,
    /// samsde version that wrote it.
    pub samsde_version: String,
    /// False while the folder is being filled (a temporary folder), true once it is in place.
    pub complete: bool,
    /// Every file samsde wrote, relative to the folder, `/`-separated, sorted.
    pub files: Vec<String>,
}

/// The marker's `written_by` value.
const WRITTEN_BY: &str = "samsde output folder";

impl Marker {
    /// A marker of `kind` listing `files`.
    pub fn new(kind: &str, complete: bool, files: Vec<String>) -> Marker {
        Marker {
            written_by: WRITTEN_BY.into(),
            kind: kind.into(),
            samsde_version: env!("CARGO_PKG_VERSION").into(),
            complete,
            files,
        }
    }

    /// Reads the marker of `dir`; None if there is none or it is not samsde's.
    pub fn read(dir: &Path) -> Option<Marker> {
        let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
        let m: Marker = serde_json::from_str(&text).ok()?;
        (m.written_by == WRITTEN_BY).then_some(m)
    }

    /// Writes the marker into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let p = dir.join(MARKER);
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Output(e.to_string()))?;
        std::fs::write(&p, text + "\n").map_err(Error::io(&p))
    }
}

/// Every file under `dir` (recursively, symbolic links not followed), relative and `/`-separated, sorted; a
/// folder with nothing in it is listed as `name/`. The marker itself is not listed.
pub fn list_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<()> {
        let mut any = false;
        for e in std::fs::read_dir(dir).map_err(Error::io(dir))? {
            let e = e.map_err(Error::io(dir))?;
            any = true;
            let name = e.file_name().to_string_lossy().to_string();
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let t = e.file_type().map_err(Error::io(e.path()))?;
            if t.is_dir() {
                walk(&e.path(), &r, out)?;
            } else if r != MARKER {
                out.push(r);
            }
        }
        if !any && !rel.is_empty() {
            out.push(format!("{rel}/"));
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

/// Whether samsde may replace the existing folder `dir`: `Ok(())` if it holds samsde's marker and nothing the
/// marker does not list (or is a [`legacy`] samsde folder), else `Err` with the reason and up to five of the
/// files that are not samsde's.
pub fn ownership(dir: &Path) -> std::result::Result<(), String> {
    let files = list_files(dir).map_err(|e| format!("cannot list it: {e}"))?;
    let Some(m) = Marker::read(dir) else {
        return if legacy(&files) {
            Ok(())
        } else {
            Err(format!("it has no samsde marker ({MARKER}){}", sample(&files)))
        };
    };
    let ours: BTreeSet<&str> = m.files.iter().map(String::as_str).collect();
    let foreign: Vec<String> = files.into_iter().filter(|f| !ours.contains(f.as_str())).collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(format!("it holds files samsde did not write{}", sample(&foreign)))
    }
}

/// ": a, b, c, … (n files)" for a message.
fn sample(files: &[String]) -> String {
    if files.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = files.iter().take(5).map(String::as_str).collect();
    let more = if files.len() > 5 {
        format!(", … ({} files)", files.len())
    } else {
        String::new()
    };
    format!(": {}{more}", shown.join(", "))
}

/// A folder written by a samsde without the marker: the key files of a run (`summary.json` and
/// `config.resolved.toml`), a sweep (`sweep.json`) or the paper study (`REPORT.md`), and nothing but the files
/// those write: [`LEGACY_FILES`] and `.png` figures at the top, `.png` in `figures/`, `.toml` in `models/`.
pub fn legacy(files: &[String]) -> bool {
    let has = |f: &str| files.iter().any(|x| x == f);
    let keyed = (has("summary.json") && has("config.resolved.toml")) || has("sweep.json") || has("REPORT.md");
    let plain = |f: &str, ext: &str| !f.contains('/') && f.strip_suffix(ext).is_some_and(|s| !s.is_empty());
    keyed
        && files.iter().all(|f| {
            LEGACY_FILES.contains(&f.as_str())
                || plain(f, ".png")
                || f.strip_prefix("figures/").is_some_and(|r| plain(r, ".png"))
                || f.strip_prefix("models/").is_some_and(|r| plain(r, ".toml"))
        })
}

/// The data files of run, sweep and paper folders before the marker.
pub const LEGACY_FILES: [&str; 9] = [
    "summary.json",
    "config.resolved.toml",
    "moments.csv",
    "exit_times.csv",
    "basins.csv",
    "paths.csv",
    "sweep.json",
    "sweep.csv",
    "REPORT.md",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    /// A pre-marker run, sweep or paper folder is recognised only with its key files and only samsde's kinds
    /// of file.
    #[test]
    fn legacy_folders() {
        assert!(legacy(&v(&[
            "config.resolved.toml",
            "moments.csv",
            "summary.json",
            "width.png"
        ])));
        assert!(legacy(&v(&["sweep.csv", "sweep.json", "sweep_msd.png"])));
        assert!(legacy(&v(&["REPORT.md", "figures/e1.png", "models/e1.toml"])));
        assert!(!legacy(&v(&["summary.json"])));
        assert!(!legacy(&v(&["config.resolved.toml", "summary.json", "thesis.tex"])));
        assert!(!legacy(&v(&["config.resolved.toml", "summary.json", "data/x.csv"])));
        assert!(!legacy(&v(&["REPORT.md", "figures/notes.md"])));
        assert!(!legacy(&v(&["REPORT.md", ".png"])));
        assert!(!legacy(&v(&["config.resolved.toml", "model.toml", "summary.json"])));
        assert!(!legacy(&v(&["config.resolved.toml", "notes.csv", "summary.json"])));
        assert!(!legacy(&v(&[])));
    }
}
