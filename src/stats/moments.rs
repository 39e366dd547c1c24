//! Diffusion covariance of the cloud at one snapshot time: mean, covariance (Welford/Chan), the width
//! (trace and eigenvalues of the covariance) and the mean squared displacement from the saddle
//! Δ = E‖x − d‖² (Kim et al.'s MSD), each with a standard error. Above
//! [`FULL_COVARIANCE_MAX_DIM`](super::welford::FULL_COVARIANCE_MAX_DIM) only the variances are kept: the
//! covariance and its eigenvalues are then not reported, nor the trace's standard error (it needs tr C²); the
//! trace itself, the MSD and its standard error are exact in both modes.

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
}

/// What one snapshot's accumulator estimates.
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
    /// Standard error of tr C under a Gaussian cloud: √(2 Σλ²/(n−1)) (NaN without the full covariance).
    pub trace_stderr: f64,
    /// Eigenvalues of C, ascending (empty without the full covariance).
    pub eigenvalues: Vec<f64>,
    /// MSD E‖x − d‖².
    pub msd: f64,
    /// Its standard error.
    pub msd_stderr: f64,
}

impl Moments {
    /// Empty, for dimension d.
    pub fn new(d: usize) -> Self {
        Moments {
            cloud: WelfordVec::new(d),
            msd: Welford::default(),
        }
    }
    /// Adds a position x, with saddle d and a scratch vector.
    #[inline]
    pub fn push(&mut self, x: &[f64], saddle: &[f64], scratch: &mut [f64]) {
        self.cloud.push(x, scratch);
        self.msd
            .push(x.iter().zip(saddle).map(|(a, b)| (a - b) * (a - b)).sum());
    }
    /// The estimates.
    pub fn estimate(&self) -> MomentEstimate {
        let d = self.cloud.mean.len();
        let n = self.cloud.n;
        let variances = self.cloud.variances();
        let trace = variances.iter().sum();
        let (cov, vals) = match self.cloud.covariance() {
            Some(c) => {
                let (vals, _) = crate::linalg::eigen(&c, d);
                (c.chunks(d).map(|r| r.to_vec()).collect(), vals)
            }
            None => (Vec::new(), Vec::new()),
        };
        let trace_stderr = if n < 2 || vals.is_empty() {
            f64::NAN
        } else {
            (2.0 * vals.iter().map(|l| l * l).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        MomentEstimate {
            n,
            mean: self.cloud.mean.clone(),
            mean_stderr: variances.iter().map(|v| (v / n.max(1) as f64).sqrt()).collect(),
            cov,
            variances,
            trace,
            trace_stderr,
            eigenvalues: vals,
            msd: self.msd.mean,
            msd_stderr: self.msd.stderr(),
        }
    }
}

impl Merge for Moments {
    fn merge(&mut self, b: Self) {
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
        let scratch = self.scratch.of_len(x.len());
        self.at[j].push(x, &path.plan.saddle, scratch);
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
