//! Sample paths: the first k paths of a dynamics, stored at the snapshot times (for trajectory figures and
//! `paths.csv`). Nothing else stores whole paths.

use super::Merge;
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// A stored path: its position at each snapshot (None once it had stopped or diverged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePath {
    /// Path index.
    pub path: u64,
    /// Position per snapshot.
    pub points: Vec<Option<Vec<f64>>>,
}

/// The paths with index below `limit`, in index order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePaths {
    /// How many paths to keep (the first `limit` indices).
    pub limit: u64,
    /// The stored paths.
    pub paths: Vec<SamplePath>,
}

impl SamplePaths {
    /// Keeps the first `limit` paths.
    pub fn new(limit: u64) -> Self {
        SamplePaths {
            limit,
            paths: Vec::new(),
        }
    }
}

/// Blocks cover consecutive path indices, so appending keeps index order.
impl Merge for SamplePaths {
    fn merge(&mut self, b: Self) {
        self.paths.extend(b.paths);
    }
}

impl Observer for SamplePaths {
    const SNAPSHOTS: bool = false;
    fn end_path(&mut self, path: &PathView<'_>) {
        if path.index < self.limit {
            self.paths.push(SamplePath {
                path: path.index,
                points: (0..path.record.alive.len())
                    .map(|j| path.position(j).map(<[f64]>::to_vec))
                    .collect(),
            });
        }
    }
}
