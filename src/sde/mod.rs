//! Stochastic differential equations: what moves a path in continuous time (math spec §4).
//!
//! An SDE is an Itô equation dX = b(X) dt + σ(X) dW given by its drift b and diffusion σ ([`Sde`]). The SAM
//! family is assembled from parts ([`Composed`] of a [`Drift`] and a [`Diffusion`]), so dynamics that share a
//! drift or a diffusion share its code; each file introduces its parts and names its equation and spec id:
//!
//! | type | drift b(x) | diffusion σ(x) | spec |
//! |---|---|---|---|
//! | [`Sgd`] | [`Gradient`]: −g | [`SgdDiffusion`]: √η Σ_B^{1/2} | S-SGD1 |
//! | [`Usam`] | [`UsamDrift`]: −(I+ρH)g − (ρ/2)∇tr Σ_B | [`UsamDiffusion`]: √η (I+ρH) Σ_B^{1/2} | S-USAM (product form) |
//! | [`Sam`] | −E_ξ\[G\] = −(g + ρH E\[u\]), u = (g+ξ)/‖g+ξ‖ | √η Cov_ξ\[G\]^{1/2} | S-SAM-mb, the SAM optimizer's SDE |
//! | [`SamFullbatch`] | [`SamDrift`]: −(g + ρHg/‖g‖_ε) | [`SgdDiffusion`] | S-SAM-ODE drift, SGD noise |
//! | [`Dnsam`] | [`SamDrift`] | [`DnsamDiffusion`]: √η (I + ρH/‖g‖_ε) Σ_B^{1/2} | S-DNSAM |
//! | [`Kim`] | −H(I+ρH)²(x−d) | √(ηc/B) \|H\|^{1/2} | model K, linearised at the saddle d |
//!
//! [`HeavyBall`] turns any of them into the underdamped S-HB equation with momentum μ; [`LinearSde`] is the
//! constant-coefficient form an affine SDE is probed into. The discrete optimizers these SDEs approximate are
//! steppers (`stepper::discrete`).

pub mod compose;
pub mod dnsam;
pub mod kim;
pub mod linear;
pub mod momentum;
pub mod sam;
pub mod sam_coefficients;
pub mod sam_fullbatch;
pub mod sam_moments;
pub mod sgd;
pub mod usam;

pub use compose::{Composed, Diffusion, Drift};
pub use dnsam::{Dnsam, DnsamDiffusion};
pub use kim::Kim;
pub use linear::LinearSde;
pub use momentum::HeavyBall;
pub use sam::{MomentSource, Sam, SamScratch};
pub use sam_fullbatch::{SamDrift, SamFullbatch};
pub use sgd::{Gradient, Sgd, SgdDiffusion};
pub use usam::{Usam, UsamDiffusion, UsamDrift};

use crate::model::{Model, NoiseScratch};

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

impl NoiseStructure {
    /// Every structure, from the simplest.
    pub const ALL: [NoiseStructure; 4] = [
        NoiseStructure::Additive,
        NoiseStructure::Diagonal,
        NoiseStructure::Commutative,
        NoiseStructure::General,
    ];
    /// The name in reports (`additive`, `diagonal`, `commutative`, `general`).
    pub fn name(self) -> &'static str {
        match self {
            NoiseStructure::Additive => "additive",
            NoiseStructure::Diagonal => "diagonal",
            NoiseStructure::Commutative => "commutative",
            NoiseStructure::General => "general",
        }
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
    /// The batch normals ξ of a discrete step (m, one per noise column).
    pub xi: Vec<f64>,
    /// Hessian H (d×d).
    pub h: Vec<f64>,
    /// Third-derivative contraction dH\[u\] (d×d).
    pub t: Vec<f64>,
    /// Noise factor Σ_B^{1/2} (d×m).
    pub f: Vec<f64>,
    /// Its derivative (d×m).
    pub df: Vec<f64>,
    /// Matrix scratch (d×max(d, m)).
    pub f2: Vec<f64>,
    /// S-SAM-mb's buffers and cached coefficients ([`Sam`] only).
    pub sam: Option<Box<sam::SamScratch>>,
}

impl Workspace {
    /// Buffers sized for `model`'s dimension, noise columns and finite-sum samples.
    pub fn for_model(model: &Model) -> Self {
        Workspace::new(model.dim(), model.columns(), model.samples())
    }
    /// Buffers for dimension d, m noise columns and n finite-sum samples.
    pub fn new(d: usize, m: usize, n: usize) -> Self {
        let dm = d * m.max(d);
        Workspace {
            noise: NoiseScratch::new(d, n),
            g: vec![0.0; d],
            v: vec![0.0; d],
            w: vec![0.0; d],
            y: vec![0.0; d],
            xi: vec![0.0; m],
            h: vec![0.0; d * d],
            t: vec![0.0; d * d],
            f: vec![0.0; dm],
            df: vec![0.0; dm],
            f2: vec![0.0; dm],
            sam: None,
        }
    }
}

/// Structure of a diffusion that is a state-dependent transform of Σ_B^{1/2} of `model` (constant when
/// `state_dependent` is false): additive, commutative for one noise column, else general.
///
/// [`diagonal_structure`] refines it for the diffusions built from H(x) and N1's factor alone.
pub fn structure_of(model: &Model, state_dependent: bool) -> NoiseStructure {
    if !state_dependent {
        NoiseStructure::Additive
    } else if model.columns() == 1 {
        NoiseStructure::Commutative
    } else {
        NoiseStructure::General
    }
}

/// Structure of a state-dependent diffusion σ = φ(H(x)) F(x) built from the Hessian and the noise factor
/// only (SGD's √η F, USAM's √η(I+ρH)F): on a separable landscape (f = Σᵢ fᵢ(xᵢ), so H(x) is diagonal with Hᵢᵢ
/// a function of xᵢ alone) with a diagonal noise factor of the same kind ([`Noise::diagonal_factor`]: N0, N1,
/// N3 with diagonal Σ₁), σ is diagonal with σᵢᵢ a function of xᵢ alone — diagonal noise, commutative since
/// L^{j₁}σ_{j₂} = (Dσ_{j₂})σ_{j₁} = 0 for j₁ ≠ j₂ — and Milstein has strong order 1 without Lévy areas (math
/// spec §5, "S-SGD1, N1, separable f"). Otherwise [`structure_of`].
///
/// [`Noise::diagonal_factor`]: crate::model::Noise::diagonal_factor
pub fn diagonal_structure(model: &Model, state_dependent: bool) -> NoiseStructure {
    let s = structure_of(model, state_dependent);
    let l = model.landscape();
    if s == NoiseStructure::General && l.separable() && model.noise().diagonal_factor(l.as_ref()) {
        NoiseStructure::Diagonal
    } else {
        s
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
    /// The directional derivative (Dσ)(x)\[u\] into `ds` (`n×m`); column j₂ at u = σ_{j₁} is L^{j₁}σ_{j₂}.
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
