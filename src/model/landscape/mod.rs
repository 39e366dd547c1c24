//! Loss landscapes f: ℝᵈ → ℝ with exact derivatives (math spec §1).
//!
//! Every landscape gives the value f, the gradient g = ∇f, the Hessian H = ∇²f and the third-derivative
//! contraction dH\[u\] = T\[·,·,u\] (the directional derivative of the Hessian), which Milstein and the
//! ∇tr Σ_B term of S-USAM need. Matrices are row-major `d×d` slices (see [`crate::linalg`]).
//! Implementations must not allocate in these methods: they run inside the per-step loop.

pub mod beale;
pub mod double_well;
pub mod expression;
pub mod mlp;
pub mod monkey_saddle;
pub mod quadratic;
pub mod toy_network;

pub use beale::Beale;
pub use double_well::DoubleWell;
pub use expression::Expression;
pub use mlp::Mlp;
pub use monkey_saddle::MonkeySaddle;
pub use quadratic::Quadratic;
pub use toy_network::ToyNetwork;

use std::fmt::Debug;
use std::sync::Arc;

/// A twice (thrice) differentiable loss.
pub trait Landscape: Send + Sync + Debug {
    /// Dimension d of the parameter x.
    fn dim(&self) -> usize;
    /// f(x).
    fn value(&self, x: &[f64]) -> f64;
    /// g = ∇f(x), written into `g` (length d).
    fn gradient(&self, x: &[f64], g: &mut [f64]);
    /// ∇f at each of the points `xs` (row-major, n×d), written row-major into `gs` (n×d): the same values as
    /// [`Landscape::gradient`] point by point (the default), in one call (landscapes may override it with a
    /// loop that inlines the gradient, e.g. [`Quadratic`]).
    fn gradients(&self, xs: &[f64], gs: &mut [f64]) {
        let d = self.dim();
        for (x, g) in xs.chunks_exact(d).zip(gs.chunks_exact_mut(d)) {
            self.gradient(x, g);
        }
    }
    /// H = ∇²f(x), written row-major into `h` (length d²).
    fn hessian(&self, x: &[f64], h: &mut [f64]);
    /// dH\[u\] = Σ_k ∂_k H(x) u_k = T[·,·,u], written row-major into `t` (length d²).
    fn third(&self, x: &[f64], u: &[f64], t: &mut [f64]);
    /// H(x) v, written into `hv` (length d). Default: the full Hessian times v, which allocates d² numbers per
    /// call; landscapes whose Hessian is expensive (e.g. [`Mlp`], by Pearlmutter's R-operator) or that hold it
    /// (e.g. [`Quadratic`]) override it, so that Krylov methods ([`crate::model::krylov`]) work in high dimension.
    fn hessian_vector(&self, x: &[f64], v: &[f64], hv: &mut [f64]) {
        let d = self.dim();
        let mut h = vec![0.0; d * d];
        self.hessian(x, &mut h);
        crate::linalg::matvec(&h, v, hv);
    }
    /// Short name, as in model files (`quadratic`, `beale`, …).
    fn name(&self) -> &'static str;
    /// Names of the coordinates, for axis labels and CSV headers. Default: x, y for d = 2; x0, x1, … otherwise.
    fn variable_names(&self) -> Vec<String> {
        default_names(self.dim())
    }
    /// Whether f = Σᵢ fᵢ(xᵢ) + c: the Hessian is diagonal everywhere and ∂ᵢ∂ᵢf depends on xᵢ alone. Then the N1
    /// noise factor and USAM's diffusion are diagonal with σᵢᵢ a function of xᵢ (diagonal, commutative noise:
    /// Milstein has strong order 1 without Lévy areas). Default `false` (not known to be separable).
    fn separable(&self) -> bool {
        false
    }
    /// `Some(H)` when the Hessian does not depend on x (quadratic f); lets dynamics precompute linear forms.
    fn constant_hessian(&self) -> Option<&[f64]> {
        None
    }
    /// The finite-sum structure f = (1/N) Σ fᵢ, when the landscape has one (noise model N2 keeps this handle).
    fn finite_sum(self: Arc<Self>) -> Option<Arc<dyn FiniteSum>> {
        None
    }
    /// Points of interest known in closed form (minima and saddles), as (label, x). Used as Newton starts
    /// and as default basins; [`crate::model::critical`] classification decides what they are.
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        Vec::new()
    }
}

/// A loss that is an average of per-sample losses, f = (1/N) Σᵢ fᵢ (noise model N2).
pub trait FiniteSum: Send + Sync + Debug {
    /// N, the number of samples.
    fn samples(&self) -> usize;
    /// ∇fᵢ(x).
    fn sample_gradient(&self, i: usize, x: &[f64], g: &mut [f64]);
    /// ∇²fᵢ(x), row-major.
    fn sample_hessian(&self, i: usize, x: &[f64], h: &mut [f64]);
    /// Whether every ∇²fᵢ equals ∇²f at every x (fᵢ = f + an affine function of x). Then each ∇fᵢ − g is
    /// constant, so N2's factor and Σ_B are constant: S-SGD1's noise is additive and the Milstein terms
    /// L^{i}σ_j = (η/(NB))(H_j − H)(∇f_i − g) all vanish (math spec §5, N2 row). Default `false` (not known).
    fn equal_sample_hessians(&self) -> bool {
        false
    }
}

/// x, y for d = 2, x for d = 1; x0, x1, … otherwise.
pub fn default_names(d: usize) -> Vec<String> {
    match d {
        1 => vec!["x".into()],
        2 => vec!["x".into(), "y".into()],
        _ => (0..d).map(|i| format!("x{i}")).collect(),
    }
}
