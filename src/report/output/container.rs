//! A folder that holds other samsde folders: the layout of `samsde submit` — `slurm/` (batch scripts,
//! `jobs.json`, job logs), `shards/<K>/` (shard folders, each with its own marker) — with the merged results
//! at its top, written by `samsde merge --out` that folder.
//!
//! The results cannot be renamed into place as a whole folder (the folder already exists and its subfolders
//! stay), so [`write_into`] fills a temporary subfolder and moves its files up one by one, `summary.json` /
//! `sweep.json` last: their presence means the results are complete. The marker then lists the results and
//! everything under `shards/` and `slurm/` (samsde's layout), so the folder stays replaceable with `--force`;
//! a file of anyone else at the top is never replaced and never claimed.

use super::lock::Lock;
use super::marker::{MARKER, Marker, list_files};
use super::{Kind, place};
use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::Path;

/// Files that mark a folder's results as complete; moved into place last.
const COMPLETE_MARKERS: [&str; 2] = ["summary.json", "sweep.json"];

/// The subfolders of the layout, whose files samsde (or Slurm, for samsde's jobs) wrote.
const LAYOUT: [&str; 2] = ["shards/", "slurm/"];

/// Writes result files into the existing folder `dir` with `fill` (which writes into a temporary subfolder),
/// keeping its subfolders. Results already at its top are replaced only with `force`, and only if samsde
/// wrote them (listed in the marker); every failure before the files move has exit status 2 and changes
/// nothing. `kind` is recorded when the folder has no marker yet.
pub fn write_into(dir: &Path, kind: Kind, force: bool, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let target = place::resolve(dir)?;
    place::refuse(dir, &target)?;
    let _lock = Lock::acquire(dir, &target)?;
    let marker = Marker::read(&target);
    let listed: BTreeSet<String> = marker
        .as_ref()
        .map(|m| m.files.iter().cloned().collect())
        .unwrap_or_default();
    let mut old = Vec::new();
    for e in std::fs::read_dir(&target).map_err(Error::io(dir))? {
        let e = e.map_err(Error::io(dir))?;
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with('.') && e.file_type().map_err(Error::io(e.path()))?.is_file() {
            old.push(name);
        }
    }
    old.sort();
    if !old.is_empty() {
        if !force {
            return Err(Error::Usage(format!(
                "{} already holds results ({}); pass --force to replace them",
                dir.display(),
                old.join(", ")
            )));
        }
        let foreign: Vec<&str> = old
            .iter()
            .filter(|f| !listed.contains(*f))
            .map(String::as_str)
            .collect();
        if !foreign.is_empty() {
            return Err(Error::Usage(format!(
                "--out {}: will not replace {}: samsde did not write it; move it away, or choose another --out",
                dir.display(),
                foreign.join(", ")
            )));
        }
    }
    let tmp = target.join(format!(".results.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| super::unwritable(dir, &e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| super::unwritable(dir, &e))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let here = tmp.display().to_string();
    let keep = |e: Error| Error::Output(format!("{e}; the new results are in {here}"));
    for f in &old {
        let p = target.join(f);
        std::fs::remove_file(&p).map_err(Error::io(&p)).map_err(keep)?;
    }
    let mut new: Vec<String> = std::fs::read_dir(&tmp)
        .map_err(Error::io(&tmp))
        .map_err(keep)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().to_string()))
        .collect::<std::io::Result<_>>()
        .map_err(Error::io(&tmp))
        .map_err(keep)?;
    new.retain(|n| n != MARKER);
    new.sort_by_key(|n| (COMPLETE_MARKERS.contains(&n.as_str()), n.clone()));
    for n in &new {
        let to = target.join(n);
        std::fs::rename(tmp.join(n), &to)
            .map_err(Error::io(&to))
            .map_err(keep)?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let mut files: BTreeSet<String> = listed.into_iter().filter(|f| !old.contains(f)).collect();
    files.extend(new);
    files.extend(layout_files(&target)?);
    let kind = marker.map_or_else(|| kind.name().to_string(), |m| m.kind);
    Marker::new(&kind, true, files.into_iter().collect()).write(&target)
}

/// Every file under the layout's subfolders of `dir` (relative, `/`-separated).
fn layout_files(dir: &Path) -> Result<Vec<String>> {
    Ok(list_files(dir)?
        .into_iter()
        .filter(|f| LAYOUT.iter().any(|l| f.starts_with(l)) && !f.contains("/.results.tmp-"))
        .collect())
}

/// Before `samsde submit --force` replaces an earlier submission's folder: records in its marker what the
/// jobs added under `shards/` and `slurm/` (shard folders, logs, `jobs.json`), so that the usual rule
/// ([`super::ownership`]) lets it be replaced. Folders of another kind, or without a marker, are left alone.
pub fn adopt_layout(dir: &Path) -> Result<()> {
    let Some(mut m) = Marker::read(dir) else {
        return Ok(());
    };
    if m.kind != Kind::Submit.name() {
        return Ok(());
    }
    let mut files: BTreeSet<String> = m.files.into_iter().collect();
    files.extend(layout_files(dir)?);
    m.files = files.into_iter().collect();
    m.write(dir)
}
