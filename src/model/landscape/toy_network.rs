//! The E3 candidate toy network (math spec E3; chosen for this project, not taken from Kim et al.):
//! one hidden neuron with linear layers, fᵢ(u, w) = ½(u w xᵢ − yᵢ)², i = 1..N, f = (1/N) Σᵢ fᵢ.
//!
//! With p = uw, v = (w, u) = ∇p and J = [[0, 1], [1, 0]] = ∇²p:
//!
//! - per sample, with rᵢ = p xᵢ − yᵢ: ∇fᵢ = rᵢ xᵢ v and ∇²fᵢ = xᵢ² v vᵀ + rᵢ xᵢ J;
//! - the mean, with the sample moments Sxx = mean(x²), Sxy = mean(xy), Syy = mean(y²):
//!   f = ½(p² Sxx − 2p Sxy + Syy), ∇f = s v with s = p Sxx − Sxy, ∇²f = Sxx v vᵀ + s J, and
//!   dH\[δ\] = Sxx (Jδ vᵀ + v (Jδ)ᵀ + (v·δ) J) (because dv = Jδ and ds = Sxx v·δ).
//!
//! The origin is a saddle with H = [[0, −Sxy], [−Sxy, 0]] (λ = ±Sxy, ≈ ±teacher for large N) at which the
//! per-sample gradients all vanish, so the N2 gradient noise vanishes too (a "Type-II" saddle). The minima
//! form the hyperbola u w = Sxy/Sxx (= teacher exactly, since yᵢ = teacher · xᵢ).

use super::{FiniteSum, Landscape};
use crate::error::{Error, Result};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use std::sync::Arc;

/// fᵢ(u, w) = ½(u w xᵢ − yᵢ)² with inputs xᵢ ~ N(0, 1) drawn from a seed and targets yᵢ = teacher · xᵢ;
/// f = (1/N) Σᵢ fᵢ. See the module documentation for the derivatives.
#[derive(Debug, Clone)]
pub struct ToyNetwork {
    xs: Vec<f64>,
    ys: Vec<f64>,
    teacher: f64,
    /// Sxx = (1/N) Σ xᵢ².
    sxx: f64,
    /// Sxy = (1/N) Σ xᵢ yᵢ.
    sxy: f64,
    /// Syy = (1/N) Σ yᵢ².
    syy: f64,
}

impl ToyNetwork {
    /// N = `samples` inputs xᵢ ~ N(0, 1) drawn in order from `Xoshiro256PlusPlus::seed_from_u64(seed)`, and
    /// targets yᵢ = `teacher` · xᵢ (the spec's candidate uses teacher = 1). Rejects `samples` = 0 and a
    /// non-finite teacher.
    pub fn new(samples: usize, teacher: f64, seed: u64) -> Result<Self> {
        if samples == 0 {
            return Err(Error::invalid(
                "landscape.samples",
                samples,
                "the toy network needs at least 1 sample (e.g. samples = 64)",
            ));
        }
        if !teacher.is_finite() {
            return Err(Error::invalid(
                "landscape.teacher",
                teacher,
                "the teacher weight must be a finite number (e.g. 1.0)",
            ));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let xs: Vec<f64> = (0..samples).map(|_| rng.sample(StandardNormal)).collect();
        let ys: Vec<f64> = xs.iter().map(|x| teacher * x).collect();
        let n = samples as f64;
        let sxx = xs.iter().map(|x| x * x).sum::<f64>() / n;
        let sxy = xs.iter().zip(&ys).map(|(x, y)| x * y).sum::<f64>() / n;
        let syy = ys.iter().map(|y| y * y).sum::<f64>() / n;
        Ok(ToyNetwork {
            xs,
            ys,
            teacher,
            sxx,
            sxy,
            syy,
        })
    }

    /// The inputs xᵢ.
    pub fn inputs(&self) -> &[f64] {
        &self.xs
    }

    /// The targets yᵢ = teacher · xᵢ.
    pub fn targets(&self) -> &[f64] {
        &self.ys
    }

    /// The teacher weight.
    pub fn teacher(&self) -> f64 {
        self.teacher
    }

    /// m = Sxy = mean(xᵢ yᵢ): the saddle at the origin has H = [[0, −m], [−m, 0]], eigenvalues ±m.
    pub fn saddle_coupling(&self) -> f64 {
        self.sxy
    }

    /// p* = Sxy / Sxx = mean(xy)/mean(x²): the minima are the hyperbola u w = p*. Infinite or NaN only in the
    /// measure-zero case that every drawn xᵢ is 0.
    pub fn optimal_product(&self) -> f64 {
        self.sxy / self.sxx
    }

    /// fᵢ(u, w) = ½(u w xᵢ − yᵢ)². Panics if i ≥ N (an index, not user input).
    pub fn sample_value(&self, i: usize, p: &[f64]) -> f64 {
        let r = p[0] * p[1] * self.xs[i] - self.ys[i];
        0.5 * r * r
    }
}

impl Landscape for ToyNetwork {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, p: &[f64]) -> f64 {
        let q = p[0] * p[1];
        0.5 * (q * q * self.sxx - 2.0 * q * self.sxy + self.syy)
    }
    fn gradient(&self, p: &[f64], g: &mut [f64]) {
        let (u, w) = (p[0], p[1]);
        let s = u * w * self.sxx - self.sxy;
        g[0] = s * w;
        g[1] = s * u;
    }
    fn hessian(&self, p: &[f64], h: &mut [f64]) {
        let (u, w) = (p[0], p[1]);
        let s = u * w * self.sxx - self.sxy;
        h[0] = self.sxx * w * w;
        h[1] = self.sxx * w * u + s;
        h[2] = h[1];
        h[3] = self.sxx * u * u;
    }
    fn third(&self, p: &[f64], d: &[f64], t: &mut [f64]) {
        // v = (w, u), Jδ = (δw, δu), dH[δ] = Sxx (Jδ vᵀ + v (Jδ)ᵀ + (v·δ) J).
        let (v0, v1) = (p[1], p[0]);
        let (j0, j1) = (d[1], d[0]);
        let vd = v0 * d[0] + v1 * d[1];
        t[0] = self.sxx * 2.0 * j0 * v0;
        t[1] = self.sxx * (j0 * v1 + v0 * j1 + vd);
        t[2] = t[1];
        t[3] = self.sxx * 2.0 * j1 * v1;
    }
    fn name(&self) -> &'static str {
        "toy_network"
    }
    fn variable_names(&self) -> Vec<String> {
        vec!["u".into(), "w".into()]
    }
    fn finite_sum(self: Arc<Self>) -> Option<Arc<dyn FiniteSum>> {
        Some(self)
    }
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        let mut pts = vec![("saddle".into(), vec![0.0, 0.0])];
        let q = self.optimal_product();
        if q.is_finite() && q != 0.0 {
            // The balanced minimum u = |w| on the hyperbola u w = p*.
            let a = q.abs().sqrt();
            pts.push(("minimum".into(), vec![a, a * q.signum()]));
        }
        pts
    }
}

impl FiniteSum for ToyNetwork {
    fn samples(&self) -> usize {
        self.xs.len()
    }
    /// ∇fᵢ = rᵢ xᵢ (w, u) with rᵢ = u w xᵢ − yᵢ. Panics if i ≥ N.
    fn sample_gradient(&self, i: usize, p: &[f64], g: &mut [f64]) {
        let (u, w) = (p[0], p[1]);
        let x = self.xs[i];
        let c = (u * w * x - self.ys[i]) * x;
        g[0] = c * w;
        g[1] = c * u;
    }
    /// ∇²fᵢ = xᵢ² (w, u)(w, u)ᵀ + rᵢ xᵢ [[0, 1], [1, 0]]. Panics if i ≥ N.
    fn sample_hessian(&self, i: usize, p: &[f64], h: &mut [f64]) {
        let (u, w) = (p[0], p[1]);
        let x = self.xs[i];
        let x2 = x * x;
        let c = (u * w * x - self.ys[i]) * x;
        h[0] = x2 * w * w;
        h[1] = x2 * w * u + c;
        h[2] = h[1];
        h[3] = x2 * u * u;
    }
    /// ∇²fᵢ = xᵢ² v vᵀ + (p xᵢ² − xᵢ yᵢ) J depends on i only through xᵢ² and xᵢ yᵢ: the sample Hessians are
    /// all equal iff those are (e.g. N = 1, or inputs ±a; the noise then vanishes).
    fn equal_sample_hessians(&self) -> bool {
        let (x0, y0) = (self.xs[0], self.ys[0]);
        self.xs
            .iter()
            .zip(&self.ys)
            .all(|(x, y)| x * x == x0 * x0 && x * y == x0 * y0)
    }
}
