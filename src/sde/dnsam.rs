//! S-DNSAM (math spec §4.3): SAM drift with the PSD product-form diffusion of Compagnoni et al.,
//!
//! dX = −(g + ρHg/‖g‖_ε) dt + √η (I + ρH/‖g‖_ε) Σ_B^{1/2} dW.
//!
//! σ grows like ρ‖H‖/‖g‖ as g → 0, i.e. within about ρ of a saddle, where the first-order expansion behind
//! the model is invalid. ‖g‖ is regularised to ‖g‖_ε = (‖g‖² + ε²)^{1/2}; the report says so.

use super::{Composed, Diffusion, SamDrift, Workspace, reg_norm, scale};
use crate::linalg;
use crate::model::Model;

/// DNSAM's diffusion σ = √η (I + ρH/‖g‖_ε) Σ_B^{1/2}.
#[derive(Debug, Clone, Copy)]
pub struct DnsamDiffusion {
    /// Learning rate η.
    pub eta: f64,
    /// Radius ρ.
    pub rho: f64,
    /// Regulariser ε of ‖g‖_ε.
    pub eps: f64,
}

impl Diffusion for DnsamDiffusion {
    /// σ = √η (I + ρH/‖g‖_ε) Σ_B^{1/2}.
    fn diffusion(&self, model: &Model, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        let l = model.landscape().as_ref();
        let (d, m) = (model.dim(), model.columns());
        l.gradient(x, &mut ws.g);
        let c = self.rho / reg_norm(&ws.g, self.eps);
        model.noise().factor(l, x, &mut ws.f, &mut ws.noise);
        l.hessian(x, &mut ws.h);
        linalg::matmul(&ws.h, &ws.f[..d * m], d, d, m, s);
        for (si, fi) in s.iter_mut().zip(&ws.f) {
            *si = self.eta.sqrt() * (fi + c * *si);
        }
    }
    /// Dσ\[u\] = √η [ (ρ dH\[u\]/n − ρ H (gᵀHu)/n³) Σ_B^{1/2} + (I + ρH/n) DΣ_B^{1/2}\[u\] ], n = ‖g‖_ε.
    fn diffusion_jvp(&self, model: &Model, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        let l = model.landscape().as_ref();
        let (d, m) = (model.dim(), model.columns());
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
        model.noise().factor(l, x, &mut ws.f, &mut ws.noise);
        model.noise().factor_jvp(l, x, u, &mut ws.df, &mut ws.noise);
        linalg::matmul(&ws.t, &ws.f[..d * m], d, d, m, ds);
        linalg::matmul(&ws.h, &ws.df[..d * m], d, d, m, &mut ws.f2[..d * m]);
        for k in 0..d * m {
            ds[k] += ws.df[k] + self.rho / n * ws.f2[k];
        }
        scale(ds, self.eta.sqrt());
    }
    fn state_dependent(&self, model: &Model) -> bool {
        self.rho != 0.0 || !model.noise_is_constant()
    }
    fn notes(&self) -> Vec<String> {
        vec![format!(
            "DNSAM diffusion regularised: ‖g‖ replaced by (‖g‖² + ε²)^(1/2), ε = {:e}; the model is invalid within ~ρ of a saddle",
            self.eps
        )]
    }
}

/// S-DNSAM: the [`SamDrift`] with the [`DnsamDiffusion`].
pub type Dnsam = Composed<SamDrift, DnsamDiffusion>;

impl Dnsam {
    /// DNSAM with learning rate η, radius ρ and norm regulariser ε.
    pub fn new(model: Model, eta: f64, rho: f64, eps: f64) -> Self {
        Composed::from_parts(model, SamDrift { rho, eps }, DnsamDiffusion { eta, rho, eps })
    }
}
