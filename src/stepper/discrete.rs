//! The discrete optimizers the SDEs approximate (math spec §2), the ground truth of the comparison:
//!
//! - A-SGD:  G = ∇f_γ(x)
//! - A-USAM: G = ∇f_γ(x + ρ∇f_γ(x))
//! - A-SAM:  G = ∇f_γ(x + ρ∇f_γ(x)/(‖∇f_γ(x)‖ + ε))  (the official code adds ε = 1e−16 to the norm)
//!
//! with one mini-batch γ per step serving both gradients, and PyTorch heavy ball (`torch.optim.SGD(momentum=μ)`,
//! no dampening, no Nesterov): b⁺ = μb + G, x⁺ = x − ηb⁺, b₀ = 0. Time advances by η per step (t = kη).
//! The mini-batch gradient comes from the noise model: N2 samples B real indices; N0, N1, N3 add F(y)ξ with
//! one ξ ~ N(0, I) per step (for N3 this is exactly f_γ = f + ξ_γᵀx).

use super::{Scratch, Stepper};
use crate::brownian::{self, PathRng};
use crate::linalg;
use crate::model::Model;
use crate::model::Noise;
use crate::sde::Workspace;
use crate::solver::SolverScratch;

/// Which discrete optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscreteKind {
    /// A-SGD.
    Sgd,
    /// A-USAM (unnormalised ascent).
    Usam,
    /// A-SAM (normalised ascent).
    Sam,
}

/// A discrete optimizer with heavy-ball momentum; state (x, b) ∈ ℝ²ᵈ when μ > 0, x ∈ ℝᵈ otherwise.
#[derive(Debug, Clone)]
pub struct Discrete {
    model: Model,
    kind: DiscreteKind,
    eta: f64,
    rho: f64,
    mu: f64,
    eps: f64,
}

impl Discrete {
    /// Optimizer `kind` with learning rate η, radius ρ (ignored by SGD), momentum μ and norm offset ε.
    pub fn new(model: Model, kind: DiscreteKind, eta: f64, rho: f64, mu: f64, eps: f64) -> Self {
        Discrete {
            model,
            kind,
            eta,
            rho,
            mu,
            eps,
        }
    }

    /// The update G(x) for the batch drawn this step, into `ws.w`.
    fn update(&self, x: &[f64], ws: &mut Workspace) {
        let l = self.model.landscape().as_ref();
        let noise = self.model.noise();
        let Workspace {
            noise: ns,
            g,
            y,
            xi,
            w,
            f,
            ..
        } = ws;
        match self.kind {
            DiscreteKind::Sgd => noise.batch_gradient(l, x, xi, w, f, ns),
            DiscreteKind::Usam | DiscreteKind::Sam => {
                noise.batch_gradient(l, x, xi, g, f, ns);
                let c = if self.kind == DiscreteKind::Sam {
                    self.rho / (linalg::norm(g) + self.eps)
                } else {
                    self.rho
                };
                for i in 0..x.len() {
                    y[i] = x[i] + c * g[i];
                }
                noise.batch_gradient(l, y, xi, w, f, ns);
            }
        }
    }
}

impl Stepper for Discrete {
    fn dim(&self) -> usize {
        if self.mu > 0.0 {
            2 * self.model.dim()
        } else {
            self.model.dim()
        }
    }
    fn position_dim(&self) -> usize {
        self.model.dim()
    }
    fn dt(&self) -> f64 {
        self.eta
    }
    fn scratch(&self) -> Scratch {
        let d = self.model.dim();
        Scratch {
            ws: Workspace::for_model(&self.model),
            sc: SolverScratch::new(0, 0),
            z: vec![0.0; d],
        }
    }
    fn step(&self, x: &mut [f64], rng: &mut PathRng, s: &mut Scratch) {
        let d = self.model.dim();
        match self.model.noise() {
            Noise::FiniteSum { .. } => self.model.noise().draw_batch(rng, &mut s.ws.noise),
            _ => brownian::fill_normals(rng, &mut s.ws.xi),
        }
        self.update(&x[..d], &mut s.ws);
        if self.mu > 0.0 {
            let (pos, buf) = x.split_at_mut(d);
            for i in 0..d {
                buf[i] = self.mu * buf[i] + s.ws.w[i];
                pos[i] -= self.eta * buf[i];
            }
        } else {
            for i in 0..d {
                x[i] -= self.eta * s.ws.w[i];
            }
        }
    }
    fn bridge_variance(&self, _dir: &[f64], _s: &Scratch) -> Option<f64> {
        None
    }
}
