//! S-USAM (math spec §4.2), product form:
//!
//! dX = [−(I + ρH) g − (ρ/2) ∇tr Σ_B] dt + √η (I + ρH) Σ_B^{1/2} dW.
//!
//! The drift is −∇[f + (ρ/2) E‖∇f_γ‖²]; the product-form diffusion is positive semi-definite where the
//! first-order form η[Σ_B + ρ(HΣ_B + Σ_B H)] is not (ρλ < −1/2 near a saddle). On a quadratic with constant
//! noise it is the exact linear SDE A = H + ρH², S = η(I+ρH)Σ_B(I+ρH) (O1).

use super::{Model, NoiseStructure, Sde, Workspace, scale};
use crate::linalg;

/// S-USAM.
#[derive(Debug, Clone)]
pub struct Usam {
    model: Model,
    eta: f64,
    rho: f64,
}

impl Usam {
    /// USAM with learning rate η and radius ρ.
    pub fn new(model: Model, eta: f64, rho: f64) -> Self {
        Usam { model, eta, rho }
    }
}

impl Sde for Usam {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn noise_dim(&self) -> usize {
        self.model.columns()
    }
    fn structure(&self) -> NoiseStructure {
        self.model.structure(!self.model.is_linear_gaussian())
    }
    fn is_affine(&self) -> bool {
        self.model.is_linear_gaussian()
    }
    /// b = −(I + ρH) g − (ρ/2) ∇tr Σ_B.
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        let l = self.model.landscape.as_ref();
        l.gradient(x, &mut ws.g);
        l.hessian(x, &mut ws.h);
        linalg::matvec(&ws.h, &ws.g, &mut ws.v);
        self.model.noise.grad_trace(l, x, &mut ws.w, &mut ws.noise);
        for i in 0..b.len() {
            b[i] = -(ws.g[i] + self.rho * ws.v[i]) - 0.5 * self.rho * ws.w[i];
        }
    }
    /// σ = √η (I + ρH) Σ_B^{1/2}.
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        let l = self.model.landscape.as_ref();
        let (d, m) = (self.dim(), self.noise_dim());
        self.model.noise.factor(l, x, &mut ws.f, &mut ws.noise);
        l.hessian(x, &mut ws.h);
        linalg::matmul(&ws.h, &ws.f[..d * m], d, d, m, s);
        for (si, fi) in s.iter_mut().zip(&ws.f) {
            *si = self.eta.sqrt() * (fi + self.rho * *si);
        }
    }
    /// Dσ[u] = √η [ρ dH[u] Σ_B^{1/2} + (I + ρH) DΣ_B^{1/2}[u]].
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        let l = self.model.landscape.as_ref();
        let (d, m) = (self.dim(), self.noise_dim());
        self.model.noise.factor(l, x, &mut ws.f, &mut ws.noise);
        self.model.noise.factor_jvp(l, x, u, &mut ws.df, &mut ws.noise);
        l.hessian(x, &mut ws.h);
        l.third(x, u, &mut ws.t);
        linalg::matmul(&ws.t, &ws.f[..d * m], d, d, m, ds);
        linalg::matmul(&ws.h, &ws.df[..d * m], d, d, m, &mut ws.f2[..d * m]);
        for k in 0..d * m {
            ds[k] = self.rho * ds[k] + ws.df[k] + self.rho * ws.f2[k];
        }
        scale(ds, self.eta.sqrt());
    }
    fn workspace(&self) -> Workspace {
        self.model.workspace()
    }
}
