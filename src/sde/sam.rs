//! SAM drift with SGD noise (math spec §4.3, S-SAM-ODE plus S-SGD1 diffusion):
//!
//! dX = −(g + ρ H g / ‖g‖_ε) dt + √η Σ_B^{1/2} dW,  ‖g‖_ε = (‖g‖² + ε²)^{1/2}.
//!
//! The drift is −∇(f + ρ‖g‖), a gradient system that is discontinuous at g = 0 (a sliding mode); ε
//! regularises it and is reported. Near a saddle d the flow is attracted into ‖H(x−d)‖ < ρ min|λ₋| (O3).

use super::{Composed, Drift, SgdDiffusion, Workspace, reg_norm};
use crate::linalg;
use crate::model::Model;

/// The normalised SAM drift b = −(g + ρ H g / ‖g‖_ε), shared by [`Sam`] and [`super::Dnsam`].
#[derive(Debug, Clone, Copy)]
pub struct SamDrift {
    /// Radius ρ.
    pub rho: f64,
    /// Regulariser ε of ‖g‖_ε.
    pub eps: f64,
}

impl Drift for SamDrift {
    /// b = −(g + ρ H g / ‖g‖_ε).
    #[inline]
    fn drift(&self, model: &Model, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        let l = model.landscape().as_ref();
        l.gradient(x, &mut ws.g);
        l.hessian(x, &mut ws.h);
        linalg::matvec(&ws.h, &ws.g, &mut ws.v);
        let c = self.rho / reg_norm(&ws.g, self.eps);
        for i in 0..b.len() {
            b[i] = -(ws.g[i] + c * ws.v[i]);
        }
    }
    fn notes(&self) -> Vec<String> {
        vec![format!(
            "SAM drift normalised by ‖g‖_ε = (‖g‖² + ε²)^(1/2), ε = {:e}",
            self.eps
        )]
    }
}

/// S-SAM: the [`SamDrift`] with SGD's diffusion [`SgdDiffusion`].
pub type Sam = Composed<SamDrift, SgdDiffusion>;

impl Sam {
    /// SAM with learning rate η, radius ρ and norm regulariser ε.
    pub fn new(model: Model, eta: f64, rho: f64, eps: f64) -> Self {
        Composed::from_parts(model, SamDrift { rho, eps }, SgdDiffusion { eta })
    }
}
