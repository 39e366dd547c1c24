//! Euler–Maruyama: X⁺ = X + b(X) h + σ(X) ΔW. Strong order ½ (1 for additive noise), weak order 1; any noise.

use super::{Solver, SolverScratch, load_sigma};
use crate::sde::{NoiseStructure, Sde, Workspace};

/// The Euler–Maruyama scheme.
#[derive(Debug, Clone, Copy, Default)]
pub struct EulerMaruyama;

impl Solver for EulerMaruyama {
    const NAME: &'static str = "euler_maruyama";
    fn strong_order(&self, structure: NoiseStructure) -> f64 {
        if structure == NoiseStructure::Additive {
            1.0
        } else {
            0.5
        }
    }
    fn supports(&self, _structure: NoiseStructure) -> bool {
        true
    }
    #[inline]
    fn step<S: Sde + ?Sized>(
        &self,
        sde: &S,
        x: &mut [f64],
        h: f64,
        dw: &[f64],
        ws: &mut Workspace,
        sc: &mut SolverScratch,
    ) {
        sde.drift(x, &mut sc.b, ws);
        load_sigma(sde, x, ws, sc);
        let m = dw.len();
        for (i, xi) in x.iter_mut().enumerate() {
            let row = &sc.sigma[i * m..(i + 1) * m];
            let mut noise = 0.0;
            for (s, w) in row.iter().zip(dw) {
                noise += s * w;
            }
            *xi += sc.b[i] * h + noise;
        }
    }
}
