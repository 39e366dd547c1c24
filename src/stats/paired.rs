//! Paired differences of a dynamics against the run's first dynamics, path by path. Both see the same
//! normals path by path (common random numbers), so the standard error is that of the difference, which is
//! far smaller than that of two independent estimates when the dynamics are close.

use super::{Merge, Welford};
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// Paired differences against the reference (first) dynamics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    /// ‖x_k − d‖² − ‖x_0 − d‖² per snapshot (paths running in both).
    pub msd_difference: Vec<Welford>,
    /// min(τ_k, T) − min(τ_0, T) (with an exit region; a divergence is an exit at its time).
    pub exit_difference: Welford,
}

impl Paired {
    /// Empty, for `snapshots` snapshot times.
    pub fn new(snapshots: usize) -> Self {
        Paired {
            msd_difference: vec![Welford::default(); snapshots],
            exit_difference: Welford::default(),
        }
    }
}

impl Merge for Paired {
    fn merge(&mut self, b: Self) {
        self.msd_difference.merge(b.msd_difference);
        self.exit_difference.merge(b.exit_difference);
    }
}

impl Observer for Paired {
    const SNAPSHOTS: bool = false;
    fn paired(&mut self, path: &PathView<'_>, reference: &PathView<'_>) {
        let saddle = &path.plan.saddle;
        let msd = |x: &[f64]| -> f64 { x.iter().zip(saddle).map(|(a, c)| (a - c) * (a - c)).sum() };
        for (j, w) in self.msd_difference.iter_mut().enumerate() {
            if let (Some(x), Some(x0)) = (path.position(j), reference.position(j)) {
                w.push(msd(x) - msd(x0));
            }
        }
        if path.plan.region.is_some() {
            let t_end = path.t_end;
            let r = |t: Option<f64>| t.unwrap_or(t_end).min(t_end);
            self.exit_difference
                .push(r(path.exit_time()) - r(reference.exit_time()));
        }
    }
}
