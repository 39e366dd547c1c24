//! Paths that diverged: their state became non-finite or exceeded the plan's blow-up bound. A diverged path
//! is an outcome that is counted, not an error; it counts as diverged even if it reached an attractor or
//! exited before (and, with an exit region, as an exit at its divergence time if it had not exited yet).
//!
//! Statistics of the paths still running at a time t describe the survivors only; the report withholds them
//! (null) when more than [`MAX_DIVERGED_FRACTION`] of the paths had diverged by t, using the counts per
//! snapshot kept here.

use super::Merge;
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// Above this fraction of diverged paths, moments of the survivors are not reported (null).
pub const MAX_DIVERGED_FRACTION: f64 = 0.01;

/// Count of diverged paths, in total and by each snapshot time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diverged {
    /// Paths that diverged.
    pub count: u64,
    /// Paths observed.
    #[serde(default)]
    pub paths: u64,
    /// Paths diverged at or before snapshot j (not running then because they diverged).
    #[serde(default)]
    pub by_snapshot: Vec<u64>,
}

impl Diverged {
    /// Empty, for `snapshots` snapshot times.
    pub fn new(snapshots: usize) -> Self {
        Diverged {
            count: 0,
            paths: 0,
            by_snapshot: vec![0; snapshots],
        }
    }
    /// Whether the diverged fraction by snapshot j (the last snapshot for `None`) exceeds
    /// [`MAX_DIVERGED_FRACTION`], so that the survivors' moments must not be reported.
    pub fn too_many(&self, j: Option<usize>) -> bool {
        let k = match j {
            Some(j) => self.by_snapshot.get(j).copied().unwrap_or(self.count),
            None => self.count,
        };
        self.paths > 0 && k as f64 > MAX_DIVERGED_FRACTION * self.paths as f64
    }
}

impl Merge for Diverged {
    fn merge(&mut self, b: Self) {
        self.count += b.count;
        self.paths += b.paths;
        if self.by_snapshot.len() < b.by_snapshot.len() {
            self.by_snapshot.resize(b.by_snapshot.len(), 0);
        }
        for (a, c) in self.by_snapshot.iter_mut().zip(b.by_snapshot) {
            *a += c;
        }
    }
}

impl Observer for Diverged {
    const SNAPSHOTS: bool = false;
    fn end_path(&mut self, path: &PathView<'_>) {
        self.paths += 1;
        if path.diverged_at().is_some() {
            self.count += 1;
            // A diverged path runs until it diverges: every snapshot it missed is after its divergence.
            for (j, n) in self.by_snapshot.iter_mut().enumerate() {
                if path.position(j).is_none() {
                    *n += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The withholding rule is "more than 1 %": 2 of 200 diverged (exactly 1 %) keeps the survivors' moments,
    /// 3 of 200 withholds them; per snapshot, the count by that snapshot decides (a late divergence does not
    /// withhold earlier snapshots); merged shards decide on the pooled counts.
    #[test]
    fn moments_are_withheld_above_one_percent_diverged() {
        let at = |count: u64, by_snapshot: Vec<u64>| Diverged {
            count,
            paths: 200,
            by_snapshot,
        };
        assert!(!at(2, vec![0, 2]).too_many(None));
        assert!(at(3, vec![0, 3]).too_many(None));
        let late = at(5, vec![0, 1, 5]);
        assert!(!late.too_many(Some(0)) && !late.too_many(Some(1)) && late.too_many(Some(2)));
        // An index past the stored snapshots falls back to the total.
        assert!(late.too_many(Some(7)));
        assert!(
            !Diverged::new(3).too_many(None),
            "no paths observed: nothing to withhold"
        );
        let mut a = at(2, vec![1, 2]);
        a.merge(at(2, vec![0, 2]));
        assert_eq!((a.count, a.paths, a.by_snapshot.clone()), (4, 400, vec![1, 4]));
        assert!(!a.too_many(None), "4 of 400 is 1 %");
        a.merge(at(3, vec![1, 3]));
        assert!(
            a.too_many(None) && !a.too_many(Some(0)),
            "7 of 600 > 1 %; 2 of 600 by snapshot 0 is not"
        );
    }
}
