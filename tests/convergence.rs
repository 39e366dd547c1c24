//! Strong order of every solver on every noise structure, against the order the solver declares (math spec
//! §5), and Milstein's refusal to run on non-commutative noise without the opt-in.
//!
//! One test SDE per structure, each with its exact solution at T as a function of the Brownian path:
//! - additive: the OU process dX = −aX dt + b dW, X(T) = e^{−aT}X(0) + b∫e^{−a(T−s)}dW(s) (the integral by
//!   the midpoint rule on the fine grid, error O(h_f^{3/2}) per step, negligible);
//! - diagonal / commutative: geometric Brownian motion per component (d = 2 / d = 1),
//!   Xᵢ(T) = Xᵢ(0) exp((a − b²/2)T + b Wᵢ(T));
//! - general: dX₁ = dW₁, dX₂ = X₁ dW₂ from 0 (L¹σ₂ = e₂ ≠ L²σ₁ = 0), X₂(T) = ∫W₁ dW₂, which for independent W₁,
//!   W₂ equals the Stratonovich integral, summed on the fine grid (error: the fine Lévy areas, variance T·h_f/12,
//!   independent of the coarse levels' error).
//!
//! Every level h = T/2^k (k = 4…9) sums its increments from the same fine Brownian path (h_f = 2⁻¹³), so each
//! level's error is measured against the exact solution driven by the same path.
#![allow(clippy::needless_range_loop)]

use samsde::Error;
use samsde::brownian::{self, path_rng};
use samsde::model::Model;
use samsde::model::landscape::{Beale, DoubleWell, Expression, FiniteSum, Landscape, ToyNetwork};
use samsde::model::noise::Noise;
use samsde::sde::{NoiseStructure, Sde, Sgd, Usam, Workspace};
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{EulerMaruyama, Milstein, Solver, SolverKind, SolverScratch, SolverSpec};
use std::sync::Arc;

/// A test SDE with its exact solution at T, given the fine Brownian increments (row-major, steps × m).
trait Exact: Sde {
    fn exact(&self, x0: &[f64], fine: &[f64], hf: f64) -> Vec<f64>;
}

/// dXᵢ = a Xᵢ dt + b Xᵢ dWᵢ, i = 1..d: diagonal (d ≥ 2) or scalar, commutative (d = 1) noise.
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

impl Exact for Gbm {
    fn exact(&self, x0: &[f64], fine: &[f64], _hf: f64) -> Vec<f64> {
        (0..self.d)
            .map(|i| {
                let w: f64 = fine.iter().skip(i).step_by(self.d).sum();
                x0[i] * ((self.a - 0.5 * self.b * self.b) * T + self.b * w).exp()
            })
            .collect()
    }
}

/// dX = −aX dt + b dW (additive noise).
struct Ou {
    a: f64,
    b: f64,
}

impl Sde for Ou {
    fn dim(&self) -> usize {
        1
    }
    fn noise_dim(&self) -> usize {
        1
    }
    fn structure(&self) -> NoiseStructure {
        NoiseStructure::Additive
    }
    fn drift(&self, x: &[f64], b: &mut [f64], _ws: &mut Workspace) {
        b[0] = -self.a * x[0];
    }
    fn diffusion(&self, _x: &[f64], s: &mut [f64], _ws: &mut Workspace) {
        s[0] = self.b;
    }
    fn diffusion_jvp(&self, _x: &[f64], _u: &[f64], ds: &mut [f64], _ws: &mut Workspace) {
        ds[0] = 0.0;
    }
    fn workspace(&self) -> Workspace {
        Workspace::new(1, 1, 0)
    }
}

impl Exact for Ou {
    fn exact(&self, x0: &[f64], fine: &[f64], hf: f64) -> Vec<f64> {
        let noise: f64 = fine
            .iter()
            .enumerate()
            .map(|(k, dw)| (-self.a * (T - (k as f64 + 0.5) * hf)).exp() * dw)
            .sum();
        vec![(-self.a * T).exp() * x0[0] + self.b * noise]
    }
}

/// dX₁ = dW₁, dX₂ = X₁ dW₂: σ = [[1, 0], [0, x₁]], non-commutative.
struct Areas;

impl Sde for Areas {
    fn dim(&self) -> usize {
        2
    }
    fn noise_dim(&self) -> usize {
        2
    }
    fn structure(&self) -> NoiseStructure {
        NoiseStructure::General
    }
    fn drift(&self, _x: &[f64], b: &mut [f64], _ws: &mut Workspace) {
        b.fill(0.0);
    }
    fn diffusion(&self, x: &[f64], s: &mut [f64], _ws: &mut Workspace) {
        s.copy_from_slice(&[1.0, 0.0, 0.0, x[0]]);
    }
    /// (Dσ)[u] = [[0, 0], [0, u₁]].
    fn diffusion_jvp(&self, _x: &[f64], u: &[f64], ds: &mut [f64], _ws: &mut Workspace) {
        ds.copy_from_slice(&[0.0, 0.0, 0.0, u[0]]);
    }
    fn workspace(&self) -> Workspace {
        Workspace::new(2, 2, 0)
    }
}

impl Exact for Areas {
    fn exact(&self, x0: &[f64], fine: &[f64], _hf: f64) -> Vec<f64> {
        let (mut w1, mut x2) = (x0[0], x0[1]);
        for dw in fine.chunks(2) {
            x2 += (w1 + 0.5 * dw[0]) * dw[1];
            w1 += dw[0];
        }
        vec![w1, x2]
    }
}

/// The test SDE of `structure` and its start.
fn case(structure: NoiseStructure) -> (Box<dyn Exact>, Vec<f64>) {
    match structure {
        NoiseStructure::Additive => (Box::new(Ou { a: 1.0, b: 1.0 }), vec![1.0]),
        NoiseStructure::Diagonal => (Box::new(Gbm { d: 2, a: 2.0, b: 1.0 }), vec![1.0, 1.0]),
        NoiseStructure::Commutative => (Box::new(Gbm { d: 1, a: 2.0, b: 1.0 }), vec![1.0]),
        NoiseStructure::General => (Box::new(Areas), vec![0.0, 0.0]),
    }
}

const T: f64 = 1.0;
const KMIN: u32 = 4;
const KMAX: u32 = 9;
/// The fine grid the Brownian paths and the exact solutions live on: h_f = T/2^FINE.
const FINE: u32 = 13;
const PATHS: u64 = 2000;

/// Mean absolute error E|X_h(T) − X(T)| (averaged over paths and components) per level k = KMIN..=KMAX.
fn strong_errors<V: Solver>(sde: &dyn Exact, solver: V, x0: &[f64]) -> Vec<f64> {
    let (d, m) = (sde.dim(), sde.noise_dim());
    let nfine = 1usize << FINE;
    let hf = T / nfine as f64;
    let mut ws = sde.workspace();
    let mut sc = SolverScratch::new(d, m);
    let mut fine = vec![0.0; nfine * m];
    let mut errs = vec![0.0; (KMAX - KMIN + 1) as usize];
    let mut dw = vec![0.0; m];
    let mut x = vec![0.0; d];
    for p in 0..PATHS {
        let mut rng = path_rng(2024, p);
        brownian::fill_normals(&mut rng, &mut fine);
        for z in fine.iter_mut() {
            *z *= hf.sqrt();
        }
        let exact = sde.exact(x0, &fine, hf);
        for (li, k) in (KMIN..=KMAX).enumerate() {
            let n = 1usize << k;
            let stride = nfine / n;
            let h = T / n as f64;
            x.copy_from_slice(x0);
            sc.sigma_cached = false;
            for s in 0..n {
                dw.fill(0.0);
                for q in 0..stride {
                    for j in 0..m {
                        dw[j] += fine[(s * stride + q) * m + j];
                    }
                }
                solver.step(sde, &mut x, h, &dw, &mut ws, &mut sc);
            }
            for i in 0..d {
                errs[li] += (x[i] - exact[i]).abs() / (PATHS as f64 * d as f64);
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

/// Every (solver, structure) pair: the fitted strong order (h = 2⁻⁴ … 2⁻⁹, 2000 paths) must be the order the
/// solver declares for that structure (`SolverKind::strong_order`; Milstein with the Lévy-area opt-in on
/// general noise), within ±0.15. The Monte Carlo error of each E|err| is a few percent at 2000 paths (relative
/// std of |err| is O(1), /√2000 ≈ 2 %) and the levels are positively correlated (same Brownian paths), so the
/// fitted slope over a factor 32 in h moves by ≲ 0.03; the margin covers pre-asymptotic curvature at h = 1/16
/// and the fine-grid reference of the general case (≤ 0.02). A scheme of the wrong order misses by ≥ 0.35.
/// Errors must also decrease with h at every level.
#[test]
fn strong_order_matches_the_declared_order_for_every_solver_and_structure() {
    let mut checked = 0;
    for structure in NoiseStructure::ALL {
        let (sde, x0) = case(structure);
        assert_eq!(sde.structure(), structure);
        for kind in SolverKind::ALL {
            let errs = match kind {
                SolverKind::EulerMaruyama => strong_errors(sde.as_ref(), EulerMaruyama, &x0),
                SolverKind::Milstein => strong_errors(
                    sde.as_ref(),
                    Milstein {
                        allow_dropping_areas: true,
                    },
                    &x0,
                ),
            };
            let (got, declared) = (slope(&errs), kind.strong_order(structure));
            println!("{kind:?} on {structure:?}: errors {errs:?}, slope {got:.3}, declared {declared}");
            assert!(
                (got - declared).abs() <= 0.15,
                "{kind:?} on {structure:?}: strong slope {got:.3}, declared order {declared}"
            );
            for w in errs.windows(2) {
                assert!(w[1] < w[0], "{kind:?} on {structure:?}: error does not decrease: {w:?}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, NoiseStructure::ALL.len() * SolverKind::ALL.len());
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

// ------------------------------------------------------------------------------------------------------------
// The library's own SDEs, which have no closed-form solution: the reference is Milstein at the fine step
// h_f = T/2^REF_FINE on the same Brownian path. A level h = T/2^k (k = 4…9) is ≥ 8 h_f, so the reference's own
// error (order 1: ≤ 1/8 of the finest level's) moves the fitted slope by ≲ 0.03. A Milstein step with a wrong
// derivative term still converges, but at order ½ (its error Σ δc (ΔW² − h) is a martingale of variance O(h)),
// so it would miss the declared order 1 by ≈ 0.5.

/// Fine grid of the reference solution: h_f = T/2^12.
const REF_FINE: u32 = 12;
/// Paths of the reference-based tests (MC error of the fitted slope ≲ 0.05: relative error of each level's
/// mean |err| ≈ 1/√600 ≈ 4 %, the levels positively correlated).
const REF_PATHS: u64 = 600;

/// Mean absolute errors E|X_h(T) − X_ref(T)| per level k = KMIN..=KMAX of Euler–Maruyama and of Milstein (in
/// this order), X_ref = Milstein at h_f on the same Brownian path.
fn strong_errors_vs_fine(sde: &dyn Sde, x0: &[f64]) -> [Vec<f64>; 2] {
    let (d, m) = (sde.dim(), sde.noise_dim());
    let nfine = 1usize << REF_FINE;
    let hf = T / nfine as f64;
    let milstein = Milstein {
        allow_dropping_areas: false,
    };
    let mut ws = sde.workspace();
    let mut sc = SolverScratch::new(d, m);
    let mut fine = vec![0.0; nfine * m];
    let mut errs = [
        vec![0.0; (KMAX - KMIN + 1) as usize],
        vec![0.0; (KMAX - KMIN + 1) as usize],
    ];
    let mut dw = vec![0.0; m];
    let (mut x, mut xref) = (vec![0.0; d], vec![0.0; d]);
    for p in 0..REF_PATHS {
        let mut rng = path_rng(77, p);
        brownian::fill_normals(&mut rng, &mut fine);
        for z in fine.iter_mut() {
            *z *= hf.sqrt();
        }
        xref.copy_from_slice(x0);
        for s in 0..nfine {
            milstein.step(sde, &mut xref, hf, &fine[s * m..(s + 1) * m], &mut ws, &mut sc);
        }
        assert!(xref.iter().all(|v| v.is_finite()), "reference diverged");
        for (which, err) in errs.iter_mut().enumerate() {
            for (li, k) in (KMIN..=KMAX).enumerate() {
                let n = 1usize << k;
                let stride = nfine / n;
                let h = T / n as f64;
                x.copy_from_slice(x0);
                for s in 0..n {
                    dw.fill(0.0);
                    for q in 0..stride {
                        for j in 0..m {
                            dw[j] += fine[(s * stride + q) * m + j];
                        }
                    }
                    if which == 0 {
                        EulerMaruyama.step(sde, &mut x, h, &dw, &mut ws, &mut sc);
                    } else {
                        milstein.step(sde, &mut x, h, &dw, &mut ws, &mut sc);
                    }
                }
                for i in 0..d {
                    err[li] += (x[i] - xref[i]).abs() / (REF_PATHS as f64 * d as f64);
                }
            }
        }
    }
    errs
}

/// Fits the strong slope of Euler–Maruyama and Milstein on `sde` against the fine reference and checks each
/// against the order the solver declares for the SDE's structure, within ±0.15 (as above).
fn check_declared_orders(name: &str, sde: &dyn Sde, x0: &[f64]) {
    let structure = sde.structure();
    let errs = strong_errors_vs_fine(sde, x0);
    for (kind, errs) in [SolverKind::EulerMaruyama, SolverKind::Milstein].into_iter().zip(errs) {
        let (got, declared) = (slope(&errs), kind.strong_order(structure));
        println!("{kind:?} on {name} ({structure:?}): errors {errs:?}, slope {got:.3}, declared {declared}");
        assert!(
            (got - declared).abs() <= 0.15,
            "{kind:?} on {name} ({structure:?}): strong slope {got:.3}, declared order {declared}"
        );
        for w in errs.windows(2) {
            assert!(w[1] < w[0], "{kind:?} on {name}: error does not decrease: {w:?}");
        }
    }
}

fn expression(formula: &str, vars: &[&str]) -> Arc<Expression> {
    let v: Vec<String> = vars.iter().map(|s| s.to_string()).collect();
    Arc::new(Expression::new(formula, &v).unwrap())
}

/// S-USAM in 1-D with N1 noise on f = −cos x (math spec §4.2, §5): σ(x) = √η(1 + ρ cos x)·√(c/B)(cos²x + δ²)^{1/4}
/// is state-dependent (σσ' = O(1) with η = 0.5, ρ = 0.5, c = B = 1, δ = 0.3) and scalar, hence commutative:
/// Milstein must show strong order 1 and Euler–Maruyama ½, from x₀ = 0.3 to T = 1.
#[test]
fn milstein_has_strong_order_one_on_1d_usam_with_n1_noise() {
    let model = Model::new(expression("-cos(x)", &["x"]), Noise::hessian(1.0, 1.0, 0.3).unwrap()).unwrap();
    let sde = Usam::new(model, 0.5, 0.5);
    assert_eq!(sde.structure(), NoiseStructure::Commutative);
    check_declared_orders("1-D USAM, N1, f = −cos x", &sde, &[0.3]);
}

/// A separable landscape f = −cos x + ¼y² − ½cos y under N1: H(x, y) = diag(cos x, ½ + ½cos y), so SGD's and
/// USAM's diffusions are diagonal with σᵢᵢ of xᵢ alone (math spec §5, "S-SGD1, N1, separable f"). The structure
/// is detected (diagonal, not general), `build` runs Milstein without the Lévy-area opt-in at declared strong
/// order 1, and the fitted order of USAM (η = 0.5, ρ = 0.5, δ = 0.3, from (0.3, −0.4)) is 1 (Euler–Maruyama ½).
/// One cross term (0.3 sin(xy)) makes the noise general again, and `build` refuses Milstein.
#[test]
fn milstein_runs_at_order_one_on_diagonal_noise_of_a_separable_landscape() {
    let sep = expression("-cos(x) + 0.25*y^2 - 0.5*cos(y)", &["x", "y"]);
    assert!(sep.separable());
    let model = Model::new(sep, Noise::hessian(1.0, 1.0, 0.3).unwrap()).unwrap();
    let solver = SolverSpec {
        kind: SolverKind::Milstein,
        dt: 1e-2,
        allow_dropping_areas: false,
    };
    for kind in [DynamicsKind::Sgd, DynamicsKind::Usam] {
        let spec = DynamicsSpec::new(kind, 0.5).rho(0.5);
        let built = build(&spec, &model, &solver, &[0.0, 0.0], "dynamics.D").expect("Milstein on diagonal noise");
        assert_eq!(built.structure, Some(NoiseStructure::Diagonal), "{kind:?}");
        assert_eq!(built.strong_order, Some(1.0), "{kind:?}");
    }
    assert_eq!(Sgd::new(model.clone(), 0.5).structure(), NoiseStructure::Diagonal);
    let usam = Usam::new(model, 0.5, 0.5);
    assert_eq!(usam.structure(), NoiseStructure::Diagonal);
    check_declared_orders("2-D USAM, N1, separable f", &usam, &[0.3, -0.4]);

    // The built-in double well a(¼y⁴ − ½y²) + ½x² is separable too; N0 noise gives USAM diagonal noise as well.
    let dw = Model::new(Arc::new(DoubleWell::default()), Noise::isotropic(1.0, 1.0).unwrap()).unwrap();
    assert_eq!(Usam::new(dw, 0.1, 0.1).structure(), NoiseStructure::Diagonal);

    let mixed = expression("-cos(x) + 0.25*y^2 - 0.5*cos(y) + 0.3*sin(x*y)", &["x", "y"]);
    assert!(!mixed.separable());
    let model = Model::new(mixed, Noise::hessian(1.0, 1.0, 0.3).unwrap()).unwrap();
    let spec = DynamicsSpec::new(DynamicsKind::Usam, 0.5).rho(0.5);
    assert!(matches!(
        build(&spec, &model, &solver, &[0.0, 0.0], "dynamics.D"),
        Err(Error::Unsupported { .. })
    ));
}

/// N2 whose samples differ from f by affine terms, fᵢ = f + aᵢᵀx with Σaᵢ = 0 (f = −cos x + ½y², N = 3): every
/// ∇²fᵢ = ∇²f, so the factor columns √(κ/N)(∇fᵢ − g) = √(κ/N) aᵢ are constant and S-SGD1's noise is additive
/// (math spec §5, N2 row: L^{i}σ_j = (η/(NB))(H_j − H)(∇f_i − g) = 0). The landscape declares it; the noise is
/// then constant (checked: the factor and DF[u] at random points), SGD's structure additive, and `build` runs
/// Milstein. The same samples without the declaration stay general (3 columns) and Milstein is refused.
#[test]
fn n2_with_equal_sample_hessians_is_additive() {
    for declared in [true, false] {
        let l = Arc::new(AffineSamples { declared });
        let noise = Noise::finite_sum(2, true, l.clone()).unwrap();
        let model = Model::new(l.clone(), noise.clone()).unwrap();
        assert_eq!(model.noise_is_constant(), declared);
        let spec = DynamicsSpec::new(DynamicsKind::Sgd, 0.1);
        let solver = SolverSpec {
            kind: SolverKind::Milstein,
            dt: 1e-2,
            allow_dropping_areas: false,
        };
        let built = build(&spec, &model, &solver, &[0.2, 0.1], "dynamics.SGD");
        if declared {
            let built = built.expect("Milstein on additive noise");
            assert_eq!(built.structure, Some(NoiseStructure::Additive));
            assert_eq!(built.strong_order, Some(1.0));
        } else {
            assert!(matches!(built, Err(Error::Unsupported { .. })));
        }
    }
    // The declaration is true of these samples: F is the same everywhere and DF[u] = 0.
    let l = AffineSamples { declared: true };
    let noise = Noise::finite_sum(2, true, Arc::new(AffineSamples { declared: true })).unwrap();
    let mut s = samsde::model::noise::NoiseScratch::new(2, 3);
    let (mut f0, mut f, mut df) = (vec![0.0; 6], vec![0.0; 6], vec![0.0; 6]);
    noise.factor(&l, &[0.0, 0.0], &mut f0, &mut s);
    let mut rng = path_rng(5, 0);
    for _ in 0..20 {
        let mut xu = [0.0; 4];
        brownian::fill_normals(&mut rng, &mut xu);
        noise.factor(&l, &xu[..2], &mut f, &mut s);
        noise.factor_jvp(&l, &xu[..2], &xu[2..], &mut df, &mut s);
        for k in 0..6 {
            assert!((f[k] - f0[k]).abs() < 1e-14, "F changes with x: {f:?} vs {f0:?}");
            assert!(df[k].abs() < 1e-14, "DF[u] = {df:?}");
        }
    }
    assert!(f0.iter().any(|v| v.abs() > 0.1), "the noise is not zero: {f0:?}");
    // The toy network has equal sample Hessians only when all xᵢ² (and xᵢyᵢ) agree, e.g. N = 1.
    assert!(FiniteSum::equal_sample_hessians(&ToyNetwork::new(1, 1.0, 3).unwrap()));
    assert!(!FiniteSum::equal_sample_hessians(&ToyNetwork::new(12, 1.0, 3).unwrap()));
}

/// fᵢ(x, y) = −cos x + ½y² + aᵢ·(x, y) with a₁ = (1, 0), a₂ = (−1, 1), a₃ = (0, −1).
#[derive(Debug)]
struct AffineSamples {
    /// Whether it declares its equal sample Hessians.
    declared: bool,
}

const AFFINE: [[f64; 2]; 3] = [[1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]];

impl Landscape for AffineSamples {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        -x[0].cos() + 0.5 * x[1] * x[1]
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        g[0] = x[0].sin();
        g[1] = x[1];
    }
    fn hessian(&self, x: &[f64], h: &mut [f64]) {
        h.copy_from_slice(&[x[0].cos(), 0.0, 0.0, 1.0]);
    }
    fn third(&self, x: &[f64], u: &[f64], t: &mut [f64]) {
        t.copy_from_slice(&[-x[0].sin() * u[0], 0.0, 0.0, 0.0]);
    }
    fn name(&self) -> &'static str {
        "affine_samples"
    }
    fn finite_sum(self: Arc<Self>) -> Option<Arc<dyn FiniteSum>> {
        Some(self)
    }
}

impl FiniteSum for AffineSamples {
    fn samples(&self) -> usize {
        3
    }
    fn sample_gradient(&self, i: usize, x: &[f64], g: &mut [f64]) {
        self.gradient(x, g);
        g[0] += AFFINE[i][0];
        g[1] += AFFINE[i][1];
    }
    fn sample_hessian(&self, _i: usize, x: &[f64], h: &mut [f64]) {
        self.hessian(x, h);
    }
    fn equal_sample_hessians(&self) -> bool {
        self.declared
    }
}
