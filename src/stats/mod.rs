//! Statistics: streaming, mergeable accumulators, each an [`Observer`] of the ensemble run. Each turns the
//! paths it is shown into sufficient statistics; blocks of paths are merged in a canonical order
//! ([`TreeFold`]), so a run's numbers do not depend on thread count, and shards of a run merge
//! bit-identically. Every accumulator is serialisable.
//!
//! [`DynamicsStats`] is the standard set a run collects per dynamics. Adding a statistic: write its
//! accumulator in its own file here (implement [`Merge`] and the [`Observer`] hooks it needs), add it as a
//! field of [`DynamicsStats`] and to [`DynamicsStats::new`], and read it where the report is summarised.

pub mod basins;
pub mod diverged;
pub mod exit_time;
pub mod moments;
pub mod paired;
pub mod samples;
pub mod snr;
pub mod welford;

pub use crate::ensemble::merge::{Merge, TreeFold};
pub use basins::{BasinCounts, BasinEstimate, clopper_pearson};
pub use diverged::Diverged;
pub use exit_time::{ExitEstimate, ExitTimes};
pub use moments::{MomentEstimate, Moments, Snapshots};
pub use paired::Paired;
pub use samples::{SamplePath, SamplePaths};
pub use snr::SnrHistogram;
pub use welford::{FULL_COVARIANCE_MAX_DIM, Welford, WelfordVec};

use crate::ensemble::{Entry, Observer, PathView, Plan};
use serde::{Deserialize, Serialize};

/// z-value of a two-sided 95 % normal interval.
pub const Z95: f64 = 1.959963984540054;

/// Reads a number that JSON may hold as null (serde_json writes NaN, a missing value, as null) back as NaN.
pub fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Declares a struct of observers and forwards [`Merge`] and every [`Observer`] hook to each field in order.
macro_rules! observer_set {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name { $($(#[$fmeta])* pub $field: $ty,)* }

        impl Merge for $name {
            fn merge(&mut self, b: Self) {
                $(self.$field.merge(b.$field);)*
            }
        }

        impl Observer for $name {
            const SNAPSHOTS: bool = false $(|| <$ty as Observer>::SNAPSHOTS)*;
            fn snapshot(&mut self, path: &PathView<'_>, j: usize, x: &[f64]) {
                $(self.$field.snapshot(path, j, x);)*
            }
            fn end_path(&mut self, path: &PathView<'_>) {
                $(self.$field.end_path(path);)*
            }
            fn paired(&mut self, path: &PathView<'_>, reference: &PathView<'_>) {
                $(self.$field.paired(path, reference);)*
            }
            fn block(&mut self, paths: &[PathView<'_>], reference: Option<&[PathView<'_>]>) {
                $(self.$field.block(paths, reference);)*
            }
        }
    };
}

observer_set! {
    /// What a run observes of one dynamics: the standard statistics of the report.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct DynamicsStats {
        /// Mean, covariance and MSD at every snapshot time.
        pub moments: Snapshots,
        /// Exit times (with an exit region).
        pub exit: Option<ExitTimes>,
        /// Basin classes.
        pub basins: BasinCounts,
        /// Diverged paths.
        pub diverged: Diverged,
        /// The first paths, stored.
        pub samples: SamplePaths,
        /// Paired differences against the first dynamics (all but the first).
        pub paired: Option<Paired>,
        /// ‖g‖/√tr Σ_B at every snapshot (active once a model is attached, [`DynamicsStats::with_snr`]).
        #[serde(default)]
        pub snr: SnrHistogram,
    }
}

impl DynamicsStats {
    /// The empty set for dynamics `k` of a run of `entries` under `plan` with horizon `t_end`, keeping the
    /// first `sample_paths` paths. Exit times are censored at the dynamics' own last time (`t_end`, or the
    /// last whole step of a discrete optimizer before it).
    pub fn new(k: usize, entries: &[Entry], plan: &Plan, t_end: f64, sample_paths: u64) -> Self {
        let schedule = &entries[k].schedule;
        let snapshots = schedule.snapshot_steps.len();
        DynamicsStats {
            moments: Snapshots::new(plan.start.len(), snapshots),
            exit: plan.region.as_ref().map(|_| ExitTimes::new(schedule.t_end.min(t_end))),
            basins: BasinCounts::new(plan.basins.len()),
            diverged: Diverged::new(snapshots),
            samples: SamplePaths::new(sample_paths),
            paired: (k > 0).then(|| Paired::new(entries[0].schedule.snapshot_steps.len())),
            snr: SnrHistogram::inactive(),
        }
    }
    /// Also records the gradient signal-to-noise ratio ‖g‖/√tr Σ_B of `model` at every snapshot.
    pub fn with_snr(mut self, model: &crate::model::Model) -> Self {
        self.snr = SnrHistogram::new(model);
        self
    }
}
