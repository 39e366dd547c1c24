//! S-SAM-mb, kind `sam` (math spec §4.3; oracle O12): the weak-order-1 SDE of the mini-batch SAM optimizer.
//!
//! One SAM step (A-SAM, `stepper::discrete`) uses G(x, ξ) = ∇f_ξ(x + ρ ∇f_ξ(x)/(‖∇f_ξ(x)‖ + ε)) with the same
//! batch noise ξ ~ N(0, Σ_B(x)) in both gradients. Its weak-order-1 SDE (Li–Tai–E construction) is
//!
//! dX = −E_ξ\[G\] dt + √η Cov_ξ\[G\]^{1/2} dW,
//!
//! with the symmetric square root and m = d Brownian motions. With u = (g+ξ)/‖g+ξ‖, m = E\[u\], P = E\[uuᵀ\] and
//! C = E\[uξᵀ\], the ascent-point gradient is g + ρHu + ξ, so
//! E\[G\] = g + ρHm and Cov\[G\] = Σ_B + ρ(HC + CᵀH) + ρ²H(P − mmᵀ)H. The moments are computed deterministically,
//! never by Monte Carlo ([`super::sam_moments`]): for Σ_B = s²I constant (N0, or N3 with an isotropic covariance)
//! from the per-run table of r = ‖g‖/s ([`super::sam_coefficients`]), otherwise (N1, N2, anisotropic N3) by the
//! s-integral rule on Σ_B(x) in any d. In 1-D this is exactly b(y) = −λy − ρλ m(y), σ² = η v(y) of the spec.
//!
//! What is exact and what is first order in ρ (also in the run's `notes`):
//! - quadratic f with Σ_B constant (N0, N3; N1 on a quadratic): E\[G\] and Cov\[G\] are exact for the Gaussian
//!   batch noise (the ascent-point gradient is g + ρHu + ξ exactly);
//! - other f: ∇f(x + ρu) is replaced by g + ρH(x)u (error ½ρ²T\[u,u\]);
//! - N1 on a non-quadratic f: the optimizer's noise at the ascent point is Σ_B(x+ρu)^{1/2}ξ; the model uses
//!   Σ_B(x)^{1/2}ξ (first order in ρ);
//! - N2: ξ is the Gaussian with the finite-sum Σ_B(x); the optimizer samples real batches, whose ascent-point
//!   gradient has Hessian H_γ where the model has H (first order in ρ), and non-Gaussian ξ;
//! - ε: the moments are those of ε = 0; the optimizer's ε changes each by at most
//!   ε(√(2/π) ln(1 + σ₁/ε) + 1)/σ₁ with σ₁² = λ_max(Σ_B) ([`super::sam_moments::eps_effect`]).
//!
//! Milstein: σ depends on x, so in d ≥ 2 the noise is non-commutative (general) and Milstein runs only with
//! `allow_dropping_areas`; in 1-D it is scalar. Dσ\[v\] is the Daleckii–Krein derivative of the square root
//! (`linalg::sym_sqrt_jvp`) applied to dCov\[G\]\[v\], which is analytic for isotropic Σ_B (from the
//! r-derivatives of the table; in 1-D the spec's σ′ = √η v′/(2√v)); otherwise dΣ_B is exact and the ρ-part
//! Cov\[G\] − Σ_B is differenced centrally.

use super::sam_coefficients::{IsoPoint, iso_cov_jvp, iso_mean_cov};
use super::sam_moments::{AnisotropicMoments, DirectionMoments, IsotropicMoments, eps_effect, sam_mb_mean_cov};
use super::{NoiseStructure, Sde, Workspace};
use crate::linalg;
use crate::model::{Model, Noise};
use std::sync::Arc;

/// How the direction moments of the batch noise are computed.
#[derive(Debug, Clone)]
pub enum MomentSource {
    /// Σ_B = s² I at every x: the per-run table of the isotropic moment functions.
    Isotropic {
        /// The table for the model's dimension.
        table: Arc<IsotropicMoments>,
        /// s = σ_B.
        s: f64,
    },
    /// Any other Σ_B(x): the anisotropic s-integral rule on Σ_B(x) = F Fᵀ, every step.
    General,
}

impl MomentSource {
    /// The source for `model`: isotropic when Σ_B is the same multiple s²I of the identity at every x (N0; N3
    /// with an isotropic covariance; N1 on a quadratic whose |H| is a multiple of I), to 1e-13 relative.
    pub fn for_model(model: &Model) -> Self {
        let d = model.dim();
        let s = match model.noise() {
            Noise::Isotropic { sigma, batch } => Some(sigma / batch.sqrt()),
            _ if model.noise_is_constant() && model.columns() == d => {
                let l = model.landscape().as_ref();
                let (mut f, mut sigma) = (vec![0.0; d * d], vec![0.0; d * d]);
                model
                    .noise()
                    .factor(l, &vec![0.0; d], &mut f, &mut crate::model::NoiseScratch::new(d, 0));
                linalg::matmul_transpose(&f, d, d, &mut sigma);
                let s2 = sigma[0];
                let tol = 1e-13 * s2.abs();
                let iso =
                    (0..d).all(|i| (0..d).all(|j| (sigma[i * d + j] - if i == j { s2 } else { 0.0 }).abs() <= tol));
                iso.then(|| s2.max(0.0).sqrt())
            }
            _ => None,
        };
        match (s, IsotropicMoments::new(d)) {
            (Some(s), Ok(table)) => MomentSource::Isotropic {
                table: Arc::new(table),
                s,
            },
            _ => MomentSource::General,
        }
    }
}

/// Per-path buffers of [`Sam`] (held in [`Workspace::sam`]), with the coefficients at the last point.
#[derive(Debug, Clone)]
pub struct SamScratch {
    mo: DirectionMoments,
    aniso: Option<AnisotropicMoments>,
    sigma: Vec<f64>,
    mean: Vec<f64>,
    cov: Vec<f64>,
    cov2: Vec<f64>,
    dcov: Vec<f64>,
    h2: Vec<f64>,
    a: Vec<f64>,
    vals: Vec<f64>,
    vecs: Vec<f64>,
    root: Vec<f64>,
    tmp: Vec<f64>,
    tmp2: Vec<f64>,
    ghat: Vec<f64>,
    k: Vec<f64>,
    gp: Vec<f64>,
    kp: Vec<f64>,
    dg: Vec<f64>,
    xs: Vec<f64>,
    /// The point whose coefficients, eigen-decomposition and root are held (NaN: none).
    at: Vec<f64>,
    pt: Option<IsoPoint>,
}

impl SamScratch {
    fn new(d: usize, general: bool) -> Self {
        let v = || vec![0.0; d];
        let m = || vec![0.0; d * d];
        SamScratch {
            mo: DirectionMoments::new(d),
            aniso: if general { AnisotropicMoments::new(d).ok() } else { None },
            sigma: m(),
            mean: v(),
            cov: m(),
            cov2: m(),
            dcov: m(),
            h2: m(),
            a: m(),
            vals: v(),
            vecs: m(),
            root: m(),
            tmp: m(),
            tmp2: m(),
            ghat: v(),
            k: v(),
            gp: v(),
            kp: v(),
            dg: v(),
            xs: v(),
            at: vec![f64::NAN; d],
            pt: None,
        }
    }
}

/// S-SAM-mb: the mini-batch SAM optimizer's SDE (see the module docs).
#[derive(Debug, Clone)]
pub struct Sam {
    model: Model,
    eta: f64,
    rho: f64,
    eps: f64,
    source: MomentSource,
    /// H² when the Hessian is constant.
    h2: Option<Vec<f64>>,
}

impl Sam {
    /// Mini-batch SAM with learning rate η, radius ρ and the optimizer's norm offset ε (parameters validated by
    /// the dynamics builder).
    pub fn new(model: Model, eta: f64, rho: f64, eps: f64) -> Self {
        let d = model.dim();
        let h2 = model.landscape().constant_hessian().map(|h| {
            let mut h2 = vec![0.0; d * d];
            linalg::matmul(h, h, d, d, d, &mut h2);
            h2
        });
        let source = MomentSource::for_model(&model);
        Sam {
            model,
            eta,
            rho,
            eps,
            source,
            h2,
        }
    }
    /// How the moments are computed on this model.
    pub fn source(&self) -> &MomentSource {
        &self.source
    }
    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }
    /// Learning rate η.
    pub fn eta(&self) -> f64 {
        self.eta
    }
    /// Radius ρ.
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// E\[G\] and Cov\[G\] at x into `ss.mean`, `ss.cov` (with H in `ws.h`, H² in `ss.h2`); NaN where g or Σ_B
    /// is not finite (the path then diverges).
    fn coefficients(&self, x: &[f64], ws: &mut Workspace, ss: &mut SamScratch) {
        let l = self.model.landscape().as_ref();
        let d = self.model.dim();
        l.gradient(x, &mut ws.g);
        l.hessian(x, &mut ws.h);
        match &self.h2 {
            Some(h2) => ss.h2.copy_from_slice(h2),
            None => linalg::matmul(&ws.h, &ws.h, d, d, d, &mut ss.h2),
        }
        match &self.source {
            MomentSource::Isotropic { table, s } => {
                ss.pt = Some(iso_mean_cov(
                    table,
                    &ws.h,
                    &ss.h2,
                    &ws.g,
                    *s,
                    self.rho,
                    &mut ss.ghat,
                    &mut ss.k,
                    &mut ss.mean,
                    &mut ss.cov,
                ));
            }
            MomentSource::General => {
                let m = self.model.columns();
                self.model.noise().factor(l, x, &mut ws.f, &mut ws.noise);
                linalg::matmul_transpose(&ws.f[..d * m], d, m, &mut ss.sigma);
                let ok = match ss.aniso.as_mut() {
                    Some(a) => a.compute_from_cov(&ss.sigma, &ws.g, &mut ss.mo).is_ok(),
                    None => false,
                } && sam_mb_mean_cov(
                    &ws.h,
                    &ss.sigma,
                    &ws.g,
                    self.rho,
                    &ss.mo,
                    &mut ss.mean,
                    &mut ss.cov,
                    &mut ss.a,
                )
                .is_ok();
                if !ok {
                    ss.mean.fill(f64::NAN);
                    ss.cov.fill(f64::NAN);
                }
            }
        }
    }

    /// Coefficients, eigen-decomposition of Cov\[G\] and its root at x, unless already held for this x.
    fn prepare(&self, x: &[f64], ws: &mut Workspace, ss: &mut SamScratch) {
        if ss.at.as_slice() == x {
            return;
        }
        let d = self.model.dim();
        self.coefficients(x, ws, ss);
        ss.a.copy_from_slice(&ss.cov);
        linalg::sym_sqrt(&mut ss.a, d, &mut ss.vals, &mut ss.vecs, &mut ss.root);
        ss.at.copy_from_slice(x);
    }

    /// Takes the scratch out of the workspace (it is put back by the caller).
    fn scratch(&self, ws: &mut Workspace) -> Box<SamScratch> {
        ws.sam
            .take()
            .unwrap_or_else(|| Box::new(SamScratch::new(self.model.dim(), true)))
    }
}

impl Sde for Sam {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn noise_dim(&self) -> usize {
        self.model.dim()
    }
    fn structure(&self) -> NoiseStructure {
        if self.rho == 0.0 && self.model.noise_is_constant() {
            NoiseStructure::Additive
        } else if self.model.dim() == 1 {
            NoiseStructure::Commutative
        } else {
            NoiseStructure::General
        }
    }
    fn is_affine(&self) -> bool {
        self.rho == 0.0 && self.model.is_linear_gaussian()
    }
    /// b = −E\[G\] = −(g + ρHm).
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        let mut ss = self.scratch(ws);
        self.prepare(x, ws, &mut ss);
        for (bi, mi) in b.iter_mut().zip(&ss.mean) {
            *bi = -mi;
        }
        ws.sam = Some(ss);
    }
    /// σ = √η Cov\[G\]^{1/2} (symmetric root, d columns).
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        let mut ss = self.scratch(ws);
        self.prepare(x, ws, &mut ss);
        let c = self.eta.sqrt();
        for (si, ri) in s.iter_mut().zip(&ss.root) {
            *si = c * ri;
        }
        ws.sam = Some(ss);
    }
    /// Dσ\[u\] = √η D(Cov^{1/2})\[dCov\[G\]\[u\]\] (Daleckii–Krein), dCov analytic for isotropic Σ_B; otherwise
    /// dΣ_B\[u\] = dF Fᵀ + F dFᵀ exactly (the noise model's factor derivative) plus the ρ-part Cov\[G\] − Σ_B by a
    /// central difference with step h = 1e-4·max(1, ‖x‖∞)/‖u‖∞ (truncation O(h²) times the third derivative;
    /// the s-integral rule's node set changes with x, a jitter of up to ~3e-10 that a smaller h would amplify as
    /// 3e-10/h). Measured against a fourth-order difference (`tests/derivatives.rs`): ≤ 3.6e-5 of the scale on
    /// Beale with N1, tested at 1e-4.
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        let mut ss = self.scratch(ws);
        self.prepare(x, ws, &mut ss);
        let d = self.model.dim();
        match (&self.source, ss.pt) {
            (MomentSource::Isotropic { s, .. }, Some(pt)) => {
                let SamScratch {
                    h2,
                    ghat,
                    k,
                    gp,
                    kp,
                    dg,
                    dcov,
                    ..
                } = &mut *ss;
                linalg::matvec(&ws.h, u, dg);
                self.model.landscape().third(x, u, &mut ws.t);
                iso_cov_jvp(&pt, &ws.h, h2, *s, self.rho, ghat, k, dg, &ws.t, gp, kp, dcov);
            }
            _ => {
                let un = u.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                if un == 0.0 {
                    ds.fill(0.0);
                    ws.sam = Some(ss);
                    return;
                }
                let xn = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                let h = 1e-4 * xn / un;
                // The ρ-part Cov[G] − Σ_B by central differences ...
                for sign in [1.0, -1.0] {
                    for i in 0..d {
                        ss.xs[i] = x[i] + sign * h * u[i];
                    }
                    let xs = std::mem::take(&mut ss.xs);
                    self.coefficients(&xs, ws, &mut ss);
                    ss.xs = xs;
                    for k in 0..d * d {
                        ss.cov[k] -= ss.sigma[k];
                    }
                    if sign > 0.0 {
                        ss.cov2.copy_from_slice(&ss.cov);
                    }
                }
                // ... plus dΣ_B[u] = dF Fᵀ + F dFᵀ from the noise model's exact factor derivative.
                let (l, m) = (self.model.landscape().as_ref(), self.model.columns());
                self.model.noise().factor(l, x, &mut ws.f, &mut ws.noise);
                self.model.noise().factor_jvp(l, x, u, &mut ws.df, &mut ws.noise);
                for i in 0..d {
                    for j in 0..d {
                        let ds_ij: f64 = (0..m)
                            .map(|c| ws.df[i * m + c] * ws.f[j * m + c] + ws.f[i * m + c] * ws.df[j * m + c])
                            .sum();
                        ss.dcov[i * d + j] = ds_ij + (ss.cov2[i * d + j] - ss.cov[i * d + j]) / (2.0 * h);
                    }
                }
                // coefficients() overwrote the held point's buffers: mark them stale (the eigenpairs stay).
                ss.at.fill(f64::NAN);
            }
        }
        let SamScratch {
            vals,
            vecs,
            dcov,
            tmp,
            tmp2,
            ..
        } = &mut *ss;
        linalg::sym_sqrt_jvp(vals, vecs, dcov, tmp, tmp2, ds);
        let c = self.eta.sqrt();
        for v in ds.iter_mut() {
            *v *= c;
        }
        ws.sam = Some(ss);
    }
    fn workspace(&self) -> Workspace {
        let d = self.model.dim();
        let mut ws = Workspace::for_model(&self.model);
        ws.sam = Some(Box::new(SamScratch::new(
            d,
            matches!(self.source, MomentSource::General),
        )));
        ws
    }
    fn notes(&self) -> Vec<String> {
        let l = self.model.landscape();
        let quadratic = l.constant_hessian().is_some();
        let mut n = vec![
            "S-SAM-mb: drift −E[G], diffusion √η Cov[G]^(1/2) (symmetric root, d Brownian motions) of the SAM optimizer's step G = ∇f_ξ(x + ρ∇f_ξ(x)/‖∇f_ξ(x)‖), the same batch noise ξ ~ N(0, Σ_B(x)) in both gradients".to_string(),
        ];
        n.push(match &self.source {
            MomentSource::Isotropic { s, .. } => {
                let e = eps_effect(self.eps, f64::INFINITY, *s, 0.0);
                format!(
                    "direction moments of (g+ξ)/‖g+ξ‖ from the isotropic table in r = ‖g‖/σ_B (σ_B = {s}), accurate to ~1e-14; ε = {:e} changes them by ≤ {:.1e} (moments taken at ε = 0)",
                    self.eps, e.e_delta
                )
            }
            MomentSource::General => format!(
                "direction moments of (g+ξ)/‖g+ξ‖ from the anisotropic s-integral rule on Σ_B(x) every step, accurate to ~1e-12; moments taken at ε = 0 (the optimizer's ε = {:e} changes them by ≤ ε(√(2/π) ln(1+σ₁/ε) + 1)/σ₁, σ₁² = λ_max(Σ_B))",
                self.eps
            ),
        });
        if quadratic && self.model.noise_is_constant() {
            n.push("quadratic f with constant Σ_B: E[G] and Cov[G] are exact for Gaussian batch noise".into());
        } else {
            if !quadratic {
                n.push("non-quadratic f: the ascent-point gradient ∇f(x + ρu) is taken to first order in ρ, g + ρH(x)u (error ½ρ²T[u,u])".into());
            }
            match self.model.noise() {
                Noise::Hessian { .. } if !quadratic => n.push(
                    "N1: the batch noise is evaluated at x, not at the ascent point x + ρu as the optimizer does (first order in ρ)".into(),
                ),
                Noise::FiniteSum { .. } => n.push(
                    "N2: ξ is the Gaussian with the finite-sum Σ_B(x); the optimizer samples real batches (non-Gaussian ξ, per-sample Hessians at the ascent point: first order in ρ)".into(),
                ),
                _ => {}
            }
        }
        n.push(match self.source {
            MomentSource::Isotropic { .. } => {
                "Milstein's Dσ: analytic (Daleckii–Krein of the root, table r-derivatives)".into()
            }
            MomentSource::General => {
                "Milstein's Dσ: Daleckii–Krein of the root applied to dCov[G] = dΣ_B (exact) + a central difference of Cov[G] − Σ_B".into()
            }
        });
        n
    }
}
