//! Running a validated experiment: the ensemble with the standard observers ([`DynamicsStats`]) on a local
//! thread pool. The observations are data; the report module turns them into a report.

use super::experiment::Experiment;
use crate::ensemble::{self, BLOCK, Ensemble};
use crate::error::{Error, Result};
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

    /// Runs only the blocks `blocks` (see [`ensemble::run_range`]: aligned shards merge bit-identically).
    pub fn run_blocks(&self, threads: usize, progress: bool, blocks: Range<u64>) -> Result<Observations> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Output(format!("cannot start the thread pool: {e}")))?;
        let ens = Ensemble {
            paths: self.paths,
            seed: self.seed,
            progress,
        };
        let fresh = |k: usize| {
            DynamicsStats::new(k, &self.entries, &self.plan, self.t_end, self.sample_paths).with_snr(&self.model)
        };
        let t0 = std::time::Instant::now();
        let stats = pool.install(|| ensemble::run_range(&ens, &self.entries, &self.plan, self.t_end, &fresh, blocks));
        Ok(Observations {
            stats,
            threads: pool.current_num_threads(),
            wall_seconds: t0.elapsed().as_secs_f64(),
        })
    }
}
