//! The double well f(x, y) = a(¼y⁴ − ½y²) + ½x² with depth a > 0 (default a = 1).
//!
//! ∇f = (x, a(y³ − y)), ∇²f = diag(1, a(3y² − 1)) and dH\[u\] = diag(0, 6a y u_y).
//! Critical points: the index-1 saddle (0, 0) with H = diag(1, −a) and f = 0, and the minima (0, ±1) with
//! H = diag(1, 2a) and f = −a/4.

use super::Landscape;
use crate::error::{Error, Result};

/// f(x, y) = a(¼y⁴ − ½y²) + ½x², a > 0: a saddle at the origin between the minima (0, ±1).
#[derive(Debug, Clone, Copy)]
pub struct DoubleWell {
    a: f64,
}

impl Default for DoubleWell {
    /// The standard well, a = 1: f = ¼y⁴ − ½y² + ½x².
    fn default() -> Self {
        DoubleWell { a: 1.0 }
    }
}

impl DoubleWell {
    /// f(x, y) = a(¼y⁴ − ½y²) + ½x². Rejects a that is not finite and positive (for a ≤ 0 the origin is no
    /// longer a saddle between two wells).
    pub fn new(a: f64) -> Result<Self> {
        if !(a.is_finite() && a > 0.0) {
            return Err(Error::invalid(
                "landscape.a",
                a,
                "the well depth a must be a finite number > 0 (a = 1 is the standard well)",
            ));
        }
        Ok(DoubleWell { a })
    }

    /// The depth parameter a.
    pub fn a(&self) -> f64 {
        self.a
    }
}

impl Landscape for DoubleWell {
    /// a(¼y⁴ − ½y²) + ½x²: a sum of one-variable terms.
    fn separable(&self) -> bool {
        true
    }
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, p: &[f64]) -> f64 {
        let (x, y) = (p[0], p[1]);
        let y2 = y * y;
        self.a * (0.25 * y2 * y2 - 0.5 * y2) + 0.5 * x * x
    }
    fn gradient(&self, p: &[f64], g: &mut [f64]) {
        let (x, y) = (p[0], p[1]);
        g[0] = x;
        g[1] = self.a * (y * y * y - y);
    }
    fn hessian(&self, p: &[f64], h: &mut [f64]) {
        let y = p[1];
        h[0] = 1.0;
        h[1] = 0.0;
        h[2] = 0.0;
        h[3] = self.a * (3.0 * y * y - 1.0);
    }
    fn third(&self, p: &[f64], u: &[f64], t: &mut [f64]) {
        t[0] = 0.0;
        t[1] = 0.0;
        t[2] = 0.0;
        t[3] = 6.0 * self.a * p[1] * u[1];
    }
    fn name(&self) -> &'static str {
        "double_well"
    }
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        vec![
            ("saddle".into(), vec![0.0, 0.0]),
            ("minimum +".into(), vec![0.0, 1.0]),
            ("minimum -".into(), vec![0.0, -1.0]),
        ]
    }
}
