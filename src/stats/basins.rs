//! Basin probabilities: the attractor each path reaches first (a ball around each minimum), or "trapped"
//! (never reached one and inside the saddle's neighbourhood at t_end), "unresolved" (neither), or
//! "diverged". Probabilities are counts / paths with exact Clopper–Pearson 95 % intervals
//! (Beta quantiles from statrs); the classes sum to the number of paths.

use super::Merge;
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF};

/// Counts per class: one per attractor, then trapped, unresolved, diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasinCounts {
    /// Count per attractor.
    pub attractors: Vec<u64>,
    /// Trapped at the saddle.
    pub trapped: u64,
    /// Left the saddle but reached no attractor by t_end.
    pub unresolved: u64,
    /// Diverged.
    pub diverged: u64,
}

/// One class's probability estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasinEstimate {
    /// Class label (the attractor's label, or trapped / unresolved / diverged).
    pub label: String,
    /// The attractor's centre (None for the other classes).
    pub point: Option<Vec<f64>>,
    /// Paths in the class.
    pub count: u64,
    /// count / paths (NaN, written as null, without paths).
    #[serde(deserialize_with = "super::nan_if_null")]
    pub probability: f64,
    /// Clopper–Pearson 95 % interval.
    pub ci95: [f64; 2],
}

/// Exact (Clopper–Pearson) two-sided 95 % interval for k successes in n trials.
pub fn clopper_pearson(k: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (kf, nf) = (k as f64, n as f64);
    let lo = if k == 0 {
        0.0
    } else {
        Beta::new(kf, nf - kf + 1.0)
            .map(|b| b.inverse_cdf(0.025))
            .unwrap_or(0.0)
    };
    let hi = if k == n {
        1.0
    } else {
        Beta::new(kf + 1.0, nf - kf)
            .map(|b| b.inverse_cdf(0.975))
            .unwrap_or(1.0)
    };
    [lo, hi]
}

impl BasinCounts {
    /// Empty, for `k` attractors.
    pub fn new(k: usize) -> Self {
        BasinCounts {
            attractors: vec![0; k],
            trapped: 0,
            unresolved: 0,
            diverged: 0,
        }
    }
    /// Total paths.
    pub fn total(&self) -> u64 {
        self.attractors.iter().sum::<u64>() + self.trapped + self.unresolved + self.diverged
    }
    /// Estimates, labelled with the attractors' labels and centres.
    pub fn estimate(&self, labels: &[(String, Vec<f64>)]) -> Vec<BasinEstimate> {
        let n = self.total();
        let p = |k: u64| {
            if n == 0 { f64::NAN } else { k as f64 / n as f64 }
        };
        let mut out: Vec<BasinEstimate> = self
            .attractors
            .iter()
            .zip(labels)
            .map(|(&k, (label, c))| BasinEstimate {
                label: label.clone(),
                point: Some(c.clone()),
                count: k,
                probability: p(k),
                ci95: clopper_pearson(k, n),
            })
            .collect();
        for (label, k) in [
            ("trapped", self.trapped),
            ("unresolved", self.unresolved),
            ("diverged", self.diverged),
        ] {
            out.push(BasinEstimate {
                label: label.into(),
                point: None,
                count: k,
                probability: p(k),
                ci95: clopper_pearson(k, n),
            });
        }
        out
    }
}

impl Merge for BasinCounts {
    fn merge(&mut self, b: Self) {
        for (a, c) in self.attractors.iter_mut().zip(b.attractors) {
            *a += c;
        }
        self.trapped += b.trapped;
        self.unresolved += b.unresolved;
        self.diverged += b.diverged;
    }
}

/// Each path is counted once: diverged (even after reaching an attractor), else its first attractor, else trapped (inside the plan's trap
/// region at its end: the exit region, or the basin-radius ball around the saddle), else unresolved.
impl Observer for BasinCounts {
    const SNAPSHOTS: bool = false;
    fn end_path(&mut self, path: &PathView<'_>) {
        let r = path.record;
        match (r.basin, r.diverged_at) {
            (_, Some(_)) => self.diverged += 1,
            (Some((a, _)), None) => self.attractors[a] += 1,
            (None, None) if path.plan.trapped(&r.final_pos) => self.trapped += 1,
            _ => self.unresolved += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_known_values() {
        // 5 of 10: (0.187086, 0.812914) (standard tables).
        let [lo, hi] = clopper_pearson(5, 10);
        assert!(
            (lo - 0.187086).abs() < 1e-5 && (hi - 0.812914).abs() < 1e-5,
            "{lo} {hi}"
        );
        assert_eq!(clopper_pearson(0, 10)[0], 0.0);
        // 0 of 10: upper = 1 − 0.025^(1/10) = 0.308497
        assert!((clopper_pearson(0, 10)[1] - 0.308497).abs() < 1e-5);
    }
}
