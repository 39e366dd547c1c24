//! S-SGD1 (math spec §4.1): dX = −∇f(X) dt + √η Σ_B(X)^{1/2} dW, the weak-order-1 stochastic modified
//! equation of SGD with learning rate η.

use super::{Model, NoiseStructure, Sde, Workspace, scale};

/// S-SGD1.
#[derive(Debug, Clone)]
pub struct Sgd {
    model: Model,
    eta: f64,
}

impl Sgd {
    /// SGD with learning rate η (validated by the caller's [`crate::dynamics`] builder).
    pub fn new(model: Model, eta: f64) -> Self {
        Sgd { model, eta }
    }
}

impl Sde for Sgd {
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
    fn is_affine(&self) -> bool {
        self.model.is_linear_gaussian()
    }
    /// b = −g.
    fn drift(&self, x: &[f64], b: &mut [f64], _ws: &mut Workspace) {
        self.model.landscape.gradient(x, b);
        scale(b, -1.0);
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
}
