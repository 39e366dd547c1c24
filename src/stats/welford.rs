//! Welford's streaming mean and variance, with Chan et al.'s pairwise merge:
//! n = n_a + n_b, δ = μ_b − μ_a, μ = μ_a + δ n_b/n, M₂ = M₂ₐ + M₂ᵦ + δ² n_a n_b / n.

use super::Merge;
use serde::{Deserialize, Serialize};

/// Scalar running mean and second central moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Welford {
    /// Count.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Welford {
    /// Adds one observation.
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }
    /// Unbiased sample variance (0 for n < 2).
    pub fn variance(&self) -> f64 {
        if self.n < 2 { 0.0 } else { self.m2 / (self.n - 1) as f64 }
    }
    /// Standard error of the mean, √(s²/n).
    pub fn stderr(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            (self.variance() / self.n as f64).sqrt()
        }
    }
}

impl Merge for Welford {
    fn merge(&mut self, b: Self) {
        if b.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = b;
            return;
        }
        let n = self.n + b.n;
        let delta = b.mean - self.mean;
        self.mean += delta * b.n as f64 / n as f64;
        self.m2 += b.m2 + delta * delta * (self.n as f64) * (b.n as f64) / n as f64;
        self.n = n;
    }
}

/// Vector running mean and co-moments (for the covariance of a d-dimensional cloud): the full d×d co-moment
/// matrix up to [`FULL_COVARIANCE_MAX_DIM`], above it only its diagonal (O(d) per observation and memory; a
/// d×d matrix per snapshot time would cost d² per path and gigabytes at d = 1000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelfordVec {
    /// Count.
    pub n: u64,
    /// Mean (d).
    pub mean: Vec<f64>,
    /// Co-moment Σ (x−μ)(x−μ)ᵀ, row-major d×d; or its diagonal Σ (xᵢ−μᵢ)² (d entries) when d >
    /// [`FULL_COVARIANCE_MAX_DIM`].
    pub m2: Vec<f64>,
}

/// Largest dimension whose full covariance [`WelfordVec`] keeps (beyond it: the variances only).
pub const FULL_COVARIANCE_MAX_DIM: usize = 100;

impl WelfordVec {
    /// Empty, for dimension d: the full co-moment matrix for d ≤ [`FULL_COVARIANCE_MAX_DIM`], else its diagonal.
    pub fn new(d: usize) -> Self {
        WelfordVec {
            n: 0,
            mean: vec![0.0; d],
            m2: vec![0.0; if d <= FULL_COVARIANCE_MAX_DIM { d * d } else { d }],
        }
    }
    /// Whether the full d×d co-moment matrix is kept.
    pub fn is_full(&self) -> bool {
        self.m2.len() == self.mean.len() * self.mean.len()
    }
    /// Adds one observation; `delta` is a scratch vector of length d.
    #[inline]
    pub fn push(&mut self, x: &[f64], delta: &mut [f64]) {
        let d = x.len();
        self.n += 1;
        let inv = 1.0 / self.n as f64;
        for i in 0..d {
            delta[i] = x[i] - self.mean[i];
            self.mean[i] += delta[i] * inv;
        }
        if !self.is_full() {
            for i in 0..d {
                self.m2[i] += delta[i] * (x[i] - self.mean[i]);
            }
            return;
        }
        for i in 0..d {
            let after = x[i] - self.mean[i];
            for j in 0..d {
                self.m2[j * d + i] += delta[j] * after;
            }
        }
    }
    /// Unbiased covariance (row-major d×d), when the full co-moment matrix is kept ([`WelfordVec::is_full`]).
    pub fn covariance(&self) -> Option<Vec<f64>> {
        if !self.is_full() {
            return None;
        }
        let c = if self.n < 2 { 0.0 } else { 1.0 / (self.n - 1) as f64 };
        let d = self.mean.len();
        let mut out = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                // symmetrise the rounding
                out[i * d + j] = 0.5 * (self.m2[i * d + j] + self.m2[j * d + i]) * c;
            }
        }
        Some(out)
    }
    /// Unbiased variance of each coordinate (the diagonal of the covariance), in either mode.
    pub fn variances(&self) -> Vec<f64> {
        let c = if self.n < 2 { 0.0 } else { 1.0 / (self.n - 1) as f64 };
        let d = self.mean.len();
        let full = self.is_full();
        (0..d)
            .map(|i| c * if full { self.m2[i * d + i] } else { self.m2[i] })
            .collect()
    }
}

impl Merge for WelfordVec {
    fn merge(&mut self, b: Self) {
        if b.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = b;
            return;
        }
        let d = self.mean.len();
        let n = self.n + b.n;
        let w = (self.n as f64) * (b.n as f64) / n as f64;
        let delta: Vec<f64> = (0..d).map(|i| b.mean[i] - self.mean[i]).collect();
        if self.is_full() {
            for i in 0..d {
                for j in 0..d {
                    self.m2[i * d + j] += b.m2[i * d + j] + delta[i] * delta[j] * w;
                }
            }
        } else {
            for i in 0..d {
                self.m2[i] += b.m2[i] + delta[i] * delta[i] * w;
            }
        }
        for i in 0..d {
            self.mean[i] += delta[i] * b.n as f64 / n as f64;
        }
        self.n = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Above the full-covariance limit only the diagonal is kept, and it equals the diagonal of the full
    /// matrix computed on the same data (also after a merge).
    #[test]
    fn diagonal_mode_equals_the_diagonal_of_the_full_covariance() {
        let d = FULL_COVARIANCE_MAX_DIM + 1;
        let x = |k: usize| -> Vec<f64> { (0..d).map(|i| (((k * 31 + i * 17) % 23) as f64 - 11.0) / 7.0).collect() };
        let (mut a, mut b) = (WelfordVec::new(d), WelfordVec::new(d));
        assert!(!a.is_full());
        let mut full = WelfordVec {
            n: 0,
            mean: vec![0.0; d],
            m2: vec![0.0; d * d],
        };
        let mut s = vec![0.0; d];
        for k in 0..50 {
            full.push(&x(k), &mut s);
            if k < 20 {
                a.push(&x(k), &mut s)
            } else {
                b.push(&x(k), &mut s)
            }
        }
        a.merge(b);
        let c = full.covariance().expect("full");
        for (i, v) in a.variances().iter().enumerate() {
            assert!(
                (v - c[i * d + i]).abs() < 1e-12 * c[i * d + i].abs().max(1.0),
                "coordinate {i}"
            );
        }
        assert!(a.covariance().is_none());
    }

    #[test]
    fn merge_equals_single_pass() {
        let xs: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1013) as f64 / 97.0 - 3.0).collect();
        let mut all = Welford::default();
        xs.iter().for_each(|&x| all.push(x));
        let (mut a, mut b) = (Welford::default(), Welford::default());
        xs[..377].iter().for_each(|&x| a.push(x));
        xs[377..].iter().for_each(|&x| b.push(x));
        a.merge(b);
        assert_eq!(a.n, all.n);
        assert!((a.mean - all.mean).abs() < 1e-12);
        assert!((a.variance() - all.variance()).abs() < 1e-12 * all.variance());
    }
}
