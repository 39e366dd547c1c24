//! The parallel, reproducible ensemble runner and its observers.
//!
//! Paths are grouped in blocks of [`BLOCK`] consecutive indices. A block runs its paths (every dynamics of
//! the run on the same paths, from generators derived only from (seed, path index)) through each stepper's
//! lane loop ([`crate::stepper::lanes`]), then replays the paths' records, in path order, into one
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
/// whole run only up to rounding. An empty range gives empty observers.
pub fn run_range<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
) -> Vec<O> {
    fold_range(ens, entries, plan, t_end, fresh, blocks)
        .finish()
        .unwrap_or_else(|| (0..entries.len()).map(fresh).collect())
}

/// Runs the blocks `blocks` of a shard and returns its unfinished fold: the aligned subtrees of the whole
/// run's merge tree that the range covers ([`TreeFold::into_pieces`]). The pieces of the shards of any
/// contiguous partition, pushed in block order into one [`TreeFold`] ([`TreeFold::push_piece`]), finish to
/// exactly what [`run`] returns.
pub fn run_pieces<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
) -> Vec<Piece<Vec<O>>> {
    fold_range(ens, entries, plan, t_end, fresh, blocks).into_pieces()
}

/// Blocks `0..blocks` split into `n` contiguous ranges as equal as possible; the range of shard `k`
/// (0 ≤ k < n): ⌊k·blocks/n⌋ .. ⌊(k+1)·blocks/n⌋. Fixed: shards and the merge agree on it.
pub fn shard_blocks(blocks: u64, k: u64, n: u64) -> Range<u64> {
    let at = |i: u64| ((i as u128 * blocks as u128) / n.max(1) as u128) as u64;
    at(k)..at(k + 1)
}

/// Runs `blocks` in waves on the current pool and folds them from the range's first block.
fn fold_range<O: Observer>(
    ens: &Ensemble,
    entries: &[Entry],
    plan: &Plan,
    t_end: f64,
    fresh: &(dyn Fn(usize) -> O + Sync),
    blocks: Range<u64>,
) -> TreeFold<Vec<O>> {
    let nblocks = ens.paths.div_ceil(BLOCK);
    let (first, last) = (blocks.start.min(nblocks), blocks.end.min(nblocks));
    // Blocks in flight: enough to keep every thread busy and amortise the per-wave join, few enough that the
    // wave's accumulators stay within WAVE_BYTES. It does not affect the results (merging is by block index).
    let d = plan.start.len() as u64;
    let snaps = entries.first().map_or(1, |e| e.schedule.snapshot_steps.len()) as u64;
    let block_bytes = 8 * (entries.len() as u64) * snaps * (d * d + d + 8) + 1;
    let threads = rayon::current_num_threads() as u64;
    let wave = (WAVE_BYTES / block_bytes).clamp(2 * threads, 64 * threads);
    let bar = if ens.progress {
        let pb = indicatif::ProgressBar::new(((last * BLOCK).min(ens.paths)).saturating_sub(first * BLOCK));
        pb.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} paths  {elapsed_precise} (eta {eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    let mut fold = TreeFold::starting_at(first);
    let mut start = first;
    while start < last {
        let end = (start + wave).min(last);
        let results: Vec<Vec<O>> = (start..end)
            .into_par_iter()
            .map(|b| run_block(b, ens, entries, plan, t_end, fresh))
            .collect();
        for r in results {
            fold.push(r);
        }
        if let Some(pb) = &bar {
            pb.set_position((end * BLOCK).min(ens.paths) - first * BLOCK);
        }
        start = end;
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    fold
}

/// Runs block `b`: paths b·BLOCK .. min((b+1)·BLOCK, paths), every dynamics on every path, then replays the
/// path records into the observers in path order.
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
            let mut recs = vec![PathRecord::new(d, e.schedule.snapshot_steps.len()); jobs.len()];
            e.stepper.run_paths(&jobs, &mut recs);
            recs
        })
        .collect();
    let mut obs: Vec<O> = (0..entries.len()).map(fresh).collect();
    for (p, index) in paths.enumerate() {
        let view = |k: usize| PathView {
            index,
            record: &records[k][p],
            plan,
            t_end: entries[k].schedule.t_end.min(t_end),
        };
        for (k, o) in obs.iter_mut().enumerate() {
            let v = view(k);
            for j in 0..v.record.alive.len() {
                if let Some(x) = v.position(j) {
                    o.snapshot(&v, j, x);
                }
            }
            o.end_path(&v);
            if k > 0 {
                o.paired(&v, &view(0));
            }
        }
    }
    obs
}
