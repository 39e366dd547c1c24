//! Itô–Milstein (math spec §5):
//!
//! X⁺ = X + b h + Σⱼ σⱼ ΔWʲ + ½ Σ_{j₁,j₂} (L^{j₁}σ_{j₂}) (ΔW^{j₁}ΔW^{j₂} − δ_{j₁j₂} h),  L^{j₁}σ_{j₂} = (Dσ_{j₂})σ_{j₁}.
//!
//! Exact (strong order 1) for scalar, diagonal and commutative noise. By linearity the double sum is
//! ½[(Dσ)\[σΔW\] ΔW − h Σⱼ (Dσ)\[σⱼ\] eⱼ], i.e. m + 1 directional derivatives per step. On general
//! (non-commutative) noise the same formula drops the Lévy areas: it runs only when the user opts in
//! (`allow_dropping_areas`), and then has strong order ½ and weak order 1 (workaround (a) of §5).
//! For additive noise it is Euler–Maruyama.

use super::{EulerMaruyama, Solver, SolverScratch, load_sigma};
use crate::sde::{NoiseStructure, Sde, Workspace};

/// The Milstein scheme.
#[derive(Debug, Clone, Copy, Default)]
pub struct Milstein {
    /// Run on non-commutative noise without Lévy areas (strong order ½).
    pub allow_dropping_areas: bool,
}

impl Solver for Milstein {
    const NAME: &'static str = "milstein";
    fn strong_order(&self, structure: NoiseStructure) -> f64 {
        if structure == NoiseStructure::General { 0.5 } else { 1.0 }
    }
    fn supports(&self, structure: NoiseStructure) -> bool {
        structure != NoiseStructure::General || self.allow_dropping_areas
    }
    fn step<S: Sde + ?Sized>(
        &self,
        sde: &S,
        x: &mut [f64],
        h: f64,
        dw: &[f64],
        ws: &mut Workspace,
        sc: &mut SolverScratch,
    ) {
        if sde.structure() == NoiseStructure::Additive {
            return EulerMaruyama.step(sde, x, h, dw, ws, sc);
        }
        let (n, m) = (x.len(), dw.len());
        sde.drift(x, &mut sc.b, ws);
        load_sigma(sde, x, ws, sc);
        // u = σ ΔW
        for i in 0..n {
            sc.u[i] = (0..m).map(|j| sc.sigma[i * m + j] * dw[j]).sum();
        }
        // acc = ½ (Dσ)[σΔW] ΔW
        sde.diffusion_jvp(x, &sc.u, &mut sc.dsigma, ws);
        for i in 0..n {
            sc.acc[i] = 0.5 * (0..m).map(|j| sc.dsigma[i * m + j] * dw[j]).sum::<f64>();
        }
        // acc −= ½ h Σⱼ (Dσ)[σⱼ] eⱼ
        for j in 0..m {
            for i in 0..n {
                sc.u[i] = sc.sigma[i * m + j];
            }
            sde.diffusion_jvp(x, &sc.u, &mut sc.dsigma, ws);
            for i in 0..n {
                sc.acc[i] -= 0.5 * h * sc.dsigma[i * m + j];
            }
        }
        for i in 0..n {
            let noise: f64 = (0..m).map(|j| sc.sigma[i * m + j] * dw[j]).sum();
            x[i] += sc.b[i] * h + noise + sc.acc[i];
        }
    }
}
