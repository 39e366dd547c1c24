//! S-SAM-mb, kind `sam` (math spec §4.3; O6, O12; issue 8): the SDE of the mini-batch SAM optimizer, checked
//! against the spec's 1-D closed forms, the linear response c_d, the optimizer itself (`sam_discrete`), the
//! O12 attraction threshold, and finite differences of its diffusion (Milstein's Dσ).
//!
//! Run in release mode: `cargo test --release --test sam_mb`.

mod common;

use common::*;
use samsde::brownian::{fill_normals, path_rng};
use samsde::model::Model;
use samsde::model::landscape::{Beale, DoubleWell, Landscape, Quadratic, ToyNetwork};
use samsde::model::noise::Noise;
use samsde::sde::sam_moments::c_d;
use samsde::sde::{HeavyBall, MomentSource, Sam, Sde};
use samsde::setup::DEFAULT_EPSILON;
use samsde::setup::DynamicsKind::{Sam as SamKind, SamDiscrete};
use samsde::solver::{EulerMaruyama, Solver, SolverScratch};
use samsde::stepper::Stepper;
use samsde::theory::first_passage::mfpt_reflecting;
use statrs::function::erf::erf;
use std::f64::consts::PI;
use std::sync::Arc;

/// The spec's 1-D S-SAM-mb closed forms (§4.3, N3): m(y) = erf(λy/(σ_B√2)),
/// b(y) = −λy − ρλ m(y), v(y) = σ_B² + ρ²λ²(1 − m²) + 2ρλσ_B √(2/π) e^{−λ²y²/(2σ_B²)}.
/// (statrs' erf is off by ≈ 5e-11 near 0.5; far below every tolerance here.)
fn spec_b_v(lambda: f64, sb: f64, rho: f64, y: f64) -> (f64, f64) {
    let m = erf(lambda * y / (sb * 2f64.sqrt()));
    let b = -lambda * y - rho * lambda * m;
    let e = (-(lambda * y).powi(2) / (2.0 * sb * sb)).exp();
    let v = sb * sb + rho * rho * lambda * lambda * (1.0 - m * m) + 2.0 * rho * lambda * sb * (2.0 / PI).sqrt() * e;
    (b, v)
}

/// The spec's σ′ (§5, S-SAM-mb 1-D): σ′ = √η v′/(2√v), v′ = −2ρ²λ² m m′ − 2ρλσ_B√(2/π)(λ²y/σ_B²)e^{…},
/// m′ = (λ/σ_B)√(2/π) e^{−λ²y²/(2σ_B²)}.
fn spec_sigma_prime(lambda: f64, sb: f64, rho: f64, eta: f64, y: f64) -> f64 {
    let (_, v) = spec_b_v(lambda, sb, rho, y);
    let m = erf(lambda * y / (sb * 2f64.sqrt()));
    let e = (-(lambda * y).powi(2) / (2.0 * sb * sb)).exp();
    let mp = lambda / sb * (2.0 / PI).sqrt() * e;
    let vp = -2.0 * rho * rho * lambda * lambda * m * mp
        - 2.0 * rho * lambda * sb * (2.0 / PI).sqrt() * (lambda * lambda * y / (sb * sb)) * e;
    eta.sqrt() * vp / (2.0 * v.sqrt())
}

/// The 1-D setting: λ = −1.5, σ₁ = 0.6, B = 2 (σ_B = 0.6/√2), ρ = 0.2.
const L1: f64 = -1.5;
const S1: f64 = 0.6;
const B1: f64 = 2.0;
const RHO1: f64 = 0.2;

fn model_1d(lambda: f64, sigma: f64, batch: f64) -> Model {
    model(quad1(lambda), n0(sigma, batch))
}

/// Drift and σ² of `sam` in 1-D equal the spec's closed forms b(y), ηv(y) to 1e-12 on a grid through the saddle
/// (both sides, and 0), for N0 and for the same Σ_B given as N3; and Dσ equals the spec's σ′. Tolerance 1e-10:
/// statrs' erf (used here for independence) is off by up to ≈ 5e-11 for arguments in [0.5, 3].
#[test]
fn one_d_drift_diffusion_and_sigma_prime_equal_the_spec() {
    let sb = S1 / B1.sqrt();
    let eta = 0.05;
    let n3 = Noise::linear(&[vec![S1 * S1]], B1, 1).unwrap();
    for m in [model_1d(L1, S1, B1), model(quad1(L1), n3)] {
        let sam = Sam::new(m, eta, RHO1, DEFAULT_EPSILON);
        assert!(matches!(sam.source(), MomentSource::Isotropic { .. }));
        let mut ws = sam.workspace();
        for k in -40..=40 {
            let y = k as f64 * 0.05;
            let (b, v) = spec_b_v(L1, sb, RHO1, y);
            let (mut bb, mut s, mut ds) = ([0.0], [0.0], [0.0]);
            sam.drift(&[y], &mut bb, &mut ws);
            sam.diffusion(&[y], &mut s, &mut ws);
            sam.diffusion_jvp(&[y], &[1.0], &mut ds, &mut ws);
            assert!((bb[0] - b).abs() < 1e-10, "b({y}) = {} vs spec {b}", bb[0]);
            assert!(
                (s[0] * s[0] - eta * v).abs() < 1e-10,
                "σ²({y}) = {} vs spec {}",
                s[0] * s[0],
                eta * v
            );
            let sp = spec_sigma_prime(L1, sb, RHO1, eta, y);
            assert!((ds[0] - sp).abs() < 1e-10, "σ′({y}) = {} vs spec {sp}", ds[0]);
        }
    }
}

/// One Euler–Maruyama step of `sam` from fixed y0 (10⁵ paths, the stepper the builder chooses and the general
/// path): the mean increment is b(y0)dt and its variance ηv(y0)dt of the spec's closed forms within 5 standard
/// errors (SE of the mean √(ηv dt/n); SE of a Gaussian sample variance ηv dt √(2/(n−1))), at y0 on both sides of
/// the saddle and at 0.
#[test]
fn one_em_step_has_the_closed_form_mean_and_variance() {
    let (eta, dt, n) = (0.05, 0.01, 100_000usize);
    let sb = S1 / B1.sqrt();
    let m = model_1d(L1, S1, B1);
    let fast = samsde::setup::build(&spec(SamKind, eta, RHO1), &m, &em(dt), &[0.0], "sam")
        .unwrap()
        .stepper;
    let general = samsde::stepper::SdeStepper::new(Sam::new(m.clone(), eta, RHO1, DEFAULT_EPSILON), EulerMaruyama, dt);
    for (name, st) in [("built", fast.as_ref()), ("general", &general as &dyn Stepper)] {
        for (j, y0) in [-0.6, -0.15, 0.0, 0.02, 0.2, 0.9].into_iter().enumerate() {
            let (b, v) = spec_b_v(L1, sb, RHO1, y0);
            let mut s = st.scratch();
            let (mut sum, mut sum2) = (0.0, 0.0);
            for i in 0..n {
                let mut rng = path_rng(11 + j as u64, i as u64);
                let mut x = [y0];
                st.step(&mut x, &mut rng, &mut s);
                let dx = x[0] - y0 - b * dt;
                sum += dx;
                sum2 += dx * dx;
            }
            let nf = n as f64;
            let mean = sum / nf;
            let var = (sum2 - nf * mean * mean) / (nf - 1.0);
            let want_var = eta * v * dt;
            let se_mean = (want_var / nf).sqrt();
            let se_var = want_var * (2.0 / (nf - 1.0)).sqrt();
            within(
                &format!("{name} y0 = {y0}: mean − b dt"),
                mean,
                0.0,
                5.0 * se_mean,
                se_mean,
            );
            within(
                &format!("{name} y0 = {y0}: variance"),
                var,
                want_var,
                5.0 * se_var,
                se_var,
            );
        }
    }
}

/// Linear response near a saddle (§4.3): with isotropic Σ_B = σ_B²I the drift's Jacobian at g = 0 is
/// −(H + ρ c_d/σ_B H²) (USAM with ρ_eff = ρ c_d/σ_B), c₂ = 0.6267, c₁₀ = 0.3084 from the moment functions.
/// Central differences of the drift with step 1e-6 have error O(h²·|b‴|) ≲ 1e-9; tolerance 1e-7.
#[test]
fn drift_jacobian_at_the_saddle_is_usam_with_the_effective_radius() {
    assert!((c_d(2) - 0.6267).abs() < 5e-5 && (c_d(10) - 0.3084).abs() < 5e-5);
    for (diag, sigma, batch, rho) in [
        (vec![1.0, -1.5], 0.5, 2.0, 0.15),
        ((0..10).map(|i| 1.0 - 0.3 * i as f64).collect(), 0.3, 1.0, 0.1),
    ] {
        let d = diag.len();
        let sb = sigma / f64::sqrt(batch);
        let sam = Sam::new(
            model(Quadratic::diagonal(&diag).unwrap(), n0(sigma, batch)),
            0.01,
            rho,
            DEFAULT_EPSILON,
        );
        let mut ws = sam.workspace();
        let h = 1e-6;
        for (i, &lam) in diag.iter().enumerate() {
            let (mut bp, mut bm) = (vec![0.0; d], vec![0.0; d]);
            let mut x = vec![0.0; d];
            x[i] = h;
            sam.drift(&x, &mut bp, &mut ws);
            x[i] = -h;
            sam.drift(&x, &mut bm, &mut ws);
            let slope = (bp[i] - bm[i]) / (2.0 * h);
            let want = -(lam + rho * c_d(d) / sb * lam * lam);
            assert!(
                (slope - want).abs() < 1e-7,
                "d = {d}, λ = {lam}: ∂b/∂x = {slope}, want {want}"
            );
        }
    }
}

/// O12 (1-D, a = 2, ρ = 0.1, threshold σ_B* = √(2/π)ρa = 0.159577): the fraction of `sam` paths from the saddle
/// that reach |y| = 1 by t = 30 (η = 0.01, dt = 0.002, 2000 paths) is below ½ at σ_B = 0.15 and above ½ at
/// σ_B = 0.17 (the optimizer's fractions in the spec: 0.401 and 0.976); the margin is ≥ 4 binomial SE
/// (SE ≤ 0.0112) if the SDE is within 0.05 of the optimizer. At σ_B = 0.2 every path leaves (issue 8's row).
#[test]
fn o12_escape_fraction_crosses_one_half_at_the_threshold() {
    let t_end = 30.0;
    let mut fractions = Vec::new();
    for sb in [0.15, 0.17, 0.2] {
        let m = model_1d(-2.0, sb, 1.0);
        let entries = vec![entry("SAM", &spec(SamKind, 0.01, 0.1), &m, 0.002, t_end, 2)];
        let mut p = plan(vec![0.0]);
        p.region = Some(slab(1, 0, 1.0));
        let r = run(&ens(2000, 5), &entries, &p, t_end);
        let ex = r[0].exit.as_ref().unwrap();
        let f = ex.estimate().exited as f64 / 2000.0;
        eprintln!("σ_B = {sb}: fraction {f}");
        fractions.push(f);
    }
    assert!(
        fractions[0] < 0.5 - 4.0 * binom_se(0.45, 2000),
        "σ_B = 0.15: {}",
        fractions[0]
    );
    assert!(
        fractions[1] > 0.5 + 4.0 * binom_se(0.55, 2000),
        "σ_B = 0.17: {}",
        fractions[1]
    );
    assert_eq!(fractions[2], 1.0, "σ_B = 0.2: every path leaves");
}

/// Mean exit time from the saddle to |y| = 0.8 in the 1-D setting: `sam`'s exact value (O6 reflecting
/// quadrature of b, ηv; the EM-simulated `sam` agrees within 5 SE + the EM bias bound 1 %) against the SAM
/// optimizer `sam_discrete` (2·10⁵ paths) at η ∈ {0.04, 0.02, 0.01}. Weak order 1: the difference shrinks
/// about linearly in η (each halving of η divides it by 1.4–2.9, i.e. 2 within the 5-SE noise of the
/// differences), and at η = 0.01 it is within 5 SE + 3 % of the exact value.
#[test]
fn weak_agreement_with_the_optimizer_improves_linearly_in_eta() {
    let sb = S1 / B1.sqrt();
    let m = model_1d(L1, S1, B1);
    let exit = 0.8;
    let exact = |eta: f64| {
        mfpt_reflecting(
            |y| spec_b_v(L1, sb, RHO1, y).0,
            |y| eta * spec_b_v(L1, sb, RHO1, y).1,
            0.0,
            exit,
            0.0,
            4000,
        )
        .unwrap()
    };
    let t_end = 200.0;
    let mut p = plan(vec![0.0]);
    p.region = Some(slab(1, 0, exit));
    p.bridge = false;
    let mut diffs = Vec::new();
    for eta in [0.04, 0.02, 0.01] {
        let t_exact = exact(eta);
        let entries = vec![entry("SAM-opt", &spec(SamDiscrete, eta, RHO1), &m, eta, t_end, 2)];
        let r = run(&ens(200_000, 9), &entries, &p, t_end);
        let e = r[0].exit.as_ref().unwrap().estimate();
        let (t, se) = (e.mean_time.unwrap(), e.mean_time_stderr.unwrap());
        assert_eq!(e.censored, 0);
        eprintln!(
            "η = {eta}: sam exact {t_exact:.4}, sam_discrete {t:.4} ± {se:.4}, diff {:+.4}",
            t - t_exact
        );
        diffs.push((t - t_exact, se, t_exact));
    }
    // The simulated SDE agrees with its exact MFPT (η = 0.01; EM with dt = 1e-3, bridge on).
    let t_exact = exact(0.01);
    let entries = vec![entry("SAM", &spec(SamKind, 0.01, RHO1), &m, 1e-3, t_end, 2)];
    let mut pb = p.clone();
    pb.bridge = true;
    let r = run(&ens(20_000, 3), &entries, &pb, t_end);
    let e = r[0].exit.as_ref().unwrap().estimate();
    let (t, se) = (e.mean_time.unwrap(), e.mean_time_stderr.unwrap());
    within("sam EM vs exact MFPT", t, t_exact, 5.0 * se + 0.01 * t_exact, se);
    let (d3, se3, ex3) = diffs[2];
    within("sam_discrete − sam at η = 0.01", d3, 0.0, 5.0 * se3 + 0.03 * ex3, se3);
    for w in diffs.windows(2) {
        let ratio = w[0].0 / w[1].0;
        assert!(
            (1.4..=2.9).contains(&ratio),
            "halving η should about halve the weak error: {:+.4} → {:+.4} (ratio {ratio:.2})",
            w[0].0,
            w[1].0
        );
    }
}

/// The fixed-size fast path (1-D and 2-D) follows the general path `SdeStepper<Sam, EulerMaruyama>` up to
/// rounding: 2000 steps from the same normals differ by < 1e-10.
#[test]
fn fast_path_equals_the_general_path() {
    for (h, sigma) in [(vec![-1.5], 0.6), (vec![1.0, -1.5], 0.5)] {
        let d = h.len();
        let m = model(Quadratic::diagonal(&h).unwrap(), n0(sigma, 2.0));
        let built = samsde::setup::build(&spec(SamKind, 0.01, 0.15), &m, &em(1e-3), &vec![0.0; d], "sam").unwrap();
        assert!(built.notes.iter().any(|n| n.contains("fast path")), "{:?}", built.notes);
        let general =
            samsde::stepper::SdeStepper::new(Sam::new(m.clone(), 0.01, 0.15, DEFAULT_EPSILON), EulerMaruyama, 1e-3);
        let (mut a, mut b) = (vec![0.05; d], vec![0.05; d]);
        let (mut sa, mut sb) = (built.stepper.scratch(), general.scratch());
        let (mut ra, mut rb) = (path_rng(4, 0), path_rng(4, 0));
        for _ in 0..2000 {
            built.stepper.step(&mut a, &mut ra, &mut sa);
            general.step(&mut b, &mut rb, &mut sb);
        }
        let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(a.iter().any(|v| v.abs() > 0.01), "the path must move: {a:?}");
        assert!(diff < 1e-10, "d = {d}: fast {a:?} vs general {b:?}");
    }
}

/// Milstein's Dσ\[u\] of `sam` against central differences of σ at x ± hu (isotropic: h = 1e-6, truncation
/// O(h²|σ‴|) ≲ 1e-8 even on Beale, rounding 1e-16/h = 1e-10; anisotropic: h = 1e-4, truncation ≈ 1e-8 plus the
/// s-integral rule's ~1e-11 jitter / h ≈ 1e-7): analytic for isotropic Σ_B (1-D and 2-D quadratics,
/// a double well and Beale, where T ≠ 0), and the internal central-difference form for N1, N2 and anisotropic
/// N3, at random x and u. Tolerance 1e-6·(1 + max|Dσ|).
#[test]
fn diffusion_derivative_matches_finite_differences() {
    let toy = Arc::new(ToyNetwork::new(16, 1.0, 3).unwrap());
    let cases: Vec<(&str, Model)> = vec![
        ("1-D N0", model_1d(L1, S1, B1)),
        (
            "2-D quadratic N0",
            model(
                Quadratic::new(&[vec![1.0, 0.3], vec![0.3, -1.5]], None).unwrap(),
                n0(0.5, 2.0),
            ),
        ),
        ("double well N0", model(DoubleWell::default(), n0(0.7, 2.0))),
        ("beale N0", model(Beale, n0(2.0, 4.0))),
        (
            "double well N1",
            model(DoubleWell::default(), Noise::hessian(1.0, 2.0, 1e-2).unwrap()),
        ),
        (
            "quadratic N3 anisotropic",
            model(
                Quadratic::diagonal(&[1.0, -1.5]).unwrap(),
                Noise::linear(&[vec![0.3, 0.1], vec![0.1, 0.2]], 2.0, 2).unwrap(),
            ),
        ),
        (
            "toy network N2",
            model_arc(toy.clone(), Noise::finite_sum(4, true, toy.clone()).unwrap()),
        ),
    ];
    let mut rng = path_rng(77, 0);
    for (name, m) in cases {
        let d = m.dim();
        let sam = Sam::new(m, 0.02, 0.2, DEFAULT_EPSILON);
        let mut ws = sam.workspace();
        for trial in 0..8 {
            let (mut x, mut u) = (vec![0.0; d], vec![0.0; d]);
            fill_normals(&mut rng, &mut x);
            fill_normals(&mut rng, &mut u);
            for v in x.iter_mut() {
                *v *= 0.3;
            }
            if name.starts_with("beale") {
                x[1] += 1.0;
            }
            let mut ds = vec![0.0; d * d];
            sam.diffusion_jvp(&x, &u, &mut ds, &mut ws);
            let general = matches!(sam.source(), MomentSource::General);
            let h = if general { 1e-4 } else { 1e-6 };
            let sig = |c: f64, ws: &mut samsde::sde::Workspace| {
                let xs: Vec<f64> = x.iter().zip(&u).map(|(a, b)| a + c * b).collect();
                let mut s = vec![0.0; d * d];
                sam.diffusion(&xs, &mut s, ws);
                s
            };
            // Fourth-order (Richardson) central difference, with its own a-posteriori error estimate
            // |D(h) − D(h/2)| in the tolerance: with h = 1e-4 the second-order quotient is 1.6e-5 off at some
            // points of the N1 double well (σ''' ≈ 10⁴ there; it converges to Dσ as h²), and the general rule's
            // σ jumps by ~1e-10 where its node set changes with x (toy N2), which a quotient turns into
            // ~1e-10/h; both show up as a disagreement between D(h) and D(h/2).
            let (sp, sm) = (sig(h, &mut ws), sig(-h, &mut ws));
            let (sp2, sm2) = (sig(0.5 * h, &mut ws), sig(-0.5 * h, &mut ws));
            let scale = 1.0 + ds.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for k in 0..d * d {
                let (d1, d2) = ((sp[k] - sm[k]) / (2.0 * h), (sp2[k] - sm2[k]) / h);
                let fd = (4.0 * d2 - d1) / 3.0;
                let fd_error = 3.0 * (d1 - d2).abs();
                assert!(
                    (fd - ds[k]).abs() < 1e-6 * scale + fd_error,
                    "{name} trial {trial} entry {k}: Dσ {} vs central difference {fd}",
                    ds[k]
                );
            }
        }
    }
}

fn model_arc(l: Arc<dyn Landscape>, noise: Noise) -> Model {
    Model::new(l, noise).unwrap()
}

/// S-HB with `sam` (§4.5): the velocity rows carry −E\[G\]/η and the diffusion σ/η of the new model, the
/// position rows V and 0, so the wrapper follows the new drift and diffusion exactly.
#[test]
fn heavy_ball_wraps_the_new_drift_and_diffusion() {
    let (eta, mu) = (0.01, 0.9);
    let m = model(Quadratic::diagonal(&[1.0, -1.5]).unwrap(), n0(0.5, 2.0));
    let sam = Sam::new(m.clone(), eta, 0.15, DEFAULT_EPSILON);
    let hb = HeavyBall::new(Sam::new(m, eta, 0.15, DEFAULT_EPSILON), eta, mu);
    let (mut ws, mut wh) = (sam.workspace(), hb.workspace());
    let state = [0.1, -0.05, 0.3, 0.2];
    let (mut b, mut bh, mut s, mut sh) = ([0.0; 2], [0.0; 4], [0.0; 4], [0.0; 8]);
    sam.drift(&state[..2], &mut b, &mut ws);
    sam.diffusion(&state[..2], &mut s, &mut ws);
    hb.drift(&state, &mut bh, &mut wh);
    hb.diffusion(&state, &mut sh, &mut wh);
    for i in 0..2 {
        assert_eq!(bh[i], state[2 + i]);
        let want = b[i] / eta - (1.0 - mu) / eta * state[2 + i];
        assert!((bh[2 + i] - want).abs() < 1e-12 * want.abs().max(1.0));
    }
    assert!(sh[..4].iter().all(|&v| v == 0.0));
    for k in 0..4 {
        assert!((sh[4 + k] - s[k] / eta).abs() < 1e-12 * (s[k] / eta).abs().max(1.0));
    }
    // One EM step of the wrapped SDE uses them (no hidden full-batch drift).
    let mut sc = SolverScratch::new(4, 2);
    let mut x = state;
    EulerMaruyama.step(&hb, &mut x, 1e-3, &[0.0, 0.0], &mut wh, &mut sc);
    assert!((x[2] - (state[2] + 1e-3 * bh[2])).abs() < 1e-15);
}
