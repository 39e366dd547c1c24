//! Observers: streaming, mergeable accumulators (architecture lesson 8). Each turns the per-path records
//! of a block of paths into sufficient statistics; blocks are merged in a canonical order ([`TreeFold`]),
//! so a run's numbers do not depend on thread count, and shards of a run can be merged bit-identically.

pub mod basins;
pub mod exit_time;
pub mod merge;
pub mod moments;
pub mod welford;

pub use basins::{BasinCounts, BasinEstimate};
pub use exit_time::{ExitEstimate, ExitTimes};
pub use merge::{Merge, TreeFold};
pub use moments::{MomentEstimate, Moments};
pub use welford::{Welford, WelfordVec};

/// z-value of a two-sided 95 % normal interval.
pub const Z95: f64 = 1.959963984540054;
