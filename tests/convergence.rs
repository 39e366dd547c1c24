//! Strong order of the solvers on an SDE with a known solution (math spec §5), and Milstein's refusal to run
//! on non-commutative noise without the opt-in.
//!
//! The test SDE is geometric Brownian motion per component, dXᵢ = a Xᵢ dt + b Xᵢ dWᵢ (diagonal, hence
//! commutative, multiplicative noise), with exact solution Xᵢ(T) = Xᵢ(0) exp((a − b²/2)T + b Wᵢ(T)).
//! Every level h = T/2^k uses increments summed from the same finest Brownian path, so the error at each level
//! is measured against the exact solution driven by the same W(T).
#![allow(clippy::needless_range_loop)]

use samsde::Error;
use samsde::brownian::{self, path_rng};
use samsde::model::Model;
use samsde::model::landscape::Beale;
use samsde::model::noise::Noise;
use samsde::sde::{NoiseStructure, Sde, Workspace};
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{EulerMaruyama, Milstein, Solver, SolverScratch};
use samsde::solver::{SolverKind, SolverSpec};
use std::sync::Arc;

/// dXᵢ = a Xᵢ dt + b Xᵢ dWᵢ, i = 1..d.
struct Gbm {
    d: usize,
    a: f64,
    b: f64,
}

impl Sde for Gbm {
    fn dim(&self) -> usize {
        self.d
    }
    fn noise_dim(&self) -> usize {
        self.d
    }
    fn structure(&self) -> NoiseStructure {
        if self.d == 1 {
            NoiseStructure::Commutative
        } else {
            NoiseStructure::Diagonal
        }
    }
    fn drift(&self, x: &[f64], b: &mut [f64], _ws: &mut Workspace) {
        for i in 0..self.d {
            b[i] = self.a * x[i];
        }
    }
    /// σ = diag(b x).
    fn diffusion(&self, x: &[f64], s: &mut [f64], _ws: &mut Workspace) {
        s.fill(0.0);
        for i in 0..self.d {
            s[i * self.d + i] = self.b * x[i];
        }
    }
    /// (Dσ)[u] = diag(b u).
    fn diffusion_jvp(&self, _x: &[f64], u: &[f64], ds: &mut [f64], _ws: &mut Workspace) {
        ds.fill(0.0);
        for i in 0..self.d {
            ds[i * self.d + i] = self.b * u[i];
        }
    }
    fn workspace(&self) -> Workspace {
        Workspace::new(self.d, self.d, 0)
    }
}

const T: f64 = 1.0;
const KMIN: u32 = 4;
const KMAX: u32 = 9;
const PATHS: u64 = 2000;

/// Mean absolute error E|X_h(T) − X(T)| (averaged over paths and components) per level k = KMIN..=KMAX.
fn strong_errors<V: Solver>(sde: &Gbm, solver: V, x0: f64) -> Vec<f64> {
    let d = sde.d;
    let nfine = 1usize << KMAX;
    let hf = T / nfine as f64;
    let mut ws = sde.workspace();
    let mut sc = SolverScratch::new(d, d);
    let mut fine = vec![0.0; nfine * d];
    let mut errs = vec![0.0; (KMAX - KMIN + 1) as usize];
    let mut dw = vec![0.0; d];
    let mut x = vec![0.0; d];
    for p in 0..PATHS {
        let mut rng = path_rng(2024, p);
        brownian::fill_normals(&mut rng, &mut fine);
        for z in fine.iter_mut() {
            *z *= hf.sqrt();
        }
        let mut wt = vec![0.0; d];
        for s in 0..nfine {
            for i in 0..d {
                wt[i] += fine[s * d + i];
            }
        }
        for (li, k) in (KMIN..=KMAX).enumerate() {
            let n = 1usize << k;
            let stride = nfine / n;
            let h = T / n as f64;
            x.fill(x0);
            for s in 0..n {
                dw.fill(0.0);
                for q in 0..stride {
                    for i in 0..d {
                        dw[i] += fine[(s * stride + q) * d + i];
                    }
                }
                solver.step(sde, &mut x, h, &dw, &mut ws, &mut sc);
            }
            for i in 0..d {
                let exact = x0 * ((sde.a - 0.5 * sde.b * sde.b) * T + sde.b * wt[i]).exp();
                errs[li] += (x[i] - exact).abs() / (PATHS as f64 * d as f64);
            }
        }
    }
    errs
}

/// Least-squares slope of ln err against ln h.
fn slope(errs: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> = (KMIN..=KMAX)
        .zip(errs)
        .map(|(k, e)| ((T / (1u64 << k) as f64).ln(), e.ln()))
        .collect();
    let n = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    sxy / sxx
}

/// Fits the strong orders on GBM with a = 2, b = 1, X(0) = 1, T = 1 (Higham's example), h = 2⁻⁴ … 2⁻⁹, 2000
/// paths. Theory: EM strong order ½, Milstein 1 on commutative noise. Tolerance ±0.15 on the slope: the
/// Monte Carlo error of each E|err| is a few percent at 2000 paths (relative std of |err| is O(1), /√2000 ≈ 2%)
/// and the errors at different levels are positively correlated (same Brownian paths), so the fitted slope
/// over a factor 32 in h moves by ≲ 0.03; the remaining margin covers pre-asymptotic curvature at h = 1/16.
/// A scheme of the wrong order (EM at 1, or Milstein that drops its correction, at ½) misses by ≥ 0.35.
/// Returns the slopes (EM, Milstein) and prints them.
fn check_orders(d: usize) -> (f64, f64) {
    let sde = Gbm { d, a: 2.0, b: 1.0 };
    let em = strong_errors(&sde, EulerMaruyama, 1.0);
    let mil = strong_errors(
        &sde,
        Milstein {
            allow_dropping_areas: false,
        },
        1.0,
    );
    let (se, sm) = (slope(&em), slope(&mil));
    println!("d = {d}: EM errors {em:?} slope {se:.3}; Milstein errors {mil:?} slope {sm:.3}");
    assert!((se - 0.5).abs() <= 0.15, "d = {d}: EM strong slope {se}");
    assert!((sm - 1.0).abs() <= 0.15, "d = {d}: Milstein strong slope {sm}");
    // Errors must decrease monotonically with h for both schemes, and Milstein must beat EM at the finest h.
    for w in em.windows(2).chain(mil.windows(2)) {
        assert!(w[1] < w[0], "error does not decrease: {w:?}");
    }
    assert!(mil[mil.len() - 1] < 0.5 * em[em.len() - 1]);
    (se, sm)
}

#[test]
fn strong_order_gbm_diagonal_noise() {
    check_orders(2);
}

#[test]
fn strong_order_gbm_scalar_noise() {
    check_orders(1);
}

/// Milstein supports every structure except General, and General only with the opt-in.
#[test]
fn milstein_support_matrix() {
    let strict = Milstein {
        allow_dropping_areas: false,
    };
    let lax = Milstein {
        allow_dropping_areas: true,
    };
    for s in [
        NoiseStructure::Additive,
        NoiseStructure::Diagonal,
        NoiseStructure::Commutative,
    ] {
        assert!(strict.supports(s) && lax.supports(s));
        assert_eq!(strict.strong_order(s), 1.0);
    }
    assert!(!strict.supports(NoiseStructure::General));
    assert!(lax.supports(NoiseStructure::General));
    assert_eq!(lax.strong_order(NoiseStructure::General), 0.5);
    assert!(EulerMaruyama.supports(NoiseStructure::General));
    assert_eq!(EulerMaruyama.strong_order(NoiseStructure::Diagonal), 0.5);
    assert_eq!(EulerMaruyama.strong_order(NoiseStructure::Additive), 1.0);
}

/// USAM with N1 noise on Beale has σ = √η(I+ρH)Σ_B^{1/2} with two columns and no structure (General):
/// `build` must refuse Milstein without `allow_dropping_areas` (Error::Unsupported naming the opt-in), and accept
/// it with the opt-in, reporting strong order ½.
#[test]
fn build_refuses_milstein_on_general_noise_without_opt_in() {
    let model = Model::new(Arc::new(Beale), Noise::hessian(1.0, 8.0, 1e-3).unwrap()).unwrap();
    let spec = DynamicsSpec::new(DynamicsKind::Usam, 0.01).rho(0.1);
    let mut solver = SolverSpec {
        kind: SolverKind::Milstein,
        dt: 1e-3,
        allow_dropping_areas: false,
    };
    match build(&spec, &model, &solver, &[0.0, 1.0], "dynamics.U") {
        Err(e @ Error::Unsupported { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("allow_dropping_areas"), "{msg}");
        }
        Err(e) => panic!("expected Error::Unsupported, got {e:?}"),
        Ok(_) => panic!("Milstein on general noise must be refused without the opt-in"),
    }
    solver.allow_dropping_areas = true;
    let built = build(&spec, &model, &solver, &[0.0, 1.0], "dynamics.U").expect("opt-in accepted");
    assert_eq!(built.structure, Some(NoiseStructure::General));
    assert_eq!(built.strong_order, Some(0.5));
    // Euler–Maruyama needs no opt-in.
    solver.kind = SolverKind::EulerMaruyama;
    solver.allow_dropping_areas = false;
    assert!(build(&spec, &model, &solver, &[0.0, 1.0], "dynamics.U").is_ok());
}
