//! S-SGD1 (math spec §4.1): dX = −∇f(X) dt + √η Σ_B(X)^{1/2} dW, the weak-order-1 stochastic modified
//! equation of SGD with learning rate η. Its parts are shared: the gradient drift by gradient flow, the SGD
//! diffusion by full-batch SAM ([`super::SamFullbatch`], SGD noise).

use super::{Composed, Diffusion, Drift, Workspace, scale};
use crate::model::Model;

/// The gradient-flow drift b = −g.
#[derive(Debug, Clone, Copy)]
pub struct Gradient;

impl Drift for Gradient {
    /// b = −g.
    #[inline]
    fn drift(&self, model: &Model, x: &[f64], b: &mut [f64], _ws: &mut Workspace) {
        model.landscape().gradient(x, b);
        scale(b, -1.0);
    }
    fn is_affine(&self, model: &Model) -> bool {
        model.landscape().constant_hessian().is_some()
    }
}

/// SGD's diffusion σ = √η Σ_B^{1/2}.
#[derive(Debug, Clone, Copy)]
pub struct SgdDiffusion {
    /// Learning rate η.
    pub eta: f64,
}

impl Diffusion for SgdDiffusion {
    /// σ = √η Σ_B^{1/2}.
    #[inline]
    fn diffusion(&self, model: &Model, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        model.noise().factor(model.landscape().as_ref(), x, s, &mut ws.noise);
        scale(s, self.eta.sqrt());
    }
    /// Dσ\[u\] = √η DΣ_B^{1/2}\[u\].
    fn diffusion_jvp(&self, model: &Model, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        model
            .noise()
            .factor_jvp(model.landscape().as_ref(), x, u, ds, &mut ws.noise);
        scale(ds, self.eta.sqrt());
    }
    /// Diagonal on a separable landscape with N0, N1 or diagonal N3 noise ([`super::diagonal_structure`]).
    fn structure(&self, model: &Model) -> super::NoiseStructure {
        super::diagonal_structure(model, self.state_dependent(model))
    }
    fn state_dependent(&self, model: &Model) -> bool {
        !model.noise_is_constant()
    }
}

/// S-SGD1: [`Gradient`] drift with the [`SgdDiffusion`].
pub type Sgd = Composed<Gradient, SgdDiffusion>;

impl Sgd {
    /// SGD with learning rate η (validated by the dynamics builder).
    pub fn new(model: Model, eta: f64) -> Self {
        Composed::from_parts(model, Gradient, SgdDiffusion { eta })
    }
}
