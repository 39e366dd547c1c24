//! First exit times from the saddle's neighbourhood, with right-censoring at the horizon T.
//!
//! Every path contributes either an exit time τ ≤ T or a censored observation at T (type-I censoring: all
//! censoring times equal T). A path that diverges before it exits counts as an exit at its divergence time
//! (it left every bounded neighbourhood then; the lane loop records it so).
//!
//! The accumulator keeps the exit times themselves, as the distinct values in increasing order with their
//! multiplicities (a path's exit time is a whole or half step, so many paths share a value). Under type-I
//! censoring the Kaplan–Meier estimator is the empirical survival function on [0, T], and every estimate below
//! is computed exactly from these events:
//! - the Kaplan–Meier curve Ŝ(t) at every event time ([`ExitTimes::survival`]);
//! - quantiles and the median as exact order statistics: the q-quantile is τ₍ₖ₎ with k = ⌈qn⌉ (n all paths,
//!   censored ones included), i.e. inf{t : Ŝ(t) ≤ 1 − q}, missing when fewer than k paths exited by T;
//! - the mean of τ with SE s/√n and a normal 95 % interval, only when no path was censored;
//! - always, the restricted mean E[min(τ, T)] = ∫₀ᵀ S(t) dt (the area under the KM curve) with the SE of
//!   the sample mean of min(τ, T) (exact under type-I censoring, where min(τ, T) is observed for every path).
//!   With censored paths it is a lower bound of the mean and is reported under its own name.
//!
//! Memory: 16 bytes per distinct exit time, at most min(exits, 2·steps + 1) values per dynamics (whole steps,
//! and half steps with the Brownian-bridge correction): 10⁶ paths take ≤ 16 MB, 10⁷ ≤ 160 MB. Merging two
//! accumulators is a sorted merge, so the merged events are the same multiset in the same order whatever the
//! block tree, and every estimate (summed in increasing order of τ) is bit-identical at any thread count and
//! across shards.

use super::{Merge, Z95};
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// The quantile levels reported besides the median.
pub const QUANTILES: [f64; 4] = [0.1, 0.25, 0.75, 0.9];

/// Exit-time accumulator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitTimes {
    /// Horizon T (the dynamics' last time).
    pub t_end: f64,
    /// Distinct exit times τ ≤ T in increasing order, each with the number of paths that exited then.
    pub events: Vec<(f64, u64)>,
    /// Paths not exited by T.
    pub censored: u64,
    /// Paths whose exit is their divergence.
    pub diverged: u64,
}

/// What the exit-time accumulator estimates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExitEstimate {
    /// Paths that exited by T (diverged paths included, at their divergence time).
    pub exited: u64,
    /// Paths censored at T.
    pub censored: u64,
    /// censored / paths (null without paths).
    #[serde(default)]
    pub censored_fraction: Option<f64>,
    /// Exits that were divergences (counted at the divergence time).
    #[serde(default)]
    pub diverged: u64,
    /// The horizon T of the censoring.
    #[serde(default)]
    pub horizon: f64,
    /// Mean exit time E τ: only when no path was censored (null otherwise: it is not estimable).
    pub mean_time: Option<f64>,
    /// Its standard error.
    pub mean_time_stderr: Option<f64>,
    /// Normal 95 % interval of the mean.
    pub ci95: Option<[f64; 2]>,
    /// Restricted mean E[min(τ, T)] (equal to the mean when nothing is censored).
    #[serde(default)]
    pub restricted_mean_time: Option<f64>,
    /// Its standard error.
    #[serde(default)]
    pub restricted_mean_time_stderr: Option<f64>,
    /// Normal 95 % interval of the restricted mean.
    #[serde(default)]
    pub restricted_ci95: Option<[f64; 2]>,
    /// Median exit time τ₍⌈n/2⌉₎ (null if fewer than half exited).
    pub median_time: Option<f64>,
    /// (q, τ₍⌈qn⌉₎) for q = 0.1, 0.25, 0.75, 0.9 (null where fewer than ⌈qn⌉ exited by T).
    pub quantiles: Vec<(f64, Option<f64>)>,
    /// The headline estimator: "mean" (nothing censored) or "restricted_mean".
    pub estimator: String,
}

impl ExitEstimate {
    /// The headline value with its SE and interval: the mean when nothing was censored, otherwise the
    /// restricted mean E[min(τ, T)] (never called a mean).
    pub fn headline(&self) -> (Option<f64>, Option<f64>, Option<[f64; 2]>) {
        if self.censored == 0 {
            (self.mean_time, self.mean_time_stderr, self.ci95)
        } else {
            (
                self.restricted_mean_time,
                self.restricted_mean_time_stderr,
                self.restricted_ci95,
            )
        }
    }
}

impl ExitTimes {
    /// Empty, for horizon T.
    pub fn new(t_end: f64) -> Self {
        ExitTimes {
            t_end,
            events: Vec::new(),
            censored: 0,
            diverged: 0,
        }
    }
    /// Adds one path: `Some(τ)` if it exited, `None` if censored. O(k) for k distinct times held (the runner
    /// pushes at most one block of paths into an accumulator; blocks are merged).
    pub fn push(&mut self, tau: Option<f64>) {
        match tau {
            Some(t) => match self.events.binary_search_by(|e| e.0.total_cmp(&t)) {
                Ok(i) => self.events[i].1 += 1,
                Err(i) => self.events.insert(i, (t, 1)),
            },
            None => self.censored += 1,
        }
    }
    /// Paths that exited.
    pub fn exited(&self) -> u64 {
        self.events.iter().map(|e| e.1).sum()
    }
    /// Total paths.
    pub fn total(&self) -> u64 {
        self.exited() + self.censored
    }
    /// The Kaplan–Meier curve at every event time: (t, Ŝ(t), at risk just before t, exits at t), starting
    /// at (0, 1, n, 0) (unless paths exit at 0) and ending at (T, censored/n, censored, 0) when the last exit is
    /// before T. Empty without paths.
    pub fn survival(&self) -> Vec<(f64, f64, u64, u64)> {
        let n = self.total();
        if n == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(self.events.len() + 2);
        if self.events.first().is_none_or(|e| e.0 > 0.0) {
            out.push((0.0, 1.0, n, 0));
        }
        let mut at_risk = n;
        for &(t, c) in &self.events {
            let left = at_risk - c;
            out.push((t, left as f64 / n as f64, at_risk, c));
            at_risk = left;
        }
        if self.events.last().is_none_or(|e| e.0 < self.t_end) {
            out.push((self.t_end, at_risk as f64 / n as f64, at_risk, 0));
        }
        out
    }
    /// The exact order statistic τ₍ₖ₎ with k = ⌈qn⌉ (None if fewer than k paths exited by T).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.total();
        if n == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        // ⌈qn⌉, robust to qn landing a rounding error above a whole number.
        let k = ((q * n as f64 - 1e-9).ceil() as u64).max(1);
        let mut cum = 0;
        for &(t, c) in &self.events {
            cum += c;
            if cum >= k {
                return Some(t);
            }
        }
        None
    }
    /// Mean and unbiased variance of the values v(τ) over the exits plus `extra` copies of `at` (two passes,
    /// summed in increasing order of τ).
    fn mean_var(&self, v: impl Fn(f64) -> f64, extra: u64, at: f64) -> (f64, f64, u64) {
        let n = self.exited() + extra;
        if n == 0 {
            return (f64::NAN, f64::NAN, 0);
        }
        let sum: f64 = self.events.iter().map(|&(t, c)| v(t) * c as f64).sum::<f64>() + at * extra as f64;
        let mean = sum / n as f64;
        let ss: f64 = self
            .events
            .iter()
            .map(|&(t, c)| (v(t) - mean).powi(2) * c as f64)
            .sum::<f64>()
            + (at - mean).powi(2) * extra as f64;
        let var = if n < 2 { f64::NAN } else { ss / (n - 1) as f64 };
        (mean, var, n)
    }
    /// The estimates.
    pub fn estimate(&self) -> ExitEstimate {
        let t_end = self.t_end;
        let n = self.total();
        let interval = |(m, var, n): (f64, f64, u64)| {
            let se = (var / n as f64).sqrt();
            let m = (n > 0 && m.is_finite()).then_some(m);
            let se = se.is_finite().then_some(se);
            (m, se, m.zip(se).map(|(m, s)| [m - Z95 * s, m + Z95 * s]))
        };
        let (mean, se, ci) = if self.censored == 0 {
            interval(self.mean_var(|t| t, 0, 0.0))
        } else {
            (None, None, None)
        };
        let (rmean, rse, rci) = interval(self.mean_var(|t| t.min(t_end), self.censored, t_end));
        ExitEstimate {
            exited: self.exited(),
            censored: self.censored,
            censored_fraction: (n > 0).then(|| self.censored as f64 / n as f64),
            diverged: self.diverged,
            horizon: t_end,
            mean_time: mean,
            mean_time_stderr: se,
            ci95: ci,
            restricted_mean_time: rmean,
            restricted_mean_time_stderr: rse,
            restricted_ci95: rci,
            median_time: self.quantile(0.5),
            quantiles: QUANTILES.iter().map(|&q| (q, self.quantile(q))).collect(),
            estimator: if self.censored == 0 { "mean" } else { "restricted_mean" }.to_string(),
        }
    }
}

impl Merge for ExitTimes {
    /// A sorted merge of the events (equal times pooled): the result depends only on the multiset of times.
    fn merge(&mut self, b: Self) {
        self.censored += b.censored;
        self.diverged += b.diverged;
        if b.events.is_empty() {
            return;
        }
        let a = std::mem::take(&mut self.events);
        let mut out = Vec::with_capacity(a.len() + b.events.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.events.len() {
            match a[i].0.total_cmp(&b.events[j].0) {
                std::cmp::Ordering::Less => {
                    out.push(a[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(b.events[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    out.push((a[i].0, a[i].1 + b.events[j].1));
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b.events[j..]);
        self.events = out;
    }
}

/// Every path contributes its exit time (a divergence before the exit is the exit), or a censored
/// observation at T.
impl Observer for ExitTimes {
    const SNAPSHOTS: bool = false;
    fn end_path(&mut self, path: &PathView<'_>) {
        let exit = path.exit_time();
        if let (Some(t), Some(d)) = (exit, path.diverged_at())
            && t >= d
        {
            self.diverged += 1;
        }
        self.push(exit.map(|t| t.min(self.t_end)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(times: &[Option<f64>], t_end: f64) -> ExitTimes {
        let mut e = ExitTimes::new(t_end);
        times.iter().for_each(|&t| e.push(t));
        e
    }

    /// Order statistics, KM rows and means on a hand-checked sample of 10 paths (2 censored at T = 10).
    #[test]
    fn exact_estimates_on_a_small_sample() {
        let times = [3.0, 1.0, 2.0, 2.0, 7.0, 4.0, 9.0, 5.0];
        let mut all: Vec<Option<f64>> = times.iter().map(|&t| Some(t)).collect();
        all.extend([None, None]);
        let e = of(&all, 10.0);
        // Sorted: 1 2 2 3 4 5 7 9 | 10 10 (censored). ⌈0.5·10⌉ = 5 → 4; ⌈0.1·10⌉ = 1 → 1; ⌈0.75·10⌉ = 8 → 9;
        // ⌈0.9·10⌉ = 9 > 8 exits → None.
        assert_eq!(e.quantile(0.5), Some(4.0));
        assert_eq!(e.quantile(0.1), Some(1.0));
        assert_eq!(e.quantile(0.25), Some(2.0));
        assert_eq!(e.quantile(0.75), Some(9.0));
        assert_eq!(e.quantile(0.9), None);
        let est = e.estimate();
        assert_eq!(
            (est.exited, est.censored, est.estimator.as_str()),
            (8, 2, "restricted_mean")
        );
        assert_eq!(est.mean_time, None, "the mean is not estimable with censored paths");
        let rm = (1.0 + 2.0 + 2.0 + 3.0 + 4.0 + 5.0 + 7.0 + 9.0 + 20.0) / 10.0;
        assert!((est.restricted_mean_time.unwrap() - rm).abs() < 1e-14);
        // The restricted mean is the area under the KM curve.
        let km = e.survival();
        let area: f64 = km.windows(2).map(|w| w[0].1 * (w[1].0 - w[0].0)).sum();
        assert!((area - rm).abs() < 1e-12, "{area} vs {rm}");
        assert_eq!(km.first().unwrap(), &(0.0, 1.0, 10, 0));
        assert_eq!(km[2], (2.0, 0.7, 9, 2));
        assert_eq!(km.last().unwrap(), &(10.0, 0.2, 2, 0));
        // Without censoring: the ordinary mean with s/√n.
        let e = of(&times.map(Some), 10.0).estimate();
        let m = times.iter().sum::<f64>() / 8.0;
        let s2 = times.iter().map(|t| (t - m).powi(2)).sum::<f64>() / 7.0;
        assert!((e.mean_time.unwrap() - m).abs() < 1e-14);
        assert!((e.mean_time_stderr.unwrap() - (s2 / 8.0).sqrt()).abs() < 1e-14);
        assert_eq!(e.restricted_mean_time, e.mean_time);
        assert_eq!(e.median_time, Some(3.0));
    }

    /// Merging in any grouping gives the same events, bit for bit, as one accumulator of all paths.
    #[test]
    fn merge_is_exact_in_any_order() {
        let xs: Vec<Option<f64>> = (0..997)
            .map(|i| ((i * 7919) % 613 != 0).then(|| ((i * 31) % 101) as f64 * 0.125))
            .collect();
        let all = of(&xs, 20.0);
        let mut left = of(&xs[..300], 20.0);
        let mut mid = of(&xs[300..301], 20.0);
        mid.merge(of(&xs[301..], 20.0));
        left.merge(mid);
        assert_eq!(left, all);
        let mut rev = of(&xs[500..], 20.0);
        rev.merge(of(&xs[..500], 20.0));
        assert_eq!(rev, all);
        assert_eq!(all.total(), 997);
    }
}
