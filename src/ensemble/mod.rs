//! The parallel, reproducible ensemble runner and its observers.
//!
//! Paths are grouped in blocks of [`BLOCK`] consecutive indices. A block runs its paths (every dynamics of
//! the run on the same paths, from generators derived only from (seed, path index)) through each stepper's
//! lane loop ([`crate::stepper::lanes`]), then hands the paths' records, in path order, to one
//! [`Observer`] per dynamics. Blocks run in parallel on rayon, wave by wave, and their observers are merged
//! in index order by a [`TreeFold`], so:
//! - results are bit-identical at any thread count, and the first k paths are those of a k-path run;
//! - memory does not grow with the number of paths (a wave of blocks at a time);
//! - the dynamics of one run see the same normals path by path (common random numbers), and an observer
//!   sees the first dynamics' record of each path beside its own ([`Observer::paired`]), so paired
//!   differences have the standard errors of the difference.
//!
//! The runner is generic over the observer type; which statistics a run collects is decided by the caller
//! (the standard set is `stats::DynamicsStats`).

pub mod merge;
pub mod observer;

pub use crate::model::Region;
pub use crate::stepper::{PathJob, PathRecord, Plan, Schedule};
pub use merge::{Merge, Piece, TreeFold};
pub use observer::{Observer, PathView};

use crate::progress::{NoTick, Progress, Tick};
use crate::stepper::Stepper;
use rayon::prelude::*;
use std::ops::Range;

/// Paths per block (fixed: it is part of the definition of the merge order).
pub const BLOCK: u64 = 256;

/// Memory budget for the block accumulators of one wave of blocks in flight.
const WAVE_BYTES: u64 = 64 << 20;

/// One dynamics of a run.
pub struct Entry {
    /// Label as in the model file (e.g. "SAM").
    pub label: String,
    /// How it steps.
    pub stepper: Box<dyn Stepper>,
    /// Its step count and snapshot steps.
    pub schedule: Schedule,
}

/// How many paths, from which seed.
#[derive(Debug, Clone)]
pub struct Ensemble {
    /// Number of paths.
    pub paths: u64,
    /// Master seed.
    pub seed: u64,
    /// Draw a progress bar on stderr (only shown when stderr is a terminal).
    pub progress: bool,
}

/// Runs `entries` over the ensemble on the current rayon pool, with `fresh(k)` the empty observer of dynamics
/// `k`; returns one merged observer per entry. `t_end` is the horizon (for censoring).
pub fn run<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
) -> Vec<O> {
    run_range(ens, entries, plan, t_end, fresh, 0..ens.paths.div_ceil(BLOCK))
}

/// Runs only the blocks `blocks` (block b holds paths b·[`BLOCK`] .. (b+1)·[`BLOCK`], clamped to
/// `ens.paths`), folded in index order by a [`TreeFold`] and finished. For a shard of a run use
/// [`run_pieces`], whose result merges bit for bit; merging finished ranges with [`Merge::merge`] equals the
/// whole run only up to rounding. An empty range gives empty observers. With `ens.progress`, a bar on stderr
/// (on a terminal only).
pub fn run_range<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
) -> Vec<O> {
    with_bar(ens, &blocks, |tick| {
        run_range_ticking(ens, entries, plan, t_end, fresh, blocks.clone(), tick)
    })
}

/// [`run_range`] reporting each finished block to `tick` (from the worker that ran it) instead of drawing.
pub fn run_range_ticking<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
    tick: &dyn Tick,
) -> Vec<O> {
    fold_range(ens, entries, plan, t_end, fresh, blocks, tick)
        .finish()
        .unwrap_or_else(|| (0..entries.len()).map(fresh).collect())
}

/// Runs the blocks `blocks` of a shard and returns its unfinished fold: the aligned subtrees of the whole
/// run's merge tree that the range covers ([`TreeFold::into_pieces`]). The pieces of the shards of any
/// contiguous partition, pushed in block order into one [`TreeFold`] ([`TreeFold::push_piece`]), finish to
/// exactly what [`run`] returns. With `ens.progress`, a bar on stderr (on a terminal only).
pub fn run_pieces<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
) -> Vec<Piece<Vec<O>>> {
    with_bar(ens, &blocks, |tick| {
        fold_range(ens, entries, plan, t_end, fresh, blocks.clone(), tick).into_pieces()
    })
}

/// Runs `f` with a bar over the paths of `blocks` if `ens.progress` (drawn on a terminal only, left visible),
/// else with no progress report.
fn with_bar<T>(ens: &Ensemble, blocks: &Range<u64>, f: impl FnOnce(&dyn Tick) -> T) -> T {
    if !ens.progress {
        return f(&NoTick);
    }
    let bar = Progress::stderr(paths_in(ens.paths, blocks), "paths");
    let out = f(&bar);
    bar.finish();
    out
}

/// Blocks `0..blocks` split into `n` contiguous ranges as equal as possible; the range of shard `k`
/// (0 ≤ k < n): ⌊k·blocks/n⌋ .. ⌊(k+1)·blocks/n⌋. Fixed: shards and the merge agree on it.
pub fn shard_blocks(blocks: u64, k: u64, n: u64) -> Range<u64> {
    let at = |i: u64| ((i as u128 * blocks as u128) / n.max(1) as u128) as u64;
    at(k)..at(k + 1)
}

/// The number of paths in `blocks` of a run of `paths` paths.
pub fn paths_in(paths: u64, blocks: &Range<u64>) -> u64 {
    let nblocks = paths.div_ceil(BLOCK);
    let (first, last) = (blocks.start.min(nblocks), blocks.end.min(nblocks));
    (last.saturating_mul(BLOCK))
        .min(paths)
        .saturating_sub(first.saturating_mul(BLOCK))
}

/// Blocks in flight at once for `entries` under `plan` on `threads` workers: enough to keep every thread busy
/// and amortise the per-wave join, few enough that the wave's accumulators stay within `WAVE_BYTES` (but at
/// least two per thread). It does not affect the results (merging is by block index).
pub fn wave_blocks(entries: &[Entry], plan: &Plan, threads: u64) -> u64 {
    let bytes = block_observer_bytes(entries, plan);
    (WAVE_BYTES / bytes.max(1)).clamp(2 * threads, 64 * threads)
}

/// An estimate of the bytes of one block's observers (the standard set: moments per snapshot, paired
/// differences, exit-time histogram, basin counts).
pub fn block_observer_bytes(entries: &[Entry], plan: &Plan) -> u64 {
    let d = plan.start.len() as u64;
    let snaps = entries.first().map_or(1, |e| e.schedule.snapshot_steps.len()) as u64;
    8 * (entries.len() as u64) * (snaps * (d * d + d + 16) + 512) + 1
}

/// The bytes of one block's path records while it runs: every dynamics' 256 records with their snapshots.
pub fn block_record_bytes(entries: &[Entry], plan: &Plan) -> u64 {
    let d = plan.start.len() as u64;
    let snaps = entries.first().map_or(1, |e| e.schedule.snapshot_steps.len()) as u64;
    (entries.len() as u64) * BLOCK * (snaps * (8 * d + 1) + 8 * d + 160)
}

/// Runs `blocks` in waves on the current pool, telling `tick` of every finished block, and folds them from
/// the range's first block.
fn fold_range<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
    tick: &dyn Tick,
) -> TreeFold<Vec<O>> {
    let nblocks = ens.paths.div_ceil(BLOCK);
    let (first, last) = (blocks.start.min(nblocks), blocks.end.min(nblocks));
    let wave = wave_blocks(entries, plan, rayon::current_num_threads() as u64);
    let mut fold = TreeFold::starting_at(first);
    let mut start = first;
    while start < last {
        let end = (start + wave).min(last);
        let results: Vec<Vec<O>> = (start..end)
            .into_par_iter()
            .map(|b| {
                let r = run_block(b, ens, entries, plan, t_end, fresh);
                tick.advance(paths_in(ens.paths, &(b..b + 1)));
                r
            })
            .collect();
        for r in results {
            fold.push(r);
        }
        start = end;
    }
    fold
}

/// Runs block `b`: paths b·BLOCK .. min((b+1)·BLOCK, paths), every dynamics on every path, then hands the
/// path records, in path order, to the observers ([`Observer::block`]).
fn run_block<O: Observer>(
    b: u64,
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
) -> Vec<O> {
    let d = plan.start.len();
    let paths = (b * BLOCK)..((b + 1) * BLOCK).min(ens.paths);
    let records: Vec<Vec<PathRecord>> = entries
        .iter()
        .map(|e| {
            let jobs: Vec<PathJob> = paths
                .clone()
                .map(|i| PathJob {
                    index: i,
                    seed: ens.seed,
                    plan,
                    schedule: &e.schedule,
                })
                .collect();
            let mut recs = reuse_records(d, e.schedule.snapshot_steps.len(), jobs.len());
            e.stepper.run_paths(&jobs, &mut recs);
            recs
        })
        .collect();
    let views: Vec<Vec<PathView>> = records
        .iter()
        .zip(entries)
        .map(|(recs, e)| {
            recs.iter()
                .zip(paths.clone())
                .map(|(record, index)| PathView {
                    index,
                    record,
                    plan,
                    t_end: e.schedule.t_end.min(t_end),
                })
                .collect()
        })
        .collect();
    let mut obs: Vec<O> = (0..entries.len()).map(fresh).collect();
    for (k, o) in obs.iter_mut().enumerate() {
        o.block(&views[k], (k > 0).then(|| &views[0][..]));
    }
    drop(views);
    RECORDS.with_borrow_mut(|pool| {
        pool.extend(records);
        let keep = pool.len().saturating_sub(entries.len());
        pool.drain(..keep);
    });
    obs
}

thread_local! {
    /// Path records of the last block this thread finished (one vector per dynamics), for its next block: a
    /// stepper resets every field of a record when the path begins, and rows of snapshots a path did not
    /// reach are never read.
    static RECORDS: std::cell::RefCell<Vec<Vec<PathRecord>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `n` records for dimension d and `snaps` snapshots: a finished block's, if this thread has one of that
/// shape, else new.
fn reuse_records(d: usize, snaps: usize, n: usize) -> Vec<PathRecord> {
    let fits = |r: &Vec<PathRecord>| {
        r.len() == n
            && r.first()
                .is_none_or(|p| p.final_pos.len() == d && p.alive.len() == snaps)
    };
    RECORDS
        .with_borrow_mut(|pool| pool.iter().rposition(fits).map(|i| pool.remove(i)))
        .unwrap_or_else(|| vec![PathRecord::new(d, snaps); n])
}
