//! Dynamics: what moves a path (math spec §2, §4).
//!
//! An SDE is an Itô equation dX = b(X) dt + σ(X) dW given by its drift b and diffusion σ ([`Sde`]); the
//! discrete optimizers it approximates (A-SGD, A-USAM, A-SAM with PyTorch heavy ball) are in
//! [`discrete`]. Each SDE lives in its own file and states its equation and spec id:
//!
//! | kind | drift b(x) | diffusion σ(x) | spec |
//! |---|---|---|---|
//! | [`Sgd`] | −g | √η Σ_B^{1/2} | S-SGD1 |
//! | [`Usam`] | −(I+ρH)g − (ρ/2)∇tr Σ_B | √η (I+ρH) Σ_B^{1/2} | S-USAM (product form) |
//! | [`Sam`] | −(g + ρHg/‖g‖_ε) | √η Σ_B^{1/2} | S-SAM-ODE drift, SGD noise |
//! | [`Dnsam`] | −(g + ρHg/‖g‖_ε) | √η (I + ρH/‖g‖_ε) Σ_B^{1/2} | S-DNSAM |
//! | [`Kim`] | −H(I+ρH)²(x−d) | √(ηc/B) \|H\|^{1/2} | model K, linearised at the saddle d |
//!
//! [`HeavyBall`] turns any of them into the underdamped S-HB equation with momentum μ.

pub mod discrete;
pub mod dnsam;
pub mod fixed;
pub mod kim;
pub mod linear;
pub mod momentum;
pub mod sam;
pub mod sgd;
pub mod spec;
pub mod usam;

pub use discrete::{Discrete, DiscreteKind};
pub use dnsam::Dnsam;
pub use kim::Kim;
pub use linear::LinearSde;
pub use momentum::HeavyBall;
pub use sam::Sam;
pub use sgd::Sgd;
pub use spec::{Built, DynamicsKind, DynamicsSpec, SolverKind, SolverSpec, build};
pub use usam::Usam;

use crate::landscape::Landscape;
use crate::noise::{Noise, NoiseScratch};
use std::sync::Arc;

/// How the diffusion depends on the state; decides what Milstein needs (math spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseStructure {
    /// σ constant: Milstein ≡ Euler–Maruyama.
    Additive,
    /// σ diagonal with σᵢ depending on xᵢ only (commutative).
    Diagonal,
    /// L^{j₁}σ_{j₂} = L^{j₂}σ_{j₁} for all j₁, j₂ (includes scalar noise, m = 1): Milstein needs no Lévy areas.
    Commutative,
    /// No structure: strong order 1 needs Lévy areas.
    General,
}

/// The landscape and the gradient-noise model shared by every dynamics of a run.
#[derive(Debug, Clone)]
pub struct Model {
    /// The loss f.
    pub landscape: Arc<dyn Landscape>,
    /// The noise model Σ_B.
    pub noise: Noise,
}

impl Model {
    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.landscape.dim()
    }
    /// Noise columns m.
    pub fn columns(&self) -> usize {
        self.noise.columns(self.landscape.as_ref())
    }
    /// Whether f is quadratic and Σ_B constant, so that SGD, USAM and model K are linear SDEs (O1).
    pub fn is_linear_gaussian(&self) -> bool {
        self.landscape.constant_hessian().is_some() && self.noise.is_constant(self.landscape.as_ref())
    }
    /// Structure of a diffusion that is a state-dependent transform of Σ_B^{1/2} (or constant when
    /// `state_dependent` is false).
    pub fn structure(&self, state_dependent: bool) -> NoiseStructure {
        if !state_dependent {
            NoiseStructure::Additive
        } else if self.columns() == 1 {
            NoiseStructure::Commutative
        } else {
            NoiseStructure::General
        }
    }
    /// Fresh per-path scratch sized for this model.
    pub fn workspace(&self) -> Workspace {
        let n = self.landscape.finite_sum().map_or(0, |f| f.samples());
        Workspace::new(self.dim(), self.columns(), n)
    }
}

/// Per-path scratch buffers, allocated once so that a step never touches the heap.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Noise-model scratch.
    pub noise: NoiseScratch,
    /// Gradient g (d).
    pub g: Vec<f64>,
    /// Vector scratch (d).
    pub v: Vec<f64>,
    /// Vector scratch (d).
    pub w: Vec<f64>,
    /// Vector scratch, e.g. the perturbed point (d).
    pub y: Vec<f64>,
    /// Vector scratch, e.g. the batch normals (d).
    pub xi: Vec<f64>,
    /// Hessian H (d×d).
    pub h: Vec<f64>,
    /// Third-derivative contraction dH[u] (d×d).
    pub t: Vec<f64>,
    /// Noise factor Σ_B^{1/2} (d×m).
    pub f: Vec<f64>,
    /// Its derivative (d×m).
    pub df: Vec<f64>,
    /// Matrix scratch (d×max(d, m)).
    pub f2: Vec<f64>,
}

impl Workspace {
    /// Buffers for dimension d, m noise columns and n finite-sum samples.
    pub fn new(d: usize, m: usize, n: usize) -> Self {
        let dm = d * m.max(d);
        Workspace {
            noise: NoiseScratch::new(d, n),
            g: vec![0.0; d],
            v: vec![0.0; d],
            w: vec![0.0; d],
            y: vec![0.0; d],
            xi: vec![0.0; d],
            h: vec![0.0; d * d],
            t: vec![0.0; d * d],
            f: vec![0.0; dm],
            df: vec![0.0; dm],
            f2: vec![0.0; dm],
        }
    }
}

/// An Itô SDE dX = b(X) dt + σ(X) dW with X ∈ ℝⁿ, W ∈ ℝᵐ. Methods must not allocate.
pub trait Sde: Send + Sync {
    /// State dimension n (d, or 2d with momentum).
    fn dim(&self) -> usize;
    /// How many leading state entries are the position x (d); the rest is velocity.
    fn position_dim(&self) -> usize {
        self.dim()
    }
    /// Number m of Brownian motions.
    fn noise_dim(&self) -> usize;
    /// The noise structure, which decides what Milstein needs.
    fn structure(&self) -> NoiseStructure;
    /// True when b is affine and σ constant, so the SDE can be run as a [`LinearSde`].
    fn is_affine(&self) -> bool {
        false
    }
    /// b(x) into `b` (length n).
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace);
    /// σ(x) into `s` (`n×m`, row-major; column j is σⱼ).
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace);
    /// The directional derivative (Dσ)(x)[u] into `ds` (`n×m`); column j₂ at u = σ_{j₁} is L^{j₁}σ_{j₂}.
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace);
    /// Fresh scratch for one path.
    fn workspace(&self) -> Workspace;
    /// Remarks for the report (regularisations in force, approximations).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// ‖g‖_ε = (‖g‖² + ε²)^{1/2}, the regularised norm of SAM's normalisation (math spec §4.3).
#[inline]
pub fn reg_norm(g: &[f64], eps: f64) -> f64 {
    (crate::linalg::dot(g, g) + eps * eps).sqrt()
}

/// s ← c · s.
#[inline]
pub(crate) fn scale(s: &mut [f64], c: f64) {
    for v in s.iter_mut() {
        *v *= c;
    }
}

/// A boxed SDE is an SDE (the builder boxes the kind chosen at run time; wrappers such as [`HeavyBall`] take it).
impl<S: Sde + ?Sized> Sde for Box<S> {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn position_dim(&self) -> usize {
        (**self).position_dim()
    }
    fn noise_dim(&self) -> usize {
        (**self).noise_dim()
    }
    fn structure(&self) -> NoiseStructure {
        (**self).structure()
    }
    fn is_affine(&self) -> bool {
        (**self).is_affine()
    }
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        (**self).drift(x, b, ws)
    }
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        (**self).diffusion(x, s, ws)
    }
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        (**self).diffusion_jvp(x, u, ds, ws)
    }
    fn workspace(&self) -> Workspace {
        (**self).workspace()
    }
    fn notes(&self) -> Vec<String> {
        (**self).notes()
    }
}
