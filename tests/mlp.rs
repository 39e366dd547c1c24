//! The `mlp` landscape (issue 13, item 2): parameter layout, gradients, Hessian–vector products, Hessians and
//! third derivatives against finite differences for every activation × loss, full-batch gradient descent against
//! an independent reference implementation, the finite-sum structure (N2), the shipped iris data and CSV errors.

// Index loops mirror the equations, as in the library.
#![allow(clippy::needless_range_loop)]

use samsde::model::landscape::mlp::{Activation, Dataset, Loss, Mlp};
use samsde::model::landscape::{FiniteSum, Landscape};
use std::path::Path;

fn iris_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv")
}

fn iris() -> Dataset {
    Dataset::from_csv(iris_path(), Loss::CrossEntropy).unwrap()
}

/// Every `step`-th iris flower: classification (4 features → species) or regression (3 features → petal width).
fn iris_subset(step: usize, loss: Loss) -> Dataset {
    let full = iris();
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for i in (0..full.len()).step_by(step) {
        let x = full.input(i);
        match loss {
            Loss::CrossEntropy => {
                inputs.extend_from_slice(x);
                targets.push(full.target(i));
            }
            Loss::Mse => {
                inputs.extend_from_slice(&x[..3]);
                targets.push(x[3]);
            }
        }
    }
    let p = if loss == Loss::Mse { 3 } else { 4 };
    Dataset::new(inputs, p, targets, loss, "iris subset").unwrap()
}

const ACTIVATIONS: [Activation; 3] = [Activation::Tanh, Activation::Relu, Activation::Linear];
const LOSSES: [Loss; 2] = [Loss::CrossEntropy, Loss::Mse];

// ---------------------------------------------------------------------------------------------------------
// An independent reference: nested Vec layers, plain loops, written from the PyTorch definitions.
// ---------------------------------------------------------------------------------------------------------

struct RefNet {
    /// weights[l][r][c], biases[l][r].
    weights: Vec<Vec<Vec<f64>>>,
    biases: Vec<Vec<f64>>,
}

fn unpack(sizes: &[usize], x: &[f64]) -> RefNet {
    let mut k = 0;
    let mut weights = Vec::new();
    let mut biases = Vec::new();
    for l in 0..sizes.len() - 1 {
        let mut w = vec![vec![0.0; sizes[l]]; sizes[l + 1]];
        for row in w.iter_mut() {
            for v in row.iter_mut() {
                *v = x[k];
                k += 1;
            }
        }
        let mut b = vec![0.0; sizes[l + 1]];
        for v in b.iter_mut() {
            *v = x[k];
            k += 1;
        }
        weights.push(w);
        biases.push(b);
    }
    assert_eq!(k, x.len());
    RefNet { weights, biases }
}

fn act(a: Activation, z: f64) -> (f64, f64) {
    match a {
        Activation::Tanh => (z.tanh(), 1.0 - z.tanh() * z.tanh()),
        Activation::Relu => {
            if z > 0.0 {
                (z, 1.0)
            } else {
                (0.0, 0.0)
            }
        }
        Activation::Linear => (z, 1.0),
    }
}

/// Mean loss and its gradient (same layout), by a textbook forward/backward pass per sample. Also returns the
/// smallest |pre-activation| of a hidden unit (distance to a relu kink).
fn reference(data: &Dataset, sizes: &[usize], a: Activation, loss: Loss, x: &[f64]) -> (f64, Vec<f64>, f64) {
    let net = unpack(sizes, x);
    let layers = sizes.len() - 1;
    let mut gw: Vec<Vec<Vec<f64>>> = net
        .weights
        .iter()
        .map(|w| vec![vec![0.0; w[0].len()]; w.len()])
        .collect();
    let mut gb: Vec<Vec<f64>> = net.biases.iter().map(|b| vec![0.0; b.len()]).collect();
    let mut total = 0.0;
    let mut min_z = f64::INFINITY;
    let n = data.len();
    for i in 0..n {
        let mut acts = vec![data.input(i).to_vec()];
        let mut derivs = Vec::new();
        for l in 0..layers {
            let prev = acts.last().unwrap().clone();
            let mut z = net.biases[l].clone();
            for r in 0..z.len() {
                for c in 0..prev.len() {
                    z[r] += net.weights[l][r][c] * prev[c];
                }
            }
            if l + 1 < layers {
                min_z = z.iter().fold(min_z, |m, v| m.min(v.abs()));
                derivs.push(z.iter().map(|&v| act(a, v).1).collect::<Vec<_>>());
                acts.push(z.iter().map(|&v| act(a, v).0).collect());
            } else {
                acts.push(z);
            }
        }
        let out = acts.last().unwrap();
        let y = data.target(i);
        let mut delta: Vec<f64> = match loss {
            Loss::CrossEntropy => {
                let mx = out.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = out.iter().map(|o| (o - mx).exp()).sum();
                total += s.ln() + mx - out[y as usize];
                (0..out.len())
                    .map(|k| (out[k] - mx).exp() / s - if k == y as usize { 1.0 } else { 0.0 })
                    .collect()
            }
            Loss::Mse => {
                total += (out[0] - y) * (out[0] - y);
                vec![2.0 * (out[0] - y)]
            }
        };
        for l in (0..layers).rev() {
            for r in 0..delta.len() {
                for c in 0..acts[l].len() {
                    gw[l][r][c] += delta[r] * acts[l][c] / n as f64;
                }
                gb[l][r] += delta[r] / n as f64;
            }
            if l > 0 {
                let mut back = vec![0.0; acts[l].len()];
                for c in 0..back.len() {
                    for r in 0..delta.len() {
                        back[c] += net.weights[l][r][c] * delta[r];
                    }
                    back[c] *= derivs[l - 1][c];
                }
                delta = back;
            }
        }
    }
    let mut g = Vec::new();
    for l in 0..layers {
        for row in &gw[l] {
            g.extend_from_slice(row);
        }
        g.extend_from_slice(&gb[l]);
    }
    (total / n as f64, g, min_z)
}

// ---------------------------------------------------------------------------------------------------------
// Finite differences with a tolerance derived from the step.
// ---------------------------------------------------------------------------------------------------------

/// Central differences of `f` (vector-valued, length m) along direction `u` at steps h and h/2. The central
/// difference D(h) has error c h² + O(h⁴), so |D(h) − exact| ≈ (4/3)|D(h) − D(h/2)|; we allow 2× that, plus
/// the round-off of both differences, 8 ε (|f|_max + 1)/h with `scale` = |f|_max. Returns the per-entry
/// (estimate, tolerance).
fn central(f: &dyn Fn(&[f64], &mut [f64]), x: &[f64], u: &[f64], m: usize, h: f64, scale: f64) -> Vec<(f64, f64)> {
    let eval = |s: f64| {
        let xp: Vec<f64> = x.iter().zip(u).map(|(a, b)| a + s * b).collect();
        let mut out = vec![0.0; m];
        f(&xp, &mut out);
        out
    };
    let d = |h: f64| -> Vec<f64> {
        let (p, q) = (eval(h), eval(-h));
        p.iter().zip(&q).map(|(a, b)| (a - b) / (2.0 * h)).collect()
    };
    let (d1, d2) = (d(h), d(0.5 * h));
    d1.iter()
        .zip(&d2)
        .map(|(a, b)| {
            let rich = (4.0 * b - a) / 3.0;
            let tol = 2.0 * (4.0 / 3.0) * (a - b).abs() + 8.0 * f64::EPSILON * (scale + 1.0) / (0.5 * h);
            (rich, tol)
        })
        .collect()
}

fn unit(d: usize, j: usize) -> Vec<f64> {
    let mut e = vec![0.0; d];
    e[j] = 1.0;
    e
}

fn networks() -> Vec<(Mlp, &'static str)> {
    let mut v = Vec::new();
    for loss in LOSSES {
        let data = iris_subset(10, loss);
        for a in ACTIVATIONS {
            v.push((Mlp::new(data.clone(), &[4], a, loss).unwrap(), "one hidden layer"));
            v.push((Mlp::new(data.clone(), &[3, 2], a, loss).unwrap(), "two hidden layers"));
        }
    }
    v
}

/// Random points: PyTorch-style initialisation scaled by 2 (to reach the nonlinear regime), skipping points
/// within 1e−3 of a relu kink (finite differences across a kink measure nothing).
fn points(net: &Mlp, count: usize) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    let mut seed = 0;
    while out.len() < count {
        seed += 1;
        let x: Vec<f64> = net.init(seed).iter().map(|v| 2.0 * v).collect();
        let (_, _, min_z) = reference(net.data(), net.layer_sizes(), net.activation(), net.loss(), &x);
        if net.activation() != Activation::Relu || min_z > 1e-3 {
            out.push(x);
        }
    }
    out
}

#[test]
fn layout_is_pytorch_linear_order() {
    // 2 features → 3 hidden → 2 classes: W1 (3×2) at 0..6, b1 at 6..9, W2 (2×3) at 9..15, b2 at 15..17.
    let data = Dataset::new(vec![0.7, -1.3], 2, vec![1.0], Loss::Mse, "one sample").unwrap();
    let net = Mlp::new(data, &[3], Activation::Linear, Loss::Mse).unwrap();
    assert_eq!(net.dim(), 3 * 2 + 3 + 3 + 1);
    assert_eq!((net.weight_range(0), net.bias_range(0)), (0..6, 6..9));
    assert_eq!((net.weight_range(1), net.bias_range(1)), (9..12, 12..13));
    let names = net.variable_names();
    assert_eq!(&names[..3], &["W1[0,0]", "W1[0,1]", "W1[1,0]"]);
    assert_eq!(&names[6..10], &["b1[0]", "b1[1]", "b1[2]", "W2[0,0]"]);
    // Set W1 = [[1, 2], [3, 4], [5, 6]] row-major, b1 = [0.1, 0.2, 0.3], W2 = [[1, −1, 0.5]], b2 = [0.25]: the
    // linear network outputs W2 (W1 x + b1) + b2, computed here by hand.
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 0.1, 0.2, 0.3, 1.0, -1.0, 0.5, 0.25];
    let (i0, i1) = (0.7, -1.3);
    let h = [
        1.0 * i0 + 2.0 * i1 + 0.1,
        3.0 * i0 + 4.0 * i1 + 0.2,
        5.0 * i0 + 6.0 * i1 + 0.3,
    ];
    let want = h[0] - h[1] + 0.5 * h[2] + 0.25;
    let mut out = [0.0];
    net.outputs(0, &x, &mut out);
    assert!((out[0] - want).abs() < 1e-14, "{} vs {want}", out[0]);
    assert!((net.value(&x) - (want - 1.0).powi(2)).abs() < 1e-13);
    // The gradient with respect to W1[r][c] is (∂ℓ/∂z) · W2[0][r] · input[c], at index r·2 + c.
    let mut g = vec![0.0; net.dim()];
    net.gradient(&x, &mut g);
    let dz = 2.0 * (want - 1.0);
    let w2 = [1.0, -1.0, 0.5];
    for r in 0..3 {
        for (c, inp) in [i0, i1].iter().enumerate() {
            assert!((g[r * 2 + c] - dz * w2[r] * inp).abs() < 1e-13, "W1[{r}][{c}]");
        }
        assert!((g[6 + r] - dz * w2[r]).abs() < 1e-13, "b1[{r}]");
        assert!((g[9 + r] - dz * h[r]).abs() < 1e-13, "W2[0][{r}]");
    }
    assert!((g[12] - dz).abs() < 1e-13);
}

#[test]
fn gradients_match_finite_differences_and_the_reference() {
    let (mut checked, mut expected) = (0, 0);
    for (net, label) in networks() {
        let d = net.dim();
        expected += 3 * d;
        for x in points(&net, 3) {
            let mut g = vec![0.0; d];
            net.gradient(&x, &mut g);
            let (fref, gref, _) = reference(net.data(), net.layer_sizes(), net.activation(), net.loss(), &x);
            assert!((net.value(&x) - fref).abs() <= 1e-13 * fref.abs().max(1.0));
            for j in 0..d {
                assert!(
                    (g[j] - gref[j]).abs() <= 1e-13 * (1.0 + gref[j].abs()),
                    "{label} ref g[{j}]"
                );
                let fd = central(
                    &|p, o| o[0] = net.value(p),
                    &x,
                    &unit(d, j),
                    1,
                    1e-4,
                    net.value(&x).abs(),
                );
                let (est, tol) = fd[0];
                assert!(
                    (g[j] - est).abs() <= tol,
                    "{label} {:?} {:?}: g[{j}] = {} vs FD {est} (tol {tol:.2e})",
                    net.activation(),
                    net.loss(),
                    g[j]
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, expected);
}

#[test]
fn hessian_vector_products_hessians_and_third_derivatives_match_finite_differences() {
    for (net, label) in networks() {
        let d = net.dim();
        for (k, x) in points(&net, 2).into_iter().enumerate() {
            let v: Vec<f64> = net.init(100 + k as u64);
            // H v against central differences of the gradient along v.
            let mut hv = vec![0.0; d];
            net.hessian_vector(&x, &v, &mut hv);
            let mut g0 = vec![0.0; d];
            net.gradient(&x, &mut g0);
            let gscale = g0.iter().fold(0.0f64, |m, a| m.max(a.abs()));
            let fd = central(&|p, o| net.gradient(p, o), &x, &v, d, 1e-4, gscale);
            for j in 0..d {
                let (est, tol) = fd[j];
                assert!(
                    (hv[j] - est).abs() <= tol,
                    "{label} {:?} {:?}: (Hv)[{j}] = {} vs FD {est} (tol {tol:.2e})",
                    net.activation(),
                    net.loss(),
                    hv[j]
                );
            }
            // The full Hessian: symmetric, and H v equals the product computed by the R-operator.
            let mut h = vec![0.0; d * d];
            net.hessian(&x, &mut h);
            let hscale = h.iter().fold(0.0f64, |m, a| m.max(a.abs()));
            for i in 0..d {
                let row: f64 = (0..d).map(|j| h[i * d + j] * v[j]).sum();
                assert!((row - hv[i]).abs() <= 1e-12 * hscale * (d as f64), "{label} (H v)[{i}]");
                for j in 0..d {
                    assert_eq!(h[i * d + j], h[j * d + i]);
                }
            }
            // T[·,·,u] against central differences of the Hessian along u.
            let u: Vec<f64> = net.init(200 + k as u64);
            let mut t = vec![0.0; d * d];
            net.third(&x, &u, &mut t);
            let fd = central(&|p, o| net.hessian(p, o), &x, &u, d * d, 1e-4, hscale);
            for j in 0..d * d {
                let (est, tol) = fd[j];
                assert!(
                    (t[j] - est).abs() <= tol,
                    "{label} {:?} {:?}: T[{}, {}, u] = {} vs FD {est} (tol {tol:.2e})",
                    net.activation(),
                    net.loss(),
                    j / d,
                    j % d,
                    t[j]
                );
            }
        }
    }
}

#[test]
fn finite_sum_pieces_add_up() {
    for (net, label) in networks() {
        let d = net.dim();
        let n = net.samples();
        let x = &points(&net, 1)[0];
        let (mut g, mut gi, mut sum) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
        net.gradient(x, &mut g);
        let (mut h, mut hi, mut hsum) = (vec![0.0; d * d], vec![0.0; d * d], vec![0.0; d * d]);
        net.hessian(x, &mut h);
        let mut fsum = 0.0;
        for i in 0..n {
            net.sample_gradient(i, x, &mut gi);
            sum.iter_mut().zip(&gi).for_each(|(s, v)| *s += v / n as f64);
            net.sample_hessian(i, x, &mut hi);
            hsum.iter_mut().zip(&hi).for_each(|(s, v)| *s += v / n as f64);
            fsum += net.sample_value(i, x) / n as f64;
        }
        assert!((fsum - net.value(x)).abs() <= 1e-14 * (1.0 + fsum.abs()), "{label}");
        let gs = g.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        for j in 0..d {
            assert!(
                (sum[j] - g[j]).abs() <= 1e-13 * gs,
                "{label} mean ∇fᵢ [{j}]: {} vs {}",
                sum[j],
                g[j]
            );
        }
        let hs = h.iter().fold(1.0f64, |m, a| m.max(a.abs()));
        for j in 0..d * d {
            assert!((hsum[j] - h[j]).abs() <= 1e-13 * hs, "{label} mean ∇²fᵢ [{j}]");
        }
    }
}

/// Full-batch gradient descent x ← x − η∇f for 100 steps on all 150 iris flowers, against the same descent
/// driven by the reference gradient: the parameter vectors agree to 1e−9.
#[test]
fn gradient_descent_matches_the_reference_implementation() {
    let cases = [
        (
            Mlp::new(iris(), &[8], Activation::Tanh, Loss::CrossEntropy).unwrap(),
            0.05,
        ),
        (
            Mlp::new(iris_subset(1, Loss::Mse), &[6, 4], Activation::Relu, Loss::Mse).unwrap(),
            0.01,
        ),
    ];
    for (net, eta) in cases {
        let d = net.dim();
        let x0 = net.init(7);
        let (mut x, mut y) = (x0.clone(), x0.clone());
        let mut g = vec![0.0; d];
        let f0 = net.value(&x0);
        for _ in 0..100 {
            net.gradient(&x, &mut g);
            x.iter_mut().zip(&g).for_each(|(a, b)| *a -= eta * b);
            let (_, gr, _) = reference(net.data(), net.layer_sizes(), net.activation(), net.loss(), &y);
            y.iter_mut().zip(&gr).for_each(|(a, b)| *a -= eta * b);
        }
        let diff = x.iter().zip(&y).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff <= 1e-9, "{:?}: max |x − x_ref| = {diff:e}", net.activation());
        println!(
            "{:?} {:?} {:?}: 100 GD steps, max |x − x_ref| = {diff:.1e}, f {f0:.4} → {:.4}",
            net.hidden(),
            net.activation(),
            net.loss(),
            net.value(&x)
        );
        // The descent did descend (the two agree on a non-trivial trajectory).
        assert!(net.value(&x) < 0.9 * f0, "{} → {}", f0, net.value(&x));
    }
}

#[test]
fn iris_ships_as_published() {
    let data = iris();
    assert_eq!((data.len(), data.features(), data.classes()), (150, 4, 3));
    assert_eq!(data.column_names()[4], "species");
    // Column means of Fisher's data (scikit-learn's summary table: 5.84, 3.05 (3.057), 3.76, 1.20).
    let means: Vec<f64> = (0..4)
        .map(|c| (0..150).map(|i| data.input(i)[c]).sum::<f64>() / 150.0)
        .collect();
    for (m, want) in means.iter().zip([5.843, 3.057, 3.758, 1.199]) {
        assert!((m - want).abs() < 5e-4, "{m} vs {want}");
    }
    // Sample 38 (1-based) as in Fisher's paper, not the UCI copy.
    assert_eq!(data.input(37), &[4.9, 3.6, 1.4, 0.1]);
    // Standardised copy: mean 0, variance 1 per feature, inverted by the returned statistics.
    let (z, stats) = data.standardized();
    for c in 0..4 {
        let col: Vec<f64> = (0..150).map(|i| z.input(i)[c]).collect();
        let mean = col.iter().sum::<f64>() / 150.0;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 150.0;
        assert!(
            mean.abs() < 1e-14 && (var - 1.0).abs() < 1e-13,
            "feature {c}: {mean} {var}"
        );
        assert!((stats[c].0 - means[c]).abs() < 1e-14);
        assert!((z.input(37)[c] * stats[c].1 + stats[c].0 - data.input(37)[c]).abs() < 1e-14);
    }
    assert_eq!(z.targets(), data.targets());
}

#[test]
fn csv_errors_name_the_line_and_the_fix() {
    let e = |text: &str, loss| Dataset::from_csv_str(text, loss, "d.csv").unwrap_err().to_string();
    assert!(
        e("a,b,y\n1,2,0\n3,x,1\n", Loss::CrossEntropy).contains("d.csv: line 3, column 2: `x` is not a finite number")
    );
    assert!(e("1,2,0\n3,4\n", Loss::CrossEntropy).contains("line 2: 2 columns, but earlier rows have 3"));
    assert!(e("1,2,1\n3,4,2\n", Loss::CrossEntropy).contains("class 0 has no samples"));
    assert!(e("1,2,0.5\n3,4,1\n", Loss::CrossEntropy).contains("line 1: the target `0.5` is not a class label"));
    assert!(e("1,2,0\n3,4,0\n", Loss::CrossEntropy).contains("at least 2 classes"));
    assert!(e("x,y\n", Loss::Mse).contains("no data rows"));
    // A header, comments, blank lines and spaces are fine; mse takes any number.
    let d = Dataset::from_csv_str(
        "# iris-like\nf1, f2, t\n\n1.5, 2, -0.25\n3, 4, 7e-1\n",
        Loss::Mse,
        "ok.csv",
    )
    .unwrap();
    assert_eq!((d.len(), d.features(), d.classes()), (2, 2, 0));
    assert_eq!(d.targets(), &[-0.25, 0.7]);
    assert_eq!(d.column_names(), &["f1", "f2", "t"]);
    // A data set read for one loss cannot build the other.
    let ce = Dataset::from_csv_str("1,0\n2,1\n", Loss::CrossEntropy, "c.csv").unwrap();
    assert!(Mlp::new(ce, &[2], Activation::Tanh, Loss::Mse).is_err());
}

/// N2 of `mlp` against real mini-batches (math spec §1, N2): the optimizer's mini-batches (`Noise::draw_batch`
/// then `Noise::batch_gradient`, B = 10 iris flowers of 150, with and without replacement) drawn M = 10⁵ times at
/// a generic point of a tanh/cross-entropy network (d = 19); their empirical mean is ∇f and their empirical
/// covariance is Σ_B = F Fᵀ of the noise model (κ = 1/B with replacement, (N−B)/((N−1)B) without), every
/// mean and every covariance entry within 5 standard errors. The standard error of an empirical covariance
/// entry is the standard deviation of the centred products (g_a − ḡ_a)(g_b − ḡ_b) over √M, measured from the
/// same draws; with 209 compared numbers per case, a correct model fails with probability ≈ 209 × 5.7e−7.
/// The comparison has power: the trace of the other sampling mode's Σ_B (6% apart) is rejected.
#[test]
fn finite_sum_noise_is_the_covariance_of_real_mini_batch_gradients() {
    use samsde::brownian::path_rng;
    use samsde::model::{Noise, NoiseScratch};
    use std::sync::Arc;
    let (set, _) = iris().standardized();
    let net = Arc::new(Mlp::new(set, &[2], Activation::Tanh, Loss::CrossEntropy).unwrap());
    let (d, n, b, draws) = (net.dim(), net.samples(), 10usize, 100_000usize);
    let x: Vec<f64> = net.init(3).iter().map(|v| 1.5 * v).collect();
    let mut trace_sigma = [0.0; 2];
    let mut trace_emp = [(0.0, 0.0); 2];
    let mut tr_p = vec![0.0; 100_000];
    for (case, replacement) in [true, false].into_iter().enumerate() {
        let noise = Noise::finite_sum(b, replacement, net.clone()).unwrap();
        let mut s = NoiseScratch::new(d, n);
        let mut f = vec![0.0; d * n];
        noise.factor(net.as_ref(), &x, &mut f, &mut s);
        let sigma = |a: usize, c: usize| (0..n).map(|i| f[a * n + i] * f[c * n + i]).sum::<f64>();
        let mut grad = vec![0.0; d];
        net.gradient(&x, &mut grad);
        // Every draw's mini-batch gradient, then mean and covariance with their standard errors.
        let mut rng = path_rng(13, case as u64);
        let (mut gs, mut out, mut fbuf) = (vec![0.0; draws * d], vec![0.0; d], vec![0.0; d * n]);
        for k in 0..draws {
            noise.draw_batch(&mut rng, &mut s);
            noise.batch_gradient(net.as_ref(), &x, &[], &mut out, &mut fbuf, &mut s);
            gs[k * d..(k + 1) * d].copy_from_slice(&out);
        }
        let m = draws as f64;
        let mean: Vec<f64> = (0..d)
            .map(|a| (0..draws).map(|k| gs[k * d + a]).sum::<f64>() / m)
            .collect();
        let mut worst = (0.0f64, String::new());
        let mut z_of = |what: String, got: f64, want: f64, se: f64| {
            let z = (got - want).abs() / se;
            if z > worst.0 {
                worst = (z, what);
            }
        };
        for a in 0..d {
            let var = (0..draws).map(|k| (gs[k * d + a] - mean[a]).powi(2)).sum::<f64>() / (m - 1.0);
            z_of(format!("mean[{a}]"), mean[a], grad[a], (var / m).sqrt());
        }
        for a in 0..d {
            for c in 0..=a {
                let p: Vec<f64> = (0..draws)
                    .map(|k| (gs[k * d + a] - mean[a]) * (gs[k * d + c] - mean[c]))
                    .collect();
                let cov = p.iter().sum::<f64>() / (m - 1.0);
                let var_p = p.iter().map(|v| (v - cov).powi(2)).sum::<f64>() / (m - 1.0);
                z_of(format!("cov[{a},{c}]"), cov, sigma(a, c), (var_p / m).sqrt());
                if a == c {
                    trace_sigma[case] += sigma(a, a);
                    tr_p.iter_mut().zip(&p).for_each(|(t, v)| *t += v);
                }
            }
        }
        let t = tr_p.iter().sum::<f64>() / (m - 1.0);
        let var_t = tr_p.iter().map(|v| (v - t).powi(2)).sum::<f64>() / (m - 1.0);
        trace_emp[case] = (t, var_t / m);
        tr_p.fill(0.0);
        println!(
            "N2 vs {draws} real batches (replacement {replacement}): worst {} at {:.2} SE, tr Σ_B {:.5e}",
            worst.1, worst.0, trace_sigma[case]
        );
        assert!(worst.0 <= 5.0, "{} is {:.2} standard errors off", worst.1, worst.0);
    }
    // The trace of each case's empirical covariance is far (> 5 SE) from the other case's Σ_B.
    for case in 0..2 {
        let (t, var) = trace_emp[case];
        let z = (t - trace_sigma[1 - case]).abs() / var.sqrt();
        assert!(z > 5.0, "case {case}: only {z:.1} SE from the wrong κ");
    }
}
