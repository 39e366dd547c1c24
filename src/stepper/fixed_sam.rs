//! The fast path of S-SAM-mb (kind `sam`, math spec §4.3) on a quadratic landscape with isotropic constant
//! batch noise Σ_B = s² I (N0, or N3 with an isotropic covariance), in a dimension N ≤ 4 fixed at compile time:
//! Euler–Maruyama
//!
//! x ← x − E\[G\](x) dt + √(η dt) Cov\[G\](x)^{1/2} z,   z ~ N(0, I_N),
//!
//! with E\[G\], Cov\[G\] from the pure per-step function [`crate::sde::sam_coefficients::iso_mean_cov`] (table
//! of the isotropic moment functions) and the symmetric square root (closed form for N ≤ 2, Jacobi beyond).
//! No call back into the landscape: g = Hx + g₀ with H and H² held in registers. It equals the general path
//! (`SdeStepper<Sam, EulerMaruyama>`) up to rounding (tests/dynamics.rs). Milstein needs Dσ and Lévy areas in
//! d ≥ 2, so only Euler–Maruyama runs here.

use super::kernel::{self, LaneStep};
use super::{PathJob, PathRecord, Scratch, Stepper};
use crate::brownian::{self, PathRng};
use crate::linalg;
use crate::sde::sam_coefficients::iso_mean_cov_with;
use crate::sde::sam_moments::IsotropicMoments;
use crate::solver::SolverScratch;
use std::sync::Arc;

/// S-SAM-mb with Euler–Maruyama on a quadratic with Σ_B = s² I, in dimension N.
#[derive(Debug, Clone)]
pub struct FixedSam<const N: usize> {
    table: Arc<IsotropicMoments>,
    h: [[f64; N]; N],
    h2: [[f64; N]; N],
    g0: [f64; N],
    s: f64,
    rho: f64,
    /// √(η dt).
    noise_scale: f64,
    eta: f64,
    dt: f64,
}

fn to_mat<const N: usize>(v: &[f64]) -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| v[i * N + j]))
}

/// The symmetric square root of a symmetric PSD N×N matrix (negative eigenvalues from rounding clamp to 0).
/// N = 1: √a; N = 2: (A + √det I)/√(tr A + 2√det) (Cayley–Hamilton); N ≥ 3: Jacobi.
#[inline(always)]
pub fn sym_sqrt_fixed<const N: usize>(a: &[[f64; N]; N]) -> [[f64; N]; N] {
    let mut r = [[0.0; N]; N];
    if N == 1 {
        r[0][0] = a[0][0].max(0.0).sqrt();
    } else if N == 2 {
        let det = (a[0][0] * a[1][1] - a[0][1] * a[1][0]).max(0.0);
        let sd = det.sqrt();
        let t = (a[0][0] + a[1][1] + 2.0 * sd).max(0.0).sqrt();
        if t > 0.0 {
            r[0][0] = (a[0][0] + sd) / t;
            r[1][1] = (a[1][1] + sd) / t;
            r[0][1] = a[0][1] / t;
            r[1][0] = a[1][0] / t;
        }
    } else {
        let mut m = [[0.0; N]; N];
        m.copy_from_slice(a);
        let (mut vals, mut vecs) = ([0.0; N], [[0.0; N]; N]);
        linalg::sym_eigen(m.as_flattened_mut(), N, &mut vals, vecs.as_flattened_mut());
        linalg::sym_apply(&vals, vecs.as_flattened(), |l| l.max(0.0).sqrt(), r.as_flattened_mut());
    }
    r
}

impl<const N: usize> FixedSam<N> {
    /// From the Hessian `h` (N×N, row-major), g₀ = ∇f(0), s = σ_B, radius ρ, learning rate η and step dt
    /// (None if the sizes are not N).
    pub fn new(
        table: Arc<IsotropicMoments>,
        h: &[f64],
        g0: &[f64],
        s: f64,
        rho: f64,
        eta: f64,
        dt: f64,
    ) -> Option<Self> {
        if h.len() != N * N || g0.len() != N || table.dim() != N {
            return None;
        }
        let hm = to_mat::<N>(h);
        let mut h2 = [[0.0; N]; N];
        linalg::matmul(h, h, N, N, N, h2.as_flattened_mut());
        Some(FixedSam {
            table,
            h: hm,
            h2,
            g0: std::array::from_fn(|i| g0[i]),
            s,
            rho,
            noise_scale: (eta * dt).sqrt(),
            eta,
            dt,
        })
    }

    /// E\[G\] and Cov\[G\] at x.
    #[inline(always)]
    fn coefficients(&self, x: &[f64; N]) -> ([f64; N], [[f64; N]; N]) {
        let mut g = self.g0;
        for i in 0..N {
            for k in 0..N {
                g[i] += self.h[i][k] * x[k];
            }
        }
        let (mut ghat, mut kv, mut mean, mut cov) = ([0.0; N], [0.0; N], [0.0; N], [[0.0; N]; N]);
        iso_mean_cov_with(
            &self.table,
            self.h.as_flattened(),
            self.h2.as_flattened(),
            &g,
            self.s,
            self.rho,
            &mut ghat,
            &mut kv,
            &mut mean,
            cov.as_flattened_mut(),
            false,
        );
        (mean, cov)
    }

    /// σ/√η = Cov\[G\]^{1/2} at x.
    #[inline(always)]
    fn root(&self, x: &[f64; N]) -> ([f64; N], [[f64; N]; N]) {
        let (mean, cov) = self.coefficients(x);
        (mean, sym_sqrt_fixed(&cov))
    }

    /// One Euler–Maruyama step of L paths at once (`x[i][l]`, normals `z[j][l]`): the one definition of
    /// this stepper's arithmetic. The coefficients are evaluated lane by lane; the update is vectorised.
    /// Lane l performs exactly the operations of the scalar step (L = 1), so the multi-path kernel and
    /// [`Stepper::step`] give the same bits.
    #[inline(always)]
    fn step_lanes_impl<const L: usize>(&self, x: &mut [[f64; L]; N], z: &[[f64; L]]) {
        let mut mean = [[0.0; L]; N];
        let mut root = [[[0.0; L]; N]; N];
        for l in 0..L {
            let (m, r) = self.root(&std::array::from_fn(|i| x[i][l]));
            for i in 0..N {
                mean[i][l] = m[i];
                for k in 0..N {
                    root[i][k][l] = r[i][k];
                }
            }
        }
        self.update(x, &mean, &root, z);
    }

    /// x ← x − E\[G\] dt + √(η dt) Cov\[G\]^{1/2} z, lane by lane.
    #[inline(always)]
    fn update<const L: usize>(
        &self,
        x: &mut [[f64; L]; N],
        mean: &[[f64; L]; N],
        root: &[[[f64; L]; N]; N],
        z: &[[f64; L]],
    ) {
        for i in 0..N {
            let mut noise = [0.0; L];
            for k in 0..N {
                for l in 0..L {
                    noise[l] += root[i][k][l] * z[k][l];
                }
            }
            for l in 0..L {
                x[i][l] += -mean[i][l] * self.dt + self.noise_scale * noise[l];
            }
        }
    }

    /// One step; returns Cov\[G\]^{1/2} at the step's start.
    #[inline(always)]
    fn step_array(&self, x: &mut [f64; N], rng: &mut PathRng) -> [[f64; N]; N] {
        let mut z = [0.0; N];
        brownian::fill_normals(rng, &mut z);
        let (mean, root) = self.root(x);
        let mut xl: [[f64; 1]; N] = std::array::from_fn(|i| [x[i]]);
        let zl: [[f64; 1]; N] = std::array::from_fn(|i| [z[i]]);
        let ml: [[f64; 1]; N] = std::array::from_fn(|i| [mean[i]]);
        let rl: [[[f64; 1]; N]; N] = std::array::from_fn(|i| std::array::from_fn(|k| [root[i][k]]));
        self.update(&mut xl, &ml, &rl, &zl);
        *x = std::array::from_fn(|i| xl[i][0]);
        root
    }

    /// dirᵀσσᵀdir for σ = √η·`root`, as [`Stepper::bridge_variance`] computes it from the stored σ.
    fn variance(&self, root: &[[f64; N]; N], dir: &[f64]) -> f64 {
        let c = self.eta.sqrt();
        let mut v = 0.0;
        for k in 0..N {
            let col: f64 = (0..N).map(|i| dir[i] * (c * root[i][k])).sum();
            v += col * col;
        }
        v
    }
}

impl<const N: usize> LaneStep<N> for FixedSam<N> {
    #[inline(always)]
    fn step_lanes<const L: usize>(&self, x: &mut [[f64; L]; N], z: &[[f64; L]]) {
        self.step_lanes_impl(x, z)
    }
    /// G − E\[G\] = ρH(u − E u) + ξ with ‖u‖ = 1, so eᵀCov\[G\]e ≤ (ρ‖H‖₂ + s)² for a unit e, and v ≤ η times
    /// that (‖H‖_F ≥ ‖H‖₂; a relative 1e-6 covers the table's 4e-15 and the rounding of the root).
    fn variance_bound(&self) -> Option<f64> {
        let hf = self.h.iter().flatten().map(|v| v * v).sum::<f64>().sqrt();
        let b = self.rho * hf + self.s;
        Some(self.eta * b * b * (1.0 + 1e-6))
    }
    fn variance_at(&self, x_prev: &[f64; N], dir: &[f64]) -> f64 {
        let (_, root) = self.root(x_prev);
        self.variance(&root, dir)
    }
}

impl<const N: usize> Stepper for FixedSam<N> {
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
            sc: SolverScratch::new(N, N),
            z: vec![0.0; N],
        }
    }
    #[inline(always)]
    fn step(&self, x: &mut [f64], rng: &mut PathRng, s: &mut Scratch) {
        if let Ok(x) = <&mut [f64; N]>::try_from(x) {
            let root = self.step_array(x, rng);
            let c = self.eta.sqrt();
            for i in 0..N {
                for k in 0..N {
                    s.sc.sigma[i * N + k] = c * root[i][k];
                }
            }
        }
    }
    /// The same steps as [`Stepper::step`] with the state in registers; σ for the Brownian-bridge correction
    /// (`s.sc.sigma`, filled by `step`) is not recorded.
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
    fn bridge_variance(&self, dir: &[f64], s: &Scratch) -> Option<f64> {
        let mut v = 0.0;
        for k in 0..N {
            let c: f64 = (0..N).map(|i| dir[i] * s.sc.sigma[i * N + k]).sum();
            v += c * c;
        }
        Some(v)
    }
    /// The multi-path kernel (`stepper::kernel`): the same records as the lane loop, bit for bit.
    fn run_paths(&self, jobs: &[PathJob], records: &mut [PathRecord]) {
        kernel::simulate(self, jobs, records)
    }
}

/// The fixed-size S-SAM-mb stepper on a quadratic (g = Hx + g₀) with Σ_B = s² I, if d ≤ [`super::fixed::MAX_FIXED_DIM`].
#[allow(clippy::too_many_arguments)]
pub fn sam_mb_fast_path(
    table: Arc<IsotropicMoments>,
    h: &[f64],
    g0: &[f64],
    s: f64,
    rho: f64,
    eta: f64,
    dt: f64,
) -> Option<Box<dyn Stepper>> {
    fn boxed<const N: usize>(
        t: Arc<IsotropicMoments>,
        h: &[f64],
        g0: &[f64],
        s: f64,
        rho: f64,
        eta: f64,
        dt: f64,
    ) -> Option<Box<dyn Stepper>> {
        FixedSam::<N>::new(t, h, g0, s, rho, eta, dt).map(|s| Box::new(s) as Box<dyn Stepper>)
    }
    match g0.len() {
        1 => boxed::<1>(table, h, g0, s, rho, eta, dt),
        2 => boxed::<2>(table, h, g0, s, rho, eta, dt),
        3 => boxed::<3>(table, h, g0, s, rho, eta, dt),
        4 => boxed::<4>(table, h, g0, s, rho, eta, dt),
        _ => None,
    }
}
