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

use super::{FULL_COVARIANCE_MAX_DIM, Merge, Welford, WelfordVec};
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
    /// The accumulator of the positions at snapshot `j` of the paths of a block that were running then, by
    /// two passes (issue 12): the mean μ = Σx/n first, then the central sums about it,
    ///
    /// M₂ = Σ yyᵀ, T₃ = Σ ‖y‖² y, Q₄ = Σ ‖y‖⁴ (y = x − μ), and for the MSD r = ‖x − d‖²: r̄ = Σr/n, Σ(r − r̄)²,
    ///
    /// which are the quantities [`Moments::push`] keeps (equal in exact arithmetic, and at least as accurate
    /// in floating point), with two divisions per block instead of d + 2 per point. `d` is x's dimension;
    /// `v` (three vectors of length d: μ, y, T₃) and `m` (M₂: d² entries, d above the full-covariance
    /// dimension) are zeroed work buffers: fixed-size arrays for small d, so that with d a constant the
    /// loops unroll and the sums stay in registers.
    #[inline(always)]
    fn of_block<V: AsMut<[f64]>, M: AsMut<[f64]>>(
        paths: &[PathView<'_>],
        j: usize,
        saddle: &[f64],
        d: usize,
        mut v: V,
        mut m: M,
    ) -> Moments {
        let mut out = Moments::new(d);
        let full = out.cloud.is_full();
        let (mean, rest) = v.as_mut()[..3 * d].split_at_mut(d);
        let (y, t3) = rest.split_at_mut(d);
        let m2 = &mut m.as_mut()[..if full { d * d } else { d }];
        let r2 = |x: &[f64]| -> f64 { x.iter().zip(saddle).map(|(a, c)| (a - c) * (a - c)).sum() };
        let (mut n, mut rsum) = (0u64, 0.0);
        for x in paths.iter().filter_map(|v| v.position(j)) {
            n += 1;
            for i in 0..d {
                mean[i] += x[i];
            }
            rsum += r2(x);
        }
        if n == 0 {
            return out;
        }
        let nf = n as f64;
        for v in mean.iter_mut() {
            *v /= nf;
        }
        let rmean = rsum / nf;
        let (mut q4, mut rm2) = (0.0, 0.0);
        for x in paths.iter().filter_map(|v| v.position(j)) {
            let mut s = 0.0;
            for i in 0..d {
                y[i] = x[i] - mean[i];
                s += y[i] * y[i];
            }
            if full {
                for i in 0..d {
                    for k in i..d {
                        m2[i * d + k] += y[i] * y[k];
                    }
                    t3[i] += s * y[i];
                }
                q4 += s * s;
            } else {
                for i in 0..d {
                    m2[i] += y[i] * y[i];
                }
            }
            let e = r2(x) - rmean;
            rm2 += e * e;
        }
        if full {
            for i in 0..d {
                for k in 0..i {
                    m2[i * d + k] = m2[k * d + i];
                }
            }
            out.t3.copy_from_slice(t3);
            out.q4 = q4;
        }
        out.cloud.n = n;
        out.cloud.mean.copy_from_slice(mean);
        out.cloud.m2.copy_from_slice(m2);
        out.msd = Welford {
            n,
            mean: rmean,
            m2: rm2,
        };
        out
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
    /// Every snapshot time's accumulator of the block by two passes ([`Moments::of_block`]), merged in.
    fn block(&mut self, paths: &[PathView<'_>], _reference: Option<&[PathView<'_>]>) {
        let Some(first) = paths.first() else { return };
        let (s, d) = (&first.plan.saddle[..], first.dim());
        for j in 0..self.at.len() {
            let m = match d {
                1 => Moments::of_block(paths, j, &s[..1], 1, [0.0; 3], [0.0; 1]),
                2 => Moments::of_block(paths, j, &s[..2], 2, [0.0; 6], [0.0; 4]),
                3 => Moments::of_block(paths, j, &s[..3], 3, [0.0; 9], [0.0; 9]),
                4 => Moments::of_block(paths, j, &s[..4], 4, [0.0; 12], [0.0; 16]),
                d => Moments::of_block(
                    paths,
                    j,
                    s,
                    d,
                    vec![0.0; 3 * d],
                    vec![0.0; if d <= FULL_COVARIANCE_MAX_DIM { d * d } else { d }],
                ),
            };
            self.at[j].merge(m);
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

    /// A block of `n` paths with `snaps` snapshots in dimension d drawn from the heavy cloud (coordinate i is
    /// coordinate i mod 2 of the draw, scaled), path p running for all but its last p mod 3 snapshots, or,
    /// with `empty_last`, for its first 1 + p mod (snaps − 1) (so that no path reaches the last snapshot).
    fn block_records(n: usize, d: usize, snaps: usize, empty_last: bool) -> Vec<crate::stepper::PathRecord> {
        let mut rng = path_rng(11, 0);
        (0..n)
            .map(|p| {
                let mut r = crate::stepper::PathRecord::new(d, snaps);
                let running = if empty_last { 1 + p % (snaps - 1) } else { snaps - p % 3 };
                for j in 0..running {
                    let mut x = [0.0; 2];
                    draw(&mut rng, true, &mut x);
                    for i in 0..d {
                        r.snaps[j * d + i] = x[i % 2] * (1.0 + i as f64) + j as f64;
                    }
                    r.alive[j] = true;
                }
                r
            })
            .collect()
    }

    /// The block hook (two passes per snapshot) gives what pushing the same points one by one gives, to
    /// rounding: mean, covariance, trace, its standard error (T₃, Q₄) and the MSD, at every snapshot, for
    /// d = 1…5 and for the variances-only mode above the full-covariance dimension, with snapshots seen by
    /// 256, by fewer and by no paths at all; merged after another block it equals the pushes merged.
    #[test]
    fn block_equals_pushing_point_by_point() {
        for (d, empty_last) in [
            (1, true),
            (2, false),
            (3, true),
            (4, false),
            (5, true),
            (FULL_COVARIANCE_MAX_DIM + 3, false),
        ] {
            let plan = crate::stepper::Plan {
                saddle: (0..d).map(|i| 0.5 - i as f64).collect(),
                ..crate::stepper::Plan::at_origin(d)
            };
            let snaps = 6;
            let recs = block_records(256, d, snaps, empty_last);
            let more = block_records(40, d, snaps, false);
            fn views<'a>(recs: &'a [crate::stepper::PathRecord], plan: &'a crate::stepper::Plan) -> Vec<PathView<'a>> {
                recs.iter()
                    .enumerate()
                    .map(|(p, record)| PathView {
                        index: p as u64,
                        record,
                        plan,
                        t_end: 1.0,
                    })
                    .collect()
            }
            let (va, vb) = (views(&recs, &plan), views(&more, &plan));
            let mut block = Snapshots::new(d, snaps);
            block.block(&va, None);
            let mut pushed = Snapshots::new(d, snaps);
            for v in &va {
                for j in 0..snaps {
                    if let Some(x) = v.position(j) {
                        pushed.snapshot(v, j, x);
                    }
                }
            }
            let mut second = Snapshots::new(d, snaps);
            second.block(&vb, None);
            let mut block_merged = block.clone();
            block_merged.merge(second);
            let mut pushed_merged = pushed.clone();
            for v in &vb {
                for j in 0..snaps {
                    if let Some(x) = v.position(j) {
                        pushed_merged.snapshot(v, j, x);
                    }
                }
            }
            for (a, b) in [(&block, &pushed), (&block_merged, &pushed_merged)] {
                for (j, (ea, eb)) in a.estimates().iter().zip(b.estimates()).enumerate() {
                    assert_eq!(ea.n, eb.n, "d = {d}, snapshot {j}");
                    let close = |x: f64, y: f64, what: &str| {
                        let ok = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-12 * (1.0 + x.abs().max(y.abs()));
                        assert!(ok, "d = {d}, snapshot {j}, {what}: block {x} vs pushed {y}");
                    };
                    let flat = |e: &MomentEstimate| -> Vec<f64> {
                        let mut v = e.mean.clone();
                        v.extend(e.cov.iter().flatten());
                        v.extend(&e.variances);
                        v.extend([e.trace, e.trace_stderr, e.msd, e.msd_stderr]);
                        v
                    };
                    for (x, y) in flat(ea).into_iter().zip(flat(&eb)) {
                        close(x, y, "estimate");
                    }
                }
            }
            if empty_last {
                assert_eq!(block.at[snaps - 1].cloud.n, 0);
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
