//! Model K (math spec §4.4), Kim et al.'s SAM diffusion (Thm 2) linearised at the chosen saddle d:
//!
//! dX = −H(I + ρH)²(X − d) dt + √η Σ_B(d)^{1/2} dW,  H = ∇²f(d),
//!
//! with Σ_B(d) the run's noise model at the saddle: under N1, (c/B)|H| exactly (|λ| without the δ
//! regularisation), which reproduces Kim et al.'s σ_j²(t) = η|λ_j| / (2Bλ_j(1+ρλ_j)²) · [1 − exp(−2λ_j(1+ρλ_j)² t)];
//! under N0 σ₁²/B · I, under N3 Σ₁/B as given, under N2 the finite-sum covariance at d. The drift is model K's
//! in every case, so the O1 closed form with A = H(I+ρH)² and S = ηΣ_B(d) applies. It disagrees with
//! faithful USAM in stable directions (§4.4); samsde runs both so the difference can be seen.

use super::{NoiseStructure, Sde, Workspace};
use crate::linalg;
use crate::model::landscape::Landscape;
use crate::model::noise::{Noise, NoiseScratch};

/// Model K at a saddle.
#[derive(Debug, Clone)]
pub struct Kim {
    saddle: Vec<f64>,
    a: Vec<f64>,
    s: Vec<f64>,
    note: String,
}

impl Kim {
    /// Σ_B(d) of `noise` at the saddle (`d×d`, row-major): (c/B)|H(d)| under N1, F(d)F(d)ᵀ otherwise.
    pub fn noise_covariance(landscape: &dyn Landscape, noise: &Noise, saddle: &[f64]) -> Vec<f64> {
        let d = landscape.dim();
        let mut out = vec![0.0; d * d];
        match noise {
            Noise::Hessian { scale, batch, .. } => {
                let mut h = vec![0.0; d * d];
                landscape.hessian(saddle, &mut h);
                let (mut vals, mut vecs) = (vec![0.0; d], vec![0.0; d * d]);
                linalg::sym_eigen(&mut h, d, &mut vals, &mut vecs);
                linalg::sym_apply(&vals, &vecs, |l| scale / batch * l.abs(), &mut out);
            }
            _ => {
                let m = noise.columns(landscape);
                let samples = if let Noise::FiniteSum { losses, .. } = noise {
                    losses.samples()
                } else {
                    0
                };
                let mut f = vec![0.0; d * m];
                noise.factor(landscape, saddle, &mut f, &mut NoiseScratch::new(d, samples));
                for i in 0..d {
                    for j in 0..d {
                        out[i * d + j] = (0..m).map(|k| f[i * m + k] * f[j * m + k]).sum();
                    }
                }
            }
        }
        out
    }

    /// Model K for `landscape` linearised at `saddle`, with learning rate η and radius ρ, and the noise
    /// covariance Σ_B(d) of `noise` at the saddle ([`Kim::noise_covariance`]).
    pub fn new(landscape: &dyn Landscape, noise: &Noise, saddle: &[f64], eta: f64, rho: f64) -> Self {
        let d = landscape.dim();
        let mut h = vec![0.0; d * d];
        landscape.hessian(saddle, &mut h);
        let (mut vals, mut vecs) = (vec![0.0; d], vec![0.0; d * d]);
        linalg::sym_eigen(&mut h, d, &mut vals, &mut vecs);
        let mut a = vec![0.0; d * d];
        linalg::sym_apply(&vals, &vecs, |l| l * (1.0 + rho * l).powi(2), &mut a);
        let mut cov = Self::noise_covariance(landscape, noise, saddle);
        linalg::sym_eigen(&mut cov, d, &mut vals, &mut vecs);
        let mut s = vec![0.0; d * d];
        linalg::sym_apply(&vals, &vecs, |l| (eta * l.max(0.0)).sqrt(), &mut s);
        let note = match noise {
            Noise::Hessian { .. } => "model K is linearised at the chosen saddle (Kim et al. Thm 2, noise (c/B)|H(d)|); it is not the faithful USAM SDE".to_string(),
            _ => format!(
                "model K is linearised at the chosen saddle (Kim et al. Thm 2's drift) with the run's noise at the saddle, Σ_B(d) = {}; it is not the faithful USAM SDE",
                noise.describe()
            ),
        };
        Kim {
            saddle: saddle.to_vec(),
            a,
            s,
            note,
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
    /// σ = √η Σ_B(d)^{1/2}.
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
        vec![self.note.clone()]
    }
}
