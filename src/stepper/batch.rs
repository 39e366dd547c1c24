//! The batched stepper for high dimension: on a quadratic landscape with constant noise (and for model K at
//! any saddle) the B paths of a block advance together, their step one or two matrix–matrix products
//! (nalgebra's GEMM, ~38 GFLOP/s per core here) instead of B matrix–vector products. Three rules:
//!
//! - **linear** (S-SGD1, S-USAM, model K; O1): Euler–Maruyama of dX = (J X + b₀) dt + S dW,
//!   X ← M X + b₀ dt + S √dt Z with M = I + J dt;
//! - **SAM** (S-SAM-ODE drift, SGD noise) on f with ∇f(x) = H x + g₀:
//!   G = H X + g₀, X ← X − dt (G + ρ H G / ‖G‖_ε) + S √dt Z, column by column;
//! - **discrete** A-SGD, A-USAM, A-SAM under N3 (∇f_γ(x) = ∇f(x) + F ξ): G = H X + g₀ + F Ξ, then
//!   X ← X − η G (SGD), X − η (G + ρ H G) (USAM: ∇f_γ(x + ρG) = G + ρHG), or X − η (G + c H G) with
//!   c = ρ/(‖G‖ + ε) per path (SAM).
//!
//! Paths are the columns of X (`d×k`, column-major, so a path's state is contiguous). Each path draws its own
//! normals (`lanes::simulate_batched`), m per step in the order the one-path steppers draw them, and every
//! GEMM computes a column from that column alone, so a path is the same — up to rounding — as on the general
//! path, and bit-identical whichever paths share its batch and at any thread count. No momentum (μ = 0).

use super::lanes::{self, PathJob, PathRecord};
use super::{DiscreteKind, Scratch, Stepper};
use crate::brownian::{self, PathRng};
use crate::model::NoiseScratch;
use crate::sde::{LinearSde, Sde, Workspace};
use crate::solver::SolverScratch;
use nalgebra::{DMatrix, DVector};

/// Smallest dimension the builder hands to the batched stepper (below it the one-path steppers, unrolled for
/// d ≤ 4, are as fast).
pub const BATCH_MIN_DIM: usize = 8;

#[derive(Debug, Clone)]
enum Rule {
    /// X ← M X + c + S√dt Z.
    Linear { m: DMatrix<f64>, c: DVector<f64> },
    /// SAM drift on ∇f = Hx + g₀.
    Sam {
        h: DMatrix<f64>,
        g0: DVector<f64>,
        rho: f64,
        eps: f64,
    },
    /// A discrete optimizer under N3.
    Discrete {
        h: DMatrix<f64>,
        g0: DVector<f64>,
        kind: DiscreteKind,
        eta: f64,
        rho: f64,
        eps: f64,
    },
}

/// A stepper whose [`Stepper::run_paths`] advances a block's paths together by matrix–matrix products.
#[derive(Debug, Clone)]
pub struct Batched {
    d: usize,
    m: usize,
    dt: f64,
    rule: Rule,
    /// The diffusion σ (continuous rules) or the noise factor F (discrete), `d×m`.
    s: DMatrix<f64>,
    /// σ√dt (continuous rules) or F (discrete): what multiplies the normals.
    s_step: DMatrix<f64>,
}

/// C ← α A B + β C for column-major A (`r×n`, a nalgebra matrix), B (`n×k`) and C (`r×k`) slices, by
/// `matrixmultiply` whatever the sizes: nalgebra switches to a naive loop for 5 columns or fewer, and its
/// rounding would then depend on how many paths share the batch. Column j of C is computed from column j of B
/// alone, with the same operations for any k.
fn gemm(alpha: f64, a: &DMatrix<f64>, b: &[f64], k: usize, beta: f64, c: &mut [f64]) {
    let (r, n) = a.shape();
    debug_assert!(b.len() >= n * k && c.len() >= r * k);
    // SAFETY: a is r×n column-major (row stride 1, column stride r), b is n×k with column stride n, c is
    // r×k with column stride r; the slices hold at least those many entries and c does not alias a or b.
    unsafe {
        matrixmultiply::dgemm(
            r,
            n,
            k,
            alpha,
            a.as_ptr(),
            1,
            r as isize,
            b.as_ptr(),
            1,
            n as isize,
            beta,
            c.as_mut_ptr(),
            1,
            r as isize,
        );
    }
}

/// a·b with four partial sums (vectorisable; the per-step bridge variance costs d·m and runs every step of a
/// watched path).
fn dot4(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// A row-major `r×c` slice as a (column-major) nalgebra matrix.
fn from_rows(a: &[f64], r: usize, c: usize) -> DMatrix<f64> {
    DMatrix::from_row_slice(r, c, a)
}

impl Batched {
    /// Euler–Maruyama of a linear SDE with constant diffusion (`sde.is_affine()`), without momentum
    /// (position = state). `None` if the SDE has a velocity part.
    pub fn linear(sde: &LinearSde, dt: f64) -> Option<Self> {
        let (d, m) = (sde.dim(), sde.noise_dim());
        if sde.position_dim() != d {
            return None;
        }
        let j = from_rows(sde.jacobian(), d, d);
        let mut ws = sde.workspace();
        let mut b0 = vec![0.0; d];
        sde.drift(&vec![0.0; d], &mut b0, &mut ws);
        let s = from_rows(sde.sigma(), d, m);
        Some(Batched {
            d,
            m,
            dt,
            rule: Rule::Linear {
                m: DMatrix::identity(d, d) + j * dt,
                c: DVector::from_vec(b0) * dt,
            },
            s_step: &s * dt.sqrt(),
            s,
        })
    }

    /// Euler–Maruyama of the SAM drift −(g + ρHg/‖g‖_ε) with g = Hx + g₀ and constant diffusion `sigma`
    /// (row-major `d×m`).
    pub fn sam(h: &[f64], g0: &[f64], sigma: &[f64], m: usize, rho: f64, eps: f64, dt: f64) -> Self {
        let d = g0.len();
        let s = from_rows(sigma, d, m);
        Batched {
            d,
            m,
            dt,
            rule: Rule::Sam {
                h: from_rows(h, d, d),
                g0: DVector::from_column_slice(g0),
                rho,
                eps,
            },
            s_step: &s * dt.sqrt(),
            s,
        }
    }

    /// The discrete optimizer `kind` under N3 (∇f_γ = Hx + g₀ + Fξ, F row-major `d×m`, given with m) with learning rate η,
    /// radius ρ and norm offset ε; time advances by η per step.
    pub fn discrete(
        h: &[f64],
        g0: &[f64],
        (f, m): (&[f64], usize),
        kind: DiscreteKind,
        eta: f64,
        rho: f64,
        eps: f64,
    ) -> Self {
        let d = g0.len();
        let s = from_rows(f, d, m);
        Batched {
            d,
            m,
            dt: eta,
            rule: Rule::Discrete {
                h: from_rows(h, d, d),
                g0: DVector::from_column_slice(g0),
                kind,
                eta,
                rho,
                eps,
            },
            s_step: s.clone(),
            s,
        }
    }

    /// One step of the k paths in the columns of `x` (`d×k`) with normals `z` (`m×k`); `t1`, `t2` are
    /// scratch of at least d·k entries.
    fn kernel(&self, x: &mut [f64], z: &[f64], k: usize, t1: &mut [f64], t2: &mut [f64]) {
        let d = self.d;
        let (t1, t2) = (&mut t1[..d * k], &mut t2[..d * k]);
        match &self.rule {
            Rule::Linear { m, c } => {
                gemm(1.0, m, x, k, 0.0, t1);
                gemm(1.0, &self.s_step, z, k, 1.0, t1);
                for (col, yc) in x.chunks_exact_mut(d).zip(t1.chunks_exact(d)) {
                    for i in 0..d {
                        col[i] = yc[i] + c[i];
                    }
                }
            }
            Rule::Sam { h, g0, rho, eps } => {
                gemm(1.0, h, x, k, 0.0, t1);
                for gc in t1.chunks_exact_mut(d) {
                    for i in 0..d {
                        gc[i] += g0[i];
                    }
                }
                gemm(1.0, h, t1, k, 0.0, t2);
                for ((xc, gc), hc) in x.chunks_exact_mut(d).zip(t1.chunks_exact(d)).zip(t2.chunks_exact(d)) {
                    let coef = rho / (crate::linalg::dot(gc, gc) + eps * eps).sqrt();
                    for i in 0..d {
                        xc[i] -= (gc[i] + coef * hc[i]) * self.dt;
                    }
                }
                gemm(1.0, &self.s_step, z, k, 1.0, x);
            }
            Rule::Discrete {
                h,
                g0,
                kind,
                eta,
                rho,
                eps,
            } => {
                gemm(1.0, &self.s_step, z, k, 0.0, t1);
                gemm(1.0, h, x, k, 1.0, t1);
                for gc in t1.chunks_exact_mut(d) {
                    for i in 0..d {
                        gc[i] += g0[i];
                    }
                }
                if *kind != DiscreteKind::Sgd {
                    gemm(1.0, h, t1, k, 0.0, t2);
                }
                for ((xc, gc), hc) in x.chunks_exact_mut(d).zip(t1.chunks_exact(d)).zip(t2.chunks_exact(d)) {
                    let coef = match kind {
                        DiscreteKind::Sgd => 0.0,
                        DiscreteKind::Usam => *rho,
                        DiscreteKind::Sam => rho / (crate::linalg::norm(gc) + eps),
                    };
                    for i in 0..d {
                        xc[i] -= eta * (gc[i] + coef * hc[i]);
                    }
                }
            }
        }
    }

    fn continuous(&self) -> bool {
        !matches!(self.rule, Rule::Discrete { .. })
    }
}

impl Stepper for Batched {
    fn dim(&self) -> usize {
        self.d
    }
    fn position_dim(&self) -> usize {
        self.d
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    /// Vectors for one path ([`Stepper::step`]); no d×d buffers.
    fn scratch(&self) -> Scratch {
        let v = || vec![0.0; self.d];
        Scratch {
            ws: Workspace {
                noise: NoiseScratch::new(0, 0),
                sam: None,
                g: v(),
                v: v(),
                w: v(),
                y: Vec::new(),
                xi: Vec::new(),
                h: Vec::new(),
                t: Vec::new(),
                f: Vec::new(),
                df: Vec::new(),
                f2: Vec::new(),
            },
            sc: SolverScratch::new(0, 0),
            z: vec![0.0; self.m],
        }
    }
    /// One path alone: the kernel with k = 1 (the same arithmetic as in a batch).
    fn step(&self, x: &mut [f64], rng: &mut PathRng, s: &mut Scratch) {
        brownian::fill_normals(rng, &mut s.z);
        self.kernel(x, &s.z, 1, &mut s.ws.g, &mut s.ws.v);
    }
    /// dirᵀσσᵀdir = ‖σᵀ dir‖² (constant σ); `None` for the discrete optimizers.
    fn bridge_variance(&self, dir: &[f64], _s: &Scratch) -> Option<f64> {
        if !self.continuous() {
            return None;
        }
        let d = self.d;
        let s = self.s.as_slice();
        let mut v = 0.0;
        for j in 0..self.m {
            let c = dot4(&s[j * d..(j + 1) * d], dir);
            v += c * c;
        }
        Some(v)
    }
    /// The block's paths in lock-step ([`lanes::simulate_batched`]), one batched kernel call per step.
    fn run_paths(&self, jobs: &[PathJob], records: &mut [PathRecord]) {
        let n = self.d * jobs.len();
        let (mut t1, mut t2) = (vec![0.0; n], vec![0.0; n]);
        lanes::simulate_batched(self, jobs, records, self.m, &mut |x, z, k| {
            self.kernel(x, z, k, &mut t1, &mut t2)
        });
    }
}
