//! A stepper advances one path by one step: an SDE with its solver ([`SdeStepper`]), a fixed-size fast path
//! ([`fixed`]), a discrete optimizer ([`discrete`]), or, in high dimension on a quadratic with constant
//! noise, the batched stepper ([`batch`]) whose `run_paths` advances a block's paths by matrix products. The ensemble only sees steppers. [`Stepper::run_paths`]
//! runs whole paths through the lane loop ([`lanes`]); being a default method, it is compiled for each
//! concrete stepper type, so that type's `step` (and `advance`) inline into the per-step loop behind one
//! virtual call per block of paths. `SdeStepper<Box<dyn Sde>, V>` (the general path) is one such type: its
//! loop is monomorphised over the solver, and the SDE's drift and diffusion are virtual calls.

pub mod batch;
pub mod discrete;
pub mod fixed;
pub mod fixed_sam;
pub mod kernel;
pub mod lanes;

pub use batch::Batched;
pub use discrete::{Discrete, DiscreteKind};
pub use fixed::FixedStepper;
pub use lanes::{PathJob, PathRecord, Plan, Schedule};

use crate::brownian::{self, PathRng};
use crate::sde::{Sde, Workspace};
use crate::solver::{Solver, SolverScratch};

/// Everything a path needs between steps, allocated once per path (the step itself never allocates).
#[derive(Debug, Clone)]
pub struct Scratch {
    /// Dynamics scratch.
    pub ws: Workspace,
    /// Solver scratch (holds σ(x) of the last step, used by the Brownian-bridge correction).
    pub sc: SolverScratch,
    /// Normals of the current step.
    pub z: Vec<f64>,
}

/// One step rule for one path.
pub trait Stepper: Send + Sync {
    /// State dimension n.
    fn dim(&self) -> usize;
    /// Leading entries of the state that are the position x.
    fn position_dim(&self) -> usize;
    /// Time per step: the solver's dt, or η for a discrete optimizer (t = kη).
    fn dt(&self) -> f64;
    /// Fresh scratch.
    fn scratch(&self) -> Scratch;
    /// Advances `x` by one step, drawing what it needs from the path's generator.
    fn step(&self, x: &mut [f64], rng: &mut PathRng, s: &mut Scratch);
    /// Variance per unit time of the position along the unit vector `dir` over the last step (dirᵀσσᵀdir,
    /// position rows), for the Brownian-bridge exit correction; `None` for discrete-time dynamics.
    fn bridge_variance(&self, dir: &[f64], s: &Scratch) -> Option<f64>;
    /// Takes up to `steps` steps, stopping after the first step that leaves a state entry non-finite or
    /// beyond `blowup` in absolute value; returns the number of steps taken. The default loops over
    /// [`Stepper::step`]; a stepper may override it with a tighter loop (same arithmetic, same draws).
    #[inline(always)]
    fn advance(&self, x: &mut [f64], rng: &mut PathRng, s: &mut Scratch, steps: usize, blowup: f64) -> usize {
        for k in 0..steps {
            self.step(x, rng, s);
            if !x.iter().all(|v| v.abs() <= blowup) {
                return k + 1;
            }
        }
        steps
    }
    /// Runs whole paths, `jobs\[i\]` into `records\[i\]` (the per-step loop is [`lanes::simulate`]; being a
    /// default method, it is compiled for each stepper type, so the step inlines into it).
    fn run_paths(&self, jobs: &[PathJob], records: &mut [PathRecord]) {
        lanes::simulate(self, jobs, records)
    }
}

/// An SDE integrated by a solver with step dt.
#[derive(Debug, Clone)]
pub struct SdeStepper<S, V> {
    sde: S,
    solver: V,
    dt: f64,
}

impl<S: Sde, V: Solver> SdeStepper<S, V> {
    /// Pairs an SDE with a solver and a step size.
    pub fn new(sde: S, solver: V, dt: f64) -> Self {
        SdeStepper { sde, solver, dt }
    }
    /// The SDE.
    pub fn sde(&self) -> &S {
        &self.sde
    }
}

impl<S: Sde, V: Solver> Stepper for SdeStepper<S, V> {
    fn dim(&self) -> usize {
        self.sde.dim()
    }
    fn position_dim(&self) -> usize {
        self.sde.position_dim()
    }
    fn dt(&self) -> f64 {
        self.dt
    }
    fn scratch(&self) -> Scratch {
        Scratch {
            ws: self.sde.workspace(),
            sc: SolverScratch::new(self.sde.dim(), self.sde.noise_dim()),
            z: vec![0.0; self.sde.noise_dim()],
        }
    }
    #[inline]
    fn step(&self, x: &mut [f64], rng: &mut PathRng, s: &mut Scratch) {
        brownian::fill_normals(rng, &mut s.z);
        let sq = self.dt.sqrt();
        for z in s.z.iter_mut() {
            *z *= sq;
        }
        self.solver.step(&self.sde, x, self.dt, &s.z, &mut s.ws, &mut s.sc);
    }
    fn bridge_variance(&self, dir: &[f64], s: &Scratch) -> Option<f64> {
        let m = self.sde.noise_dim();
        let mut v = 0.0;
        for j in 0..m {
            let c: f64 = dir.iter().enumerate().map(|(i, di)| di * s.sc.sigma[i * m + j]).sum();
            v += c * c;
        }
        Some(v)
    }
}
