//! An SDE assembled from parts: dX = b(X) dt + σ(X) dW with the drift b from a [`Drift`] and the diffusion σ
//! from a [`Diffusion`], both evaluated on the run's [`Model`] (math spec §4). The SGD/SAM family shares its
//! parts this way: S-SGD1 and SAM use the same SGD diffusion √η Σ_B^{1/2}, SAM and DNSAM the same normalised
//! drift. A new dynamics is one file with its new parts and a type alias `Composed<ItsDrift, ItsDiffusion>`.

use super::{NoiseStructure, Sde, Workspace, structure_of};
use crate::model::Model;

/// The drift part b(x). Must not allocate.
pub trait Drift: Send + Sync {
    /// b(x) into `b` (length d).
    fn drift(&self, model: &Model, x: &[f64], b: &mut [f64], ws: &mut Workspace);
    /// Whether b is affine in x on `model` (with a constant diffusion the SDE is then linear, O1).
    fn is_affine(&self, _model: &Model) -> bool {
        false
    }
    /// Remarks for the report (regularisations in force).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The diffusion part σ(x) (`d×m`, row-major; column j is σⱼ) and its directional derivative. Must not allocate.
pub trait Diffusion: Send + Sync {
    /// σ(x) into `s`.
    fn diffusion(&self, model: &Model, x: &[f64], s: &mut [f64], ws: &mut Workspace);
    /// (Dσ)(x)\[u\] into `ds` (`d×m`).
    fn diffusion_jvp(&self, model: &Model, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace);
    /// Whether σ depends on x on `model`; decides the noise structure (math spec §5).
    fn state_dependent(&self, model: &Model) -> bool;
    /// The noise structure on `model`: additive when σ is constant, else commutative for one noise column
    /// and general otherwise ([`structure_of`]); a diffusion that knows more (diagonal σ with σᵢᵢ a function
    /// of xᵢ alone, [`super::diagonal_structure`]) says so. Asked once, when the SDE is composed.
    fn structure(&self, model: &Model) -> NoiseStructure {
        structure_of(model, self.state_dependent(model))
    }
    /// Remarks for the report (regularisations in force, validity).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The SDE with drift `D` and diffusion `S` on a model.
#[derive(Debug, Clone)]
pub struct Composed<D, S> {
    model: Model,
    drift: D,
    diffusion: S,
    /// `diffusion.structure(&model)`, decided once (solvers ask for it every step).
    structure: NoiseStructure,
}

impl<D: Drift, S: Diffusion> Composed<D, S> {
    /// The SDE dX = b(X) dt + σ(X) dW with b from `drift` and σ from `diffusion` on `model` (parameters are
    /// validated by the caller, e.g. the dynamics builder).
    pub fn from_parts(model: Model, drift: D, diffusion: S) -> Self {
        let structure = diffusion.structure(&model);
        Composed {
            model,
            drift,
            diffusion,
            structure,
        }
    }
    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }
}

impl<D: Drift, S: Diffusion> Sde for Composed<D, S> {
    fn dim(&self) -> usize {
        self.model.dim()
    }
    fn noise_dim(&self) -> usize {
        self.model.columns()
    }
    fn structure(&self) -> NoiseStructure {
        self.structure
    }
    fn is_affine(&self) -> bool {
        self.drift.is_affine(&self.model) && !self.diffusion.state_dependent(&self.model)
    }
    #[inline]
    fn drift(&self, x: &[f64], b: &mut [f64], ws: &mut Workspace) {
        self.drift.drift(&self.model, x, b, ws);
    }
    #[inline]
    fn diffusion(&self, x: &[f64], s: &mut [f64], ws: &mut Workspace) {
        self.diffusion.diffusion(&self.model, x, s, ws);
    }
    fn diffusion_jvp(&self, x: &[f64], u: &[f64], ds: &mut [f64], ws: &mut Workspace) {
        self.diffusion.diffusion_jvp(&self.model, x, u, ds, ws);
    }
    fn workspace(&self) -> Workspace {
        Workspace::for_model(&self.model)
    }
    fn notes(&self) -> Vec<String> {
        let mut n = self.drift.notes();
        n.extend(self.diffusion.notes());
        n
    }
}
