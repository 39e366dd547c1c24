//! The gradient signal-to-noise ratio a run visits (issue 8): ‖g(x)‖/√tr Σ_B(x) at every snapshot of every
//! path, in a fixed log-spaced histogram, so that its median is streaming, reproducible and mergeable (counts
//! add). It tells whether a normalised-gradient model that divides by the full gradient (`sam_fullbatch`,
//! `dnsam`) is in its regime of validity ‖g‖ ≫ √tr Σ_B, or whether the mini-batch SAM model `sam` (S-SAM-mb,
//! math spec §4.3) is needed.
//!
//! Resolution: [`BINS_PER_DECADE`] = 50 bins per decade on \[1e-8, 1e8\), so the reported median (the geometric
//! centre of the bin holding the lower median) is within a factor 10^{±1/100}, i.e. ±2.3 %, of the sample
//! median. Exact zeros (g = 0 with noise) have their own bin and report 0; values below 1e-8 report 1e-8, values
//! ≥ 1e8 (or Σ_B = 0 with g ≠ 0) report 1e8. Points where both vanish, or that are not finite, are counted
//! apart and excluded.

use super::Merge;
use crate::ensemble::{Observer, PathView};
use crate::model::{Model, NoiseScratch};
use serde::{Deserialize, Serialize};

/// Histogram bins per decade.
pub const BINS_PER_DECADE: usize = 50;
/// log10 of the lower edge of the first regular bin.
const LOG_LO: f64 = -8.0;
/// Decades covered by the regular bins.
const DECADES: usize = 16;
/// Regular bins.
const BINS: usize = BINS_PER_DECADE * DECADES;

/// What the observer evaluates at a snapshot: the model and buffers for g and the noise factor (not
/// serialised; a merged or deserialised histogram has none and only counts).
#[derive(Debug, Clone)]
struct Probe {
    model: Model,
    g: Vec<f64>,
    f: Vec<f64>,
    scratch: NoiseScratch,
}

/// Histogram of ‖g‖/√tr Σ_B over snapshots and paths.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SnrHistogram {
    /// Counts: \[0\] exact zeros, \[1\] below 1e-8, \[2..2+BINS\] the log bins, \[2+BINS\] ≥ 1e8.
    pub counts: Vec<u64>,
    /// Points where g = 0 and Σ_B = 0, or not finite (excluded from the median).
    pub undefined: u64,
    #[serde(skip)]
    probe: Option<Probe>,
}

impl PartialEq for SnrHistogram {
    fn eq(&self, o: &Self) -> bool {
        self.counts == o.counts && self.undefined == o.undefined
    }
}

impl SnrHistogram {
    /// An empty histogram that evaluates ‖g‖/√tr Σ_B on `model` at every snapshot.
    pub fn new(model: &Model) -> Self {
        let (d, m) = (model.dim(), model.columns());
        SnrHistogram {
            counts: vec![0; BINS + 3],
            undefined: 0,
            probe: Some(Probe {
                model: model.clone(),
                g: vec![0.0; d],
                f: vec![0.0; d * m],
                scratch: NoiseScratch::new(d, model.samples()),
            }),
        }
    }
    /// An empty histogram that observes nothing (no model attached).
    pub fn inactive() -> Self {
        SnrHistogram {
            counts: vec![0; BINS + 3],
            undefined: 0,
            probe: None,
        }
    }
    /// Counts one value of the ratio (NaN: undefined).
    pub fn push(&mut self, ratio: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BINS + 3];
        }
        let k = if ratio.is_nan() || ratio < 0.0 {
            self.undefined += 1;
            return;
        } else if ratio == 0.0 {
            0
        } else if ratio >= 1e8 {
            BINS + 2
        } else {
            let pos = (ratio.log10() - LOG_LO) * BINS_PER_DECADE as f64;
            if pos < 0.0 { 1 } else { 2 + (pos as usize).min(BINS - 1) }
        };
        self.counts[k] += 1;
    }
    /// Values counted (excluding undefined ones).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// The median (lower median: the ⌈n/2⌉-th smallest value), to ±2.3 % (see the module docs); None if empty.
    pub fn median(&self) -> Option<f64> {
        let n = self.total();
        if n == 0 {
            return None;
        }
        let want = n.div_ceil(2);
        let mut acc = 0;
        for (k, &c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= want {
                return Some(match k {
                    0 => 0.0,
                    1 => 10f64.powf(LOG_LO),
                    k if k == BINS + 2 => 1e8,
                    k => 10f64.powf(LOG_LO + ((k - 2) as f64 + 0.5) / BINS_PER_DECADE as f64),
                });
            }
        }
        None
    }
}

impl Merge for SnrHistogram {
    fn merge(&mut self, b: Self) {
        if self.counts.is_empty() {
            self.counts = vec![0; BINS + 3];
        }
        for (a, c) in self.counts.iter_mut().zip(&b.counts) {
            *a += c;
        }
        self.undefined += b.undefined;
    }
}

impl Observer for SnrHistogram {
    fn snapshot(&mut self, _path: &PathView<'_>, _j: usize, x: &[f64]) {
        let Some(p) = self.probe.as_mut() else { return };
        let l = p.model.landscape().as_ref();
        let d = p.model.dim();
        if x.len() != d {
            return;
        }
        l.gradient(x, &mut p.g);
        p.model.noise().factor(l, x, &mut p.f, &mut p.scratch);
        let gn = crate::linalg::norm(&p.g);
        let tr: f64 = p.f.iter().map(|v| v * v).sum();
        let ratio = if !(gn.is_finite() && tr.is_finite()) || (gn == 0.0 && tr == 0.0) {
            f64::NAN
        } else if tr == 0.0 {
            f64::INFINITY
        } else {
            gn / tr.sqrt()
        };
        self.push(ratio);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The median of known values lands in their bin (±2.3 %), zeros and extremes go to their own bins, and
    /// merging two halves equals counting everything in one histogram.
    #[test]
    fn median_resolution_and_merge() {
        let mut a = SnrHistogram::inactive();
        let mut b = SnrHistogram::inactive();
        let values: Vec<f64> = (1..=1001).map(|k| 0.01 * k as f64).collect(); // median 5.01
        for (i, v) in values.iter().enumerate() {
            if i % 2 == 0 { a.push(*v) } else { b.push(*v) }
        }
        let mut all = SnrHistogram::inactive();
        values.iter().for_each(|v| all.push(*v));
        a.merge(b);
        assert_eq!(a, all);
        let m = a.median().unwrap();
        assert!((m / 5.01 - 1.0).abs() < 0.024, "median {m}");
        let mut z = SnrHistogram::inactive();
        [0.0, 0.0, 3.0, f64::NAN].iter().for_each(|v| z.push(*v));
        assert_eq!((z.median(), z.undefined, z.total()), (Some(0.0), 1, 3));
        let mut big = SnrHistogram::inactive();
        [f64::INFINITY, 1e9, 1e-12].iter().for_each(|v| big.push(*v));
        assert_eq!(big.median(), Some(1e8));
        assert_eq!(SnrHistogram::inactive().median(), None);
    }
}
