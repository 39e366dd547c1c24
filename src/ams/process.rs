//! The adapter that lets AMS drive any [`Stepper`] of the project (an SDE with its solver, a fast path, a
//! discrete optimizer): the state is the stepper's state vector (position, then velocity with momentum), a
//! step is [`Stepper::step`], and a start is the plan's start plus the isotropic Gaussian spread on the
//! position, drawn as a path of the ensemble draws it (d normals from the path's generator).
//!
//! # Brownian-bridge exits
//!
//! With a region given ([`StepperProcess::with_bridge`]) the state carries one more entry, a flag set when
//! the path left the region *between* two steps: after each step that ends inside, the probability p that a
//! Brownian bridge between the two positions crossed the boundary (`Region::crossing_probability`, with the
//! stepper's variance rate normal to the face) is computed and, if p > 0, one uniform u is drawn from the
//! path's generator; u < p sets the flag, and [`super::ExitCoordinate::with_bridge_flag`] then reads the state
//! as exited. This is the correction the ensemble applies to its exits (`stepper::lanes`), drawn from the
//! path's own generator so that the extended chain stays a deterministic function of (state, generator), as
//! AMS replay requires. The exit is counted at the step's end (the ensemble counts t − dt/2). Discrete-time
//! dynamics have no bridge (their variance rate is `None`).
//!
//! AMS replays stored paths from (state, generator) checkpoints, so the step must be a deterministic function
//! of the state and the generator: [`stepper::Scratch`](crate::stepper::Scratch) only caches (σ(x) for the
//! Brownian-bridge correction, workspaces), which is fine.

use super::Process;
use crate::brownian::{PathRng, fill_normals, uniform};
use crate::model::Region;
use crate::stepper::{Scratch, Stepper};

/// A stepper seen as a Markov chain for AMS.
pub struct StepperProcess<'a, S: ?Sized> {
    stepper: &'a S,
    start: &'a [f64],
    spread: f64,
    bridge: Option<Region>,
}

/// Scratch of one worker: the stepper's, and the previous position and a direction for the bridge.
pub struct ProcessScratch {
    inner: Scratch,
    prev: Vec<f64>,
    dir: Vec<f64>,
}

impl<'a, S: Stepper + ?Sized> StepperProcess<'a, S> {
    /// Paths of `stepper` from `start` (the position) plus N(0, spread²·I) on the position (spread ≥ 0).
    pub fn new(stepper: &'a S, start: &'a [f64], spread: f64) -> Self {
        debug_assert_eq!(start.len(), stepper.position_dim());
        StepperProcess {
            stepper,
            start,
            spread,
            bridge: None,
        }
    }

    /// With the Brownian-bridge exit flag for `region` (see the module docs), if the stepper is a
    /// continuous-time one; the flag is state entry [`StepperProcess::flag_index`].
    pub fn with_bridge(mut self, region: &Region) -> Self {
        let probe = self.stepper.scratch();
        let d = self.stepper.position_dim();
        if self.stepper.bridge_variance(&vec![0.0; d], &probe).is_some() {
            self.bridge = Some(region.clone());
        }
        self
    }

    /// Index of the bridge flag in the state (`None` without the bridge).
    pub fn flag_index(&self) -> Option<usize> {
        self.bridge.as_ref().map(|_| self.stepper.dim())
    }
}

impl<S: Stepper + ?Sized> Process for StepperProcess<'_, S> {
    type State = Vec<f64>;
    type Scratch = ProcessScratch;

    fn scratch(&self) -> ProcessScratch {
        let d = self.stepper.position_dim();
        ProcessScratch {
            inner: self.stepper.scratch(),
            prev: vec![0.0; d],
            dir: vec![0.0; d],
        }
    }

    fn start(&self, rng: &mut PathRng) -> Vec<f64> {
        let d = self.start.len();
        let n = self.stepper.dim();
        let mut x = vec![0.0; n + usize::from(self.bridge.is_some())];
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
    fn step(&self, x: &mut Vec<f64>, rng: &mut PathRng, sc: &mut ProcessScratch) {
        let n = self.stepper.dim();
        let Some(region) = &self.bridge else {
            self.stepper.step(x, rng, &mut sc.inner);
            return;
        };
        let d = sc.prev.len();
        sc.prev.copy_from_slice(&x[..d]);
        self.stepper.step(&mut x[..n], rng, &mut sc.inner);
        if x[n] == 0.0 && region.inside(&x[..d]) {
            let (inner, stepper) = (&sc.inner, self.stepper);
            let p = region.crossing_probability(&sc.prev, &x[..d], stepper.dt(), &mut sc.dir, |u| {
                stepper.bridge_variance(u, inner).unwrap_or(0.0)
            });
            if p > 0.0 && uniform(rng) < p {
                x[n] = 1.0;
            }
        }
    }

    fn time_step(&self) -> f64 {
        self.stepper.dt()
    }
}
