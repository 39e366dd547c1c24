//! S-USAM (math spec §4.2), product form:
//!
//! dX = [−(I + ρH) g − (ρ/2) ∇tr Σ_B] dt + √η (I + ρH) Σ_B^{1/2} dW.
//!
//! The drift is −∇[f + (ρ/2) E‖∇f_γ‖²]; the product-form diffusion is positive semi-definite where the
//! first-order form η[Σ_B + ρ(HΣ_B + Σ_B H)] is not (ρλ < −1/2 near a saddle). On a quadratic with constant
//! noise it is the exact linear SDE A = H + ρH², S = η(I+ρH)Σ_B(I+ρH) (O1).

use super::{Composed, Diffusion, Drift, Workspace, scale};
use crate::linalg;
use crate::model::Model;

/// USAM's drift b = −(I + ρH) g − (ρ/2) ∇tr Σ_B.
#[derive(Debug, Clone, Copy)]
pub struct UsamDrift {
    /// Radius ρ.
    pub rho: f64,
}

impl Drift for UsamDrift {
    /// b = −(I + ρH) g − (ρ/2) ∇tr Σ_B.
    fn drift(&self, model: &Model, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        let l = model.landscape().as_ref();
        l.gradient(x, &mut ws.g);
        l.hessian(x, &mut ws.h);
        linalg::matvec(&ws.h, &ws.g, &mut ws.v);
        model.noise().grad_trace(l, x, &mut ws.w, &mut ws.noise);
        for i in 0..b.len() {
            b[i] = -(ws.g[i] + self.rho * ws.v[i]) - 0.5 * self.rho * ws.w[i];
        }
    }
    fn is_affine(&self, model: &Model) -> bool {
        model.is_linear_gaussian()
    }
}

/// USAM's product-form diffusion σ = √η (I + ρH) Σ_B^{1/2}.
#[derive(Debug, Clone, Copy)]
pub struct UsamDiffusion {
    /// Learning rate η.
    pub eta: f64,
    /// Radius ρ.
    pub rho: f64,
}

impl Diffusion for UsamDiffusion {
    /// σ = √η (I + ρH) Σ_B^{1/2}.
    fn diffusion(&self, model: &Model, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        let l = model.landscape().as_ref();
        let (d, m) = (model.dim(), model.columns());
        model.noise().factor(l, x, &mut ws.f, &mut ws.noise);
        l.hessian(x, &mut ws.h);
        linalg::matmul(&ws.h, &ws.f[..d * m], d, d, m, s);
        for (si, fi) in s.iter_mut().zip(&ws.f) {
            *si = self.eta.sqrt() * (fi + self.rho * *si);
        }
    }
    /// Dσ\[u\] = √η [ρ dH\[u\] Σ_B^{1/2} + (I + ρH) DΣ_B^{1/2}\[u\]].
    fn diffusion_jvp(&self, model: &Model, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        let l = model.landscape().as_ref();
        let (d, m) = (model.dim(), model.columns());
        model.noise().factor(l, x, &mut ws.f, &mut ws.noise);
        model.noise().factor_jvp(l, x, u, &mut ws.df, &mut ws.noise);
        l.hessian(x, &mut ws.h);
        l.third(x, u, &mut ws.t);
        linalg::matmul(&ws.t, &ws.f[..d * m], d, d, m, ds);
        linalg::matmul(&ws.h, &ws.df[..d * m], d, d, m, &mut ws.f2[..d * m]);
        for k in 0..d * m {
            ds[k] = self.rho * ds[k] + ws.df[k] + self.rho * ws.f2[k];
        }
        scale(ds, self.eta.sqrt());
    }
    /// Diagonal on a separable landscape with N0, N1 or diagonal N3 noise ([`super::diagonal_structure`]).
    fn structure(&self, model: &Model) -> super::NoiseStructure {
        super::diagonal_structure(model, self.state_dependent(model))
    }
    fn state_dependent(&self, model: &Model) -> bool {
        !model.is_linear_gaussian()
    }
}

/// S-USAM: [`UsamDrift`] with the [`UsamDiffusion`].
pub type Usam = Composed<UsamDrift, UsamDiffusion>;

impl Usam {
    /// USAM with learning rate η and radius ρ.
    pub fn new(model: Model, eta: f64, rho: f64) -> Self {
        Composed::from_parts(model, UsamDrift { rho }, UsamDiffusion { eta, rho })
    }
}
