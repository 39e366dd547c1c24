//! Paths that diverged: their state became non-finite or exceeded the plan's blow-up bound. A diverged path
//! is an outcome that is counted, not an error.

use super::Merge;
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// Count of diverged paths.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diverged {
    /// Paths that diverged.
    pub count: u64,
}

impl Merge for Diverged {
    fn merge(&mut self, b: Self) {
        self.count += b.count;
    }
}

impl Observer for Diverged {
    fn end_path(&mut self, path: &PathView<'_>) {
        if path.diverged_at().is_some() {
            self.count += 1;
        }
    }
}
