//! Observers: what a run measures. An observer is a streaming, mergeable accumulator ([`Merge`]) with hooks
//! that the runner calls for every path in index order, after the path's block has run; every hook has a
//! default that does nothing, so an observer implements only what it needs (as argmin's observers do).
//!
//! The runner does not know which observers are attached: it hands each block's [`PathRecord`]s, in path
//! order, to the observer of their dynamics ([`Observer::block`]), whose default replays them path by path —
//! [`Observer::snapshot`] at every snapshot time the path was running, [`Observer::end_path`] once, then
//! [`Observer::paired`] with the first dynamics' record of the same path. An observer whose per-path work
//! is dominated by latency (divisions, square roots) overrides [`Observer::block`] to do it for the whole
//! block at once (the moments by two passes, the SNR histogram in vector loops; issue 12).
//! A new statistic is a new observer (an accumulator in `stats/` implementing this trait), never a change
//! to the runner.

use super::merge::Merge;
use crate::stepper::{PathRecord, Plan};

/// One path of one dynamics as the observers see it: its index, its record and the run's plan.
#[derive(Debug, Clone, Copy)]
pub struct PathView<'a> {
    /// Path index i.
    pub index: u64,
    /// What the path produced.
    pub record: &'a PathRecord,
    /// The run's plan (start, saddle, region, basins).
    pub plan: &'a Plan,
    /// Horizon T.
    pub t_end: f64,
}

impl<'a> PathView<'a> {
    /// Dimension d of the position.
    pub fn dim(&self) -> usize {
        self.record.final_pos.len()
    }
    /// The position at snapshot `j`, if the path was running then.
    pub fn position(&self, j: usize) -> Option<&'a [f64]> {
        let d = self.dim();
        let rec = self.record;
        rec.alive
            .get(j)
            .copied()
            .unwrap_or(false)
            .then(|| &rec.snaps[j * d..(j + 1) * d])
    }
    /// First exit time from the region, if the path exited by T.
    pub fn exit_time(&self) -> Option<f64> {
        self.record.exit_time
    }
    /// Time of divergence, if the path diverged.
    pub fn diverged_at(&self) -> Option<f64> {
        self.record.diverged_at
    }
}

/// A statistic of a run: mergeable, with default no-op hooks. Hooks run in path index order within a block,
/// and blocks are merged in index order ([`super::TreeFold`]), so an observer's result is bit-identical at
/// any thread count.
pub trait Observer: Merge + Send {
    /// Whether [`Observer::snapshot`] does anything: the default [`Observer::block`] skips the calls per
    /// snapshot for an observer that sets it `false` (one that only looks at whole paths).
    const SNAPSHOTS: bool = true;
    /// The path was running at snapshot `j` (snapshot times in order), at position `x`.
    fn snapshot(&mut self, _path: &PathView<'_>, _j: usize, _x: &[f64]) {}
    /// The path ended (by T, by stopping at an exit or basin, or by diverging), after its snapshots.
    fn end_path(&mut self, _path: &PathView<'_>) {}
    /// For every dynamics but the run's first: the same path of the first dynamics (common random numbers),
    /// for paired statistics. Called after [`Observer::end_path`].
    fn paired(&mut self, _path: &PathView<'_>, _reference: &PathView<'_>) {}
    /// One block of paths in index order, with the first dynamics' views of the same paths as `reference`
    /// (for every dynamics but the first). The default calls the per-path hooks path by path.
    fn block(&mut self, paths: &[PathView<'_>], reference: Option<&[PathView<'_>]>) {
        for (p, v) in paths.iter().enumerate() {
            if Self::SNAPSHOTS {
                for j in 0..v.record.alive.len() {
                    if let Some(x) = v.position(j) {
                        self.snapshot(v, j, x);
                    }
                }
            }
            self.end_path(v);
            if let Some(r) = reference {
                self.paired(v, &r[p]);
            }
        }
    }
}

/// An optional observer (e.g. exit times, only with an exit region) observes when present.
impl<O: Observer> Observer for Option<O> {
    const SNAPSHOTS: bool = O::SNAPSHOTS;
    fn snapshot(&mut self, path: &PathView<'_>, j: usize, x: &[f64]) {
        if let Some(o) = self {
            o.snapshot(path, j, x);
        }
    }
    fn end_path(&mut self, path: &PathView<'_>) {
        if let Some(o) = self {
            o.end_path(path);
        }
    }
    fn paired(&mut self, path: &PathView<'_>, reference: &PathView<'_>) {
        if let Some(o) = self {
            o.paired(path, reference);
        }
    }
    fn block(&mut self, paths: &[PathView<'_>], reference: Option<&[PathView<'_>]>) {
        if let Some(o) = self {
            o.block(paths, reference);
        }
    }
}
