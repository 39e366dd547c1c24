//! Diffusion covariance of the cloud at one snapshot time: mean, covariance (Welford/Chan), the width
//! (trace and eigenvalues of the covariance) and the mean squared displacement from the saddle
//! Δ = E‖x − d‖² (Kim et al.'s MSD), each with a standard error.
//!
//! The standard error of tr C does not assume a Gaussian cloud. With y = x − μ, tr C is the unbiased
//! sample mean of ‖y‖², and
//!
//! Var(tr C) = (E‖y‖⁴ − (tr Σ)²)/n + 2 tr(Σ²)/(n(n − 1)),
//!
//! estimated with E‖y‖⁴ − (tr Σ)² ≈ (m₄ − s²)·n/((n−1)(n−2)) (m₄ = Q₄/n, s = tr M₂/n; the factor makes it
//! unbiased for a Gaussian cloud)
//!
//! (the covariance of sample variances summed over the diagonal; for a Gaussian cloud E‖y‖⁴ = (tr Σ)² +
//! 2 tr Σ² and it reduces to 2 tr(Σ²)/(n − 1)). E‖y‖⁴ is estimated from the streaming central sums
//! Q₄ = Σ‖y‖⁴ and T₃ = Σ‖y‖² y, merged exactly like M₂: shifting a block's centre by e changes them to
//! Q₄ + 4 eᵀM₂e + n‖e‖⁴ − 4 T₃ᵀe + 2‖e‖² tr M₂ and T₃ − 2M₂e − e tr M₂ − n‖e‖² e.
//!
//! Missing values are NaN (written as empty CSV cells and JSON null): everything but n without paths,
//! the covariance, width and standard errors with fewer than two.
//!
//! Above [`FULL_COVARIANCE_MAX_DIM`](super::welford::FULL_COVARIANCE_MAX_DIM) only the variances are kept
//! (O(d) per path and snapshot instead of O(d²)): the covariance and its eigenvalues are then not reported
//! (empty), nor the standard error of the trace (NaN: moving Q₄ to a merged centre needs the full M₂); the
//! trace itself, the variances, the MSD and its standard error are exact in both modes.

use super::{Merge, Welford, WelfordVec};
use crate::ensemble::{Observer, PathView};
use serde::{Deserialize, Serialize};

/// Accumulator for one snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Position mean and co-moments.
    pub cloud: WelfordVec,
    /// ‖x − d‖².
    pub msd: Welford,
    /// T₃ = Σ ‖y‖² y about the running mean (d).
    #[serde(default)]
    pub t3: Vec<f64>,
    /// Q₄ = Σ ‖y‖⁴ about the running mean.
    #[serde(default)]
    pub q4: f64,
}

/// What one snapshot's accumulator estimates (NaN where not estimable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MomentEstimate {
    /// Paths observed (running at that time).
    pub n: u64,
    /// Mean position.
    pub mean: Vec<f64>,
    /// Standard error of each mean component, √(Cᵢᵢ/n).
    pub mean_stderr: Vec<f64>,
    /// Unbiased covariance, rows (empty above the full-covariance dimension).
    pub cov: Vec<Vec<f64>>,
    /// Unbiased variance of each coordinate, Cᵢᵢ.
    pub variances: Vec<f64>,
    /// tr C, the width of the cloud.
    pub trace: f64,
    /// Standard error of tr C from the fourth moment (no Gaussian assumption; see the module docs); NaN
    /// without the full covariance.
    pub trace_stderr: f64,
    /// Eigenvalues of C, ascending (empty above the full-covariance dimension).
    pub eigenvalues: Vec<f64>,
    /// MSD E‖x − d‖².
    pub msd: f64,
    /// Its standard error.
    pub msd_stderr: f64,
}

/// Adds the effect of moving a block's centre by `e` (new y = y − e) to its T₃ and Q₄ (T₃ in place, the
/// new Q₄ returned); `m2` is the block's co-moment matrix, `n` its count, `tmp` a scratch of length d.
#[inline(always)]
fn shift(n: f64, m2: &[f64], t3: &mut [f64], q4: f64, e: &[f64], tmp: &mut [f64]) -> f64 {
    let d = e.len();
    let tr: f64 = (0..d).map(|i| m2[i * d + i]).sum();
    let e2: f64 = e.iter().map(|v| v * v).sum();
    for i in 0..d {
        tmp[i] = (0..d).map(|j| m2[i * d + j] * e[j]).sum();
    }
    let eme: f64 = e.iter().zip(tmp.iter()).map(|(a, b)| a * b).sum();
    let te: f64 = t3.iter().zip(e).map(|(a, b)| a * b).sum();
    for i in 0..d {
        t3[i] += -2.0 * tmp[i] - e[i] * tr - n * e2 * e[i];
    }
    q4 + 4.0 * eme + n * e2 * e2 - 4.0 * te + 2.0 * e2 * tr
}

impl Moments {
    /// Empty, for dimension d (T₃ and Q₄ only with the full covariance).
    pub fn new(d: usize) -> Self {
        let cloud = WelfordVec::new(d);
        Moments {
            t3: if cloud.is_full() { vec![0.0; d] } else { Vec::new() },
            cloud,
            msd: Welford::default(),
            q4: 0.0,
        }
    }
    /// Adds a position x, with saddle d and a scratch vector of length 2·dim.
    #[inline(always)]
    pub fn push(&mut self, x: &[f64], saddle: &[f64], scratch: &mut [f64]) {
        let d = x.len();
        let (e, tmp) = scratch.split_at_mut(d);
        if !self.cloud.is_full() {
            self.cloud.push(x, e);
            self.msd
                .push(x.iter().zip(saddle).map(|(a, b)| (a - b) * (a - b)).sum());
            return;
        }
        let n = self.cloud.n as f64;
        let n1 = n + 1.0;
        // e = δ/(n+1): the move of the old centre; the new point sits at −δ n/(n+1) from the new centre.
        for i in 0..d {
            e[i] = (x[i] - self.cloud.mean[i]) / n1;
        }
        let q4 = shift(n, &self.cloud.m2, &mut self.t3, self.q4, e, tmp);
        let b2: f64 = e.iter().map(|v| v * v).sum::<f64>() * n * n;
        for i in 0..d {
            // −‖δ_b‖² δ_b with δ_b = −e n
            self.t3[i] += b2 * e[i] * n;
        }
        self.q4 = q4 + b2 * b2;
        self.cloud.push(x, e);
        self.msd
            .push(x.iter().zip(saddle).map(|(a, b)| (a - b) * (a - b)).sum());
    }
    /// The estimates (NaN where not estimable).
    pub fn estimate(&self) -> MomentEstimate {
        let d = self.cloud.mean.len();
        let n = self.cloud.n;
        let nan = |k: usize| vec![f64::NAN; k];
        let mean = if n == 0 { nan(d) } else { self.cloud.mean.clone() };
        let full = self.cloud.is_full();
        if n < 2 {
            return MomentEstimate {
                n,
                mean,
                mean_stderr: nan(d),
                cov: if full { vec![nan(d); d] } else { Vec::new() },
                variances: nan(d),
                trace: f64::NAN,
                trace_stderr: f64::NAN,
                eigenvalues: if full { nan(d) } else { Vec::new() },
                msd: if n == 0 { f64::NAN } else { self.msd.mean },
                msd_stderr: f64::NAN,
            };
        }
        let variances = self.cloud.variances();
        let trace = variances.iter().sum();
        let nf = n as f64;
        let mean_stderr = variances.iter().map(|v| (v / nf).sqrt()).collect();
        let Some(c) = self.cloud.covariance() else {
            return MomentEstimate {
                n,
                mean,
                mean_stderr,
                cov: Vec::new(),
                variances,
                trace,
                trace_stderr: f64::NAN,
                eigenvalues: Vec::new(),
                msd: self.msd.mean,
                msd_stderr: self.msd.stderr(),
            };
        };
        let (vals, _) = crate::linalg::eigen(&c, d);
        let s = (0..d).map(|i| self.cloud.m2[i * d + i]).sum::<f64>() / nf;
        let m4 = self.q4 / nf;
        let tr_sq: f64 = vals.iter().map(|l| l * l).sum();
        // (m₄ − s²)·n/((n−1)(n−2)): the factor n²/((n−1)(n−2)) makes the fourth-moment term unbiased for a
        // Gaussian cloud (E[m₄ − s²] = 2 tr Σ² (n−1)(n−2)/n² there) and removes its O(1/n) bias near one.
        let fourth = if n > 2 {
            (m4 - s * s).max(0.0) * nf / ((nf - 1.0) * (nf - 2.0))
        } else {
            (m4 - s * s).max(0.0) / nf
        };
        let var = fourth + 2.0 * tr_sq / (nf * (nf - 1.0));
        MomentEstimate {
            n,
            mean,
            mean_stderr,
            cov: c.chunks(d).map(|r| r.to_vec()).collect(),
            variances,
            trace,
            trace_stderr: var.sqrt(),
            eigenvalues: vals,
            msd: self.msd.mean,
            msd_stderr: self.msd.stderr(),
        }
    }
}

impl Merge for Moments {
    fn merge(&mut self, mut b: Self) {
        let (na, nb) = (self.cloud.n, b.cloud.n);
        if !self.cloud.is_full() {
            // Variances only: no T₃, Q₄.
        } else if nb > 0 && na > 0 {
            // Move both centres to the pooled mean, then add the central sums.
            let d = self.cloud.mean.len();
            let n = (na + nb) as f64;
            let mut tmp = vec![0.0; d];
            let ea: Vec<f64> = (0..d)
                .map(|i| (b.cloud.mean[i] - self.cloud.mean[i]) * nb as f64 / n)
                .collect();
            let eb: Vec<f64> = (0..d)
                .map(|i| (self.cloud.mean[i] - b.cloud.mean[i]) * na as f64 / n)
                .collect();
            let qa = shift(na as f64, &self.cloud.m2, &mut self.t3, self.q4, &ea, &mut tmp);
            let qb = shift(nb as f64, &b.cloud.m2, &mut b.t3, b.q4, &eb, &mut tmp);
            self.q4 = qa + qb;
            for (a, c) in self.t3.iter_mut().zip(&b.t3) {
                *a += c;
            }
        } else if na == 0 {
            self.t3 = b.t3;
            self.q4 = b.q4;
        }
        self.cloud.merge(b.cloud);
        self.msd.merge(b.msd);
    }
}

/// The moments at every snapshot time of one dynamics: an [`Observer`] that pushes each running path's
/// position at snapshot j into the j-th [`Moments`] (with the MSD centred on the plan's saddle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshots {
    /// One accumulator per snapshot time.
    pub at: Vec<Moments>,
    /// Scratch of length d for the streaming update (not part of the statistic).
    #[serde(skip)]
    scratch: Scratch,
}

impl Snapshots {
    /// Empty, for dimension d and `snapshots` snapshot times.
    pub fn new(d: usize, snapshots: usize) -> Self {
        Snapshots {
            at: vec![Moments::new(d); snapshots],
            scratch: Scratch::default(),
        }
    }
    /// The estimates at every snapshot time.
    pub fn estimates(&self) -> Vec<MomentEstimate> {
        self.at.iter().map(Moments::estimate).collect()
    }
}

impl Merge for Snapshots {
    fn merge(&mut self, b: Self) {
        self.at.merge(b.at);
    }
}

impl Observer for Snapshots {
    fn snapshot(&mut self, path: &PathView<'_>, j: usize, x: &[f64]) {
        let saddle = &path.plan.saddle;
        // d ≤ 4: the same arithmetic in the same order, compiled for the constant d (loops unrolled).
        let mut small = [0.0; 8];
        match x.len() {
            1 => self.at[j].push(&x[..1], saddle, &mut small[..2]),
            2 => self.at[j].push(&x[..2], saddle, &mut small[..4]),
            3 => self.at[j].push(&x[..3], saddle, &mut small[..6]),
            4 => self.at[j].push(&x[..4], saddle, &mut small[..8]),
            d => self.at[j].push(x, saddle, self.scratch.of_len(2 * d)),
        }
    }
}

/// A reusable buffer inside an accumulator: never serialised, equal to any other (it holds no statistic).
#[derive(Debug, Clone, Default)]
struct Scratch(Vec<f64>);

impl Scratch {
    fn of_len(&mut self, n: usize) -> &mut [f64] {
        if self.0.len() != n {
            self.0 = vec![0.0; n];
        }
        &mut self.0
    }
}

impl PartialEq for Scratch {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brownian::{fill_normals, path_rng, uniform};

    /// A 2-D cloud: Gaussian with covariance diag(1, 0.25), or (heavy) a scale mixture whose component has
    /// 4× the standard deviation with probability 0.1 (kurtosis far from Gaussian).
    fn draw(rng: &mut crate::brownian::PathRng, heavy: bool, out: &mut [f64]) {
        fill_normals(rng, out);
        out[1] *= 0.5;
        if heavy && uniform(rng) < 0.1 {
            out[0] *= 4.0;
            out[1] *= 4.0;
        }
        out[0] += 3.0; // an offset mean: the central sums must not depend on it
    }

    /// Q₄ and T₃ streamed and merged equal their two-pass values (to rounding), and the streaming pushes
    /// merged in any split agree.
    #[test]
    fn fourth_moments_stream_and_merge() {
        let mut rng = path_rng(3, 0);
        let xs: Vec<[f64; 2]> = (0..500)
            .map(|_| {
                let mut x = [0.0; 2];
                draw(&mut rng, true, &mut x);
                x
            })
            .collect();
        let mut scratch = vec![0.0; 4];
        let mut all = Moments::new(2);
        xs.iter().for_each(|x| all.push(x, &[0.0, 0.0], &mut scratch));
        let mut a = Moments::new(2);
        let mut b = Moments::new(2);
        xs[..123].iter().for_each(|x| a.push(x, &[0.0, 0.0], &mut scratch));
        xs[123..].iter().for_each(|x| b.push(x, &[0.0, 0.0], &mut scratch));
        a.merge(b);
        let n = xs.len() as f64;
        let mu = [
            xs.iter().map(|x| x[0]).sum::<f64>() / n,
            xs.iter().map(|x| x[1]).sum::<f64>() / n,
        ];
        let r2 = |x: &[f64; 2]| (x[0] - mu[0]).powi(2) + (x[1] - mu[1]).powi(2);
        let q4: f64 = xs.iter().map(|x| r2(x).powi(2)).sum();
        let t3: Vec<f64> = (0..2)
            .map(|i| xs.iter().map(|x| r2(x) * (x[i] - mu[i])).sum())
            .collect();
        for m in [&all, &a] {
            assert!((m.q4 - q4).abs() < 1e-10 * q4, "{} vs {q4}", m.q4);
            for i in 0..2 {
                assert!(
                    (m.t3[i] - t3[i]).abs() < 1e-9 * q4.sqrt() * n.sqrt(),
                    "{:?} vs {t3:?}",
                    m.t3
                );
            }
        }
    }

    /// trace_stderr against the spread of tr C over 4 000 independent clouds of 100 points: the mean of the
    /// reported variances must match the empirical variance of the traces within 5 standard errors of their
    /// difference (the SE of the empirical variance from the traces' fourth moment, the SE of the mean of
    /// the reported variances from their spread). A Gaussian formula on the mixture is off by a factor ≈ 6,
    /// which this must catch.
    #[test]
    fn trace_stderr_matches_the_spread_of_traces() {
        for heavy in [false, true] {
            let (clouds, n) = (4000, 100);
            let (mut traces, mut reported, mut var_gauss) = (Vec::new(), Vec::new(), 0.0);
            let mut rng = path_rng(11, heavy as u64);
            let mut scratch = vec![0.0; 4];
            let mut x = [0.0; 2];
            for _ in 0..clouds {
                let mut m = Moments::new(2);
                for _ in 0..n {
                    draw(&mut rng, heavy, &mut x);
                    m.push(&x, &[0.0, 0.0], &mut scratch);
                }
                let e = m.estimate();
                traces.push(e.trace);
                reported.push(e.trace_stderr.powi(2));
                var_gauss += 2.0 * e.eigenvalues.iter().map(|l| l * l).sum::<f64>() / (n as f64 - 1.0) / clouds as f64;
            }
            let r = clouds as f64;
            let mean = traces.iter().sum::<f64>() / r;
            let var = traces.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (r - 1.0);
            let m4 = traces.iter().map(|t| (t - mean).powi(4)).sum::<f64>() / r;
            let se_var = ((m4 - var * var) / r).sqrt();
            let var_reported = reported.iter().sum::<f64>() / r;
            let se_rep = (reported.iter().map(|v| (v - var_reported).powi(2)).sum::<f64>() / (r - 1.0) / r).sqrt();
            let se = (se_var * se_var + se_rep * se_rep).sqrt();
            eprintln!(
                "heavy {heavy}: empirical var {var:.5} ± {se_var:.5}, reported {var_reported:.5} ± {se_rep:.5}, Gaussian {var_gauss:.5}"
            );
            assert!(
                (var_reported - var).abs() < 5.0 * se,
                "heavy {heavy}: {var_reported} vs {var} (SE {se})"
            );
            if heavy {
                assert!(
                    var_gauss < 0.7 * var,
                    "the Gaussian formula should be far off: {var_gauss} vs {var}"
                );
            }
        }
    }

    /// Without paths everything but n is missing (NaN); with one path the mean and MSD exist.
    #[test]
    fn missing_values_are_nan() {
        let e = Moments::new(2).estimate();
        assert_eq!(e.n, 0);
        assert!(e.mean.iter().chain(&e.eigenvalues).all(|v| v.is_nan()));
        assert!(e.trace.is_nan() && e.msd.is_nan() && e.trace_stderr.is_nan());
        let mut m = Moments::new(2);
        m.push(&[1.0, 2.0], &[0.0, 0.0], &mut [0.0; 4]);
        let e = m.estimate();
        assert_eq!((e.mean.clone(), e.msd), (vec![1.0, 2.0], 5.0));
        assert!(e.trace.is_nan() && e.cov[0][0].is_nan() && e.msd_stderr.is_nan());
    }
}
