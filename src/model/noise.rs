//! Gradient-noise covariance models Σ_B(x) with batch size B (math spec §3, N0–N3).
//!
//! Each model gives a square-root factor F(x) with F Fᵀ = Σ_B(x) (`d×m`, row-major), its directional
//! derivative DF\[u\] (Milstein), ∇tr Σ_B (the S-USAM drift term) and the stochastic gradient of one
//! mini-batch for the discrete optimizers. All per-step methods are allocation-free given a [`NoiseScratch`].

use super::landscape::{FiniteSum, Landscape};
use crate::brownian::{self, PathRng};
use crate::error::{Error, Result, ensure};
use crate::linalg;
use std::sync::Arc;

/// Which model (the math spec's ids in brackets).
#[derive(Debug, Clone)]
pub enum Noise {
    /// N0, isotropic and constant: Σ_B = σ₁²/B · I.
    Isotropic {
        /// Per-sample gradient-noise standard deviation σ₁.
        sigma: f64,
        /// Batch size B.
        batch: f64,
    },
    /// N1, Hessian-aligned: Σ_B = (c/B)|H(x)|_δ with |λ| regularised as (λ² + δ²)^{1/2}.
    Hessian {
        /// Scale c (Fisher ≈ Hessian gives c = 1).
        scale: f64,
        /// Batch size B.
        batch: f64,
        /// Regulariser δ of |λ| where an eigenvalue crosses zero.
        delta: f64,
    },
    /// N2, finite sum: Σ_B = κ/N Σᵢ (∇fᵢ−g)(∇fᵢ−g)ᵀ with κ = 1/B (with replacement) or (N−B)/((N−1)B).
    FiniteSum {
        /// Batch size B.
        batch: usize,
        /// Sample the mini-batch with replacement.
        replacement: bool,
        /// The per-sample losses fᵢ (the landscape's own finite sum; [`crate::model::Model::new`] checks it).
        losses: Arc<dyn FiniteSum>,
    },
    /// N3, linear noise: f_γ(x) = f(x) + ξ_γᵀx with ξ_γ ~ N(0, Σ_B); constant Σ_B = F Fᵀ, H_γ = H.
    ///
    /// From a covariance Σ₁ (Σ_B = Σ₁/B, F its symmetric square root, m = d) or from N per-sample gradients
    /// at the saddle (Σ_B = κΣ₁ with Σ₁ their covariance and κ as N2; F the centred gradients scaled, so a low
    /// rank stays low: m = N columns, or the rank of Σ₁ when N > d).
    Linear {
        /// The factor F of Σ_B = F Fᵀ (`d×m`, row-major), shared by every dynamics of a run.
        factor: Arc<Vec<f64>>,
        /// m, its number of columns (noise columns).
        columns: usize,
    },
}

/// Scratch buffers for the noise model (sized once for dimension d and m noise columns).
#[derive(Debug, Clone)]
pub struct NoiseScratch {
    h: Vec<f64>,
    a: Vec<f64>,
    vals: Vec<f64>,
    vecs: Vec<f64>,
    m1: Vec<f64>,
    m2: Vec<f64>,
    g: Vec<f64>,
    gi: Vec<f64>,
    hi: Vec<f64>,
    v: Vec<f64>,
    idx: Vec<usize>,
}

impl NoiseScratch {
    /// Buffers for dimension `d` and `n` finite-sum samples (0 if none).
    pub fn new(d: usize, n: usize) -> Self {
        NoiseScratch {
            h: vec![0.0; d * d],
            a: vec![0.0; d * d],
            vals: vec![0.0; d],
            vecs: vec![0.0; d * d],
            m1: vec![0.0; d * d],
            m2: vec![0.0; d * d],
            g: vec![0.0; d],
            gi: vec![0.0; d],
            hi: vec![0.0; d * d],
            v: vec![0.0; d],
            idx: (0..n).collect(),
        }
    }
}

impl Noise {
    /// N0 from σ₁ and B, validated.
    pub fn isotropic(sigma: f64, batch: f64) -> Result<Self> {
        ensure(
            sigma.is_finite() && sigma >= 0.0,
            "noise.sigma",
            sigma,
            "must be a finite number ≥ 0",
        )?;
        ensure(
            batch.is_finite() && batch >= 1.0,
            "noise.batch_size",
            batch,
            "must be ≥ 1",
        )?;
        Ok(Noise::Isotropic { sigma, batch })
    }

    /// N1 from c, B and δ, validated.
    pub fn hessian(scale: f64, batch: f64, delta: f64) -> Result<Self> {
        ensure(
            scale.is_finite() && scale >= 0.0,
            "noise.scale",
            scale,
            "must be a finite number ≥ 0",
        )?;
        ensure(
            batch.is_finite() && batch >= 1.0,
            "noise.batch_size",
            batch,
            "must be ≥ 1",
        )?;
        ensure(
            delta.is_finite() && delta > 0.0,
            "noise.delta",
            delta,
            "must be > 0 (it regularises |λ| near λ = 0)",
        )?;
        Ok(Noise::Hessian { scale, batch, delta })
    }

    /// N2 over the per-sample losses `losses` (a finite-sum landscape's [`Landscape::finite_sum`]).
    pub fn finite_sum(batch: usize, replacement: bool, losses: Arc<dyn FiniteSum>) -> Result<Self> {
        let samples = losses.samples();
        ensure(batch >= 1, "noise.batch_size", batch, "must be ≥ 1")?;
        ensure(
            replacement || batch <= samples,
            "noise.batch_size",
            batch,
            &format!("must be ≤ the number of samples N = {samples} when sampling without replacement"),
        )?;
        Ok(Noise::FiniteSum {
            batch,
            replacement,
            losses,
        })
    }

    /// N3 from the per-sample covariance Σ₁ (rows) and B: Σ_B = Σ₁/B. Σ₁ must be symmetric positive
    /// semi-definite (a zero matrix is allowed).
    pub fn linear(cov_rows: &[Vec<f64>], batch: f64, d: usize) -> Result<Self> {
        if cov_rows.len() != d {
            return Err(Error::Dimension {
                key: "noise.covariance".into(),
                expected: d,
                found: cov_rows.len(),
            });
        }
        if let Some((i, r)) = cov_rows.iter().enumerate().find(|(_, r)| r.len() != d) {
            return Err(Error::Dimension {
                key: format!("noise.covariance[{i}]"),
                expected: d,
                found: r.len(),
            });
        }
        Self::linear_matrix(&cov_rows.concat(), batch, d, "noise.covariance")
    }

    /// N3 from Σ₁ as a row-major `d×d` slice (e.g. read from a file named by `key`): Σ_B = Σ₁/B with the
    /// symmetric square root Σ_B^{1/2} as factor (it exists for singular PSD matrices). Σ₁ must be finite,
    /// symmetric to 1e−12 relative and positive semi-definite (eigenvalues ≥ −1e−12·max|λ|; a zero matrix is
    /// allowed). Errors name `key`.
    pub fn linear_matrix(cov1: &[f64], batch: f64, d: usize, key: &str) -> Result<Self> {
        ensure(
            batch.is_finite() && batch >= 1.0,
            "noise.batch_size",
            batch,
            "must be ≥ 1",
        )?;
        if cov1.len() != d * d {
            return Err(Error::Dimension {
                key: key.into(),
                expected: d,
                found: (cov1.len() as f64).sqrt() as usize,
            });
        }
        let cov: Vec<f64> = cov1.iter().map(|v| v / batch).collect();
        if let Some(v) = cov.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(key, v, "all entries must be finite"));
        }
        for i in 0..d {
            for j in 0..i {
                if (cov[i * d + j] - cov[j * d + i]).abs() > 1e-12 * (1.0 + cov[i * d + j].abs()) {
                    return Err(Error::invalid(key, format!("entry ({i},{j})"), "must be symmetric"));
                }
            }
        }
        let (vals, vecs) = linalg::eigen(&cov, d);
        let scale = vals.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if vals[0] < -1e-12 * scale.max(1e-300) {
            return Err(Error::invalid(
                key,
                format!("eigenvalue {}", vals[0]),
                "must be positive semi-definite",
            ));
        }
        let root = linalg::sym_apply_owned(&vals, &vecs, |l| l.max(0.0).sqrt());
        Ok(Noise::Linear {
            factor: Arc::new(root),
            columns: d,
        })
    }

    /// N3 from N per-sample gradients at the saddle, `grads` row-major `N×d` (row i = ∇fᵢ), for batch size B:
    /// Σ_B = κΣ₁ with Σ₁ = (1/N) Σᵢ (∇fᵢ − ḡ)(∇fᵢ − ḡ)ᵀ (ḡ their mean) and κ = 1/B with replacement,
    /// (N−B)/((N−1)B) without (math spec §1, as N2 at the saddle, frozen there).
    ///
    /// The factor keeps the low rank: for N ≤ d it is F = √(κ/N) Gcᵀ (`d×N`, Gc the centred gradients), so
    /// m = N; for N > d, the thin SVD Gc = U S Vᵀ gives F = √(κ/N) V S restricted to the r singular values
    /// above 1e−12·s_max (m = r ≤ d). Errors name `key`: N < 2, B < 1, B > N without replacement, or
    /// non-finite entries.
    pub fn from_gradients(grads: &[f64], n: usize, d: usize, batch: f64, replacement: bool, key: &str) -> Result<Self> {
        ensure(
            batch.is_finite() && batch >= 1.0 && batch.fract() == 0.0,
            "noise.batch_size",
            batch,
            "must be a whole number ≥ 1 (a batch of per-sample gradients)",
        )?;
        ensure(
            n >= 2,
            key,
            format!("{n} sample"),
            "give at least 2 per-sample gradients (one row each) to estimate their covariance",
        )?;
        ensure(
            replacement || batch as usize <= n,
            "noise.batch_size",
            batch,
            &format!("must be ≤ the number of samples N = {n} when sampling without replacement"),
        )?;
        if grads.len() != n * d {
            return Err(Error::Dimension {
                key: key.into(),
                expected: d,
                found: grads.len() / n.max(1),
            });
        }
        if let Some(v) = grads.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(key, v, "all entries must be finite"));
        }
        let kappa = Self::finite_sum_kappa(batch as usize, replacement, n);
        let w = (kappa / n as f64).sqrt();
        let mut mean = vec![0.0; d];
        for i in 0..n {
            for (m, g) in mean.iter_mut().zip(&grads[i * d..(i + 1) * d]) {
                *m += g / n as f64;
            }
        }
        if n <= d {
            let mut f = vec![0.0; d * n];
            for i in 0..n {
                for r in 0..d {
                    f[r * n + i] = w * (grads[i * d + r] - mean[r]);
                }
            }
            return Ok(Noise::Linear {
                factor: Arc::new(f),
                columns: n,
            });
        }
        let gc = nalgebra::DMatrix::from_fn(n, d, |i, r| grads[i * d + r] - mean[r]);
        let svd = gc.svd(false, true);
        let vt = svd.v_t.as_ref().expect("SVD with V requested");
        let smax = svd.singular_values.max();
        let keep: Vec<usize> = (0..svd.singular_values.len())
            .filter(|&k| svd.singular_values[k] > 1e-12 * smax)
            .collect();
        let m = keep.len().max(1);
        let mut f = vec![0.0; d * m];
        for (c, &k) in keep.iter().enumerate() {
            let s = w * svd.singular_values[k];
            for r in 0..d {
                f[r * m + c] = s * vt[(k, r)];
            }
        }
        Ok(Noise::Linear {
            factor: Arc::new(f),
            columns: m,
        })
    }

    /// Σ_B as a row-major `d×d` matrix when it is the same at every x and known without the landscape
    /// (N0: σ₁²/B·I, N3: F Fᵀ); `None` otherwise. Allocates d² numbers.
    pub fn constant_covariance(&self, d: usize) -> Option<Vec<f64>> {
        match self {
            Noise::Isotropic { sigma, batch } => {
                let mut c = vec![0.0; d * d];
                (0..d).for_each(|i| c[i * d + i] = sigma * sigma / batch);
                Some(c)
            }
            Noise::Linear { factor, columns } => {
                let m = *columns;
                let f = nalgebra::DMatrix::from_row_slice(d, m, factor);
                let c = &f * f.transpose();
                Some((0..d * d).map(|k| c[(k / d, k % d)]).collect())
            }
            _ => None,
        }
    }

    /// Number m of noise columns (Brownian motions) for a landscape of dimension d: d, or N for N2.
    pub fn columns(&self, l: &dyn Landscape) -> usize {
        match self {
            Noise::FiniteSum { losses, .. } => losses.samples(),
            Noise::Linear { columns, .. } => *columns,
            _ => l.dim(),
        }
    }

    /// Whether Σ_B is the same at every x (N0, N3, N1 on a quadratic landscape, N2 with equal sample Hessians).
    pub fn is_constant(&self, l: &dyn Landscape) -> bool {
        match self {
            Noise::Isotropic { .. } | Noise::Linear { .. } => true,
            Noise::Hessian { .. } => l.constant_hessian().is_some(),
            Noise::FiniteSum { losses, .. } => losses.equal_sample_hessians(),
        }
    }

    /// Whether the factor F(x) is diagonal at every x with Fᵢᵢ a function of xᵢ alone (the diagonal noise of
    /// math spec §5): N0 always; N1 on a separable landscape (H(x) diagonal with Hᵢᵢ of xᵢ alone, so
    /// √(c/B)|H|_δ^{1/2} is too); N3 when its factor Σ_B^{1/2} is diagonal; never N2 (m = N columns).
    pub fn diagonal_factor(&self, l: &dyn Landscape) -> bool {
        match self {
            Noise::Isotropic { .. } => true,
            Noise::Hessian { .. } => l.separable(),
            Noise::Linear { factor, columns } => {
                let d = l.dim();
                *columns == d && (0..d).all(|i| (0..d).all(|j| i == j || factor[i * d + j] == 0.0))
            }
            Noise::FiniteSum { .. } => false,
        }
    }

    /// Batch size B as a number.
    pub fn batch(&self) -> f64 {
        match self {
            Noise::Isotropic { batch, .. } | Noise::Hessian { batch, .. } => *batch,
            Noise::FiniteSum { batch, .. } => *batch as f64,
            Noise::Linear { .. } => 1.0,
        }
    }

    /// κ of N2: Σ_B = κ Σ₁.
    fn finite_sum_kappa(batch: usize, replacement: bool, n: usize) -> f64 {
        let b = batch as f64;
        if replacement || n < 2 {
            1.0 / b
        } else {
            (n as f64 - b) / ((n as f64 - 1.0) * b)
        }
    }

    /// The factor F(x) with F Fᵀ = Σ_B(x), written into `f` (`d×m`, row-major).
    ///
    /// N0: (σ₁/√B) I. N1: √(c/B) Q diag((λ²+δ²)^{1/4}) Qᵀ. N2: column i = √(κ/N)(∇fᵢ − g). N3: Σ_B^{1/2}.
    pub fn factor(&self, l: &dyn Landscape, x: &[f64], f: &mut [f64], s: &mut NoiseScratch) {
        let d = l.dim();
        match self {
            Noise::Isotropic { sigma, batch } => {
                f.fill(0.0);
                let v = sigma / batch.sqrt();
                for i in 0..d {
                    f[i * d + i] = v;
                }
            }
            Noise::Hessian { scale, batch, delta } => {
                l.hessian(x, &mut s.a);
                linalg::sym_eigen(&mut s.a, d, &mut s.vals, &mut s.vecs);
                let c = (scale / batch).sqrt();
                let dd = delta * delta;
                linalg::sym_apply(&s.vals, &s.vecs, |lam| c * (lam * lam + dd).powf(0.25), f);
            }
            Noise::FiniteSum {
                batch,
                replacement,
                losses: fs,
            } => {
                let n = fs.samples();
                let w = (Self::finite_sum_kappa(*batch, *replacement, n) / n as f64).sqrt();
                l.gradient(x, &mut s.g);
                for i in 0..n {
                    fs.sample_gradient(i, x, &mut s.gi);
                    for r in 0..d {
                        f[r * n + i] = w * (s.gi[r] - s.g[r]);
                    }
                }
            }
            Noise::Linear { factor, .. } => f[..factor.len()].copy_from_slice(factor),
        }
    }

    /// The directional derivative DF(x)\[u\] of the factor, written into `df` (`d×m`).
    ///
    /// N1 uses the Daleckii–Krein formula D h(H)\[u\] = Q (h\[λᵢ,λⱼ\] ∘ Qᵀ dH\[u\] Q) Qᵀ with h(λ) = (λ²+δ²)^{1/4}
    /// (math spec §5); N2: column i = √(κ/N)(Hᵢ − H)u; constant models: 0.
    pub fn factor_jvp(&self, l: &dyn Landscape, x: &[f64], u: &[f64], df: &mut [f64], s: &mut NoiseScratch) {
        let d = l.dim();
        match self {
            Noise::Isotropic { .. } | Noise::Linear { .. } => df.fill(0.0),
            Noise::Hessian { scale, batch, delta } => {
                if l.constant_hessian().is_some() {
                    df.fill(0.0);
                    return;
                }
                l.hessian(x, &mut s.a);
                linalg::sym_eigen(&mut s.a, d, &mut s.vals, &mut s.vecs);
                l.third(x, u, &mut s.h);
                // m1 = Qᵀ dH Q
                rotate_into(&s.vecs, &s.h, d, &mut s.m2, &mut s.m1);
                let c = (scale / batch).sqrt();
                let dd = delta * delta;
                let h = |lam: f64| (lam * lam + dd).powf(0.25);
                let hp = |lam: f64| 0.5 * lam * (lam * lam + dd).powf(-0.75);
                for i in 0..d {
                    for j in 0..d {
                        let (li, lj) = (s.vals[i], s.vals[j]);
                        let dq = if (li - lj).abs() <= 1e-12 * (1.0 + li.abs()) {
                            hp(0.5 * (li + lj))
                        } else {
                            (h(li) - h(lj)) / (li - lj)
                        };
                        s.m1[i * d + j] *= c * dq;
                    }
                }
                // df = Q m1 Qᵀ
                unrotate_into(&s.vecs, &s.m1, d, &mut s.m2, df);
            }
            Noise::FiniteSum {
                batch,
                replacement,
                losses: fs,
            } => {
                let n = fs.samples();
                let w = (Self::finite_sum_kappa(*batch, *replacement, n) / n as f64).sqrt();
                l.hessian(x, &mut s.h);
                for i in 0..n {
                    fs.sample_hessian(i, x, &mut s.hi);
                    for r in 0..d {
                        let mut acc = 0.0;
                        for k in 0..d {
                            acc += (s.hi[r * d + k] - s.h[r * d + k]) * u[k];
                        }
                        df[r * n + i] = w * acc;
                    }
                }
            }
        }
    }

    /// ∇ tr Σ_B(x), the third-derivative term of the S-USAM drift (math spec §4.2), into `out`.
    ///
    /// N1: (c/B) Σⱼ k'(λⱼ) T[qⱼ,qⱼ,·] with k(λ) = (λ²+δ²)^{1/2}; N2: (2κ/N) Σᵢ (Hᵢ − H)(∇fᵢ − g); else 0.
    pub fn grad_trace(&self, l: &dyn Landscape, x: &[f64], out: &mut [f64], s: &mut NoiseScratch) {
        let d = l.dim();
        out.fill(0.0);
        match self {
            Noise::Isotropic { .. } | Noise::Linear { .. } => {}
            Noise::Hessian { scale, batch, delta } => {
                if l.constant_hessian().is_some() {
                    return;
                }
                l.hessian(x, &mut s.a);
                linalg::sym_eigen(&mut s.a, d, &mut s.vals, &mut s.vecs);
                for j in 0..d {
                    for k in 0..d {
                        s.v[k] = s.vecs[k * d + j];
                    }
                    l.third(x, &s.v, &mut s.h);
                    let lam = s.vals[j];
                    let kp = lam / (lam * lam + delta * delta).sqrt();
                    // T[q,q,·] = dH[q] q
                    for r in 0..d {
                        let mut acc = 0.0;
                        for k in 0..d {
                            acc += s.h[r * d + k] * s.v[k];
                        }
                        out[r] += scale / batch * kp * acc;
                    }
                }
            }
            Noise::FiniteSum {
                batch,
                replacement,
                losses: fs,
            } => {
                let n = fs.samples();
                let w = 2.0 * Self::finite_sum_kappa(*batch, *replacement, n) / n as f64;
                l.gradient(x, &mut s.g);
                l.hessian(x, &mut s.h);
                for i in 0..n {
                    fs.sample_gradient(i, x, &mut s.gi);
                    fs.sample_hessian(i, x, &mut s.hi);
                    for r in 0..d {
                        let mut acc = 0.0;
                        for k in 0..d {
                            acc += (s.hi[r * d + k] - s.h[r * d + k]) * (s.gi[k] - s.g[k]);
                        }
                        out[r] += w * acc;
                    }
                }
            }
        }
    }

    /// Draws one mini-batch and returns it as a closure-free description: for N2 the batch indices are
    /// written to the scratch (with or without replacement); for the other models `xi` (length d) is the
    /// standard-normal vector that defines ξ_γ = F ξ. The same batch serves every gradient of one step.
    pub fn draw_batch(&self, rng: &mut PathRng, s: &mut NoiseScratch) {
        if let Noise::FiniteSum { batch, replacement, .. } = self {
            let n = s.idx.len();
            if *replacement {
                for k in 0..*batch {
                    s.idx[k] = brownian::index(rng, n);
                }
            } else {
                // Partial Fisher–Yates: the first B entries become a uniform sample without replacement.
                for k in 0..*batch {
                    let j = k + brownian::index(rng, n - k);
                    s.idx.swap(k, j);
                }
            }
        }
    }

    /// The mini-batch gradient ∇f_γ(y) of the batch last drawn (N2) or defined by the normals `xi`
    /// (N0, N1, N3: ∇f(y) + F(y) ξ with ξ of length m), into `out`. `fbuf` is a `d×m` buffer for the factor.
    pub fn batch_gradient(
        &self,
        l: &dyn Landscape,
        y: &[f64],
        xi: &[f64],
        out: &mut [f64],
        fbuf: &mut [f64],
        s: &mut NoiseScratch,
    ) {
        match self {
            Noise::FiniteSum { batch, losses: fs, .. } => {
                out.fill(0.0);
                for k in 0..*batch {
                    fs.sample_gradient(s.idx[k], y, &mut s.gi);
                    for (o, g) in out.iter_mut().zip(&s.gi) {
                        *o += g / *batch as f64;
                    }
                }
            }
            _ => {
                l.gradient(y, out);
                self.factor(l, y, fbuf, s);
                linalg::matvec_add(fbuf, xi, out);
            }
        }
    }

    /// A short description for reports, e.g. `N1 hessian (c = 1, B = 8, δ = 1e-3)`.
    pub fn describe(&self) -> String {
        match self {
            Noise::Isotropic { sigma, batch } => {
                format!("N0 isotropic (σ₁ = {sigma}, B = {batch})")
            }
            Noise::Hessian { scale, batch, delta } => format!("N1 hessian (c = {scale}, B = {batch}, δ = {delta})"),
            Noise::FiniteSum { batch, replacement, .. } => {
                format!(
                    "N2 finite_sum (B = {batch}, {})",
                    if *replacement {
                        "with replacement"
                    } else {
                        "without replacement"
                    }
                )
            }
            Noise::Linear { columns, .. } => format!("N3 linear (constant Σ_B, {columns} noise columns)"),
        }
    }
}

/// out = Qᵀ M Q (tmp: d×d scratch).
fn rotate_into(q: &[f64], m: &[f64], d: usize, tmp: &mut [f64], out: &mut [f64]) {
    linalg::matmul(m, q, d, d, d, tmp);
    for i in 0..d {
        for j in 0..d {
            let mut acc = 0.0;
            for k in 0..d {
                acc += q[k * d + i] * tmp[k * d + j];
            }
            out[i * d + j] = acc;
        }
    }
}

/// out = Q M Qᵀ (tmp: d×d scratch).
fn unrotate_into(q: &[f64], m: &[f64], d: usize, tmp: &mut [f64], out: &mut [f64]) {
    linalg::matmul(q, m, d, d, d, tmp);
    for i in 0..d {
        for j in 0..d {
            let mut acc = 0.0;
            for k in 0..d {
                acc += tmp[i * d + k] * q[j * d + k];
            }
            out[i * d + j] = acc;
        }
    }
}
