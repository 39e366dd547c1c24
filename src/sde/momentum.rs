//! S-HB (math spec §4.5): the underdamped heavy-ball SDE for PyTorch momentum μ, state (X, V) ∈ ℝ²ᵈ,
//!
//! dX = V dt,  dV = −((1−μ)/η) V dt + (1/η) b(X) dt + (1/η) σ(X) dW,
//!
//! where b = −G and σ = √η Σ_G^{1/2} are the drift and diffusion of the first-order dynamics being wrapped,
//! so that η^{−1/2}Σ_G^{1/2} = σ/η. This is heavy-ball Langevin with mass η/(1−μ). V(0) = 0. Noise enters the
//! V-rows only, with a coefficient that depends on X only, so every L^{j}σ_k = 0 and Milstein ≡ EM.
//! At μ = 0 samsde runs the first-order SDE itself, not this wrapper (which would add inertia of mass η).

use super::{NoiseStructure, Sde, Workspace};

/// The S-HB wrapper around a first-order SDE.
#[derive(Debug, Clone)]
pub struct HeavyBall<S> {
    inner: S,
    eta: f64,
    mu: f64,
}

impl<S: Sde> HeavyBall<S> {
    /// Wraps `inner` with learning rate η and momentum μ ∈ (0, 1).
    pub fn new(inner: S, eta: f64, mu: f64) -> Self {
        HeavyBall { inner, eta, mu }
    }
}

impl<S: Sde> Sde for HeavyBall<S> {
    fn dim(&self) -> usize {
        2 * self.inner.dim()
    }
    fn position_dim(&self) -> usize {
        self.inner.dim()
    }
    fn noise_dim(&self) -> usize {
        self.inner.noise_dim()
    }
    fn structure(&self) -> NoiseStructure {
        match self.inner.structure() {
            NoiseStructure::Additive => NoiseStructure::Additive,
            _ => NoiseStructure::Commutative,
        }
    }
    fn is_affine(&self) -> bool {
        self.inner.is_affine()
    }
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        let d = self.inner.dim();
        let (pos, vel) = x.split_at(d);
        let (bx, bv) = b.split_at_mut(d);
        self.inner.drift(pos, bv, ws);
        for i in 0..d {
            bx[i] = vel[i];
            bv[i] = bv[i] / self.eta - (1.0 - self.mu) / self.eta * vel[i];
        }
    }
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        let (d, m) = (self.inner.dim(), self.noise_dim());
        let (sx, sv) = s.split_at_mut(d * m);
        sx.fill(0.0);
        self.inner.diffusion(&x[..d], sv, ws);
        super::scale(sv, 1.0 / self.eta);
    }
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        let (d, m) = (self.inner.dim(), self.noise_dim());
        let (sx, sv) = ds.split_at_mut(d * m);
        sx.fill(0.0);
        self.inner.diffusion_jvp(&x[..d], &u[..d], sv, ws);
        super::scale(sv, 1.0 / self.eta);
    }
    fn workspace(&self) -> Workspace {
        self.inner.workspace()
    }
    fn notes(&self) -> Vec<String> {
        let mut n = self.inner.notes();
        n.push(format!(
            "underdamped heavy-ball SDE S-HB, μ = {}, mass η/(1−μ) = {:e}",
            self.mu,
            self.eta / (1.0 - self.mu)
        ));
        n
    }
}
