//! The adapter that lets AMS drive any [`Stepper`] of the project (an SDE with its solver, a fast path, a
//! discrete optimizer): the state is the stepper's state vector (position, then velocity with momentum), a
//! step is [`Stepper::step`], and a start is the plan's start plus the isotropic Gaussian spread on the
//! position, drawn as a path of the ensemble draws it (d normals from the path's generator).
//!
//! AMS replays stored paths from (state, generator) checkpoints, so the step must be a deterministic function
//! of the state and the generator: [`stepper::Scratch`](crate::stepper::Scratch) only caches (σ(x) for the
//! Brownian-bridge correction, workspaces), which is fine.

use super::Process;
use crate::brownian::{PathRng, fill_normals};
use crate::stepper::{Scratch, Stepper};

/// A stepper seen as a Markov chain for AMS.
pub struct StepperProcess<'a, S: ?Sized> {
    stepper: &'a S,
    start: &'a [f64],
    spread: f64,
}

impl<'a, S: Stepper + ?Sized> StepperProcess<'a, S> {
    /// Paths of `stepper` from `start` (the position) plus N(0, spread²·I) on the position (spread ≥ 0).
    pub fn new(stepper: &'a S, start: &'a [f64], spread: f64) -> Self {
        debug_assert_eq!(start.len(), stepper.position_dim());
        StepperProcess { stepper, start, spread }
    }
}

impl<S: Stepper + ?Sized> Process for StepperProcess<'_, S> {
    type State = Vec<f64>;
    type Scratch = Scratch;

    fn scratch(&self) -> Scratch {
        self.stepper.scratch()
    }

    fn start(&self, rng: &mut PathRng) -> Vec<f64> {
        let d = self.start.len();
        let mut x = vec![0.0; self.stepper.dim()];
        x[..d].copy_from_slice(self.start);
        if self.spread > 0.0 {
            let mut z = vec![0.0; d];
            fill_normals(rng, &mut z);
            for (xi, zi) in x.iter_mut().zip(&z) {
                *xi += self.spread * zi;
            }
        }
        x
    }

    #[inline]
    fn step(&self, x: &mut Vec<f64>, rng: &mut PathRng, scratch: &mut Scratch) {
        self.stepper.step(x, rng, scratch);
    }

    fn time_step(&self) -> f64 {
        self.stepper.dt()
    }
}
