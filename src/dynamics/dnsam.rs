//! S-DNSAM (math spec §4.3): SAM drift with the PSD product-form diffusion of Compagnoni et al.,
//!
//! dX = −(g + ρHg/‖g‖_ε) dt + √η (I + ρH/‖g‖_ε) Σ_B^{1/2} dW.
//!
//! σ grows like ρ‖H‖/‖g‖ as g → 0, i.e. within about ρ of a saddle, where the first-order expansion behind
//! the model is invalid. ‖g‖ is regularised to ‖g‖_ε = (‖g‖² + ε²)^{1/2}; the report says so.

use super::{Model, NoiseStructure, Sde, Workspace, reg_norm, scale};
use crate::linalg;

/// S-DNSAM.
#[derive(Debug, Clone)]
pub struct Dnsam {
    model: Model,
    eta: f64,
    rho: f64,
    eps: f64,
}

impl Dnsam {
    /// DNSAM with learning rate η, radius ρ and norm regulariser ε.
    pub fn new(model: Model, eta: f64, rho: f64, eps: f64) -> Self {
        Dnsam { model, eta, rho, eps }
    }
}

impl Sde for Dnsam {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn noise_dim(&self) -> usize {
        self.model.columns()
    }
    fn structure(&self) -> NoiseStructure {
        self.model
            .structure(self.rho != 0.0 || !self.model.noise.is_constant(self.model.landscape.as_ref()))
    }
    /// b = −(g + ρ H g / ‖g‖_ε).
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        super::sam::sam_drift(&self.model, self.rho, self.eps, x, b, ws);
    }
    /// σ = √η (I + ρH/‖g‖_ε) Σ_B^{1/2}.
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        let l = self.model.landscape.as_ref();
        let (d, m) = (self.dim(), self.noise_dim());
        l.gradient(x, &mut ws.g);
        let c = self.rho / reg_norm(&ws.g, self.eps);
        self.model.noise.factor(l, x, &mut ws.f, &mut ws.noise);
        l.hessian(x, &mut ws.h);
        linalg::matmul(&ws.h, &ws.f[..d * m], d, d, m, s);
        for (si, fi) in s.iter_mut().zip(&ws.f) {
            *si = self.eta.sqrt() * (fi + c * *si);
        }
    }
    /// Dσ[u] = √η [ (ρ dH[u]/n − ρ H (gᵀHu)/n³) Σ_B^{1/2} + (I + ρH/n) DΣ_B^{1/2}[u] ], n = ‖g‖_ε.
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        let l = self.model.landscape.as_ref();
        let (d, m) = (self.dim(), self.noise_dim());
        l.gradient(x, &mut ws.g);
        l.hessian(x, &mut ws.h);
        l.third(x, u, &mut ws.t);
        let n = reg_norm(&ws.g, self.eps);
        linalg::matvec(&ws.h, u, &mut ws.v);
        let ghu = linalg::dot(&ws.g, &ws.v);
        // t ← ρ dH[u]/n − ρ (gᵀHu)/n³ H ; then ds = t F
        for k in 0..d * d {
            ws.t[k] = self.rho * (ws.t[k] / n - ghu / (n * n * n) * ws.h[k]);
        }
        self.model.noise.factor(l, x, &mut ws.f, &mut ws.noise);
        self.model.noise.factor_jvp(l, x, u, &mut ws.df, &mut ws.noise);
        linalg::matmul(&ws.t, &ws.f[..d * m], d, d, m, ds);
        linalg::matmul(&ws.h, &ws.df[..d * m], d, d, m, &mut ws.f2[..d * m]);
        for k in 0..d * m {
            ds[k] += ws.df[k] + self.rho / n * ws.f2[k];
        }
        scale(ds, self.eta.sqrt());
    }
    fn workspace(&self) -> Workspace {
        self.model.workspace()
    }
    fn notes(&self) -> Vec<String> {
        vec![format!(
            "DNSAM diffusion regularised: ‖g‖ replaced by (‖g‖² + ε²)^(1/2), ε = {:e}; the model is invalid within ~ρ of a saddle",
            self.eps
        )]
    }
}
