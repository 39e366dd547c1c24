//! What a run will cost, known before it starts: its path-steps and an estimate of its memory, checked
//! against the memory the machine has available, so that a run that cannot fit is refused with the numbers
//! (exit status 2) instead of aborting on an allocation, and a long run says so up front.
//!
//! Memory of a run (the ensemble runner, `ensemble::run_range_ticking`): the observers of the blocks of one
//! wave in flight and of the merge tree's pending levels (each block holds moments at every snapshot, about
//! 8(d² + d + 16) bytes per snapshot and dynamics), the path records of the blocks running (256 paths × every
//! snapshot × d per dynamics and thread), the stored sample paths, and the report built from it. Measured peaks
//! (2 threads, d = 2, 3 dynamics): 0.58 GB at 2·10⁴ snapshots and 1.07 GB at 4·10⁴ without sample paths
//! (estimates 0.80 and 1.5 GB); 3.9 GB at 4·10⁴ and 22.9 GB at 10⁵ snapshots with 64 sample paths (estimates
//! 10 and 25 GB). The estimate errs high so that a shared machine is not driven into swap.

use super::experiment::Experiment;
use crate::ensemble::{self, BLOCK};
use crate::error::{Error, Result};
use crate::progress::bytes;

/// A run with at least this many path-steps prints its estimate before it starts (about a minute at the
/// fastest measured rate, 10⁸ path-steps/s on 2 cores; longer for general landscapes).
pub const LONG_PATH_STEPS: f64 = 5e9;

/// Bytes per stored sample point (`output.sample_paths` × snapshots × dynamics), beyond its coordinates: the
/// largest measured (1040 bytes at 10⁵ snapshots), rounded up.
const SAMPLE_POINT_BYTES: f64 = 1100.0;

/// Memory the process needs besides the run's data (binary, thread stacks, figure rendering): 64 MB.
const BASE_BYTES: f64 = 64e6;

/// The cost of running an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    /// Number of dynamics.
    pub dynamics: usize,
    /// Paths per dynamics.
    pub paths: u64,
    /// Steps of each dynamics (its own dt: discrete optimizers step with η).
    pub steps: Vec<u64>,
    /// Snapshots per path.
    pub snapshots: usize,
    /// Dimension of the state.
    pub dim: usize,
    /// Worker threads.
    pub threads: usize,
    /// Total path-steps: paths × Σ steps.
    pub path_steps: f64,
    /// Estimated peak memory in bytes.
    pub bytes: f64,
}

impl Experiment {
    /// The cost of [`Experiment::run`] on `threads` workers (the actual count, not 0).
    pub fn resources(&self, threads: usize) -> Resources {
        let threads = threads.max(1);
        let (entries, plan) = (&self.entries, &self.plan);
        let d = plan.start.len();
        let snapshots = entries.first().map_or(0, |e| e.schedule.snapshot_steps.len());
        let steps: Vec<u64> = entries.iter().map(|e| e.schedule.steps as u64).collect();
        let path_steps = self.paths as f64 * steps.iter().map(|&s| s as f64).sum::<f64>();
        let obs = ensemble::block_observer_bytes(entries, plan) as f64;
        let rec = ensemble::block_record_bytes(entries, plan) as f64;
        let nblocks = self.paths.div_ceil(BLOCK).max(1);
        let wave = ensemble::wave_blocks(entries, plan, threads as u64).min(nblocks) as f64;
        let depth = (64 - nblocks.leading_zeros()) as f64 + 1.0;
        let running = (threads as u64).min(nblocks) as f64;
        let n = entries.len() as f64;
        // A stored sample point costs far more than its 8d bytes (an allocation per point, its report row, its
        // CSV line, the trajectory figure): measured 370–1040 bytes per point at 2·10⁴–10⁵ snapshots, d = 2.
        let samples =
            n * self.sample_paths.min(self.paths) as f64 * snapshots as f64 * (SAMPLE_POINT_BYTES + 8.0 * d as f64);
        // The report: a moments row per snapshot and dynamics (mean, covariance, eigenvalues, text in CSV).
        let report = n * snapshots as f64 * (24.0 * (d * d + 2 * d) as f64 + 600.0);
        let bytes = BASE_BYTES + (wave + depth) * obs + running * rec + samples + 2.0 * report;
        Resources {
            dynamics: entries.len(),
            paths: self.paths,
            steps,
            snapshots,
            dim: d,
            threads,
            path_steps,
            bytes,
        }
    }
}

impl Resources {
    /// Whether the run is long enough to announce ([`LONG_PATH_STEPS`]).
    pub fn is_long(&self) -> bool {
        self.path_steps >= LONG_PATH_STEPS
    }

    /// "3 dynamics × 10000 paths × 1000 steps = 3.0e7 path-steps, about 70 MB of memory".
    pub fn describe(&self) -> String {
        let lo = self.steps.iter().copied().min().unwrap_or(0);
        let hi = self.steps.iter().copied().max().unwrap_or(0);
        let steps = if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo}–{hi}")
        };
        format!(
            "{} dynamics × {} paths × {steps} steps = {:.1e} path-steps, about {} of memory",
            self.dynamics,
            self.paths,
            self.path_steps,
            bytes(self.bytes)
        )
    }

    /// Fails (exit status 2) if the estimate exceeds the memory available now (Linux: `MemAvailable`;
    /// elsewhere only absurd sizes, beyond 2⁶⁴ bytes, are refused), naming the numbers and what to lower.
    pub fn check_memory(&self) -> Result<()> {
        let avail = available_memory();
        let limit = avail.map_or(u64::MAX as f64, |a| a as f64);
        if self.bytes <= limit {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "this run would need about {} of memory ({} dynamics, {} snapshots of {} coordinates per path, blocks \
             of {BLOCK} paths on {} threads){}; lower output.snapshots, the number of dynamics or --threads",
            bytes(self.bytes),
            self.dynamics,
            self.snapshots,
            self.dim,
            self.threads,
            avail.map_or(String::new(), |a| format!(
                ", but only {} are available",
                bytes(a as f64)
            )),
        )))
    }
}

/// Bytes of memory available to a new process (Linux: `MemAvailable` of `/proc/meminfo`), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}
