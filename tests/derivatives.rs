//! Finite-difference property tests of every derivative Milstein and the S-USAM drift use (math spec §5):
//! the noise factors' directional derivatives DF\[u\] (N1 by the Daleckii–Krein formula, N2 by the sample
//! Hessians), ∇tr Σ_B (N1, N2), and the diffusions' derivatives Dσ\[u\] of SGD, USAM and DNSAM — each at 40
//! seeded random points and directions per landscape and noise model, against the fourth-order central
//! difference [8(φ(x+hu) − φ(x−hu)) − (φ(x+2hu) − φ(x−2hu))]/(12h) with h = 2.5e-4.
//!
//! Tolerance: 1e-6 · (1 + max |entry|) per point. The difference's truncation error is h⁴/30 · |φ⁽⁵⁾| (it
//! shrank 16-fold per halving of h and reached 1.6e-6 relative at h = 1e-3 on Beale, whose higher derivatives
//! are large; at h = 2.5e-4 it is ~6e-9) and its rounding error ≈ 1e-16 · |φ|/h ≈ 4e-13 · |φ|, both far
//! below; an analytic derivative with a wrong term (a missing factor, a transposed product, a dropped ρ) is off
//! by O(1). N1's factor √(c/B)(λ² + δ²)^{1/4}
//! has derivatives of size δ^{−k} where an eigenvalue of H crosses 0, so its points keep min |λ| ≥ 0.2 with
//! δ = 1e-3, and a second pass with δ = 0.5 covers every point, crossings included.

use samsde::brownian::{fill_normals, path_rng, uniform};
use samsde::model::Model;
use samsde::model::landscape::{Beale, DoubleWell, Expression, Landscape, ToyNetwork};
use samsde::model::noise::{Noise, NoiseScratch};
use samsde::sde::{Dnsam, MomentSource, Sam, SamFullbatch, Sde, Sgd, Usam};
use std::sync::Arc;

const H: f64 = 2.5e-4;
const POINTS: usize = 40;
const TOL: f64 = 1e-6;
/// Tolerance for `sam`'s Dσ off N0: the model differences its ρ-part Cov[G] − Σ_B centrally with step
/// h = 1e-4·max(1, ‖x‖∞)/‖u‖∞, truncation h²/6·|D³Cov| — up to 3.6e-5 of the scale on Beale N1, whose third
/// derivatives are large (measured); a wrong term is still off by O(1).
const SAM_GENERAL_TOL: f64 = 1e-4;

/// The fourth-order central difference of `phi` at x along u (vector-valued, length k).
fn fd(phi: &mut dyn FnMut(&[f64], &mut [f64]), x: &[f64], u: &[f64], k: usize) -> Vec<f64> {
    let at = |s: f64| -> Vec<f64> { x.iter().zip(u).map(|(a, b)| a + s * b).collect() };
    let mut v = |s: f64| {
        let mut out = vec![0.0; k];
        phi(&at(s), &mut out);
        out
    };
    let (p1, m1, p2, m2) = (v(H), v(-H), v(2.0 * H), v(-2.0 * H));
    (0..k)
        .map(|i| (8.0 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12.0 * H))
        .collect()
}

fn check(what: &str, x: &[f64], analytic: &[f64], numeric: &[f64]) {
    check_within(what, x, analytic, numeric, TOL);
}

/// [`check`] with relative tolerance `tol`; returns the error relative to the scale.
fn check_within(what: &str, x: &[f64], analytic: &[f64], numeric: &[f64], tol: f64) -> f64 {
    let scale = 1.0 + numeric.iter().chain(analytic).fold(0.0f64, |m, v| m.max(v.abs()));
    let err = analytic
        .iter()
        .zip(numeric)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        err <= tol * scale,
        "{what} at {x:?}: analytic {analytic:?} vs finite difference {numeric:?} (max error {err:e}, allowed {:e})",
        tol * scale
    );
    err / scale
}

fn landscapes() -> Vec<(&'static str, Arc<dyn Landscape>, [f64; 2])> {
    let v = ["x".to_string(), "y".to_string()];
    vec![
        ("beale", Arc::new(Beale), [0.5, 1.5]),
        (
            "expression",
            Arc::new(Expression::new("0.25*y^4 - 0.5*y^2 + 0.5*x^2 + 0.3*sin(x*y) + 0.1*x^3", &v).unwrap()),
            [0.0, 0.0],
        ),
        ("double_well", Arc::new(DoubleWell::default()), [0.0, 0.0]),
    ]
}

/// Seeded random points around `centre` (±1 per coordinate) with unit random directions.
fn points(seed: u64, centre: &[f64]) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = path_rng(seed, 0);
    (0..POINTS)
        .map(|_| {
            let x: Vec<f64> = centre.iter().map(|c| c + 2.0 * uniform(&mut rng) - 1.0).collect();
            let mut u = vec![0.0; centre.len()];
            fill_normals(&mut rng, &mut u);
            let n = u.iter().map(|v| v * v).sum::<f64>().sqrt();
            u.iter_mut().for_each(|v| *v /= n);
            (x, u)
        })
        .collect()
}

fn min_abs_eigenvalue(l: &dyn Landscape, x: &[f64]) -> f64 {
    let d = l.dim();
    let mut h = vec![0.0; d * d];
    l.hessian(x, &mut h);
    let m = nalgebra::DMatrix::from_row_slice(d, d, &h);
    m.symmetric_eigen()
        .eigenvalues
        .iter()
        .fold(f64::INFINITY, |a, v| a.min(v.abs()))
}

/// N1: DF[u] (Daleckii–Krein) and ∇tr Σ_B against differences of F and of tr FFᵀ.
#[test]
fn n1_factor_derivative_and_grad_trace() {
    let mut checked = 0;
    for (name, l, centre) in landscapes() {
        for (delta, keep_off_zero) in [(1e-3, true), (0.5, false)] {
            let noise = Noise::hessian(1.3, 4.0, delta).unwrap();
            let d = l.dim();
            let mut s = NoiseScratch::new(d, 0);
            for (x, u) in points(7, &centre) {
                if keep_off_zero && min_abs_eigenvalue(l.as_ref(), &x) < 0.2 {
                    continue;
                }
                let mut df = vec![0.0; d * d];
                noise.factor_jvp(l.as_ref(), &x, &u, &mut df, &mut s);
                let num = fd(
                    &mut |y, out| noise.factor(l.as_ref(), y, out, &mut NoiseScratch::new(d, 0)),
                    &x,
                    &u,
                    d * d,
                );
                check(&format!("N1 DF[u] on {name} (δ = {delta})"), &x, &df, &num);
                // ∇tr Σ_B: its component along u is the derivative of tr FFᵀ along u.
                let mut gt = vec![0.0; d];
                noise.grad_trace(l.as_ref(), &x, &mut gt, &mut s);
                let along: f64 = gt.iter().zip(&u).map(|(a, b)| a * b).sum();
                let num = fd(
                    &mut |y, out| {
                        let mut f = vec![0.0; d * d];
                        noise.factor(l.as_ref(), y, &mut f, &mut NoiseScratch::new(d, 0));
                        out[0] = f.iter().map(|v| v * v).sum();
                    },
                    &x,
                    &u,
                    1,
                );
                check(&format!("N1 ∇tr Σ_B on {name} (δ = {delta})"), &x, &[along], &num);
                checked += 1;
            }
        }
    }
    assert!(checked >= 150, "only {checked} points were checked");
}

/// N2 on the toy network: DF[u] (columns √(κ/N)(Hᵢ − H)u) and ∇tr Σ_B, with and without replacement.
#[test]
fn n2_factor_derivative_and_grad_trace() {
    let net = Arc::new(ToyNetwork::new(12, 1.0, 5).unwrap());
    let l: Arc<dyn Landscape> = net.clone();
    let (d, m) = (2, 12);
    for replacement in [true, false] {
        let noise = Noise::finite_sum(3, replacement, net.clone()).unwrap();
        let mut s = NoiseScratch::new(d, m);
        for (x, u) in points(11, &[0.3, -0.2]) {
            let mut df = vec![0.0; d * m];
            noise.factor_jvp(l.as_ref(), &x, &u, &mut df, &mut s);
            let num = fd(
                &mut |y, out| noise.factor(l.as_ref(), y, out, &mut NoiseScratch::new(d, m)),
                &x,
                &u,
                d * m,
            );
            check("N2 DF[u]", &x, &df, &num);
            let mut gt = vec![0.0; d];
            noise.grad_trace(l.as_ref(), &x, &mut gt, &mut s);
            let along: f64 = gt.iter().zip(&u).map(|(a, b)| a * b).sum();
            let num = fd(
                &mut |y, out| {
                    let mut f = vec![0.0; d * m];
                    noise.factor(l.as_ref(), y, &mut f, &mut NoiseScratch::new(d, m));
                    out[0] = f.iter().map(|v| v * v).sum();
                },
                &x,
                &u,
                1,
            );
            check("N2 ∇tr Σ_B", &x, &[along], &num);
        }
    }
}

/// Dσ[u] of every state-dependent diffusion Milstein differentiates: SGD √η F, USAM √η(I+ρH)F, DNSAM
/// √η(I+ρH/‖g‖_ε)F, `sam_fullbatch` (SGD's σ with the full-batch SAM drift) and `sam` (S-SAM-mb,
/// √η Cov[G]^{1/2}: analytic under N0 from the isotropic table, under N1 and N2 the exact dΣ_B plus the model's
/// own central difference of the ρ-part, truncation ~1e-8 relative, which the 1e-6 tolerance admits), under
/// N0, N1 and N2.
#[test]
fn diffusion_derivatives_of_sgd_usam_dnsam_and_sam() {
    let (eta, rho, eps) = (0.3, 0.7, 0.05);
    let mut models: Vec<(String, Model, [f64; 2])> = Vec::new();
    for (name, l, centre) in landscapes() {
        models.push((
            format!("{name} N0"),
            Model::new(l.clone(), Noise::isotropic(0.8, 2.0).unwrap()).unwrap(),
            centre,
        ));
        models.push((
            format!("{name} N1"),
            Model::new(l, Noise::hessian(1.0, 2.0, 0.5).unwrap()).unwrap(),
            centre,
        ));
    }
    let net = Arc::new(ToyNetwork::new(8, 1.0, 2).unwrap());
    models.push((
        "toy network N2".into(),
        Model::new(net.clone(), Noise::finite_sum(2, true, net).unwrap()).unwrap(),
        [0.3, -0.2],
    ));
    let (mut checked, mut worst_sam_general) = (0, 0.0f64);
    for (name, model, centre) in &models {
        let sdes: Vec<(&str, Box<dyn Sde>)> = vec![
            ("SGD", Box::new(Sgd::new(model.clone(), eta))),
            ("USAM", Box::new(Usam::new(model.clone(), eta, rho))),
            ("DNSAM", Box::new(Dnsam::new(model.clone(), eta, rho, eps))),
            (
                "SAM full-batch",
                Box::new(SamFullbatch::new(model.clone(), eta, rho, eps)),
            ),
            ("SAM-mb", Box::new(Sam::new(model.clone(), eta, rho, eps))),
        ];
        // `sam` takes both moment paths: the isotropic table under N0, the general rule under N1 and N2.
        let sam = Sam::new(model.clone(), eta, rho, eps);
        assert_eq!(
            matches!(sam.source(), MomentSource::Isotropic { .. }),
            name.ends_with("N0"),
            "{name}"
        );
        for (kind, sde) in &sdes {
            let (n, k) = (sde.dim(), sde.noise_dim());
            let mut ws = sde.workspace();
            for (x, u) in points(13, centre) {
                let mut ds = vec![0.0; n * k];
                sde.diffusion_jvp(&x, &u, &mut ds, &mut ws);
                let mut ws2 = sde.workspace();
                let num = fd(&mut |y, out| sde.diffusion(y, out, &mut ws2), &x, &u, n * k);
                let tol = if *kind == "SAM-mb" && !name.ends_with("N0") {
                    SAM_GENERAL_TOL
                } else {
                    TOL
                };
                let rel = check_within(&format!("{kind} Dσ[u] on {name}"), &x, &ds, &num, tol);
                if tol == SAM_GENERAL_TOL {
                    worst_sam_general = worst_sam_general.max(rel);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, models.len() * 5 * POINTS);
    println!("sam (general moments) Dσ: worst error relative to scale {worst_sam_general:.2e}");
}
