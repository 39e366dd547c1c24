//! Running a validated experiment: the ensemble with the standard observers ([`DynamicsStats`]) on a local
//! thread pool. The observations are data; the report module turns them into a report.

use super::experiment::Experiment;
use super::rare::{self, AmsOutcome};
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

    /// Runs only the blocks `blocks` (see [`ensemble::run_range`]: aligned shards merge bit-identically).
    /// With `[exit] estimator = "ams"` only the whole range is accepted: the rare-event estimate is not
    /// made of blocks of paths (its unit of work is a replica), so it cannot be split this way.
    pub fn run_blocks(&self, threads: usize, progress: bool, blocks: Range<u64>) -> Result<Observations> {
        if self.ams.is_some() && blocks != (0..self.blocks()) {
            return Err(Error::Usage(format!(
                "{}: `[exit] estimator = \"ams\"` cannot be split into shards of paths (its work is made of \
                 independent AMS replicas that run on all threads of one machine); run it without sharding",
                self.file
            )));
        }
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
        let mut ams = Vec::new();
        if let Some(plan) = &self.ams {
            for e in &self.entries {
                let o = pool.install(|| rare::run(plan, e, &self.plan, &self.basin_labels, &self.file))?;
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
                ams.push(o);
            }
        }
        Ok(Observations {
            stats,
            threads: pool.current_num_threads(),
            wall_seconds: t0.elapsed().as_secs_f64(),
            ams,
        })
    }
}
