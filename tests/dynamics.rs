//! What the simulation core must show about the dynamics themselves (math spec §2, §4, O1, O3, §4.5):
//! reductions at ρ = 0 and μ = 0, the exact linear forms on a quadratic saddle, the USAM attraction threshold
//! and the SAM finite-time flow, the S-HB state equations and PyTorch heavy ball, and rejection of bad input.
#![allow(clippy::needless_range_loop)]

mod common;

use common::model;
use samsde::Error;
use samsde::brownian::{self, PathRng, path_rng};
use samsde::model::Model;
use samsde::model::landscape::{Beale, DoubleWell, Landscape, Quadratic};
use samsde::model::noise::Noise;
use samsde::sde::Dnsam;
use samsde::sde::{HeavyBall, Kim, LinearSde, Sam, SamFullbatch, Sde, Sgd, Usam};
use samsde::setup::DEFAULT_EPSILON;
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{EulerMaruyama, Milstein, Solver, SolverScratch};
use samsde::solver::{SolverKind, SolverSpec};
use samsde::stepper::Stepper;
use samsde::stepper::{Discrete, DiscreteKind};

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
}

/// Row-major n×n product.
fn mm(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                c[i * n + j] += a[i * n + k] * b[k * n + j];
            }
        }
    }
    c
}

/// σσᵀ for an n×m row-major σ.
fn outer(s: &[f64], n: usize, m: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            for k in 0..m {
                c[i * n + j] += s[i * m + k] * s[j * m + k];
            }
        }
    }
    c
}

fn drift_of<S: Sde + ?Sized>(sde: &S, x: &[f64]) -> Vec<f64> {
    let mut ws = sde.workspace();
    let mut b = vec![0.0; sde.dim()];
    sde.drift(x, &mut b, &mut ws);
    b
}

fn diffusion_of<S: Sde + ?Sized>(sde: &S, x: &[f64]) -> Vec<f64> {
    let mut ws = sde.workspace();
    let mut s = vec![0.0; sde.dim() * sde.noise_dim()];
    sde.diffusion(x, &mut s, &mut ws);
    s
}

/// Runs `steps` steps of `solver` on `sde` from `x0`, with increments √h·z drawn from one fixed seed, so that
/// every SDE passed in sees the same dW sequence. Returns the whole path.
fn drive<S: Sde + ?Sized, V: Solver>(sde: &S, solver: V, x0: &[f64], h: f64, steps: usize, seed: u64) -> Vec<Vec<f64>> {
    let (n, m) = (sde.dim(), sde.noise_dim());
    let mut ws = sde.workspace();
    let mut sc = SolverScratch::new(n, m);
    let mut rng = path_rng(seed, 0);
    let mut dw = vec![0.0; m];
    let mut x = x0.to_vec();
    let mut path = vec![x.clone()];
    for _ in 0..steps {
        brownian::fill_normals(&mut rng, &mut dw);
        for w in dw.iter_mut() {
            *w *= h.sqrt();
        }
        solver.step(sde, &mut x, h, &dw, &mut ws, &mut sc);
        path.push(x.clone());
    }
    path
}

fn max_path_diff(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter().zip(b).map(|(x, y)| max_abs_diff(x, y)).fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------------------------------------
// 1. Reductions at ρ = 0 and μ = 0.
// ---------------------------------------------------------------------------------------------------------

/// At ρ = 0 the USAM, SAM and DNSAM SDEs have the SGD drift −g and diffusion √η Σ_B^{1/2} (§4.2, §4.3): every
/// ρ-term is multiplied by ρ = 0. Driven by the same increments they must give the same path. Tolerance 1e−12:
/// the formulas differ only by adding exact zeros (0·v, 0·w), so the paths agree bitwise in practice; 1e−12 on
/// states of size O(1) still fails for any O(ρ)-like leakage or a mismatched noise factor.
#[test]
fn usam_sam_dnsam_at_rho_zero_follow_the_sgd_path() {
    let eta = 0.01;
    let cases: Vec<(&str, Model, Vec<f64>, f64)> = vec![
        (
            "beale N0",
            model(Beale, Noise::isotropic(2.0, 4.0).unwrap()),
            vec![0.5, 1.2],
            1e-4,
        ),
        (
            "beale N1",
            model(Beale, Noise::hessian(1.0, 4.0, 1e-3).unwrap()),
            vec![0.5, 1.2],
            1e-4,
        ),
        (
            "double well N0",
            model(DoubleWell::default(), Noise::isotropic(1.0, 1.0).unwrap()),
            vec![0.3, 0.05],
            1e-3,
        ),
        (
            "double well N1",
            model(DoubleWell::default(), Noise::hessian(1.0, 2.0, 1e-3).unwrap()),
            vec![0.3, 0.05],
            1e-3,
        ),
    ];
    for (name, m, x0, h) in cases {
        let sgd = Sgd::new(m.clone(), eta);
        let others: Vec<(&str, Box<dyn Sde>)> = vec![
            ("usam", Box::new(Usam::new(m.clone(), eta, 0.0))),
            ("sam", Box::new(Sam::new(m.clone(), eta, 0.0, DEFAULT_EPSILON))),
            (
                "sam_fullbatch",
                Box::new(SamFullbatch::new(m.clone(), eta, 0.0, DEFAULT_EPSILON)),
            ),
            ("dnsam", Box::new(Dnsam::new(m.clone(), eta, 0.0, DEFAULT_EPSILON))),
        ];
        let reference = drive(&sgd, EulerMaruyama, &x0, h, 300, 7);
        let reference_mil = drive(
            &sgd,
            Milstein {
                allow_dropping_areas: true,
            },
            &x0,
            h,
            300,
            7,
        );
        // The path must actually move, or the comparison is vacuous.
        assert!(
            max_abs_diff(&reference[0], &reference[300]) > 1e-3,
            "{name}: path did not move"
        );
        for (kind, sde) in &others {
            let p = drive(sde.as_ref(), EulerMaruyama, &x0, h, 300, 7);
            let d = max_path_diff(&p, &reference);
            assert!(d <= 1e-12, "{name}: EM {kind} at ρ = 0 differs from sgd by {d:e}");
            let p = drive(
                sde.as_ref(),
                Milstein {
                    allow_dropping_areas: true,
                },
                &x0,
                h,
                300,
                7,
            );
            let d = max_path_diff(&p, &reference_mil);
            assert!(d <= 1e-12, "{name}: Milstein {kind} at ρ = 0 differs from sgd by {d:e}");
        }
    }
}

fn run_stepper(st: &dyn Stepper, x0: &[f64], steps: usize, seed: u64) -> Vec<f64> {
    let mut s = st.scratch();
    let mut rng: PathRng = path_rng(seed, 3);
    let mut x = vec![0.0; st.dim()];
    x[..x0.len()].copy_from_slice(x0);
    for _ in 0..steps {
        st.step(&mut x, &mut rng, &mut s);
    }
    x
}

/// A-USAM and A-SAM at ρ = 0 take the ascent point y = x + 0·g = x, so their update is the A-SGD mini-batch
/// gradient at x with the same normals (same seed): the iterates must be identical. Compared bitwise.
#[test]
fn discrete_usam_sam_at_rho_zero_equal_discrete_sgd() {
    for noise in [
        Noise::isotropic(1.0, 4.0).unwrap(),
        Noise::hessian(1.0, 4.0, 1e-3).unwrap(),
    ] {
        let m = model(Beale, noise);
        let sgd = Discrete::new(m.clone(), DiscreteKind::Sgd, 1e-3, 0.0, 0.0, 1e-16);
        let want = run_stepper(&sgd, &[0.5, 1.2], 400, 11);
        assert!(max_abs_diff(&want, &[0.5, 1.2]) > 1e-3);
        for kind in [DiscreteKind::Usam, DiscreteKind::Sam] {
            let st = Discrete::new(m.clone(), kind, 1e-3, 0.0, 0.0, 1e-16);
            let got = run_stepper(&st, &[0.5, 1.2], 400, 11);
            assert_eq!(got, want, "{kind:?} at ρ = 0 differs from SGD");
        }
    }
}

/// μ = 0 is "no momentum": PyTorch's buffer b⁺ = 0·b + G makes x⁺ = x − ηG, the plain update. Checked
/// against that plain recursion written here, with the mini-batch gradients recomputed from the same normals,
/// for all three optimizers with noise. Tolerance 1e−15 absolute on |x| = O(1): identical operations in the
/// same order, so any difference is a logic change (e.g. a stale buffer).
#[test]
fn discrete_momentum_zero_is_plain_update() {
    let noise = Noise::isotropic(1.0, 4.0).unwrap();
    let l = DoubleWell::default();
    let m = model(l, noise.clone());
    let (eta, rho) = (0.01, 0.2);
    for kind in [DiscreteKind::Sgd, DiscreteKind::Usam, DiscreteKind::Sam] {
        let st = Discrete::new(m.clone(), kind, eta, rho, 0.0, 1e-16);
        assert_eq!(st.dim(), 2, "μ = 0 keeps no velocity state");
        let mut s = st.scratch();
        let mut rng = path_rng(5, 0);
        let mut rng_ref = path_rng(5, 0);
        let mut x = vec![0.3, 0.05];
        let mut xr = x.clone();
        let (mut xi, mut g, mut gg, mut y, mut fb) =
            (vec![0.0; 2], vec![0.0; 2], vec![0.0; 2], vec![0.0; 2], vec![0.0; 4]);
        let mut ns = samsde::model::noise::NoiseScratch::new(2, 0);
        for _ in 0..200 {
            st.step(&mut x, &mut rng, &mut s);
            brownian::fill_normals(&mut rng_ref, &mut xi);
            noise.batch_gradient(&l, &xr, &xi, &mut g, &mut fb, &mut ns);
            let c = match kind {
                DiscreteKind::Sgd => 0.0,
                DiscreteKind::Usam => rho,
                DiscreteKind::Sam => rho / (samsde::linalg::norm(&g) + 1e-16),
            };
            let update = if kind == DiscreteKind::Sgd {
                g.clone()
            } else {
                for i in 0..2 {
                    y[i] = xr[i] + c * g[i];
                }
                noise.batch_gradient(&l, &y, &xi, &mut gg, &mut fb, &mut ns);
                gg.clone()
            };
            let buf: Vec<f64> = update.iter().map(|u| 0.0 * 0.0 + u).collect();
            for i in 0..2 {
                xr[i] -= eta * buf[i];
            }
            let d = max_abs_diff(&x, &xr);
            assert!(d <= 1e-15, "{kind:?}: μ = 0 differs from the plain update by {d:e}");
        }
        assert!(max_abs_diff(&x, &[0.3, 0.05]) > 1e-2);
    }
}

// ---------------------------------------------------------------------------------------------------------
// 3. O1: exact linear forms on a quadratic saddle with constant noise.
// ---------------------------------------------------------------------------------------------------------

/// (name, SDE, expected A, expected σσᵀ).
type LinearCase<'a> = (&'a str, &'a dyn Sde, Vec<f64>, Vec<f64>);

const HSAD: [f64; 4] = [1.0, 0.5, 0.5, -0.5];

fn h_rows() -> Vec<Vec<f64>> {
    vec![vec![HSAD[0], HSAD[1]], vec![HSAD[2], HSAD[3]]]
}

/// |H| = Q|Λ|Qᵀ for a symmetric 2×2, computed in closed form here (independently of `linalg::sym_eigen`).
fn abs_2x2(h: &[f64]) -> Vec<f64> {
    let (a, b, d) = (h[0], h[1], h[3]);
    let mean = 0.5 * (a + d);
    let r = (0.25 * (a - d) * (a - d) + b * b).sqrt();
    let (l1, l2) = (mean + r, mean - r);
    // Projectors P1 = (H − l2 I)/(l1 − l2), P2 = I − P1.
    let p1 = [(a - l2) / (l1 - l2), b / (l1 - l2), b / (l1 - l2), (d - l2) / (l1 - l2)];
    let p2 = [1.0 - p1[0], -p1[1], -p1[2], 1.0 - p1[3]];
    (0..4).map(|k| l1.abs() * p1[k] + l2.abs() * p2[k]).collect()
}

/// Drift and σσᵀ of sgd, usam and kim at random x against the O1 linear forms
/// A = H, H + ρH², H(I+ρH)² and S = ηΣ_B, η(I+ρH)Σ_B(I+ρH), (η/B)|H|. All are a few flops of O(1) numbers, so
/// agreement is to rounding (~1e−15); 1e−12 absolute leaves margin for the eigen-solver inside Kim and N3's
/// matrix square root while any formula slip (a missing ρ, H instead of H², √ instead of square) is O(0.1).
/// `LinearSde::from_sde` must reproduce the same drift and diffusion (it probes b at 0 and at eⱼ).
#[test]
fn o1_linear_forms_on_quadratic_saddle() {
    let (eta, rho, batch) = (0.01, 0.3, 8.0);
    let q = Quadratic::new(&h_rows(), None).unwrap();
    let id = [1.0, 0.0, 0.0, 1.0];
    let ih: Vec<f64> = (0..4).map(|k| id[k] + rho * HSAD[k]).collect();
    let h2 = mm(&HSAD, &HSAD, 2);
    let cov1 = vec![vec![0.04, 0.012], vec![0.012, 0.01]];
    let noises: Vec<(&str, Noise, Vec<f64>)> = vec![
        (
            "N0",
            Noise::isotropic(0.7, batch).unwrap(),
            vec![0.49 / batch, 0.0, 0.0, 0.49 / batch],
        ),
        (
            "N3",
            Noise::linear(&cov1, batch, 2).unwrap(),
            cov1.iter().flatten().map(|v| v / batch).collect(),
        ),
    ];
    let mut rng = path_rng(99, 0);
    let mut xs = vec![];
    for _ in 0..10 {
        let mut z = vec![0.0; 2];
        brownian::fill_normals(&mut rng, &mut z);
        xs.push(z.iter().map(|v| 3.0 * v).collect::<Vec<_>>());
    }
    for (name, noise, sigma_b) in noises {
        let m = model(q.clone(), noise.clone());
        let sgd = Sgd::new(m.clone(), eta);
        let usam = Usam::new(m.clone(), eta, rho);
        let a_sgd = HSAD.to_vec();
        let a_usam: Vec<f64> = (0..4).map(|k| HSAD[k] + rho * h2[k]).collect();
        let s_sgd: Vec<f64> = sigma_b.iter().map(|v| eta * v).collect();
        let s_usam: Vec<f64> = mm(&mm(&ih, &sigma_b, 2), &ih, 2).iter().map(|v| eta * v).collect();
        let cases: [LinearCase; 2] = [("sgd", &sgd, a_sgd, s_sgd), ("usam", &usam, a_usam, s_usam)];
        for (kind, sde, a, s) in cases {
            assert!(sde.is_affine(), "{kind} {name} must be affine on a quadratic");
            let lin = LinearSde::from_sde(sde);
            for x in &xs {
                let want: Vec<f64> = (0..2).map(|i| -(a[2 * i] * x[0] + a[2 * i + 1] * x[1])).collect();
                let got = drift_of(sde, x);
                assert!(
                    max_abs_diff(&got, &want) <= 1e-12,
                    "{kind} {name} drift {got:?} vs {want:?}"
                );
                assert!(
                    max_abs_diff(&drift_of(&lin, x), &want) <= 1e-12,
                    "{kind} {name} linear drift"
                );
                let ss = outer(&diffusion_of(sde, x), 2, sde.noise_dim());
                assert!(max_abs_diff(&ss, &s) <= 1e-12, "{kind} {name} σσᵀ {ss:?} vs {s:?}");
                let ss = outer(&diffusion_of(&lin, x), 2, lin.noise_dim());
                assert!(max_abs_diff(&ss, &s) <= 1e-12, "{kind} {name} linear σσᵀ");
            }
            assert!(max_abs_diff(lin.jacobian(), &a.iter().map(|v| -v).collect::<Vec<_>>()) <= 1e-12);
        }
    }
    // Model K with N1, c = 1: A = H(I+ρH)², S = (η/B)|H|.
    let noise = Noise::hessian(1.0, batch, 1e-3).unwrap();
    let kim = Kim::new(&q, &noise, &[0.0, 0.0], eta, rho);
    let a_kim = mm(&HSAD, &mm(&ih, &ih, 2), 2);
    let s_kim: Vec<f64> = abs_2x2(&HSAD).iter().map(|v| eta / batch * v).collect();
    let lin = LinearSde::from_sde(&kim);
    for x in &xs {
        let want: Vec<f64> = (0..2)
            .map(|i| -(a_kim[2 * i] * x[0] + a_kim[2 * i + 1] * x[1]))
            .collect();
        assert!(max_abs_diff(&drift_of(&kim, x), &want) <= 1e-12, "kim drift");
        assert!(max_abs_diff(&drift_of(&lin, x), &want) <= 1e-12, "kim linear drift");
        assert!(
            max_abs_diff(&outer(&diffusion_of(&kim, x), 2, 2), &s_kim) <= 1e-12,
            "kim σσᵀ"
        );
        assert!(
            max_abs_diff(&outer(&diffusion_of(&lin, x), 2, 2), &s_kim) <= 1e-12,
            "kim linear σσᵀ"
        );
    }
    // The eigenvalues quoted in O1 (−0.651388, 1.151388) pin the test matrix.
    let a = abs_2x2(&HSAD);
    assert!((a[0] + a[3] - (0.651388 + 1.151388)).abs() < 1e-6);
}

// ---------------------------------------------------------------------------------------------------------
// 4. O3: USAM threshold ρ* = 1/|λ₋| and the SAM finite-time flow.
// ---------------------------------------------------------------------------------------------------------

fn saddle_xy() -> Quadratic {
    Quadratic::diagonal(&[2.0, -2.0]).unwrap()
}

fn silent() -> Noise {
    Noise::isotropic(0.0, 1.0).unwrap()
}

/// Eigenvalues of the drift Jacobian of USAM at the saddle of f = x² − y² (H = diag(2, −2)), by central
/// differences of `drift`: −(λ + ρλ²) = −(2 + 4ρ) and −(−2 + 4ρ) = 2 − 4ρ. The drift is linear, so central
/// differences are exact up to rounding (~1e−10 with step 1e−4); tolerance 1e−8. The unstable eigenvalue
/// changes sign at ρ* = 1/|λ₋| = 0.5: positive at 0.4, zero at 0.5, negative at 0.6.
#[test]
fn o3_usam_linearisation_changes_sign_at_half() {
    for (rho, sign) in [(0.4, 1.0), (0.5, 0.0), (0.6, -1.0)] {
        let usam = Usam::new(model(saddle_xy(), silent()), 0.01, rho);
        let e = 1e-4;
        let mut jac = [0.0; 4];
        for k in 0..2 {
            let mut xp = vec![0.0; 2];
            let mut xm = vec![0.0; 2];
            xp[k] = e;
            xm[k] = -e;
            let (bp, bm) = (drift_of(&usam, &xp), drift_of(&usam, &xm));
            for i in 0..2 {
                jac[i * 2 + k] = (bp[i] - bm[i]) / (2.0 * e);
            }
        }
        assert!(jac[1].abs() < 1e-8 && jac[2].abs() < 1e-8);
        assert!(
            (jac[0] + (2.0 + 4.0 * rho)).abs() < 1e-8,
            "ρ = {rho}: stable eigenvalue {}",
            jac[0]
        );
        let unstable = jac[3];
        assert!((unstable - (2.0 - 4.0 * rho)).abs() < 1e-8, "ρ = {rho}: {unstable}");
        if sign == 0.0 {
            assert!(unstable.abs() < 1e-8);
        } else {
            assert!(
                unstable * sign > 0.3,
                "ρ = {rho}: eigenvalue {unstable} has the wrong sign"
            );
        }
    }
}

/// Deterministic USAM (noise σ = 0) from (−0.5, 0.01) with EM, dt = 0.01, T = 20. The y-rate is 2 − 4ρ:
/// ρ = 0.4 grows at 0.4 (|y| = 0.01·(1.004)^2000 ≈ 29.6 > 1, escape; continuous e^{8}·0.01 = 29.8), ρ = 0.6
/// decays at 0.4 (|y| ≈ 0.01·0.996^2000 ≈ 3.3e−6) and x at 4.4 (|x| ≈ 0.5·0.956^2000 ~ 1e−39). Bounds: 1e−5
/// for y (3× the prediction) and 1e−10 for x.
#[test]
fn o3_usam_deterministic_runs_either_side_of_threshold() {
    let run = |rho: f64| {
        let usam = Usam::new(model(saddle_xy(), silent()), 0.01, rho);
        drive(&usam, EulerMaruyama, &[-0.5, 0.01], 0.01, 2000, 1).pop().unwrap()
    };
    let esc = run(0.4);
    assert!(esc[1].abs() > 1.0, "ρ = 0.4 must escape, y = {}", esc[1]);
    assert!((esc[1] - 0.01 * 1.004f64.powi(2000)).abs() < 1e-9 * esc[1].abs());
    let att = run(0.6);
    assert!(
        att[0].abs() < 1e-10 && att[1].abs() < 1e-5,
        "ρ = 0.6 must be attracted, got {att:?}"
    );
    assert!(att[1] > 0.0, "y decays monotonically without changing sign");
}

/// SAM flow in 1-D, f = −y² (H = [[−2]], a = 2), noise 0: ẏ = 2y − 2ρ sign y, so |y|(t) = ρ − (ρ−y₀)e^{2t}
/// and |y| hits 0 at t* = ½ ln(ρ/(ρ−y₀)) = 0.346574 for ρ = 0.5, y₀ = 0.25 (O3).
/// EM with dt = 1e−4 is y_k = ρ − (ρ−y₀)(1+2dt)^k. The first time |y| < 1e−3 differs from t* by
/// (i) the threshold: ½ ln(ρ/(ρ−1e−3)) ≈ 1.0e−3 earlier (speed |ẏ| ≈ 2ρ = 1 near 0);
/// (ii) Euler's rate ln(1+2dt)/dt = 2 − 2dt: relative time error dt, i.e. ≈ 3.5e−5;
/// (iii) the step grid: ≤ dt.
/// So |t_hit − t*| ≤ 1.0e−3 + 3.5e−5 + 1e−4 < 1.2e−3, and t_hit agrees with the continuous threshold time
/// t*(1e−3) = ½ ln(0.499/0.25) within (ii) + (iii) < 2e−4.
#[test]
fn o3_sam_flow_hits_saddle_in_finite_time() {
    let l = Quadratic::new(&[vec![-2.0]], None).unwrap();
    let sam = SamFullbatch::new(model(l, silent()), 0.01, 0.5, DEFAULT_EPSILON);
    let dt = 1e-4;
    let mut ws = sam.workspace();
    let mut sc = SolverScratch::new(1, 1);
    let mut x = vec![0.25];
    let mut t_hit = None;
    for k in 1..=10_000 {
        EulerMaruyama.step(&sam, &mut x, dt, &[0.0], &mut ws, &mut sc);
        if x[0].abs() < 1e-3 {
            t_hit = Some(k as f64 * dt);
            break;
        }
    }
    let t_hit = t_hit.expect("SAM flow must reach the saddle");
    let t_star = 0.5 * (0.5f64 / 0.25).ln();
    assert!((t_star - 0.346574).abs() < 1e-6);
    let t_thr = 0.5 * (0.499f64 / 0.25).ln();
    assert!((t_hit - t_star).abs() < 1.2e-3, "t_hit = {t_hit}, t* = {t_star}");
    assert!((t_hit - t_thr).abs() < 2e-4, "t_hit = {t_hit}, t*(1e-3) = {t_thr}");
    // After arrival the Euler iterate chatters around 0 within one step of speed 2ρ: |y| ≤ 2ρ·dt.
    for _ in 0..1000 {
        EulerMaruyama.step(&sam, &mut x, dt, &[0.0], &mut ws, &mut sc);
        assert!(x[0].abs() <= 2.0 * 0.5 * dt * 1.01 + 1e-3, "y = {}", x[0]);
    }
    assert!(x[0].abs() <= 1.01e-4, "sliding mode: |y| = {}", x[0]);
}

// ---------------------------------------------------------------------------------------------------------
// 7. Momentum: S-HB equations and PyTorch heavy ball.
// ---------------------------------------------------------------------------------------------------------

/// S-HB wrapping S-SGD1 on the O1 quadratic with N0: drift (v, −((1−μ)/η)v − (1/η)Hx), diffusion V-rows
/// σ/η = η^{−1/2}Σ_B^{1/2} and X-rows 0; and, in friction-1 units, mass m = η/(1−μ):
/// m·b_V = −v − Hx/(1−μ). All closed forms of O(1/η) numbers; tolerance 1e−12 relative to 1/η = 100.
#[test]
fn heavy_ball_sde_state_equations() {
    let (eta, mu, sb) = (0.01, 0.9, 0.5);
    let q = Quadratic::new(&h_rows(), None).unwrap();
    let hb = HeavyBall::new(Sgd::new(model(q, Noise::isotropic(sb, 1.0).unwrap()), eta), eta, mu);
    assert_eq!((hb.dim(), hb.position_dim(), hb.noise_dim()), (4, 2, 2));
    let x = [0.7, -1.3, 2.0, 0.4];
    let b = drift_of(&hb, &x);
    let hx = [HSAD[0] * x[0] + HSAD[1] * x[1], HSAD[2] * x[0] + HSAD[3] * x[1]];
    let want = [
        x[2],
        x[3],
        -((1.0 - mu) / eta) * x[2] - hx[0] / eta,
        -((1.0 - mu) / eta) * x[3] - hx[1] / eta,
    ];
    assert!(max_abs_diff(&b, &want) <= 1e-12 * 100.0, "{b:?} vs {want:?}");
    let mass = eta / (1.0 - mu);
    for i in 0..2 {
        let lhs = mass * b[2 + i];
        let rhs = -x[2 + i] - hx[i] / (1.0 - mu);
        assert!((lhs - rhs).abs() < 1e-12, "mass relation: {lhs} vs {rhs}");
    }
    let s = diffusion_of(&hb, &x);
    let v = sb / eta.sqrt(); // η^{−1/2} σ_B
    let want_s = [0.0, 0.0, 0.0, 0.0, v, 0.0, 0.0, v];
    assert!(max_abs_diff(&s, &want_s) <= 1e-12, "{s:?}");
    let m = format!("{:e}", mass);
    assert!(
        hb.notes().iter().any(|n| n.contains("mass") && n.contains(&m)),
        "{:?}",
        hb.notes()
    );
}

/// PyTorch `SGD(momentum=μ)` (no dampening/Nesterov): buf = G at the first step, buf = μ·buf + G after,
/// x −= η·buf. Written out here with G computed directly from the landscape (SGD: ∇f(x); SAM: ∇f(x + ρg/(‖g‖+ε))),
/// compared over 50 steps with μ = 0.9 on Beale (deterministic: noise σ = 0 adds 0·ξ). Tolerance 1e−14
/// absolute on O(1) coordinates: the same flops in the same order; Discrete's b₀ = 0 makes its first buffer
/// 0.9·0 + G = G exactly.
#[test]
fn discrete_heavy_ball_matches_torch_recursion() {
    let (eta, mu, rho, eps) = (1e-3, 0.9, 0.5, 1e-16);
    let l = Beale;
    for kind in [DiscreteKind::Sgd, DiscreteKind::Sam] {
        let st = Discrete::new(model(l, silent()), kind, eta, rho, mu, eps);
        assert_eq!(st.dim(), 4);
        let mut s = st.scratch();
        let mut rng = path_rng(1, 1);
        let mut state = vec![1.0, 2.0, 0.0, 0.0];
        let mut x = vec![1.0, 2.0];
        let mut buf: Option<Vec<f64>> = None;
        let (mut g, mut gy) = (vec![0.0; 2], vec![0.0; 2]);
        for k in 0..50 {
            st.step(&mut state, &mut rng, &mut s);
            l.gradient(&x, &mut g);
            let grad = match kind {
                DiscreteKind::Sam => {
                    let n = samsde::linalg::norm(&g) + eps;
                    let y = [x[0] + rho * g[0] / n, x[1] + rho * g[1] / n];
                    l.gradient(&y, &mut gy);
                    gy.clone()
                }
                _ => g.clone(),
            };
            let b = match buf {
                None => grad,
                Some(b) => (0..2).map(|i| mu * b[i] + grad[i]).collect(),
            };
            for i in 0..2 {
                x[i] -= eta * b[i];
            }
            buf = Some(b);
            let d = max_abs_diff(&state[..2], &x);
            assert!(d <= 1e-14 * (1.0 + x[0].abs() + x[1].abs()), "{kind:?} step {k}: {d:e}");
            assert!(
                max_abs_diff(&state[2..], buf.as_ref().unwrap()) <= 1e-14 * 1e3,
                "{kind:?} buffer"
            );
        }
        assert!(max_abs_diff(&x, &[1.0, 2.0]) > 0.05, "momentum must move the iterate");
    }
}

// ---------------------------------------------------------------------------------------------------------
// 8. Bad input.
// ---------------------------------------------------------------------------------------------------------

fn em(dt: f64) -> SolverSpec {
    SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    }
}

fn build_err(spec: &DynamicsSpec, solver: &SolverSpec) -> Error {
    let m = model(saddle_xy(), Noise::isotropic(1.0, 1.0).unwrap());
    match build(spec, &m, solver, &[0.0, 0.0], "dynamics.A") {
        Ok(_) => panic!("{spec:?} / {solver:?} must be rejected"),
        Err(e) => e,
    }
}

fn assert_invalid(e: Error, key: &str) {
    let msg = e.to_string();
    match e {
        Error::Invalid { key: k, .. } => assert_eq!(k, key, "{msg}"),
        other => panic!("expected Error::Invalid for {key}, got {other:?}"),
    }
    assert!(msg.contains(key), "message `{msg}` must name `{key}`");
}

#[test]
fn bad_input_is_rejected_with_typed_errors() {
    let ok = DynamicsSpec::new(DynamicsKind::Usam, 0.01).rho(0.1);
    assert!(build(&ok, &model(saddle_xy(), silent()), &em(0.01), &[0.0, 0.0], "dynamics.A").is_ok());
    assert_invalid(build_err(&ok, &em(-0.1)), "solver.dt");
    assert_invalid(build_err(&ok, &em(0.0)), "solver.dt");
    assert_invalid(build_err(&ok.clone().rho(-0.1), &em(0.01)), "dynamics.A.rho");
    assert_invalid(build_err(&ok.clone().momentum(1.0), &em(0.01)), "dynamics.A.momentum");
    assert_invalid(build_err(&ok.clone().momentum(-0.1), &em(0.01)), "dynamics.A.momentum");
    for lr in [f64::NAN, f64::INFINITY, -0.01] {
        let mut s = ok.clone();
        s.lr = lr;
        assert_invalid(build_err(&s, &em(0.01)), "dynamics.A.lr");
    }
    // Discrete optimizers go through the same validation.
    let disc = DynamicsSpec::new(DynamicsKind::SamDiscrete, 0.01).momentum(1.0);
    assert_invalid(build_err(&disc, &em(0.01)), "dynamics.A.momentum");

    assert_invalid(Noise::isotropic(1.0, 0.5).unwrap_err(), "noise.batch_size");
    assert_invalid(Noise::hessian(1.0, 0.0, 1e-3).unwrap_err(), "noise.batch_size");
    assert_invalid(
        Noise::linear(&[vec![1.0, 0.0], vec![0.0, 1.0]], 0.9, 2).unwrap_err(),
        "noise.batch_size",
    );
    assert_invalid(
        Quadratic::new(&[vec![1.0, 0.5], vec![0.4, -0.5]], None).unwrap_err(),
        "landscape.hessian",
    );
    let e = Noise::linear(&[vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 1.0]], 1.0, 2).unwrap_err();
    let msg = e.to_string();
    match e {
        Error::Dimension { key, expected, found } => {
            assert_eq!((key.as_str(), expected, found), ("noise.covariance", 2, 3));
        }
        other => panic!("expected Error::Dimension, got {other:?}"),
    }
    assert!(msg.contains("noise.covariance"), "{msg}");
}
