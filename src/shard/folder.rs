//! The shard folder: what one shard writes and the merge reads.
//!
//! ```text
//! shard.json            Meta: format, versions, model hash, seed, paths, K of N, the blocks or points covered
//! model.toml            the model with its overrides applied (the merge loads it)
//! config.resolved.toml  every effective value (runs)
//! state.cbor            the serialised observers (CBOR: every f64 exactly, NaN and ±∞ included)
//! ```
//!
//! The folder is written like every output folder ([`Staging`]): checked before the shard runs, filled in a
//! temporary sibling and renamed into place, so a shard that failed leaves no folder behind.

use super::{ShardId, fnv1a64};
use crate::ensemble::shard_blocks;
use crate::error::{Error, Result};
use crate::report::output::{self, Kind as FolderKind, Staging};
use crate::setup::{Experiment, Observations, ShardObservations, Source};
use crate::sweep::{Axis, Sweep};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `format` of every shard.json.
pub const FORMAT: &str = "samsde-shard";
/// Version of the shard folder format this samsde reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// The state file.
pub const STATE_FILE: &str = "state.cbor";

/// What a shard covers of a run (blocks) or of a sweep (grid points): `start .. end` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First block or point.
    pub start: u64,
    /// One past the last.
    pub end: u64,
    /// Blocks of the whole run, or points of the whole sweep.
    pub total: u64,
}

/// Whether a shard belongs to a run or to a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `samsde run --shard`: a range of blocks of paths.
    Run,
    /// `samsde sweep --shard`: a range of grid points.
    Sweep,
}

/// `shard.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// samsde version of the writer (the merge requires its own).
    pub samsde_version: String,
    /// Run or sweep.
    pub kind: Kind,
    /// The model's `name`.
    pub model: String,
    /// The model file as given on the command line (for messages).
    pub model_file: String,
    /// FNV-1a 64 of the resolved configuration (a sweep: of every point's, in grid order).
    pub model_hash: String,
    /// Master seed.
    pub seed: u64,
    /// Paths per dynamics (a sweep: at its first point).
    pub paths: u64,
    /// This shard, K (0-based).
    pub shard: u64,
    /// Number of shards N.
    pub shards: u64,
    /// Blocks of [`crate::ensemble::BLOCK`] paths (run) or grid points (sweep) this shard covers.
    pub span: Span,
    /// The sweep's axes (empty for a run).
    #[serde(default)]
    pub axes: Vec<Axis>,
    /// Worker threads used.
    pub threads: usize,
    /// Simulation seconds.
    pub wall_seconds: f64,
    /// Size of `state.cbor` in bytes.
    pub state_bytes: u64,
    /// FNV-1a 64 of `state.cbor`.
    pub state_hash: String,
}

/// What `state.cbor` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum State {
    /// A run shard: the pieces of the merge tree.
    Run(ShardObservations),
    /// A sweep shard: the observations of each of its points, in grid order.
    Sweep(Vec<Observations>),
}

/// The model hash of an experiment: FNV-1a 64 of its resolved configuration.
pub fn run_hash(exp: &Experiment) -> Result<String> {
    Ok(fnv1a64(exp.resolved_toml()?.as_bytes()))
}

/// The model hash of a sweep: FNV-1a 64 of every point's resolved configuration, in grid order.
pub fn sweep_hash(sweep: &Sweep) -> Result<String> {
    let mut all = String::new();
    for e in sweep.experiments() {
        all.push_str(&e.resolved_toml()?);
        all.push('\u{0}');
    }
    Ok(fnv1a64(all.as_bytes()))
}

/// The model as a shard stores it: its table with every override applied.
fn model_text(src: &Source) -> Result<String> {
    let body = toml::to_string(&src.table).map_err(|e| Error::Output(e.to_string()))?;
    Ok(format!(
        "# The model of this shard with its overrides applied (written by `samsde run/sweep --shard`).\n{body}"
    ))
}

/// Runs shard `id` of `exp` (read from `src`) on `threads` workers and writes its folder `dir`.
pub fn write_run(src: &Source, exp: &Experiment, id: ShardId, dir: &Path, threads: usize, force: bool) -> Result<Meta> {
    exp.check_shardable()?;
    let staging = Staging::prepare(dir, FolderKind::Shard, force)?;
    let total = exp.blocks();
    let blocks = shard_blocks(total, id.k, id.n);
    let resolved = exp.resolved_toml()?;
    let obs = exp.run_shard(threads, true, blocks.clone())?;
    let (threads, wall) = (obs.threads, obs.wall_seconds);
    let meta = Meta {
        kind: Kind::Run,
        model: exp.name.clone(),
        model_hash: fnv1a64(resolved.as_bytes()),
        seed: exp.seed,
        paths: exp.paths,
        span: Span {
            start: blocks.start,
            end: blocks.end,
            total,
        },
        axes: Vec::new(),
        ..blank(src, id, threads, wall)
    };
    write(staging, meta, &model_text(src)?, Some(&resolved), &State::Run(obs))
}

/// Runs the grid points of shard `id` of `sweep` (built from `base`) and writes its folder `dir`.
pub fn write_sweep(base: &Source, sweep: &Sweep, id: ShardId, dir: &Path, threads: usize, force: bool) -> Result<Meta> {
    let staging = Staging::prepare(dir, FolderKind::Shard, force)?;
    let total = sweep.points() as u64;
    let points = shard_blocks(total, id.k, id.n);
    let exps = &sweep.experiments()[points.start as usize..points.end as usize];
    let t0 = std::time::Instant::now();
    let mut obs = Vec::with_capacity(exps.len());
    let mut used = 0;
    for (i, e) in exps.iter().enumerate() {
        let o = e.run(threads, false)?;
        used = used.max(o.threads);
        eprintln!(
            "sweep point {} ({}/{} of shard {id}) done",
            points.start as usize + i,
            i + 1,
            exps.len()
        );
        obs.push(o);
    }
    let first = sweep.experiments().first();
    let meta = Meta {
        kind: Kind::Sweep,
        model: sweep.name().to_string(),
        model_hash: sweep_hash(sweep)?,
        seed: first.map_or(0, |e| e.seed),
        paths: first.map_or(0, |e| e.paths),
        span: Span {
            start: points.start,
            end: points.end,
            total,
        },
        axes: sweep.axes().to_vec(),
        ..blank(base, id, used, t0.elapsed().as_secs_f64())
    };
    write(staging, meta, &model_text(base)?, None, &State::Sweep(obs))
}

/// The fields every shard fills the same way.
fn blank(src: &Source, id: ShardId, threads: usize, wall_seconds: f64) -> Meta {
    Meta {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        samsde_version: env!("CARGO_PKG_VERSION").into(),
        kind: Kind::Run,
        model: String::new(),
        model_file: src.file.clone(),
        model_hash: String::new(),
        seed: 0,
        paths: 0,
        shard: id.k,
        shards: id.n,
        span: Span {
            start: 0,
            end: 0,
            total: 0,
        },
        axes: Vec::new(),
        threads,
        wall_seconds,
        state_bytes: 0,
        state_hash: String::new(),
    }
}

fn write(staging: Staging, mut meta: Meta, model: &str, resolved: Option<&str>, state: &State) -> Result<Meta> {
    let mut bytes = Vec::new();
    ciborium::into_writer(state, &mut bytes).map_err(|e| Error::Output(format!("shard state: {e}")))?;
    meta.state_bytes = bytes.len() as u64;
    meta.state_hash = fnv1a64(&bytes);
    let json = serde_json::to_string_pretty(&meta).map_err(|e| Error::Output(e.to_string()))?;
    let tmp = staging.path();
    let p = tmp.join(STATE_FILE);
    std::fs::write(&p, &bytes).map_err(Error::io(&p))?;
    output::write_file(&tmp.join("model.toml"), model)?;
    if let Some(r) = resolved {
        output::write_file(&tmp.join("config.resolved.toml"), r)?;
    }
    output::write_file(&tmp.join("shard.json"), &(json + "\n"))?;
    staging.commit()?;
    Ok(meta)
}

/// A shard-folder error for `dir`.
pub(crate) fn shard_error(dir: &Path, message: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Shard {
        dir: dir.display().to_string(),
        message: message.into(),
        fix: fix.into(),
    }
}

/// Reads and checks `dir/shard.json`: it exists, is a shard of this format version written by this samsde.
pub fn read_meta(dir: &Path) -> Result<Meta> {
    if !dir.is_dir() {
        return Err(shard_error(
            dir,
            "shard folder missing (no such folder)",
            "run this shard (`samsde run MODEL --shard K/N --out DIR`, the same for `sweep`) or pass its folder",
        ));
    }
    let p = dir.join("shard.json");
    let text = std::fs::read_to_string(&p).map_err(|_| {
        shard_error(
            dir,
            "not a shard folder (no shard.json)",
            "pass the folders written by `samsde run/sweep --shard K/N`",
        )
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| shard_error(dir, format!("unreadable shard.json: {e}"), "rerun this shard"))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(shard_error(
            dir,
            "shard.json is not a samsde shard description",
            "pass the folders written by `samsde run/sweep --shard K/N`",
        ));
    }
    let version = v.get("samsde_version").and_then(|f| f.as_str()).unwrap_or("?");
    let fv = v.get("format_version").and_then(|f| f.as_u64()).unwrap_or(0);
    if fv != FORMAT_VERSION as u64 || version != env!("CARGO_PKG_VERSION") {
        return Err(shard_error(
            dir,
            format!(
                "written by samsde {version} (shard format {fv}); this is samsde {} (format {FORMAT_VERSION})",
                env!("CARGO_PKG_VERSION")
            ),
            "merge with the samsde that ran the shards, or rerun them with this one",
        ));
    }
    serde_json::from_value(v).map_err(|e| shard_error(dir, format!("unreadable shard.json: {e}"), "rerun this shard"))
}

/// Reads `dir/state.cbor` and checks it against its size and hash in `meta`.
pub fn read_state(dir: &Path, meta: &Meta) -> Result<State> {
    let p = dir.join(STATE_FILE);
    let bytes = std::fs::read(&p)
        .map_err(|e| shard_error(dir, format!("cannot read {STATE_FILE}: {e}"), "rerun this shard"))?;
    if bytes.len() as u64 != meta.state_bytes || fnv1a64(&bytes) != meta.state_hash {
        return Err(shard_error(
            dir,
            format!("{STATE_FILE} does not match its size and hash in shard.json (damaged or replaced)"),
            "rerun this shard",
        ));
    }
    ciborium::from_reader(bytes.as_slice())
        .map_err(|e| shard_error(dir, format!("unreadable {STATE_FILE}: {e}"), "rerun this shard"))
}

/// The stats of a run shard's state, or an error naming `dir`.
pub(crate) fn run_state(dir: &Path, state: State) -> Result<ShardObservations> {
    match state {
        State::Run(o) => Ok(o),
        State::Sweep(_) => Err(shard_error(
            dir,
            "holds a sweep's state but shard.json says run",
            "rerun this shard",
        )),
    }
}

/// The per-point observations of a sweep shard's state, or an error naming `dir`.
pub(crate) fn sweep_state(dir: &Path, state: State) -> Result<Vec<Observations>> {
    match state {
        State::Sweep(o) => Ok(o),
        State::Run(_) => Err(shard_error(
            dir,
            "holds a run's state but shard.json says sweep",
            "rerun this shard",
        )),
    }
}
