//! Support of the AMS tests and benchmark: hand-written Euler–Maruyama processes (independent of the
//! project's steppers) and the exact 1-D first-passage values of spec O6 from `theory::first_passage`.
#![allow(dead_code)]

use samsde::ams::Process;
use samsde::brownian::{PathRng, fill_normals};
use samsde::theory::first_passage::{DEFAULT_GRID, LeftBoundary, exit_probability_right, mfpt_piecewise};

/// dY = b(Y) dt + σ(Y) dW (Itô), Euler–Maruyama with step dt, started at y0.
pub struct Em1d<B, S> {
    pub drift: B,
    pub sigma: S,
    pub y0: f64,
    pub dt: f64,
    pub sqdt: f64,
}

impl<B: Fn(f64) -> f64 + Sync, S: Fn(f64) -> f64 + Sync> Em1d<B, S> {
    pub fn new(drift: B, sigma: S, y0: f64, dt: f64) -> Self {
        Em1d {
            drift,
            sigma,
            y0,
            dt,
            sqdt: dt.sqrt(),
        }
    }
}

impl<B: Fn(f64) -> f64 + Sync, S: Fn(f64) -> f64 + Sync> Process for Em1d<B, S> {
    type State = f64;
    type Scratch = ();
    fn scratch(&self) {}
    fn start(&self, _rng: &mut PathRng) -> f64 {
        self.y0
    }
    #[inline]
    fn step(&self, y: &mut f64, rng: &mut PathRng, _: &mut ()) {
        let mut z = [0.0];
        fill_normals(rng, &mut z);
        *y += (self.drift)(*y) * self.dt + (self.sigma)(*y) * self.sqdt * z[0];
    }
    fn time_step(&self) -> f64 {
        self.dt
    }
}

/// dX = b(X) dt + s dW in 2-D (additive isotropic noise), Euler–Maruyama, started at x0.
pub struct Em2d<B> {
    pub drift: B,
    pub s: f64,
    pub x0: [f64; 2],
    pub dt: f64,
}

impl<B: Fn([f64; 2]) -> [f64; 2] + Sync> Process for Em2d<B> {
    type State = [f64; 2];
    type Scratch = ();
    fn scratch(&self) {}
    fn start(&self, _rng: &mut PathRng) -> [f64; 2] {
        self.x0
    }
    #[inline]
    fn step(&self, x: &mut [f64; 2], rng: &mut PathRng, _: &mut ()) {
        let b = (self.drift)(*x);
        let sq = self.s * self.dt.sqrt();
        let mut z = [0.0; 2];
        fill_normals(rng, &mut z);
        for i in 0..2 {
            x[i] += b[i] * self.dt + sq * z[i];
        }
    }
    fn time_step(&self) -> f64 {
        self.dt
    }
}

/// Double well f = −y²/2 + y⁴/4 (O8, O10): drift −f'(y) = y − y³.
pub fn double_well_drift(y: f64) -> f64 {
    y - y * y * y
}

/// USAM drift of O9: −F'(y), F = f + (ρ/2) f'², F' = f'(1 + ρ f'').
pub fn usam_drift(rho: f64) -> impl Fn(f64) -> f64 + Sync + Copy {
    move |y: f64| {
        let fp = y * y * y - y;
        let fpp = 3.0 * y * y - 1.0;
        -(fp * (1.0 + rho * fpp))
    }
}

/// O10 noise: σ²(y) = 0.1 for y < −0.5, 0.05 for y ≥ −0.5.
pub fn o10_sigma(y: f64) -> f64 {
    if y < -0.5 { 0.1f64.sqrt() } else { 0.05f64.sqrt() }
}

/// Exact MFPT (spec O6, reflecting at l, absorbing at r) of the Itô diffusion dY = b dt + σ dW from x0;
/// `breaks`: points where b or σ² jump.
pub fn exact_mfpt(b: impl Fn(f64) -> f64, s2: impl Fn(f64) -> f64, l: f64, r: f64, x0: f64, breaks: &[f64]) -> f64 {
    mfpt_piecewise(b, s2, l, r, x0, LeftBoundary::Reflecting, breaks, DEFAULT_GRID).expect("valid problem")
}

/// Exact P(hit r before l | x0) = (S(x0) − S(l))/(S(r) − S(l)) (spec O6).
pub fn exact_exit_probability(b: impl Fn(f64) -> f64, s2: impl Fn(f64) -> f64, l: f64, r: f64, x0: f64) -> f64 {
    exit_probability_right(b, s2, l, r, x0, DEFAULT_GRID).expect("valid problem")
}
