//! Beale's function (math spec E1), the landscape of Kim et al.'s introductory figure.
//!
//! f(x, y) = (C1 − x + xy)² + (C2 − x + xy²)² + (C3 − x + xy³)² with C1 = 1.5, C2 = 2.25, C3 = 2.625.
//!
//! Writing rₖ = Cₖ + x(yᵏ − 1) for k = 1, 2, 3, f = Σₖ rₖ² and every derivative follows from the product rule:
//!
//! - ∇f = 2 Σₖ rₖ ∇rₖ with ∇rₖ = (yᵏ − 1, k x yᵏ⁻¹);
//! - ∇²f = 2 Σₖ (∇rₖ ∇rₖᵀ + rₖ ∇²rₖ) with ∇²rₖ = [[0, k yᵏ⁻¹], [k yᵏ⁻¹, k(k−1) x yᵏ⁻²]];
//! - dH\[u\] = 2 Σₖ (Rₖu ∇rₖᵀ + ∇rₖ (Rₖu)ᵀ + (∇rₖ·u) Rₖ + rₖ Tₖ\[u\]) with Rₖ = ∇²rₖ and
//!   Tₖ\[u\] = [[0, k(k−1) yᵏ⁻² u_y], [k(k−1) yᵏ⁻² u_y, k(k−1) yᵏ⁻² u_x + k(k−1)(k−2) x yᵏ⁻³ u_y]].
//!
//! Known points: the global minimum (3, ½) with f = 0 and the index-1 saddle (0, 1) with f = 14.203125 and
//! H = [[0, 27.75], [27.75, 0]]. Along the line x = 0 the function is constant, f(0, y) = C1² + C2² + C3².
//! A third critical point, an index-1 saddle near (0.1005, −2.6445) with f ≈ 9.8645, has no closed form;
//! [`find_all`](crate::model::critical::find_all) over [−4.5, 4.5]² finds it (and no others).

use super::Landscape;

/// C1 = 1.5 in f = (C1 − x + xy)² + (C2 − x + xy²)² + (C3 − x + xy³)².
pub const C1: f64 = 1.5;
/// C2 = 2.25 in f = (C1 − x + xy)² + (C2 − x + xy²)² + (C3 − x + xy³)².
pub const C2: f64 = 2.25;
/// C3 = 2.625 in f = (C1 − x + xy)² + (C2 − x + xy²)² + (C3 − x + xy³)².
pub const C3: f64 = 2.625;
/// The global minimum (x, y) = (3, ½), where f = 0.
pub const MINIMUM: [f64; 2] = [3.0, 0.5];
/// The index-1 saddle (x, y) = (0, 1), where f = C1² + C2² + C3² = 14.203125 and H = [[0, 27.75], [27.75, 0]].
pub const SADDLE: [f64; 2] = [0.0, 1.0];

/// Beale's function f(x, y) = (C1 − x + xy)² + (C2 − x + xy²)² + (C3 − x + xy³)² on ℝ², with C1 = 1.5,
/// C2 = 2.25, C3 = 2.625 (see [`C1`], [`C2`], [`C3`] and the module documentation for the derivatives).
#[derive(Debug, Clone, Copy, Default)]
pub struct Beale;

/// The residuals rₖ and their first three derivatives at (x, y), for k = 1, 2, 3 (index k − 1).
struct Terms {
    /// rₖ = Cₖ + x(yᵏ − 1).
    r: [f64; 3],
    /// ∂rₖ/∂x = yᵏ − 1.
    rx: [f64; 3],
    /// ∂rₖ/∂y = k x yᵏ⁻¹.
    ry: [f64; 3],
    /// ∂²rₖ/∂x∂y = k yᵏ⁻¹ (∂²rₖ/∂x² = 0).
    rxy: [f64; 3],
    /// ∂²rₖ/∂y² = k(k−1) x yᵏ⁻².
    ryy: [f64; 3],
    /// ∂³rₖ/∂x∂y² = k(k−1) yᵏ⁻² (∂³rₖ/∂x²∂y = ∂³rₖ/∂x³ = 0).
    rxyy: [f64; 3],
    /// ∂³rₖ/∂y³ = k(k−1)(k−2) x yᵏ⁻³.
    ryyy: [f64; 3],
}

impl Terms {
    #[inline]
    fn at(p: &[f64]) -> Self {
        let (x, y) = (p[0], p[1]);
        let c = [C1, C2, C3];
        // pw[j] = yʲ; negative powers only appear multiplied by a zero factor k(k−1)(k−2), so they are skipped.
        let pw = [1.0, y, y * y, y * y * y];
        let mut t = Terms {
            r: [0.0; 3],
            rx: [0.0; 3],
            ry: [0.0; 3],
            rxy: [0.0; 3],
            ryy: [0.0; 3],
            rxyy: [0.0; 3],
            ryyy: [0.0; 3],
        };
        for i in 0..3 {
            let k = (i + 1) as f64;
            t.r[i] = c[i] + x * (pw[i + 1] - 1.0);
            t.rx[i] = pw[i + 1] - 1.0;
            t.ry[i] = k * x * pw[i];
            t.rxy[i] = k * pw[i];
            if i >= 1 {
                t.rxyy[i] = k * (k - 1.0) * pw[i - 1];
                t.ryy[i] = x * t.rxyy[i];
            }
            if i >= 2 {
                t.ryyy[i] = k * (k - 1.0) * (k - 2.0) * x * pw[i - 2];
            }
        }
        t
    }
}

impl Landscape for Beale {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        let t = Terms::at(x);
        t.r.iter().map(|r| r * r).sum()
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        let t = Terms::at(x);
        let (mut gx, mut gy) = (0.0, 0.0);
        for k in 0..3 {
            gx += 2.0 * t.r[k] * t.rx[k];
            gy += 2.0 * t.r[k] * t.ry[k];
        }
        g[0] = gx;
        g[1] = gy;
    }
    fn hessian(&self, x: &[f64], h: &mut [f64]) {
        let t = Terms::at(x);
        let (mut hxx, mut hxy, mut hyy) = (0.0, 0.0, 0.0);
        for k in 0..3 {
            hxx += 2.0 * t.rx[k] * t.rx[k];
            hxy += 2.0 * (t.rx[k] * t.ry[k] + t.r[k] * t.rxy[k]);
            hyy += 2.0 * (t.ry[k] * t.ry[k] + t.r[k] * t.ryy[k]);
        }
        h[0] = hxx;
        h[1] = hxy;
        h[2] = hxy;
        h[3] = hyy;
    }
    fn third(&self, x: &[f64], u: &[f64], out: &mut [f64]) {
        let t = Terms::at(x);
        let (ux, uy) = (u[0], u[1]);
        let (mut txx, mut txy, mut tyy) = (0.0, 0.0, 0.0);
        for k in 0..3 {
            // ∇r = (a, b), R = [[0, c], [c, e]], Ru = (c u_y, c u_x + e u_y), ∇r·u.
            let (a, b, c, e) = (t.rx[k], t.ry[k], t.rxy[k], t.ryy[k]);
            let (rux, ruy) = (c * uy, c * ux + e * uy);
            let du = a * ux + b * uy;
            // T[u] = [[0, m u_y], [m u_y, m u_x + n u_y]] with m = ∂³r/∂x∂y², n = ∂³r/∂y³.
            let (m, n) = (t.rxyy[k], t.ryyy[k]);
            txx += 2.0 * (2.0 * rux * a);
            txy += 2.0 * (rux * b + a * ruy + du * c + t.r[k] * m * uy);
            tyy += 2.0 * (2.0 * ruy * b + du * e + t.r[k] * (m * ux + n * uy));
        }
        out[0] = txx;
        out[1] = txy;
        out[2] = txy;
        out[3] = tyy;
    }
    fn name(&self) -> &'static str {
        "beale"
    }
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        vec![("minimum".into(), MINIMUM.to_vec()), ("saddle".into(), SADDLE.to_vec())]
    }
}
