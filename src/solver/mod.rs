//! Solvers: one step rule per file, each declaring its strong and weak order and the noise structures it
//! supports (math spec §5). A solver receives its Brownian increment ΔW ~ N(0, h I); it never sees a random
//! number generator, and its step allocates nothing. [`SolverKind`] is the model-file name of each; its
//! orders are the solvers' own declarations, so the convergence test can loop over them.

pub mod euler_maruyama;
pub mod milstein;

pub use euler_maruyama::EulerMaruyama;
pub use milstein::Milstein;

use crate::sde::{NoiseStructure, Sde, Workspace};
use serde::{Deserialize, Serialize};

/// The solvers, as spelled in model files (`[solver] kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SolverKind {
    /// Euler–Maruyama.
    EulerMaruyama,
    /// Milstein.
    Milstein,
}

impl SolverKind {
    /// Every solver.
    pub const ALL: [SolverKind; 2] = [SolverKind::EulerMaruyama, SolverKind::Milstein];
    /// Model-file spelling (the solver's [`Solver::NAME`]).
    pub fn name(self) -> &'static str {
        match self {
            SolverKind::EulerMaruyama => EulerMaruyama::NAME,
            SolverKind::Milstein => Milstein::NAME,
        }
    }
    /// The strong order the solver declares on noise of `structure` (Milstein with the Lévy-area opt-in where
    /// it needs it).
    pub fn strong_order(self, structure: NoiseStructure) -> f64 {
        match self {
            SolverKind::EulerMaruyama => EulerMaruyama.strong_order(structure),
            SolverKind::Milstein => Milstein {
                allow_dropping_areas: true,
            }
            .strong_order(structure),
        }
    }
}

/// Solver, step size and the Milstein opt-in, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolverSpec {
    /// Which solver.
    pub kind: SolverKind,
    /// Step dt > 0 (SDEs only; discrete optimizers step by η).
    pub dt: f64,
    /// Let Milstein run on non-commutative noise without Lévy areas (strong order ½).
    pub allow_dropping_areas: bool,
}

/// Buffers a solver needs, sized once per path for state dimension n and m noise columns.
#[derive(Debug, Clone)]
pub struct SolverScratch {
    /// Drift b (n).
    pub b: Vec<f64>,
    /// Diffusion σ (n×m).
    pub sigma: Vec<f64>,
    /// Derivative of σ (n×m).
    pub dsigma: Vec<f64>,
    /// Vector scratch (n).
    pub u: Vec<f64>,
    /// Accumulated correction (n).
    pub acc: Vec<f64>,
    /// Whether `sigma` holds the (constant) diffusion already.
    pub sigma_cached: bool,
}

impl SolverScratch {
    /// Buffers for state dimension n and m noise columns.
    pub fn new(n: usize, m: usize) -> Self {
        SolverScratch {
            b: vec![0.0; n],
            sigma: vec![0.0; n * m],
            dsigma: vec![0.0; n * m],
            u: vec![0.0; n],
            acc: vec![0.0; n],
            sigma_cached: false,
        }
    }
}

/// A one-step rule X(t+h) = Φ(X(t), h, ΔW).
pub trait Solver: Copy + Send + Sync + std::fmt::Debug {
    /// Name as in model files.
    const NAME: &'static str;
    /// Strong order for a given noise structure (what the method achieves, e.g. ½ for Milstein without
    /// Lévy areas on general noise).
    fn strong_order(&self, structure: NoiseStructure) -> f64;
    /// Weak order.
    fn weak_order(&self) -> f64 {
        1.0
    }
    /// Whether the solver runs this noise structure (Milstein on general noise only when areas may be dropped).
    fn supports(&self, structure: NoiseStructure) -> bool;
    /// One step of size h with increment `dw` (length m), in place.
    fn step<S: Sde + ?Sized>(
        &self,
        sde: &S,
        x: &mut [f64],
        h: f64,
        dw: &[f64],
        ws: &mut Workspace,
        sc: &mut SolverScratch,
    );
}

/// Fills `sc.sigma` with σ(x), or reuses it when the noise is additive and it was computed before.
#[inline]
pub(crate) fn load_sigma<S: Sde + ?Sized>(sde: &S, x: &[f64], ws: &mut Workspace, sc: &mut SolverScratch) {
    if !sc.sigma_cached {
        sde.diffusion(x, &mut sc.sigma, ws);
        sc.sigma_cached = sde.structure() == NoiseStructure::Additive;
    }
}
