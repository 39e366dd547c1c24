//! Full-batch normalised SAM with SGD noise, kind `sam_fullbatch` (math spec §4.3 S-SAM-ODE drift plus the
//! S-SGD1 diffusion; oracle O7):
//!
//! dX = −(g + ρ H g / ‖g‖_ε) dt + √η Σ_B^{1/2} dW,  ‖g‖_ε = (‖g‖² + ε²)^{1/2}.
//!
//! The drift is −∇(f + ρ‖g‖), a gradient system that is discontinuous at g = 0 (a sliding mode); ε
//! regularises it and is reported. Near a saddle d the flow is attracted into ‖H(x−d)‖ < ρ min|λ₋| (O3).
//!
//! This is *not* the SAM optimizer near a saddle: the optimizer normalises the mini-batch gradient g + ξ, and
//! where ‖g‖ is not much larger than the batch noise its ascent direction is mostly noise. The model is valid
//! only where ‖g‖ ≫ √tr Σ_B; the faithful mini-batch model is [`super::Sam`] (S-SAM-mb, kind `sam`).

use super::{Composed, Drift, SgdDiffusion, Workspace, reg_norm};
use crate::linalg;
use crate::model::Model;

/// The normalised full-batch SAM drift b = −(g + ρ H g / ‖g‖_ε), shared by [`SamFullbatch`] and
/// [`super::Dnsam`].
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
        vec![
            format!(
                "SAM drift normalised by the full gradient, ‖g‖_ε = (‖g‖² + ε²)^(1/2), ε = {:e}",
                self.eps
            ),
            "full-batch normalisation: valid only where ‖g‖ ≫ √tr Σ_B (see snr_median); the SAM optimizer's model is kind `sam`".into(),
        ]
    }
}

/// Full-batch SAM with SGD noise: the [`SamDrift`] with SGD's diffusion [`SgdDiffusion`].
pub type SamFullbatch = Composed<SamDrift, SgdDiffusion>;

impl SamFullbatch {
    /// Full-batch SAM with learning rate η, radius ρ and norm regulariser ε.
    pub fn new(model: Model, eta: f64, rho: f64, eps: f64) -> Self {
        Composed::from_parts(model, SamDrift { rho, eps }, SgdDiffusion { eta })
    }
}
