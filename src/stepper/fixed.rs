//! The fast path: Euler–Maruyama on a quadratic landscape with constant noise, in a dimension N ≤ 4 fixed
//! at compile time (fully unrolled, no calls back into the landscape). Two drifts qualify:
//!
//! - linear, b(x) = J x + b₀: SGD, USAM and model K on a quadratic with constant Σ_B (O1);
//! - SAM on a quadratic, b(x) = −(g + ρHg/‖g‖_ε) with g = Hx + g₀.
//!
//! With constant noise σ = S, Milstein is Euler–Maruyama, so both solvers use it. The results equal the
//! general path up to rounding (tested); the general path stays the reference implementation.

use super::kernel::{self, LaneStep};
use super::{PathJob, PathRecord, Scratch, Stepper};
use crate::brownian::{self, PathRng};
use crate::sde::{LinearSde, Sde};
use crate::solver::SolverScratch;

/// Largest dimension with a fixed-size fast path.
pub const MAX_FIXED_DIM: usize = 4;

#[derive(Debug, Clone)]
enum Drift<const N: usize> {
    /// x + b(x) dt = M x + c with M = I + J dt, c = b₀ dt (precomputed Euler–Maruyama map).
    Linear { m: [[f64; N]; N], c: [f64; N] },
    Sam {
        h: [[f64; N]; N],
        g0: [f64; N],
        rho: f64,
        eps: f64,
    },
}

/// Euler–Maruyama with constant diffusion S in dimension N.
#[derive(Debug, Clone)]
pub struct FixedStepper<const N: usize> {
    drift: Drift<N>,
    s: [[f64; N]; N],
    /// S√dt, the increment's factor.
    s_sqrt_dt: [[f64; N]; N],
    dt: f64,
    /// Whether every matrix of the step (M or H, and S) is diagonal: the step then skips the off-diagonal
    /// products ([`FixedStepper::step_lanes_impl`]).
    diagonal: bool,
    /// Whether the drift has a constant term (c or g₀ not all zero).
    offset: bool,
}

fn scaled<const N: usize>(m: [[f64; N]; N], c: f64) -> [[f64; N]; N] {
    m.map(|row| row.map(|v| v * c))
}

fn is_diagonal<const N: usize>(m: &[[f64; N]; N]) -> bool {
    (0..N).all(|i| (0..N).all(|k| i == k || m[i][k] == 0.0))
}

fn to_mat<const N: usize>(v: &[f64]) -> [[f64; N]; N] {
    let mut m = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..N {
            m[i][j] = v[i * N + j];
        }
    }
    m
}

impl<const N: usize> FixedStepper<N> {
    /// From a linear SDE of dimension N with N noise columns (None otherwise).
    pub fn linear(l: &LinearSde, dt: f64) -> Option<Self> {
        if l.dim() != N || l.noise_dim() != N || l.position_dim() != N {
            return None;
        }
        let mut b0 = [0.0; N];
        let mut ws = l.workspace();
        l.drift(&[0.0; N], &mut b0, &mut ws);
        let mut m = to_mat::<N>(l.jacobian());
        for (i, row) in m.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                *v = if i == k { 1.0 + *v * dt } else { *v * dt };
            }
        }
        let c = b0.map(|b| b * dt);
        let s = to_mat(l.sigma());
        Some(FixedStepper {
            diagonal: is_diagonal(&m) && is_diagonal(&s),
            offset: c.iter().any(|&v| v != 0.0),
            drift: Drift::Linear { m, c },
            s,
            dt,
            s_sqrt_dt: scaled(to_mat(l.sigma()), dt.sqrt()),
        })
    }

    /// SAM on a quadratic with gradient g(x) = Hx + g₀ and constant diffusion `s` (N×N, row-major).
    pub fn sam(h: &[f64], g0: &[f64], s: &[f64], rho: f64, eps: f64, dt: f64) -> Option<Self> {
        if h.len() != N * N || g0.len() != N || s.len() != N * N {
            return None;
        }
        let mut g = [0.0; N];
        g.copy_from_slice(g0);
        let (h, s) = (to_mat::<N>(h), to_mat::<N>(s));
        Some(FixedStepper {
            diagonal: is_diagonal(&h) && is_diagonal(&s),
            offset: g.iter().any(|&v| v != 0.0),
            drift: Drift::Sam { h, g0: g, rho, eps },
            s,
            dt,
            s_sqrt_dt: scaled(s, dt.sqrt()),
        })
    }

    /// One Euler–Maruyama step x ← x + b(x)dt + S√dt z for L paths at once (`x[i][l]`, `z[j][l]`): the one
    /// definition of this stepper's arithmetic. The scalar step is L = 1, and lane l of any L performs
    /// exactly the scalar operations in the same order (no FMA), so the multi-path kernel
    /// (`stepper::kernel`) and [`Stepper::step`] give the same bits.
    #[inline(always)]
    fn step_lanes_impl<const L: usize>(&self, x: &mut [[f64; L]; N], z: &[[f64; L]]) {
        match (self.diagonal, self.offset) {
            (false, _) => self.step_structured::<L, false, true>(x, z),
            (true, true) => self.step_structured::<L, true, true>(x, z),
            (true, false) => self.step_structured::<L, true, false>(x, z),
        }
    }

    /// [`FixedStepper::step_lanes_impl`] for a known structure: with `DIAG` (every matrix diagonal) the
    /// products with the zero off-diagonal entries are skipped, and without `OFFSET` (c = 0 or g₀ = 0) so
    /// is the addition of the constant term, and each sum starts from its first term instead of 0.0 + it.
    /// Adding an exact zero changes nothing but the sign of an exactly zero sum, so the three variants give
    /// the same bits as the general one up to the sign of a zero; each is the same code at every L.
    #[inline(always)]
    fn step_structured<const L: usize, const DIAG: bool, const OFFSET: bool>(
        &self,
        x: &mut [[f64; L]; N],
        z: &[[f64; L]],
    ) {
        // Σₖ a[i][k]·v[k] over the k that can be nonzero, starting from `init` (None: from the first term).
        #[inline(always)]
        fn row<const N: usize, const L: usize, const DIAG: bool>(
            a: &[[f64; N]; N],
            i: usize,
            v: &[[f64; L]],
            init: Option<f64>,
        ) -> [f64; L] {
            let mut acc = [0.0; L];
            let mut first = true;
            if let Some(c) = init {
                acc = [c; L];
                first = false;
            }
            for k in 0..N {
                if DIAG && k != i {
                    continue;
                }
                for l in 0..L {
                    let p = a[i][k] * v[k][l];
                    acc[l] = if first { p } else { acc[l] + p };
                }
                first = false;
            }
            acc
        }
        let general = !DIAG;
        let mut a = [[0.0; L]; N];
        match &self.drift {
            Drift::Linear { m, c } => {
                for i in 0..N {
                    a[i] = row::<N, L, DIAG>(m, i, x, OFFSET.then_some(c[i]));
                }
            }
            Drift::Sam { h, g0, rho, eps } => {
                // g = Hx + g₀, Hg, ‖g‖²; b = −(g + ρHg/√(‖g‖² + ε²)).
                let mut g = [[0.0; L]; N];
                for i in 0..N {
                    g[i] = row::<N, L, DIAG>(h, i, x, OFFSET.then_some(g0[i]));
                }
                let mut gg = [0.0; L];
                let mut hg = [[0.0; L]; N];
                for i in 0..N {
                    for l in 0..L {
                        gg[l] += g[i][l] * g[i][l];
                    }
                    hg[i] = row::<N, L, DIAG>(h, i, &g, general.then_some(0.0));
                }
                let e2 = eps * eps;
                let mut coef = [0.0; L];
                for l in 0..L {
                    coef[l] = rho / (gg[l] + e2).sqrt();
                }
                for i in 0..N {
                    for l in 0..L {
                        a[i][l] = x[i][l] - (g[i][l] + coef[l] * hg[i][l]) * self.dt;
                    }
                }
            }
        }
        for i in 0..N {
            let noise = row::<N, L, DIAG>(&self.s_sqrt_dt, i, z, general.then_some(0.0));
            for l in 0..L {
                x[i][l] = a[i][l] + noise[l];
            }
        }
    }

    /// dirᵀSSᵀdir.
    fn variance(&self, dir: &[f64]) -> f64 {
        let mut v = 0.0;
        for k in 0..N {
            let c: f64 = (0..N).map(|i| dir[i] * self.s[i][k]).sum();
            v += c * c;
        }
        v
    }

    /// One step of one path with z ~ N(0, I) drawn from `rng` (the L = 1 case).
    #[inline(always)]
    fn step_array(&self, x: &mut [f64; N], rng: &mut PathRng) {
        let mut z = [0.0; N];
        brownian::fill_normals(rng, &mut z);
        let mut xl: [[f64; 1]; N] = std::array::from_fn(|i| [x[i]]);
        let zl: [[f64; 1]; N] = std::array::from_fn(|i| [z[i]]);
        self.step_lanes_impl(&mut xl, &zl);
        *x = std::array::from_fn(|i| xl[i][0]);
    }
}

impl<const N: usize> LaneStep<N> for FixedStepper<N> {
    #[inline(always)]
    fn step_lanes<const L: usize>(&self, x: &mut [[f64; L]; N], z: &[[f64; L]]) {
        self.step_lanes_impl(x, z)
    }
    fn variance_bound(&self) -> Option<f64> {
        // dirᵀSSᵀdir ≤ ‖S‖²_F for a unit dir.
        Some(self.s.iter().flatten().map(|v| v * v).sum::<f64>() * (1.0 + 1e-12))
    }
    fn variance_at(&self, _x_prev: &[f64; N], dir: &[f64]) -> f64 {
        self.variance(dir)
    }
}

/// The stepper with its structure fixed at compile time, so that the multi-path kernel is compiled once
/// per structure and its step loop holds no dispatch ([`Stepper::run_paths`]).
struct Structured<'a, const N: usize, const DIAG: bool, const OFFSET: bool>(&'a FixedStepper<N>);

impl<const N: usize, const DIAG: bool, const OFFSET: bool> LaneStep<N> for Structured<'_, N, DIAG, OFFSET> {
    #[inline(always)]
    fn step_lanes<const L: usize>(&self, x: &mut [[f64; L]; N], z: &[[f64; L]]) {
        self.0.step_structured::<L, DIAG, OFFSET>(x, z)
    }
    fn variance_bound(&self) -> Option<f64> {
        self.0.variance_bound()
    }
    fn variance_at(&self, x_prev: &[f64; N], dir: &[f64]) -> f64 {
        self.0.variance_at(x_prev, dir)
    }
}

impl<const N: usize> Stepper for FixedStepper<N> {
    fn dim(&self) -> usize {
        N
    }
    fn position_dim(&self) -> usize {
        N
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn scratch(&self) -> Scratch {
        Scratch {
            ws: crate::sde::Workspace::new(N, N, 0),
            sc: SolverScratch::new(0, 0),
            z: vec![0.0; N],
        }
    }
    #[inline(always)]
    fn step(&self, x: &mut [f64], rng: &mut PathRng, _s: &mut Scratch) {
        if let Ok(x) = <&mut [f64; N]>::try_from(x) {
            self.step_array(x, rng);
        }
    }
    /// The same steps as [`Stepper::step`] with the state held in registers between steps.
    fn advance(&self, x: &mut [f64], rng: &mut PathRng, _s: &mut Scratch, steps: usize, blowup: f64) -> usize {
        let Ok(x) = <&mut [f64; N]>::try_from(x) else { return 0 };
        let mut y = *x;
        let mut taken = steps;
        for k in 0..steps {
            self.step_array(&mut y, rng);
            if !y.iter().all(|v| v.abs() <= blowup) {
                taken = k + 1;
                break;
            }
        }
        *x = y;
        taken
    }
    fn bridge_variance(&self, dir: &[f64], _s: &Scratch) -> Option<f64> {
        Some(self.variance(dir))
    }
    /// The multi-path kernel (`stepper::kernel`), compiled for this stepper's structure: the same records as
    /// the lane loop, bit for bit.
    fn run_paths(&self, jobs: &[PathJob], records: &mut [PathRecord]) {
        match (self.diagonal, self.offset) {
            (false, _) => kernel::simulate(&Structured::<N, false, true>(self), jobs, records),
            (true, true) => kernel::simulate(&Structured::<N, true, true>(self), jobs, records),
            (true, false) => kernel::simulate(&Structured::<N, true, false>(self), jobs, records),
        }
    }
}

/// The fixed-size stepper for a linear SDE, if its dimension qualifies.
pub fn linear_fast_path(l: &LinearSde, dt: f64) -> Option<Box<dyn Stepper>> {
    fn boxed<const N: usize>(l: &LinearSde, dt: f64) -> Option<Box<dyn Stepper>> {
        FixedStepper::<N>::linear(l, dt).map(|s| Box::new(s) as Box<dyn Stepper>)
    }
    match l.dim() {
        1 => boxed::<1>(l, dt),
        2 => boxed::<2>(l, dt),
        3 => boxed::<3>(l, dt),
        4 => boxed::<4>(l, dt),
        _ => None,
    }
}

/// The fixed-size SAM stepper on a quadratic (g = Hx + g₀) with constant diffusion s, if d ≤ [`MAX_FIXED_DIM`].
pub fn sam_fast_path(h: &[f64], g0: &[f64], s: &[f64], rho: f64, eps: f64, dt: f64) -> Option<Box<dyn Stepper>> {
    fn boxed<const N: usize>(h: &[f64], c: &[f64], s: &[f64], rho: f64, eps: f64, dt: f64) -> Option<Box<dyn Stepper>> {
        FixedStepper::<N>::sam(h, c, s, rho, eps, dt).map(|s| Box::new(s) as Box<dyn Stepper>)
    }
    match g0.len() {
        1 => boxed::<1>(h, g0, s, rho, eps, dt),
        2 => boxed::<2>(h, g0, s, rho, eps, dt),
        3 => boxed::<3>(h, g0, s, rho, eps, dt),
        4 => boxed::<4>(h, g0, s, rho, eps, dt),
        _ => None,
    }
}
