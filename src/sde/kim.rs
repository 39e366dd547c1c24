//! Model K (math spec §4.4), Kim et al.'s SAM diffusion (Thm 2) linearised at the chosen saddle d:
//!
//! dX = −H(I + ρH)²(X − d) dt + √(ηc/B) |H|^{1/2} dW,  H = ∇²f(d),
//!
//! which reproduces their σ_j²(t) = η|λ_j| / (2Bλ_j(1+ρλ_j)²) · [1 − exp(−2λ_j(1+ρλ_j)² t)] exactly. c is the
//! N1 scale (1 for other noise models, matching C ≈ |H|/B). It disagrees with faithful USAM in stable
//! directions (§4.4); samsde runs both so the difference can be seen.

use super::{NoiseStructure, Sde, Workspace};
use crate::linalg;
use crate::model::landscape::Landscape;
use crate::model::noise::Noise;

/// Model K at a saddle.
#[derive(Debug, Clone)]
pub struct Kim {
    saddle: Vec<f64>,
    a: Vec<f64>,
    s: Vec<f64>,
}

impl Kim {
    /// Model K for `landscape` linearised at `saddle`, with learning rate η and radius ρ; B and c from `noise`.
    pub fn new(landscape: &dyn Landscape, noise: &Noise, saddle: &[f64], eta: f64, rho: f64) -> Self {
        let d = landscape.dim();
        let mut h = vec![0.0; d * d];
        landscape.hessian(saddle, &mut h);
        let (vals, vecs) = linalg::eigen(&h, d);
        let c = match noise {
            Noise::Hessian { scale, .. } => *scale,
            _ => 1.0,
        };
        let a = linalg::sym_apply_owned(&vals, &vecs, |l| l * (1.0 + rho * l).powi(2));
        let k = (eta * c / noise.batch()).sqrt();
        let s = linalg::sym_apply_owned(&vals, &vecs, |l| k * l.abs().sqrt());
        Kim {
            saddle: saddle.to_vec(),
            a,
            s,
        }
    }
}

impl Sde for Kim {
    fn dim(&self) -> usize {
        self.saddle.len()
    }
    fn noise_dim(&self) -> usize {
        self.saddle.len()
    }
    fn structure(&self) -> NoiseStructure {
        NoiseStructure::Additive
    }
    fn is_affine(&self) -> bool {
        true
    }
    /// b = −H(I+ρH)²(x − d).
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        for i in 0..x.len() {
            ws.v[i] = x[i] - self.saddle[i];
        }
        linalg::matvec(&self.a, &ws.v, b);
        super::scale(b, -1.0);
    }
    /// σ = √(ηc/B) |H|^{1/2}.
    fn diffusion(&self, _x: &[f64], s: &mut [f64], _ws: &mut Workspace) {
        s.copy_from_slice(&self.s);
    }
    fn diffusion_jvp(&self, _x: &[f64], _u: &[f64], ds: &mut [f64], _ws: &mut Workspace) {
        ds.fill(0.0);
    }
    fn workspace(&self) -> Workspace {
        let d = self.dim();
        Workspace::new(d, d, 0)
    }
    fn notes(&self) -> Vec<String> {
        vec!["model K is linearised at the chosen saddle (Kim et al. Thm 2); it is not the faithful USAM SDE".into()]
    }
}
