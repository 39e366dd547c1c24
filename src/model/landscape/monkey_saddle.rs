//! The monkey saddle f(x, y) = x³ − 3xy², a degenerate critical point at the origin (H(0) = 0).
//!
//! ∇f = (3x² − 3y², −6xy), ∇²f = [[6x, −6y], [−6y, −6x]] and, since f is cubic, the third-derivative
//! contraction dH\[u\] = [[6u_x, −6u_y], [−6u_y, −6u_x]] does not depend on the point.

use super::Landscape;

/// f(x, y) = x³ − 3xy²: the only critical point is the origin, where the Hessian vanishes (three descending
/// valleys, so neither a minimum nor a non-degenerate saddle). A test case for degenerate classification.
#[derive(Debug, Clone, Copy, Default)]
pub struct MonkeySaddle;

impl Landscape for MonkeySaddle {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, p: &[f64]) -> f64 {
        let (x, y) = (p[0], p[1]);
        x * x * x - 3.0 * x * y * y
    }
    fn gradient(&self, p: &[f64], g: &mut [f64]) {
        let (x, y) = (p[0], p[1]);
        g[0] = 3.0 * (x * x - y * y);
        g[1] = -6.0 * x * y;
    }
    fn hessian(&self, p: &[f64], h: &mut [f64]) {
        let (x, y) = (p[0], p[1]);
        h[0] = 6.0 * x;
        h[1] = -6.0 * y;
        h[2] = -6.0 * y;
        h[3] = -6.0 * x;
    }
    fn third(&self, _p: &[f64], u: &[f64], t: &mut [f64]) {
        t[0] = 6.0 * u[0];
        t[1] = -6.0 * u[1];
        t[2] = -6.0 * u[1];
        t[3] = -6.0 * u[0];
    }
    fn name(&self) -> &'static str {
        "monkey_saddle"
    }
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        vec![("degenerate saddle".into(), vec![0.0, 0.0])]
    }
}
