//! The parallel, reproducible ensemble runner.
//!
//! Paths are grouped in blocks of [`BLOCK`] consecutive indices. A block runs its paths one after another
//! (every dynamics of the run on the same path before the next path, from generators derived only from
//! (seed, path index)), and turns them into block accumulators. Blocks run in parallel on rayon, wave by
//! wave, and are merged in index order by a [`TreeFold`], so:
//! - results are bit-identical at any thread count, and the first k paths are those of a k-path run;
//! - memory does not grow with the number of paths (a wave of blocks at a time, plus optional stored paths);
//! - the dynamics of one run see the same normals path by path (common random numbers), and the paired
//!   differences against the first dynamics are accumulated path by path, so their standard errors are
//!   those of the difference.

pub use crate::model::Region;
pub use crate::stepper::{PathJob, PathRecord, Plan, Schedule};

use crate::stats::{BasinCounts, ExitTimes, Merge, Moments, TreeFold, Welford};
use crate::stepper::Stepper;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
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

/// How many paths, from which seed, and what to keep.
#[derive(Debug, Clone)]
pub struct Ensemble {
    /// Number of paths.
    pub paths: u64,
    /// Master seed.
    pub seed: u64,
    /// Store the first k paths at the snapshot times.
    pub sample_paths: u64,
    /// Draw a progress bar on stderr (only shown when stderr is a terminal).
    pub progress: bool,
}

/// The accumulators of one dynamics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicsStats {
    /// Step times of the snapshots.
    pub times: Vec<f64>,
    /// Moments per snapshot.
    pub moments: Vec<Moments>,
    /// Exit times (when a region is set).
    pub exit: Option<ExitTimes>,
    /// Basin classes.
    pub basins: BasinCounts,
    /// Paths that diverged.
    pub diverged: u64,
}

/// Paired differences of a dynamics against the run's first dynamics, path by path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// ‖x_k − d‖² − ‖x_0 − d‖² per snapshot (paths running in both).
    pub msd_difference: Vec<Welford>,
    /// min(τ_k, T) − min(τ_0, T) (paths that diverged in neither).
    pub exit_difference: Welford,
}

/// A stored sample path: position at each snapshot (None after it stopped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePath {
    /// Dynamics index.
    pub dynamics: usize,
    /// Path index.
    pub path: u64,
    /// Position per snapshot.
    pub points: Vec<Option<Vec<f64>>>,
}

/// Everything a run observed: mergeable, serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// Per dynamics, in model-file order.
    pub dynamics: Vec<DynamicsStats>,
    /// Per dynamics after the first, against the first.
    pub paired: Vec<Paired>,
    /// The first k paths of every dynamics.
    pub samples: Vec<SamplePath>,
}

impl Merge for RunStats {
    fn merge(&mut self, b: Self) {
        for (a, c) in self.dynamics.iter_mut().zip(b.dynamics) {
            for (m, n) in a.moments.iter_mut().zip(c.moments) {
                m.merge(n);
            }
            if let (Some(e), Some(f)) = (a.exit.as_mut(), c.exit) {
                e.merge(f);
            }
            a.basins.merge(c.basins);
            a.diverged += c.diverged;
        }
        for (a, c) in self.paired.iter_mut().zip(b.paired) {
            for (m, n) in a.msd_difference.iter_mut().zip(c.msd_difference) {
                m.merge(n);
            }
            a.exit_difference.merge(c.exit_difference);
        }
        self.samples.extend(b.samples);
    }
}

impl RunStats {
    fn empty(entries: &[Entry], plan: &Plan, t_end: f64) -> Self {
        let d = plan.start.len();
        let dynamics = entries
            .iter()
            .map(|e| DynamicsStats {
                times: e
                    .schedule
                    .snapshot_steps
                    .iter()
                    .map(|&k| k as f64 * e.schedule.dt)
                    .collect(),
                moments: vec![Moments::new(d); e.schedule.snapshot_steps.len()],
                exit: plan.region.as_ref().map(|_| ExitTimes::new(t_end)),
                basins: BasinCounts::new(plan.basins.len()),
                diverged: 0,
            })
            .collect();
        let s = entries.first().map_or(0, |e| e.schedule.snapshot_steps.len());
        let paired = (1..entries.len())
            .map(|_| Paired {
                msd_difference: vec![Welford::default(); s],
                exit_difference: Welford::default(),
            })
            .collect();
        RunStats {
            dynamics,
            paired,
            samples: Vec::new(),
        }
    }
}

/// Runs `entries` over the ensemble on the current rayon pool. `t_end` is the horizon (for censoring).
pub fn run(ens: &Ensemble, entries: &[Entry], plan: &Plan, t_end: f64) -> RunStats {
    run_range(ens, entries, plan, t_end, 0..ens.paths.div_ceil(BLOCK))
}

/// Runs only the blocks `blocks` (block b holds paths b·[`BLOCK`] .. (b+1)·[`BLOCK`], clamped to
/// `ens.paths`), folded in index order by a [`TreeFold`]. The result of a power-of-two-aligned range of 2ᵏ
/// blocks is exactly the subtree the whole run builds for it, so such shards pushed into a [`TreeFold`] in
/// order reproduce [`run`] bit for bit; any split merged with [`Merge::merge`] equals it up to rounding.
/// An empty range gives empty accumulators.
pub fn run_range(ens: &Ensemble, entries: &[Entry], plan: &Plan, t_end: f64, blocks: Range<u64>) -> RunStats {
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
    let mut fold = TreeFold::new();
    let mut start = first;
    while start < last {
        let end = (start + wave).min(last);
        let results: Vec<RunStats> = (start..end)
            .into_par_iter()
            .map(|b| run_block(b, ens, entries, plan, t_end))
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
    fold.finish().unwrap_or_else(|| RunStats::empty(entries, plan, t_end))
}

/// Runs block `b`: paths b·BLOCK .. min((b+1)·BLOCK, paths), every dynamics on every path, then feeds the
/// path records to the accumulators in path order.
fn run_block(b: u64, ens: &Ensemble, entries: &[Entry], plan: &Plan, t_end: f64) -> RunStats {
    let mut acc = RunStats::empty(entries, plan, t_end);
    let d = plan.start.len();
    let s = entries.first().map_or(0, |e| e.schedule.snapshot_steps.len());
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
            let mut obs = vec![PathRecord::new(d, s); jobs.len()];
            e.stepper.run_paths(&jobs, &mut obs);
            obs
        })
        .collect();
    let mut scratch = vec![0.0; d];
    let trap_ball;
    let trap = match &plan.region {
        Some(r) => r,
        None => {
            trap_ball = Region::Ball {
                center: plan.saddle.clone(),
                radius: plan.basin_radius,
            };
            &trap_ball
        }
    };
    let msd = |x: &[f64]| -> f64 { x.iter().zip(&plan.saddle).map(|(a, c)| (a - c) * (a - c)).sum() };
    for (p, i) in paths.enumerate() {
        for (k, o) in records.iter().map(|r| &r[p]).enumerate() {
            let st = &mut acc.dynamics[k];
            for j in 0..s {
                if o.alive[j] {
                    st.moments[j].push(&o.snaps[j * d..(j + 1) * d], &plan.saddle, &mut scratch);
                }
            }
            if let Some(ex) = st.exit.as_mut()
                && (o.diverged_at.is_none() || o.exit_time.is_some())
            {
                ex.push(o.exit_time);
            }
            match (o.basin, o.diverged_at) {
                (Some((a, _)), _) => st.basins.attractors[a] += 1,
                (None, Some(_)) => st.basins.diverged += 1,
                (None, None) if trap.inside(&o.final_pos) => st.basins.trapped += 1,
                _ => st.basins.unresolved += 1,
            }
            if o.diverged_at.is_some() {
                st.diverged += 1;
            }
            if i < ens.sample_paths {
                acc.samples.push(SamplePath {
                    dynamics: k,
                    path: i,
                    points: (0..s)
                        .map(|j| o.alive[j].then(|| o.snaps[j * d..(j + 1) * d].to_vec()))
                        .collect(),
                });
            }
        }
        let o0 = &records[0][p];
        for (k, o) in records.iter().map(|r| &r[p]).enumerate().skip(1) {
            let pr = &mut acc.paired[k - 1];
            for j in 0..s {
                if o.alive[j] && o0.alive[j] {
                    pr.msd_difference[j].push(msd(&o.snaps[j * d..(j + 1) * d]) - msd(&o0.snaps[j * d..(j + 1) * d]));
                }
            }
            if plan.region.is_some() && o.diverged_at.is_none() && o0.diverged_at.is_none() {
                let r = |t: Option<f64>| t.unwrap_or(t_end).min(t_end);
                pr.exit_difference.push(r(o.exit_time) - r(o0.exit_time));
            }
        }
    }
    acc
}
