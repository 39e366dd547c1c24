//! Running a validated experiment: the ensemble with the standard observers ([`DynamicsStats`]) on a local
//! thread pool. The observations are data; the report module turns them into a report.

use super::experiment::Experiment;
use super::rare::{self, AmsOutcome};
use crate::ensemble::{self, BLOCK, Ensemble, Piece, TreeFold};
use crate::error::{Error, Result};
use crate::progress::Tick;
use crate::stats::DynamicsStats;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What one run observed, per dynamics in model-file order, and how it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// The merged observers of each dynamics.
    pub stats: Vec<DynamicsStats>,
    /// Worker threads used (results do not depend on it).
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Per dynamics, the rare-event estimate (`[exit] estimator = "ams"`); empty otherwise.
    #[serde(default)]
    pub ams: Vec<AmsOutcome>,
}

impl Experiment {
    /// The number of blocks of [`BLOCK`] paths the run consists of.
    pub fn blocks(&self) -> u64 {
        self.paths.div_ceil(BLOCK)
    }

    /// Runs every path on a local pool of `threads` workers (0: all cores), with a progress bar on stderr if
    /// `progress`.
    pub fn run(&self, threads: usize, progress: bool) -> Result<Observations> {
        self.run_blocks(threads, progress, 0..self.blocks())
    }

    /// Runs only the blocks `blocks`, finished into observers (merging such ranges equals the whole run only
    /// up to rounding; a shard uses [`Experiment::run_shard`]). With `[exit] estimator = "ams"` the
    /// rare-event estimator runs after the ensemble, per dynamics; its unit of work is a replica, not a block
    /// of paths, so only the whole range is accepted then.
    pub fn run_blocks(&self, threads: usize, progress: bool, blocks: Range<u64>) -> Result<Observations> {
        if blocks != (0..self.blocks()) {
            self.check_shardable()?;
        }
        let fresh = |k: usize| self.fresh(k);
        let ((stats, ams), threads, wall_seconds) = self.on_pool(threads, progress, |ens| {
            let stats = ensemble::run_range(ens, &self.entries, &self.plan, self.t_end, &fresh, blocks);
            (stats, self.run_ams(progress))
        })?;
        Ok(Observations {
            stats,
            threads,
            wall_seconds,
            ams: ams?,
        })
    }

    /// [`Experiment::run_blocks`] reporting each finished block to `tick` instead of drawing a bar (e.g. a
    /// sweep's bar over all its points); the rare-event estimator, if any, runs quietly after the ensemble.
    pub fn run_ticking(&self, threads: usize, blocks: Range<u64>, tick: &dyn Tick) -> Result<Observations> {
        if blocks != (0..self.blocks()) {
            self.check_shardable()?;
        }
        let fresh = |k: usize| self.fresh(k);
        let ((stats, ams), threads, wall_seconds) = self.on_pool(threads, false, |ens| {
            let stats = ensemble::run_range_ticking(ens, &self.entries, &self.plan, self.t_end, &fresh, blocks, tick);
            (stats, self.run_ams(false))
        })?;
        Ok(Observations {
            stats,
            threads,
            wall_seconds,
            ams: ams?,
        })
    }

    /// The rare-event estimate of every dynamics (empty without `[exit] estimator = "ams"`), on the current
    /// rayon pool; with `progress`, one line per dynamics on stderr.
    fn run_ams(&self, progress: bool) -> Result<Vec<AmsOutcome>> {
        let Some(plan) = &self.ams else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let o = rare::run(plan, e, &self.plan, &self.basin_labels, &self.file)?;
            if progress {
                eprintln!(
                    "AMS {}: mean exit time {:.4e} [{:.4e}, {:.4e}] ({}, {:.1} s)",
                    e.label,
                    o.exit.mean_time,
                    o.exit.ci95.0,
                    o.exit.ci95.1,
                    if o.exit.estimator == crate::ams::Estimator::Ams {
                        format!("{} iterations", o.exit.iterations)
                    } else {
                        "direct: exits are frequent".into()
                    },
                    o.seconds
                );
            }
            out.push(o);
        }
        Ok(out)
    }

    /// Whether the run can be split into shards of paths: not with `[exit] estimator = "ams"`, whose work
    /// is made of independent AMS replicas (an error with exit status 2 naming the fix).
    pub fn check_shardable(&self) -> Result<()> {
        if self.ams.is_none() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "{}: `[exit] estimator = \"ams\"` cannot be split into shards of paths (its work is made of \
             independent AMS replicas that run on all threads of one machine); run it without --shard, or \
             shard a sweep of it (whose unit is a grid point)",
            self.file
        )))
    }

    /// Runs the blocks `blocks` as a shard of the run: the aligned pieces of the whole run's merge tree
    /// ([`ensemble::run_pieces`]), which the merge of all shards turns into exactly the whole run's
    /// observations ([`ShardObservations::merge`]).
    pub fn run_shard(&self, threads: usize, progress: bool, blocks: Range<u64>) -> Result<ShardObservations> {
        self.check_shardable()?;
        let fresh = |k: usize| self.fresh(k);
        let (pieces, threads, wall_seconds) = self.on_pool(threads, progress, |ens| {
            ensemble::run_pieces(ens, &self.entries, &self.plan, self.t_end, &fresh, blocks)
        })?;
        Ok(ShardObservations {
            pieces,
            threads,
            wall_seconds,
        })
    }

    /// The empty observers of every dynamics (what a run of no paths observes).
    pub fn fresh_stats(&self) -> Vec<DynamicsStats> {
        (0..self.entries.len()).map(|k| self.fresh(k)).collect()
    }

    /// The empty observers of dynamics `k`.
    fn fresh(&self, k: usize) -> DynamicsStats {
        DynamicsStats::new(k, &self.entries, &self.plan, self.t_end, self.sample_paths).with_snr(&self.model)
    }

    /// Runs `f` on a local pool of `threads` workers (0: all cores); returns its result, the pool's thread
    /// count and the wall-clock seconds. Refuses (exit status 2) a run that would not fit in memory
    /// ([`Experiment::resources`]).
    fn on_pool<T: Send>(
        &self,
        threads: usize,
        progress: bool,
        f: impl FnOnce(&Ensemble) -> T + Send,
    ) -> Result<(T, usize, f64)> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Output(format!("cannot start the thread pool: {e}")))?;
        self.resources(pool.current_num_threads()).check_memory()?;
        let ens = Ensemble {
            paths: self.paths,
            seed: self.seed,
            progress,
        };
        let t0 = std::time::Instant::now();
        let out = pool.install(|| f(&ens));
        Ok((out, pool.current_num_threads(), t0.elapsed().as_secs_f64()))
    }
}

/// What one shard of a run observed: the aligned subtrees of the whole run's merge tree that its blocks
/// cover, per dynamics, and how it ran. Serialised into the shard folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardObservations {
    /// The pieces, in block order.
    pub pieces: Vec<Piece<Vec<DynamicsStats>>>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
}

impl ShardObservations {
    /// Merges the pieces of shards that together cover blocks `0..blocks` (in block order) into the
    /// observations of the whole run, bit for bit; `empty` are the observers of no paths. Fails with the first
    /// block not covered exactly once, in order.
    pub fn merge(
        pieces: impl IntoIterator<Item = Piece<Vec<DynamicsStats>>>,
        blocks: u64,
        empty: Vec<DynamicsStats>,
    ) -> std::result::Result<Vec<DynamicsStats>, u64> {
        let mut fold = TreeFold::new();
        for p in pieces {
            fold.push_piece(p).map_err(|_| fold.next_block())?;
        }
        if fold.next_block() != blocks {
            return Err(fold.next_block());
        }
        Ok(fold.finish().unwrap_or(empty))
    }
}
