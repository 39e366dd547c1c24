//! Landscapes and critical points through the public API: derivatives against central differences (property
//! tests at random points), closed-form values of the spec (E1, E3), and Newton + classification of saddles.

use proptest::prelude::*;
use samsde::Error;
use samsde::model::critical::{CriticalKind, classify, find_all, grid_starts, newton};
use samsde::model::critical::{DEFAULT_MAX_ITER, DEFAULT_TOL};
use samsde::model::landscape::{Beale, DoubleWell, FiniteSum, Landscape, MonkeySaddle, Quadratic, ToyNetwork};
use std::sync::Arc;

/// Central-difference step. The error of a central difference of F is h²/6 · |F'''| (truncation) plus
/// ~ε|F|/h (round-off, ε = 2.2e−16). With h = 1e−5 these are ~1.7e−11·|F'''| and ~2.2e−11·|F|.
const H: f64 = 1e-5;
/// Relative tolerance for derivative checks, applied to the scale 1 + |F| + |F'| of the quantities compared.
/// Both error terms above are ≤ 1e−10 of that scale as long as |F'''| ≲ 1e4 · scale, which holds on the
/// sampled boxes; 1e−6 leaves a margin of 10⁴ while a wrong derivative (an O(1) relative error) still fails.
const RTOL: f64 = 1e-6;

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn shifted(x: &[f64], dir: &[f64], s: f64) -> Vec<f64> {
    x.iter().zip(dir).map(|(a, b)| a + s * b).collect()
}

fn unit(d: usize, k: usize) -> Vec<f64> {
    (0..d).map(|i| if i == k { 1.0 } else { 0.0 }).collect()
}

/// Checks ∇f, ∇²f and dH[u] against central differences of f, ∇f and ∇²f at x, and that H and dH[u] are symmetric.
fn check_derivatives(l: &dyn Landscape, x: &[f64], u: &[f64]) -> Result<(), TestCaseError> {
    let d = l.dim();
    let f0 = l.value(x);
    let mut g = vec![0.0; d];
    l.gradient(x, &mut g);
    let mut h = vec![0.0; d * d];
    l.hessian(x, &mut h);
    let mut t = vec![0.0; d * d];
    l.third(x, u, &mut t);

    // gradient vs value
    for (k, &gk) in g.iter().enumerate() {
        let e = unit(d, k);
        let (fp, fm) = (l.value(&shifted(x, &e, H)), l.value(&shifted(x, &e, -H)));
        let fd = (fp - fm) / (2.0 * H);
        let tol = RTOL * (1.0 + f0.abs().max(fp.abs()).max(fm.abs()) + gk.abs());
        prop_assert!(
            (gk - fd).abs() <= tol,
            "{}: g[{k}] = {gk} vs FD {fd} at {x:?}",
            l.name()
        );
    }
    // Hessian vs gradient
    let (mut gp, mut gm) = (vec![0.0; d], vec![0.0; d]);
    for j in 0..d {
        let e = unit(d, j);
        l.gradient(&shifted(x, &e, H), &mut gp);
        l.gradient(&shifted(x, &e, -H), &mut gm);
        let scale = 1.0 + max_abs(&gp).max(max_abs(&gm)) + max_abs(&h);
        for i in 0..d {
            let fd = (gp[i] - gm[i]) / (2.0 * H);
            prop_assert!(
                (h[i * d + j] - fd).abs() <= RTOL * scale,
                "{}: H[{i}][{j}] = {} vs FD {fd} at {x:?}",
                l.name(),
                h[i * d + j]
            );
        }
    }
    // third vs Hessian, along u
    let (mut hp, mut hm) = (vec![0.0; d * d], vec![0.0; d * d]);
    l.hessian(&shifted(x, u, H), &mut hp);
    l.hessian(&shifted(x, u, -H), &mut hm);
    let scale = 1.0 + max_abs(&hp).max(max_abs(&hm)) + max_abs(&t);
    for k in 0..d * d {
        let fd = (hp[k] - hm[k]) / (2.0 * H);
        prop_assert!(
            (t[k] - fd).abs() <= RTOL * scale,
            "{}: dH[u][{k}] = {} vs FD {fd} at {x:?}, u = {u:?}",
            l.name(),
            t[k]
        );
    }
    // symmetry (exact: every implementation writes both triangles from one expression)
    for i in 0..d {
        for j in 0..i {
            prop_assert_eq!(h[i * d + j], h[j * d + i]);
            prop_assert!((t[i * d + j] - t[j * d + i]).abs() <= 1e-14 * scale);
        }
    }
    Ok(())
}

fn point2(lo: f64, hi: f64) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(lo..hi, 2)
}

fn direction(d: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1.0..1.0f64, d)
}

proptest! {
    #[test]
    fn beale_derivatives(x in point2(-4.5, 4.5), u in direction(2)) {
        check_derivatives(&Beale, &x, &u)?;
    }

    #[test]
    fn monkey_saddle_derivatives(x in point2(-3.0, 3.0), u in direction(2)) {
        check_derivatives(&MonkeySaddle, &x, &u)?;
    }

    #[test]
    fn double_well_derivatives(x in point2(-3.0, 3.0), u in direction(2), a in 0.1..5.0f64) {
        check_derivatives(&DoubleWell::new(a).unwrap(), &x, &u)?;
    }

    #[test]
    fn quadratic_derivatives(
        entries in prop::collection::vec(-5.0..5.0f64, 6),
        center in prop::collection::vec(-2.0..2.0f64, 3),
        x in prop::collection::vec(-3.0..3.0f64, 3),
        u in direction(3),
    ) {
        // symmetric 3×3 from its upper triangle
        let idx = |i: usize, j: usize| match (i.min(j), i.max(j)) {
            (0, 0) => 0, (0, 1) => 1, (0, 2) => 2, (1, 1) => 3, (1, 2) => 4, _ => 5,
        };
        let rows: Vec<Vec<f64>> = (0..3).map(|i| (0..3).map(|j| entries[idx(i, j)]).collect()).collect();
        let q = Quadratic::new(&rows, Some(&center)).unwrap();
        check_derivatives(&q, &x, &u)?;
    }

    #[test]
    fn toy_network_derivatives(
        samples in 1usize..40, teacher in -2.0..2.0f64, seed in 0u64..1000,
        x in point2(-3.0, 3.0), u in direction(2),
    ) {
        check_derivatives(&ToyNetwork::new(samples, teacher, seed).unwrap(), &x, &u)?;
    }

    /// Per-sample ∇fᵢ vs central differences of fᵢ, ∇²fᵢ vs central differences of ∇fᵢ (tolerances as above),
    /// and the means of fᵢ, ∇fᵢ, ∇²fᵢ equal f, ∇f, ∇²f up to summation round-off (1e−12 of the scale).
    #[test]
    fn toy_network_sample_derivatives_and_means(
        samples in 1usize..40, teacher in -2.0..2.0f64, seed in 0u64..1000, x in point2(-3.0, 3.0),
    ) {
        let net = ToyNetwork::new(samples, teacher, seed).unwrap();
        let fs: &dyn FiniteSum = &net;
        prop_assert_eq!(fs.samples(), samples);
        let n = samples as f64;
        let (mut fmean, mut gmean, mut hmean) = (0.0, [0.0; 2], [0.0; 4]);
        let (mut g, mut h, mut gp, mut gm) = ([0.0; 2], [0.0; 4], [0.0; 2], [0.0; 2]);
        for i in 0..samples {
            let fi = net.sample_value(i, &x);
            fs.sample_gradient(i, &x, &mut g);
            fs.sample_hessian(i, &x, &mut h);
            for k in 0..2 {
                let e = unit(2, k);
                let (fp, fm) = (net.sample_value(i, &shifted(&x, &e, H)), net.sample_value(i, &shifted(&x, &e, -H)));
                let fd = (fp - fm) / (2.0 * H);
                prop_assert!((g[k] - fd).abs() <= RTOL * (1.0 + fi.abs().max(fp.abs()) + g[k].abs()),
                    "sample {i}: g[{k}] = {} vs {fd}", g[k]);
                fs.sample_gradient(i, &shifted(&x, &e, H), &mut gp);
                fs.sample_gradient(i, &shifted(&x, &e, -H), &mut gm);
                let scale = 1.0 + max_abs(&gp).max(max_abs(&gm)) + max_abs(&h);
                for j in 0..2 {
                    let fd = (gp[j] - gm[j]) / (2.0 * H);
                    prop_assert!((h[j * 2 + k] - fd).abs() <= RTOL * scale,
                        "sample {i}: H[{j}][{k}] = {} vs {fd}", h[j * 2 + k]);
                }
            }
            prop_assert_eq!(h[1], h[2]);
            fmean += fi / n;
            for k in 0..2 { gmean[k] += g[k] / n; }
            for k in 0..4 { hmean[k] += h[k] / n; }
        }
        let (mut gf, mut hf) = ([0.0; 2], [0.0; 4]);
        net.gradient(&x, &mut gf);
        net.hessian(&x, &mut hf);
        let f = net.value(&x);
        prop_assert!((fmean - f).abs() <= 1e-12 * (1.0 + f.abs()), "mean fᵢ = {fmean} vs f = {f}");
        for k in 0..2 {
            prop_assert!((gmean[k] - gf[k]).abs() <= 1e-12 * (1.0 + max_abs(&gf)), "mean ∇fᵢ = {gmean:?} vs ∇f = {gf:?}");
        }
        for k in 0..4 {
            prop_assert!((hmean[k] - hf[k]).abs() <= 1e-12 * (1.0 + max_abs(&hf)), "mean ∇²fᵢ = {hmean:?} vs ∇²f = {hf:?}");
        }
    }
}

// ---------------------------------------------------------------- closed-form values (spec E1, E3)

#[test]
fn beale_closed_form_values() {
    assert_eq!(Beale.value(&[1.0, 2.0]), 126.453125);
    assert_eq!(Beale.value(&[0.0, 1.0]), 14.203125);
    assert_eq!(Beale.value(&[3.0, 0.5]), 0.0);
    // f is constant along x = 0
    assert_eq!(Beale.value(&[0.0, -3.0]), 14.203125);
    let mut h = [0.0; 4];
    Beale.hessian(&[0.0, 1.0], &mut h);
    assert_eq!(h, [0.0, 27.75, 27.75, 0.0]);
    let mut g = [1.0; 2];
    Beale.gradient(&[3.0, 0.5], &mut g);
    assert_eq!(g, [0.0, 0.0]);
    assert_eq!(Beale.name(), "beale");
    assert!(Arc::new(Beale).finite_sum().is_none());
    let known = Beale.known_points();
    assert_eq!(known.len(), 2);
    assert_eq!(known[0].1, vec![3.0, 0.5]);
    assert_eq!(known[1].1, vec![0.0, 1.0]);
}

/// Relative tolerance for located critical points: Newton converges quadratically, so at ‖∇f‖ ≤ 1e−10 and
/// |λ| ≳ 1 the position error is ≲ 1e−10; 1e−8 leaves margin.
const LOC_TOL: f64 = 1e-8;

fn assert_close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?} (tol {tol})");
    }
}

/// H q_j = λ_j q_j and ‖q_j‖ = 1 for every returned eigenpair.
fn assert_eigenpairs(l: &dyn Landscape, cp: &samsde::model::CriticalPoint) {
    let d = l.dim();
    let mut h = vec![0.0; d * d];
    l.hessian(&cp.x, &mut h);
    let scale = 1.0 + max_abs(&h);
    assert_eq!(cp.eigenvectors.len(), d);
    for (lam, q) in cp.eigenvalues.iter().zip(&cp.eigenvectors) {
        let n: f64 = q.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((n - 1.0).abs() < 1e-12, "eigenvector norm {n}");
        for i in 0..d {
            let hq: f64 = (0..d).map(|j| h[i * d + j] * q[j]).sum();
            assert!((hq - lam * q[i]).abs() < 1e-10 * scale, "H q ≠ λ q for λ = {lam}");
        }
    }
    assert!(
        cp.eigenvalues.windows(2).all(|w| w[0] <= w[1]),
        "not ascending: {:?}",
        cp.eigenvalues
    );
}

#[test]
fn beale_saddle_found_and_classified() {
    let x = newton(&Beale, &[0.2, 0.8], DEFAULT_TOL, DEFAULT_MAX_ITER).unwrap();
    assert_close(&x, &[0.0, 1.0], LOC_TOL);
    let cp = classify(&Beale, &x).unwrap();
    assert_eq!(cp.kind, CriticalKind::Saddle { index: 1 });
    assert_eq!(cp.kind.label(), "index-1 saddle");
    assert_close(&cp.eigenvalues, &[-27.75, 27.75], 1e-6);
    assert!((cp.value - 14.203125).abs() < 1e-9, "f = {}", cp.value);
    assert!(cp.gradient_norm <= DEFAULT_TOL);
    assert_eigenpairs(&Beale, &cp);
    // the unstable direction of H = [[0, 27.75], [27.75, 0]] is ±(1, −1)/√2
    let q = &cp.eigenvectors[0];
    assert!(
        (q[0] + q[1]).abs() < 1e-6 && (q[0].abs() - 0.5f64.sqrt()).abs() < 1e-6,
        "q₋ = {q:?}"
    );
}

#[test]
fn beale_minimum_found_and_classified() {
    let x = newton(&Beale, &[2.8, 0.45], DEFAULT_TOL, DEFAULT_MAX_ITER).unwrap();
    assert_close(&x, &[3.0, 0.5], LOC_TOL);
    let cp = classify(&Beale, &x).unwrap();
    assert_eq!(cp.kind, CriticalKind::Minimum);
    assert_eq!(cp.kind.label(), "minimum");
    assert!(cp.value.abs() < 1e-18, "f = {}", cp.value);
    assert!(cp.eigenvalues[0] > 0.1, "λ = {:?}", cp.eigenvalues);
    assert_eigenpairs(&Beale, &cp);
}

#[test]
fn beale_find_all_on_a_grid_finds_minimum_and_saddle() {
    let starts = grid_starts(&[-1.0, -1.0], &[4.0, 2.0], 11).unwrap();
    assert_eq!(starts.len(), 121);
    let all = find_all(&Beale, &starts, DEFAULT_TOL, DEFAULT_MAX_ITER, 1e-4).unwrap();
    // sorted by value: the global minimum (f = 0) first
    assert_eq!(all[0].kind, CriticalKind::Minimum);
    assert_close(&all[0].x, &[3.0, 0.5], LOC_TOL);
    assert!(all.windows(2).all(|w| w[0].value <= w[1].value));
    let saddles: Vec<_> = all
        .iter()
        .filter(|c| c.x.iter().zip([0.0, 1.0]).all(|(a, b)| (a - b).abs() < 1e-6))
        .collect();
    assert_eq!(saddles.len(), 1, "the saddle must appear exactly once: {all:#?}");
    assert_eq!(saddles[0].kind, CriticalKind::Saddle { index: 1 });
    // on Beale's full box [−4.5, 4.5]² there is one more critical point: an index-1 saddle near (0.1005, −2.6445)
    let wide = grid_starts(&[-4.5, -4.5], &[4.5, 4.5], 19).unwrap();
    let all_wide = find_all(&Beale, &wide, DEFAULT_TOL, DEFAULT_MAX_ITER, 1e-4).unwrap();
    assert_eq!(all_wide.len(), 3, "{all_wide:#?}");
    assert_eq!(all_wide[1].kind, CriticalKind::Saddle { index: 1 });
    assert_close(&all_wide[1].x, &[0.1005, -2.6445], 1e-4);
    assert!((all_wide[1].value - 9.8645).abs() < 1e-4);
    assert_close(&all_wide[2].x, &[0.0, 1.0], LOC_TOL);
    // duplicates were merged
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            let dist: f64 = a.x.iter().zip(&b.x).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt();
            assert!(dist >= 1e-4, "{:?} and {:?} not merged", a.x, b.x);
        }
    }
}

#[test]
fn quadratic_index_two_saddle() {
    let q = Quadratic::diagonal(&[1.0, -2.0, -3.0]).unwrap();
    let x = newton(&q, &[0.5, -0.7, 1.1], DEFAULT_TOL, DEFAULT_MAX_ITER).unwrap();
    assert_close(&x, &[0.0; 3], 1e-14);
    let cp = classify(&q, &x).unwrap();
    assert_eq!(cp.kind, CriticalKind::Saddle { index: 2 });
    assert_eq!(cp.kind.label(), "index-2 saddle");
    assert_close(&cp.eigenvalues, &[-3.0, -2.0, 1.0], 1e-14);
    assert_close(&cp.eigenvectors[0], &[0.0, 0.0, 1.0], 1e-14);
    assert_close(&cp.eigenvectors[2], &[1.0, 0.0, 0.0], 1e-14);
    // all negative → maximum, all positive → minimum
    let m = Quadratic::diagonal(&[-1.0, -2.0]).unwrap();
    assert_eq!(classify(&m, &[0.0, 0.0]).unwrap().kind, CriticalKind::Maximum);
    assert_eq!(classify(&m, &[0.0, 0.0]).unwrap().kind.label(), "maximum");
    let p = Quadratic::diagonal(&[1.0, 2.0]).unwrap();
    assert_eq!(classify(&p, &[0.0, 0.0]).unwrap().kind, CriticalKind::Minimum);
}

#[test]
fn monkey_saddle_is_degenerate() {
    let exact = classify(&MonkeySaddle, &[0.0, 0.0]).unwrap();
    assert_eq!(exact.kind, CriticalKind::Degenerate);
    assert_eq!(exact.kind.label(), "degenerate");
    assert_eq!(exact.eigenvalues, vec![0.0, 0.0]);
    // Newton converges (linearly) from a generic start, and the approximate point is still degenerate
    let x = newton(&MonkeySaddle, &[0.3, 0.2], DEFAULT_TOL, DEFAULT_MAX_ITER).unwrap();
    let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
    assert!(r < 1e-4, "|x| = {r}");
    let cp = classify(&MonkeySaddle, &x).unwrap();
    assert_eq!(cp.kind, CriticalKind::Degenerate, "{cp:?}");
    // eigenvalues of H = 6[[x, −y], [−y, −x]] are ±6|x| (the classification still calls it degenerate)
    assert_close(
        &classify(&MonkeySaddle, &[1e-3, 0.0]).unwrap().eigenvalues,
        &[-6e-3, 6e-3],
        1e-18,
    );
}

#[test]
fn double_well_saddle_and_minima() {
    let starts = grid_starts(&[-2.0, -2.0], &[2.0, 2.0], 5).unwrap();
    let all = find_all(&DoubleWell::default(), &starts, DEFAULT_TOL, DEFAULT_MAX_ITER, 1e-4).unwrap();
    assert_eq!(all.len(), 3, "{all:#?}");
    // sorted by value, ties by coordinates: (0, −1), (0, 1), then the saddle
    assert_eq!(all[0].kind, CriticalKind::Minimum);
    assert_close(&all[0].x, &[0.0, -1.0], LOC_TOL);
    assert!((all[0].value + 0.25).abs() < 1e-15);
    assert_eq!(all[1].kind, CriticalKind::Minimum);
    assert_close(&all[1].x, &[0.0, 1.0], LOC_TOL);
    assert_close(&all[1].eigenvalues, &[1.0, 2.0], 1e-8);
    assert_eq!(all[2].kind, CriticalKind::Saddle { index: 1 });
    assert_close(&all[2].x, &[0.0, 0.0], LOC_TOL);
    assert_close(&all[2].eigenvalues, &[-1.0, 1.0], 1e-8);
    assert_eq!(all[2].value, 0.0);
    // depth a: saddle H = diag(1, −a), minima f = −a/4
    let w = DoubleWell::new(2.0).unwrap();
    let s = classify(&w, &[0.0, 0.0]).unwrap();
    assert_eq!(s.eigenvalues, vec![-2.0, 1.0]);
    assert_eq!(w.value(&[0.0, 1.0]), -0.5);
}

#[test]
fn toy_network_saddle_minima_and_sampling() {
    let net = ToyNetwork::new(200, 1.0, 7).unwrap();
    assert_eq!(net.variable_names(), vec!["u".to_string(), "w".to_string()]);
    let m = net.saddle_coupling();
    let sxx = net.inputs().iter().map(|x| x * x).sum::<f64>() / 200.0;
    assert!((m - sxx).abs() < 1e-12, "with teacher 1, m = mean(x²)");
    // saddle at the origin: H = [[0, −m], [−m, 0]], λ = ±m, index 1
    let mut h = [0.0; 4];
    net.hessian(&[0.0, 0.0], &mut h);
    assert_eq!(h, [0.0, -m, -m, 0.0]);
    let cp = classify(&net, &[0.0, 0.0]).unwrap();
    assert_eq!(cp.kind, CriticalKind::Saddle { index: 1 });
    assert_close(&cp.eigenvalues, &[-m, m], 1e-14);
    // every per-sample gradient vanishes at the saddle (Type-II saddle: no N2 noise there)
    let mut g = [1.0; 2];
    for i in 0..200 {
        net.sample_gradient(i, &[0.0, 0.0], &mut g);
        assert_eq!(g, [0.0, 0.0]);
    }
    // minima on u·w = mean(xy)/mean(x²) = teacher; H there is rank one, so the point is degenerate
    assert!((net.optimal_product() - 1.0).abs() < 1e-14);
    let x = newton(&net, &[0.9, 1.3], DEFAULT_TOL, DEFAULT_MAX_ITER).unwrap();
    assert!((x[0] * x[1] - 1.0).abs() < 1e-9, "u w = {}", x[0] * x[1]);
    assert!(net.value(&x) < 1e-18);
    assert_eq!(classify(&net, &x).unwrap().kind, CriticalKind::Degenerate);
    // known points: saddle and the balanced minimum (1, 1)
    let known = net.known_points();
    assert_eq!(known[0].1, vec![0.0, 0.0]);
    assert_close(&known[1].1, &[1.0, 1.0], 1e-14);
    // a teacher of −2 moves the valley to u w = −2
    let neg = ToyNetwork::new(50, -2.0, 3).unwrap();
    assert!((neg.optimal_product() + 2.0).abs() < 1e-14);
    assert_close(&neg.known_points()[1].1, &[2f64.sqrt(), -(2f64.sqrt())], 1e-14);
}

#[test]
fn toy_network_inputs_are_standard_normal_and_seeded() {
    let n = 20_000;
    let net = ToyNetwork::new(n, 1.0, 42).unwrap();
    let xs = net.inputs();
    let mean = xs.iter().sum::<f64>() / n as f64;
    let var = xs.iter().map(|x| x * x).sum::<f64>() / n as f64;
    // 5 standard errors: se(mean) = 1/√n, se(mean of x²) = √2/√n
    let se = 1.0 / (n as f64).sqrt();
    assert!(mean.abs() < 5.0 * se, "mean {mean}");
    assert!((var - 1.0).abs() < 5.0 * 2f64.sqrt() * se, "mean x² {var}");
    assert_eq!(net.targets(), xs);
    // reproducible from the seed, different for another seed
    assert_eq!(ToyNetwork::new(n, 1.0, 42).unwrap().inputs(), xs);
    assert_ne!(ToyNetwork::new(n, 1.0, 43).unwrap().inputs()[0], xs[0]);
    assert_eq!(net.samples(), n);
}

// ---------------------------------------------------------------- helpers and errors

#[test]
fn grid_starts_layout() {
    let g = grid_starts(&[0.0, 0.0], &[1.0, 2.0], 3).unwrap();
    assert_eq!(g.len(), 9);
    assert_eq!(g[0], vec![0.0, 0.0]);
    assert_eq!(g[1], vec![0.0, 1.0]);
    assert_eq!(g[3], vec![0.5, 0.0]);
    assert_eq!(g[8], vec![1.0, 2.0]);
    assert_eq!(grid_starts(&[-1.0, 2.0], &[1.0, 4.0], 1).unwrap(), vec![vec![0.0, 3.0]]);
    assert!(matches!(
        grid_starts(&[0.0], &[1.0, 2.0], 3),
        Err(Error::Dimension { .. })
    ));
    assert!(matches!(grid_starts(&[1.0], &[0.0], 3), Err(Error::Invalid { .. })));
    assert!(matches!(grid_starts(&[0.0], &[1.0], 0), Err(Error::Invalid { .. })));
    assert!(matches!(
        grid_starts(&[0.0; 8], &[1.0; 8], 100),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(grid_starts(&[], &[], 3), Err(Error::Invalid { .. })));
}

#[test]
fn invalid_input_is_rejected_without_panics() {
    assert!(matches!(ToyNetwork::new(0, 1.0, 0), Err(Error::Invalid { ref key, .. }) if key == "landscape.samples"));
    assert!(matches!(ToyNetwork::new(5, f64::NAN, 0), Err(Error::Invalid { .. })));
    assert!(matches!(DoubleWell::new(0.0), Err(Error::Invalid { .. })));
    assert!(matches!(DoubleWell::new(f64::INFINITY), Err(Error::Invalid { .. })));
    assert!(matches!(
        newton(&Beale, &[1.0], 1e-10, 10),
        Err(Error::Dimension {
            expected: 2,
            found: 1,
            ..
        })
    ));
    assert!(matches!(
        newton(&Beale, &[1.0, f64::NAN], 1e-10, 10),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        newton(&Beale, &[1.0, 2.0], 0.0, 10),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        newton(&Beale, &[1.0, 2.0], 1e-10, 0),
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        classify(&Beale, &[1.0, 2.0, 3.0]),
        Err(Error::Dimension { .. })
    ));
    assert!(matches!(
        find_all(&Beale, &[vec![1.0]], 1e-10, 10, 1e-4),
        Err(Error::Dimension { .. })
    ));
    assert!(matches!(
        find_all(&Beale, &[vec![1.0, 2.0]], 1e-10, 10, -1.0),
        Err(Error::Invalid { .. })
    ));
    // one Newton step from (1, 2) is not enough: a clear NoConvergence, not a panic
    match newton(&Beale, &[1.0, 2.0], 1e-10, 1) {
        Err(Error::NoConvergence(msg)) => assert!(msg.contains("1 iterations"), "{msg}"),
        other => panic!("expected NoConvergence, got {other:?}"),
    }
    // Newton halves the distance to the degenerate monkey saddle each step (∇f is homogeneous of degree 2,
    // so H⁻¹∇f = x/2); an unreachable tolerance therefore runs out of iterations with a clear message
    match newton(&MonkeySaddle, &[0.3, 0.2], 1e-300, 50) {
        Err(Error::NoConvergence(msg)) => assert!(msg.contains("50 iterations"), "{msg}"),
        other => panic!("expected NoConvergence, got {other:?}"),
    }
}

#[test]
fn critical_point_serialises_flat() {
    let cp = classify(&Beale, &[0.0, 1.0]).unwrap();
    let v = serde_json::to_value(&cp).unwrap();
    assert_eq!(v["kind"], "saddle");
    assert_eq!(v["index"], 1);
    assert_eq!(v["value"], 14.203125);
    assert_eq!(v["x"], serde_json::json!([0.0, 1.0]));
    let min = classify(&Beale, &[3.0, 0.5]).unwrap();
    let v = serde_json::to_value(&min).unwrap();
    assert_eq!(v["kind"], "minimum");
    assert!(v.get("index").is_none());
}
