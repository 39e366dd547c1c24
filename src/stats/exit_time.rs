//! First exit times from the saddle's neighbourhood, with right-censoring at t_end.
//!
//! Every path contributes either an exit time τ ≤ T or a censored observation at T (type-I censoring: all
//! censoring times equal). Under this censoring the Kaplan–Meier estimator is the empirical survival
//! function on [0, T], computed here exactly at the histogram's bin edges. Estimators:
//! - all exited: the sample mean of τ with standard error s/√n and a normal 95 % interval;
//! - some censored: the restricted mean E[min(τ, T)] = ∫₀ᵀ S(t) dt (the area under the KM curve), a lower
//!   bound of the mean, with its standard error; the report names the estimator used.
//!
//! Median and quantiles are read off the histogram (resolution T/bins, linear inside a bin); a quantile
//! beyond the exited fraction is reported as missing.

use super::{Merge, Welford, Z95};
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// Number of histogram bins on [0, T].
pub const EXIT_BINS: usize = 400;

/// Exit-time accumulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitTimes {
    /// Horizon T (t_end).
    pub t_end: f64,
    /// τ over exited paths.
    pub exited: Welford,
    /// min(τ, T) over all observed paths.
    pub restricted: Welford,
    /// Paths not exited by T.
    pub censored: u64,
    /// Histogram of τ on [0, T] in [`EXIT_BINS`] equal bins.
    pub hist: Vec<u64>,
}

/// What the exit-time accumulator estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitEstimate {
    /// Paths that exited by T.
    pub exited: u64,
    /// Paths censored at T.
    pub censored: u64,
    /// Mean exit time (or restricted mean, see `estimator`).
    pub mean_time: Option<f64>,
    /// Its standard error.
    pub mean_time_stderr: Option<f64>,
    /// Normal 95 % interval of the mean.
    pub ci95: Option<[f64; 2]>,
    /// Median exit time (None if fewer than half exited).
    pub median_time: Option<f64>,
    /// 10 %, 25 %, 75 %, 90 % quantiles (None where not reached by T).
    pub quantiles: Vec<(f64, Option<f64>)>,
    /// "mean" or "restricted_mean".
    pub estimator: String,
}

impl ExitTimes {
    /// Empty, for horizon T.
    pub fn new(t_end: f64) -> Self {
        ExitTimes {
            t_end,
            exited: Welford::default(),
            restricted: Welford::default(),
            censored: 0,
            hist: vec![0; EXIT_BINS],
        }
    }
    /// Adds one path: `Some(τ)` if it exited, `None` if censored.
    pub fn push(&mut self, tau: Option<f64>) {
        match tau {
            Some(t) => {
                self.exited.push(t);
                self.restricted.push(t.min(self.t_end));
                let b = ((t / self.t_end) * EXIT_BINS as f64).floor() as usize;
                self.hist[b.min(EXIT_BINS - 1)] += 1;
            }
            None => {
                self.censored += 1;
                self.restricted.push(self.t_end);
            }
        }
    }
    /// Total paths.
    pub fn total(&self) -> u64 {
        self.exited.n + self.censored
    }
    /// Kaplan–Meier survival S(t) at the bin edges: (t, S(t), at risk just before t).
    pub fn survival(&self) -> Vec<(f64, f64, u64)> {
        let n = self.total();
        let mut out = Vec::with_capacity(EXIT_BINS + 1);
        let mut left = n;
        out.push((0.0, 1.0, n));
        for (b, c) in self.hist.iter().enumerate() {
            left -= c;
            let t = (b + 1) as f64 * self.t_end / EXIT_BINS as f64;
            out.push((t, if n == 0 { f64::NAN } else { left as f64 / n as f64 }, left));
        }
        out
    }
    /// The q-quantile of τ from the histogram (None if fewer than a fraction q exited).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.total();
        if n == 0 {
            return None;
        }
        let target = q * n as f64;
        let w = self.t_end / EXIT_BINS as f64;
        let mut cum = 0.0;
        for (b, &c) in self.hist.iter().enumerate() {
            if c > 0 && cum + c as f64 >= target {
                return Some(b as f64 * w + w * ((target - cum) / c as f64).clamp(0.0, 1.0));
            }
            cum += c as f64;
        }
        None
    }
    /// The estimates.
    pub fn estimate(&self) -> ExitEstimate {
        let (mean, se, estimator) = if self.censored == 0 {
            (self.exited.mean, self.exited.stderr(), "mean")
        } else {
            (self.restricted.mean, self.restricted.stderr(), "restricted_mean")
        };
        let ok = self.total() > 1 && mean.is_finite();
        ExitEstimate {
            exited: self.exited.n,
            censored: self.censored,
            mean_time: ok.then_some(mean),
            mean_time_stderr: (ok && se.is_finite()).then_some(se),
            ci95: (ok && se.is_finite()).then_some([mean - Z95 * se, mean + Z95 * se]),
            median_time: self.quantile(0.5),
            quantiles: [0.1, 0.25, 0.75, 0.9].iter().map(|&q| (q, self.quantile(q))).collect(),
            estimator: estimator.to_string(),
        }
    }
}

impl Merge for ExitTimes {
    fn merge(&mut self, b: Self) {
        self.exited.merge(b.exited);
        self.restricted.merge(b.restricted);
        self.censored += b.censored;
        for (a, c) in self.hist.iter_mut().zip(b.hist) {
            *a += c;
        }
    }
}

/// Every path that did not diverge before exiting contributes its exit time, or a censored observation.
impl Observer for ExitTimes {
    fn end_path(&mut self, path: &PathView<'_>) {
        if path.diverged_at().is_none() || path.exit_time().is_some() {
            self.push(path.exit_time());
        }
    }
}
