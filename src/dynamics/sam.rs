//! SAM drift with SGD noise (math spec §4.3, S-SAM-ODE plus S-SGD1 diffusion):
//!
//! dX = −(g + ρ H g / ‖g‖_ε) dt + √η Σ_B^{1/2} dW,  ‖g‖_ε = (‖g‖² + ε²)^{1/2}.
//!
//! The drift is −∇(f + ρ‖g‖), a gradient system that is discontinuous at g = 0 (a sliding mode); ε
//! regularises it and is reported. Near a saddle d the flow is attracted into ‖H(x−d)‖ < ρ min|λ₋| (O3).

use super::{Model, NoiseStructure, Sde, Workspace, reg_norm, scale};
use crate::linalg;

/// S-SAM (normalised SAM drift, SGD diffusion).
#[derive(Debug, Clone)]
pub struct Sam {
    model: Model,
    eta: f64,
    rho: f64,
    eps: f64,
}

impl Sam {
    /// SAM with learning rate η, radius ρ and norm regulariser ε.
    pub fn new(model: Model, eta: f64, rho: f64, eps: f64) -> Self {
        Sam { model, eta, rho, eps }
    }
}

/// The SAM drift b = −(g + ρ H g / ‖g‖_ε), shared by [`Sam`] and [`super::Dnsam`].
pub(super) fn sam_drift(model: &Model, rho: f64, eps: f64, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
    let l = model.landscape.as_ref();
    l.gradient(x, &mut ws.g);
    l.hessian(x, &mut ws.h);
    linalg::matvec(&ws.h, &ws.g, &mut ws.v);
    let c = rho / reg_norm(&ws.g, eps);
    for i in 0..b.len() {
        b[i] = -(ws.g[i] + c * ws.v[i]);
    }
}

impl Sde for Sam {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn noise_dim(&self) -> usize {
        self.model.columns()
    }
    fn structure(&self) -> NoiseStructure {
        self.model
            .structure(!self.model.noise.is_constant(self.model.landscape.as_ref()))
    }
    /// b = −(g + ρ H g / ‖g‖_ε).
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        sam_drift(&self.model, self.rho, self.eps, x, b, ws);
    }
    /// σ = √η Σ_B^{1/2}.
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        self.model
            .noise
            .factor(self.model.landscape.as_ref(), x, s, &mut ws.noise);
        scale(s, self.eta.sqrt());
    }
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        self.model
            .noise
            .factor_jvp(self.model.landscape.as_ref(), x, u, ds, &mut ws.noise);
        scale(ds, self.eta.sqrt());
    }
    fn workspace(&self) -> Workspace {
        self.model.workspace()
    }
    fn notes(&self) -> Vec<String> {
        vec![format!(
            "SAM drift normalised by ‖g‖_ε = (‖g‖² + ε²)^(1/2), ε = {:e}",
            self.eps
        )]
    }
}
