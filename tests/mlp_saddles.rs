//! Saddles of MLPs in many dimensions (issue 13, item 3): the zero-weights saddle against its closed-form
//! spectrum, Lanczos on Hessian–vector products against a dense eigen-decomposition (nalgebra) at d ≈ 50,
//! Newton-MR converging to saddles (not only minima) for d ≥ 10, and the merged-units construction.

// Index loops mirror the equations, as in the library.
#![allow(clippy::needless_range_loop)]

use nalgebra::{DMatrix, SymmetricEigen};
use samsde::model::krylov::{LanczosOptions, NewtonMrOptions, hessian_spectrum, newton_mr};
use samsde::model::landscape::Landscape;
use samsde::model::landscape::mlp::{Activation, Dataset, Loss, Mlp};
use std::path::Path;

fn iris() -> Dataset {
    Dataset::from_csv(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv"),
        Loss::CrossEntropy,
    )
    .unwrap()
}

/// Iris as regression: sepal length, sepal width, petal length (standardised to mean 0, variance 1, as one
/// would before training) → petal width (cm).
fn iris_regression() -> Dataset {
    let full = iris();
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    for i in 0..full.len() {
        inputs.extend_from_slice(&full.input(i)[..3]);
        targets.push(full.input(i)[3]);
    }
    Dataset::new(inputs, 3, targets, Loss::Mse, "iris regression")
        .unwrap()
        .standardized()
        .0
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

fn grad_norm(l: &dyn Landscape, x: &[f64]) -> f64 {
    let mut g = vec![0.0; l.dim()];
    l.gradient(x, &mut g);
    norm(&g)
}

/// Eigenvalues of the dense Hessian, ascending.
fn dense_eigenvalues(l: &dyn Landscape, x: &[f64]) -> Vec<f64> {
    let d = l.dim();
    let mut h = vec![0.0; d * d];
    l.hessian(x, &mut h);
    let mut ev: Vec<f64> = SymmetricEigen::new(DMatrix::from_row_slice(d, d, &h))
        .eigenvalues
        .iter()
        .copied()
        .collect();
    ev.sort_by(f64::total_cmp);
    ev
}

#[test]
fn zero_weights_saddle_has_the_closed_form_index_and_eigenvalues() {
    let cases = [
        (
            Mlp::new(iris(), &[5], Activation::Tanh, Loss::CrossEntropy).unwrap(),
            2 * 5,
        ),
        (
            Mlp::new(iris(), &[4], Activation::Linear, Loss::CrossEntropy).unwrap(),
            2 * 4,
        ),
        (
            Mlp::new(iris_regression(), &[6], Activation::Tanh, Loss::Mse).unwrap(),
            6,
        ),
    ];
    for (net, index) in cases {
        let label = format!("{:?} {:?} {:?}", net.hidden(), net.activation(), net.loss());
        let x = net.zero_saddle().unwrap();
        assert_eq!(net.known_points()[0].1, x);
        assert!(grad_norm(&net, &x) < 1e-14, "{label}: ‖∇f‖ = {:e}", grad_norm(&net, &x));
        let closed = net.zero_saddle_negative_eigenvalues(1e-10).unwrap();
        assert_eq!(closed.len(), index, "{label}: h · rank(M)");
        // Dense eigenvalues: exactly `index` negative ones, equal to the closed form.
        let dense = dense_eigenvalues(&net, &x);
        let scale = dense.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let negative: Vec<f64> = dense.iter().copied().filter(|&v| v < -1e-10 * scale).collect();
        assert_eq!(negative.len(), index, "{label}: dense {dense:?}");
        for (a, b) in negative.iter().zip(&closed) {
            assert!((a - b).abs() <= 1e-12 * scale, "{label}: dense {a} vs closed form {b}");
        }
        // Lanczos with locking finds every copy of the h-fold eigenvalues and stops at the first zero.
        let spec = hessian_spectrum(
            &net,
            &x,
            &LanczosOptions {
                k: net.dim(),
                zero_tol: 1e-8 * scale,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(spec.index, Some(index), "{label}: Lanczos {:?}", spec.eigenvalues);
        for (a, b) in spec.eigenvalues.iter().zip(&closed) {
            assert!((a - b).abs() <= 1e-8 * scale, "{label}: Lanczos {a} vs closed form {b}");
        }
        println!(
            "{label}: d = {}, index {index}, λ₋ = {:.6}, Lanczos used {} Hessian–vector products",
            net.dim(),
            closed[0],
            spec.products
        );
    }
    // Two hidden layers: the coupling is of third order, the Hessian is the PSD output-bias block only.
    let deep = Mlp::new(iris(), &[3, 3], Activation::Tanh, Loss::CrossEntropy).unwrap();
    let x = deep.zero_saddle().unwrap();
    assert!(grad_norm(&deep, &x) < 1e-14);
    assert!(deep.zero_saddle_negative_eigenvalues(1e-10).is_none());
    assert!(dense_eigenvalues(&deep, &x)[0] > -1e-14);
    // relu is not differentiable there: no known point.
    let relu = Mlp::new(iris(), &[3], Activation::Relu, Loss::CrossEntropy).unwrap();
    assert!(relu.zero_saddle().is_none() && relu.known_points().is_empty());
}

#[test]
fn lanczos_matches_the_dense_eigendecomposition_at_d_51() {
    // 4 → 6 → 3 on iris: d = 24 + 6 + 18 + 3 = 51.
    let net = Mlp::new(iris(), &[6], Activation::Tanh, Loss::CrossEntropy).unwrap();
    assert_eq!(net.dim(), 51);
    let zero = net.zero_saddle().unwrap();
    for (label, x) in [
        ("random point", net.init(5).iter().map(|v| 2.0 * v).collect::<Vec<_>>()),
        ("zero saddle", zero),
    ] {
        let dense = dense_eigenvalues(&net, &x);
        let scale = dense.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let k = 8;
        let spec = hessian_spectrum(
            &net,
            &x,
            &LanczosOptions {
                k,
                stop_at_nonnegative: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(spec.eigenvalues.len(), k);
        let max_diff = (0..k).fold(0.0f64, |m, j| m.max((spec.eigenvalues[j] - dense[j]).abs()));
        for j in 0..k {
            assert!(
                (spec.eigenvalues[j] - dense[j]).abs() <= 1e-8 * scale,
                "{label}: λ{j} Lanczos {} vs dense {}",
                spec.eigenvalues[j],
                dense[j]
            );
            assert!(
                spec.residuals[j] <= 1e-7 * scale,
                "{label}: residual {}",
                spec.residuals[j]
            );
        }
        // The index by Lanczos equals the dense count of negative eigenvalues.
        let zero_tol = 1e-8 * scale;
        let dense_index = dense.iter().filter(|&&v| v < -zero_tol).count();
        let spec = hessian_spectrum(
            &net,
            &x,
            &LanczosOptions {
                k: 51,
                zero_tol,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(spec.index, Some(dense_index), "{label}");
        println!(
            "{label}: lowest {:?}, index {dense_index} (Lanczos: {} products), max |Lanczos − dense| over the 8 \
             lowest {max_diff:.1e} (‖H‖ = {scale:.3})",
            &dense[..4],
            spec.products
        );
    }
}

#[test]
fn newton_mr_converges_to_saddles_in_many_dimensions() {
    let opts = NewtonMrOptions::default();
    // From a perturbed zero-weights saddle (d = 43): back to a critical point with negative curvature.
    let net = Mlp::new(iris(), &[5], Activation::Tanh, Loss::CrossEntropy).unwrap();
    let x0: Vec<f64> = net
        .zero_saddle()
        .unwrap()
        .iter()
        .zip(net.init(9))
        .map(|(a, b)| a + 0.02 * b)
        .collect();
    let found = newton_mr(&net, &x0, &opts).unwrap();
    assert!(found.gradient_norm <= 1e-10);
    assert!(grad_norm(&net, &found.x) <= 1e-10);
    let dense = dense_eigenvalues(&net, &found.x);
    assert!(dense[0] < -1e-3, "not a saddle: λ_min = {}", dense[0]);
    println!(
        "perturbed zero saddle: ‖∇f‖ = {:.1e} after {} iterations, {} HVPs, λ_min = {:.4}, distance moved {:.3}",
        found.gradient_norm,
        found.iterations,
        found.hessian_vector_products,
        dense[0],
        norm(&found.x.iter().zip(&x0).map(|(a, b)| a - b).collect::<Vec<_>>())
    );
    // From random starts of a regression network (d = 4·3 + 4 + 4 + 1 = 21): critical points, and Newton-MR
    // does not only find minima.
    let reg = Mlp::new(iris_regression(), &[4], Activation::Tanh, Loss::Mse).unwrap();
    let mut indices = Vec::new();
    for seed in 0..12 {
        let found = match newton_mr(&reg, &reg.init(seed), &opts) {
            Ok(f) => f,
            Err(e) => {
                println!("seed {seed}: {e}");
                continue;
            }
        };
        assert!(grad_norm(&reg, &found.x) <= 1e-10);
        let dense = dense_eigenvalues(&reg, &found.x);
        let scale = dense.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        indices.push(dense.iter().filter(|&&v| v < -1e-8 * scale).count());
    }
    println!("regression network, random starts: indices of the critical points found {indices:?}");
    // Measured: 7 of 12 starts converge (the others drift towards saturated, degenerate regions), every one
    // to a saddle of index 3 or 4.
    assert!(
        indices.len() >= 6,
        "Newton-MR converged from only {} of 12 starts",
        indices.len()
    );
    assert!(indices.iter().any(|&i| i > 0), "only minima found: {indices:?}");
}

#[test]
fn splitting_a_unit_of_a_minimum_gives_critical_points_and_saddles() {
    // A minimum of the 1-unit regression network (d = 6), by gradient descent then Newton-MR.
    let small = Mlp::new(iris_regression(), &[1], Activation::Tanh, Loss::Mse).unwrap();
    let mut x = small.init(2);
    let mut g = vec![0.0; small.dim()];
    for _ in 0..3000 {
        small.gradient(&x, &mut g);
        x.iter_mut().zip(&g).for_each(|(a, b)| *a -= 0.02 * b);
    }
    let min = newton_mr(&small, &x, &NewtonMrOptions::default()).unwrap().x;
    let ev = dense_eigenvalues(&small, &min);
    assert!(ev[0] > 0.0, "the small network's point is not a minimum: {ev:?}");
    let mut saddles = 0;
    for lambda in [0.5, 1.5, -0.5] {
        let (big, y) = small.split_unit(&min, 0, 0, lambda).unwrap();
        assert_eq!(big.hidden(), &[2]);
        assert_eq!(big.dim(), 11);
        assert!((big.value(&y) - small.value(&min)).abs() <= 1e-15 * small.value(&min));
        let gn = grad_norm(&big, &y);
        assert!(gn <= 1e-10, "λ = {lambda}: ‖∇f‖ = {gn:e}");
        let ev = dense_eigenvalues(&big, &y);
        let scale = ev.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // The λ-line of critical points: a zero eigenvalue.
        assert!(ev.iter().any(|v| v.abs() <= 1e-9 * scale), "λ = {lambda}: {ev:?}");
        let index = ev.iter().filter(|&&v| v < -1e-9 * scale).count();
        println!(
            "split at λ = {lambda}: index {index}, lowest eigenvalues {:?}",
            &ev[..3]
        );
        saddles += usize::from(index > 0);
        // λ and 1 − λ are the same point with the two units swapped: the same spectrum.
        let (_, y2) = small.split_unit(&min, 0, 0, 1.0 - lambda).unwrap();
        let ev2 = dense_eigenvalues(&big, &y2);
        for (a, b) in ev.iter().zip(&ev2) {
            assert!((a - b).abs() <= 1e-12 * scale, "λ = {lambda} vs 1 − λ: {a} vs {b}");
        }
    }
    assert!(saddles >= 1, "no split point is a saddle");
}
