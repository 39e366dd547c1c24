//! `samsde merge`: checks that shard folders belong together and merges them into the report of the run
//! (or the table of the sweep) they are shards of, equal to the one-piece result in every number.

use super::folder::{Kind, Meta, read_meta, read_state, run_hash, run_state, shard_error, sweep_hash, sweep_state};
use crate::ensemble::shard_blocks;
use crate::error::{Error, Result};
use crate::report::{Report, Sharding, summarise};
use crate::setup::{Experiment, Observations, ShardObservations, Source};
use crate::sweep::{Sweep, SweepTable};
use std::path::{Path, PathBuf};

/// The result of merging all shards.
pub enum Merged {
    /// A run: its experiment (rebuilt from the shards' model) and its report.
    Run {
        /// The experiment.
        exp: Box<Experiment>,
        /// Its report, with [`Sharding`] filled in.
        report: Box<Report>,
    },
    /// A sweep: its table, with [`Sharding`] filled in.
    Sweep {
        /// The table.
        table: Box<SweepTable>,
    },
}

/// What keeps a shard from being merged with the first one: the first field (name, this value, the first's)
/// that differs.
fn foreign(a: &Meta, b: &Meta) -> Option<(&'static str, String, String)> {
    let fields = [
        (
            "kind",
            format!("{:?}", a.kind).to_lowercase(),
            format!("{:?}", b.kind).to_lowercase(),
        ),
        ("model", a.model.clone(), b.model.clone()),
        ("seed", a.seed.to_string(), b.seed.to_string()),
        ("paths", a.paths.to_string(), b.paths.to_string()),
        ("shard count N", a.shards.to_string(), b.shards.to_string()),
        (
            "total blocks or points",
            a.span.total.to_string(),
            b.span.total.to_string(),
        ),
        ("model hash", a.model_hash.clone(), b.model_hash.clone()),
    ];
    fields.into_iter().find(|(_, x, y)| x != y)
}

/// Checks that the shard folders `dirs` are the N shards of one run or sweep, each exactly once, and merges
/// them. Every problem is an [`Error::Shard`] (exit status 2) naming the folder.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged> {
    if dirs.is_empty() {
        return Err(Error::Usage("samsde merge: no shard folders given".into()));
    }
    let metas = dirs
        .iter()
        .map(|d| read_meta(d).map(|m| (d.as_path(), m)))
        .collect::<Result<Vec<_>>>()?;
    let (d0, m0) = (metas[0].0, &metas[0].1);
    for (d, m) in &metas[1..] {
        if let Some((what, mine, first)) = foreign(m, m0) {
            return Err(shard_error(
                d,
                format!(
                    "foreign shard: its {what} is {mine}, but {first} in {} (not a shard of the same run)",
                    d0.display()
                ),
                "merge only the shards of one series (same model file, overrides, seed, paths and N)",
            ));
        }
    }
    let n = m0.shards;
    let mut by_k: Vec<Option<(&Path, &Meta)>> = vec![None; n as usize];
    for (d, m) in &metas {
        let expect = shard_blocks(m.span.total, m.shard, n);
        if m.shard >= n || (m.span.start, m.span.end) != (expect.start, expect.end) {
            return Err(shard_error(
                d,
                format!(
                    "shard.json is inconsistent: shard {}/{n} covering {}..{} of {}",
                    m.shard, m.span.start, m.span.end, m.span.total
                ),
                "rerun this shard",
            ));
        }
        if let Some((prev, _)) = by_k[m.shard as usize] {
            return Err(shard_error(
                d,
                format!("duplicated shard: shard {}/{n} is also {}", m.shard, prev.display()),
                "pass each shard folder once",
            ));
        }
        by_k[m.shard as usize] = Some((d, m));
    }
    let missing: Vec<u64> = (0..n).filter(|&k| by_k[k as usize].is_none()).collect();
    if let Some(&k) = missing.first() {
        let list = missing.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        return Err(shard_error(
            &expected_folder(dirs, k),
            format!(
                "missing shard: shard {k}/{n} was not given (missing: {list} of 0..{})",
                n - 1
            ),
            "run the missing shards (`--shard K/N` with the same model, overrides and N) and pass every folder",
        ));
    }
    let shards: Vec<(&Path, &Meta)> = by_k.into_iter().flatten().collect();
    let model_path = d0.join("model.toml");
    let text = std::fs::read_to_string(&model_path)
        .map_err(|e| shard_error(d0, format!("cannot read model.toml: {e}"), "rerun this shard"))?;
    let src = Source::parse(&m0.model_file, &text)?;
    let sharding = |model_hash: &str| Sharding {
        shards: n,
        model_hash: model_hash.to_string(),
        shard_threads: shards.iter().map(|(_, m)| m.threads).collect(),
        shard_wall_seconds: shards.iter().map(|(_, m)| m.wall_seconds).collect(),
    };
    let rehash = |h: String| {
        if h == m0.model_hash {
            Ok(())
        } else {
            Err(shard_error(
                d0,
                format!(
                    "model.toml loads into a model of hash {h}, not the shard's {}",
                    m0.model_hash
                ),
                "rerun the shards with this samsde",
            ))
        }
    };
    match m0.kind {
        Kind::Run => {
            let exp = Experiment::load(&src)?;
            rehash(run_hash(&exp)?)?;
            let mut pieces = Vec::new();
            for (d, m) in &shards {
                let st = run_state(d, read_state(d, m)?)?;
                let mut at = m.span.start;
                for p in &st.pieces {
                    if p.start != at || p.value.len() != exp.entries.len() {
                        return Err(shard_error(
                            d,
                            "state.cbor does not cover its blocks in order",
                            "rerun this shard",
                        ));
                    }
                    at += p.blocks;
                }
                if at != m.span.end {
                    return Err(shard_error(
                        d,
                        "state.cbor does not cover its blocks",
                        "rerun this shard",
                    ));
                }
                pieces.extend(st.pieces);
            }
            let stats = ShardObservations::merge(pieces, m0.span.total, exp.fresh_stats())
                .map_err(|b| Error::Output(format!("merge: block {b} not covered (a bug)")))?;
            let obs = Observations {
                stats,
                threads: shards.iter().map(|(_, m)| m.threads).max().unwrap_or(1),
                wall_seconds: shards.iter().map(|(_, m)| m.wall_seconds).sum(),
                ams: Vec::new(),
            };
            let mut report = summarise(&exp, &obs);
            report.summary.sharding = Some(sharding(&m0.model_hash));
            Ok(Merged::Run {
                exp: Box::new(exp),
                report: Box::new(report),
            })
        }
        Kind::Sweep => {
            let sweep = Sweep::new(&src, m0.axes.clone())?;
            rehash(sweep_hash(&sweep)?)?;
            let mut obs = Vec::with_capacity(sweep.points());
            for (d, m) in &shards {
                let st = sweep_state(d, read_state(d, m)?)?;
                if st.len() as u64 != m.span.end - m.span.start {
                    return Err(shard_error(
                        d,
                        "state.cbor does not hold every point of the shard",
                        "rerun this shard",
                    ));
                }
                obs.extend(st);
            }
            let reports: Vec<Report> = sweep
                .experiments()
                .iter()
                .zip(&obs)
                .map(|(e, o)| summarise(e, o))
                .collect();
            let mut table = sweep.table(&reports);
            table.sharding = Some(sharding(&m0.model_hash));
            Ok(Merged::Sweep { table: Box::new(table) })
        }
    }
}

/// Where shard `k` was expected: `PARENT/k` when every given folder is `PARENT/<its K>` (the layout of
/// `samsde submit`), else a description.
fn expected_folder(dirs: &[PathBuf], k: u64) -> PathBuf {
    let parent = dirs[0].parent();
    let numbered = dirs.iter().all(|d| {
        d.parent() == parent
            && d.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.parse::<u64>().is_ok())
    });
    match parent {
        Some(p) if numbered => p.join(k.to_string()),
        _ => PathBuf::from(format!("shard {k}")),
    }
}
