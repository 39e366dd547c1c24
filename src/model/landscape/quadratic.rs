//! The quadratic landscape f(x) = ½ (x−c)ᵀ H (x−c) (math spec O1, O3; covers f = x² − y² with H = diag(2, −2)).

use super::Landscape;
use crate::error::{Error, Result};

/// f(x) = ½ (x−c)ᵀ H (x−c) with a symmetric H of any dimension. ∇f = H(x−c), ∇²f = H, T = 0.
#[derive(Debug, Clone)]
pub struct Quadratic {
    h: Vec<f64>,
    center: Vec<f64>,
}

/// Relative asymmetry tolerated in H before it is rejected (rounding in a hand-typed matrix is not a user error).
const SYMMETRY_TOL: f64 = 1e-12;

impl Quadratic {
    /// From rows of H and the centre c (`None`: the origin). Rejects ragged, non-square, non-finite or
    /// non-symmetric H, and a centre of the wrong dimension.
    pub fn new(rows: &[Vec<f64>], center: Option<&[f64]>) -> Result<Self> {
        let d = rows.len();
        if d == 0 {
            return Err(Error::invalid(
                "landscape.hessian",
                "[]",
                "give a non-empty square matrix, e.g. [[1.0, 0.0], [0.0, -0.5]]",
            ));
        }
        let mut h = Vec::with_capacity(d * d);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != d {
                return Err(Error::Dimension {
                    key: format!("landscape.hessian[{i}]"),
                    expected: d,
                    found: r.len(),
                });
            }
            h.extend_from_slice(r);
        }
        if let Some(v) = h.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "landscape.hessian",
                v,
                "all entries must be finite numbers",
            ));
        }
        let scale = h.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
        for i in 0..d {
            for j in 0..i {
                if (h[i * d + j] - h[j * d + i]).abs() > SYMMETRY_TOL * scale {
                    return Err(Error::invalid(
                        "landscape.hessian",
                        format!("H[{i}][{j}] = {} but H[{j}][{i}] = {}", h[i * d + j], h[j * d + i]),
                        "the Hessian must be symmetric",
                    ));
                }
            }
        }
        let center = match center {
            None => vec![0.0; d],
            Some(c) if c.len() == d => c.to_vec(),
            Some(c) => {
                return Err(Error::Dimension {
                    key: "landscape.center".into(),
                    expected: d,
                    found: c.len(),
                });
            }
        };
        if let Some(v) = center.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "landscape.center",
                v,
                "all entries must be finite numbers",
            ));
        }
        Ok(Quadratic { h, center })
    }

    /// From H as a row-major `d×d` slice (e.g. read from a file) and the centre (`None`: the origin), with the
    /// checks of [`Quadratic::new`].
    pub fn from_matrix(h: &[f64], d: usize, center: Option<&[f64]>) -> Result<Self> {
        if d == 0 || h.len() != d * d {
            return Err(Error::Dimension {
                key: "landscape.hessian".into(),
                expected: d,
                found: (h.len() as f64).sqrt() as usize,
            });
        }
        let rows: Vec<Vec<f64>> = h.chunks(d).map(<[f64]>::to_vec).collect();
        Self::new(&rows, center)
    }

    /// Diagonal H = diag(λ), centred at the origin.
    pub fn diagonal(lambda: &[f64]) -> Result<Self> {
        let d = lambda.len();
        let rows: Vec<Vec<f64>> = (0..d)
            .map(|i| (0..d).map(|j| if i == j { lambda[i] } else { 0.0 }).collect())
            .collect();
        Self::new(&rows, None)
    }

    /// gᵢ = Σₖ Hᵢₖ(xₖ − cₖ) for d = `self.dim()` (a constant where inlined with one).
    #[inline(always)]
    fn gradient_in(&self, d: usize, x: &[f64], g: &mut [f64]) {
        for (i, gi) in g[..d].iter_mut().enumerate() {
            let row = &self.h[i * d..(i + 1) * d];
            *gi = row
                .iter()
                .zip(x[..d].iter().zip(&self.center[..d]))
                .map(|(h, (x, c))| h * (x - c))
                .sum();
        }
    }

    /// The centre c (the critical point).
    pub fn center(&self) -> &[f64] {
        &self.center
    }
}

impl Landscape for Quadratic {
    fn dim(&self) -> usize {
        self.center.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        let d = self.dim();
        let mut s = 0.0;
        for i in 0..d {
            let row = &self.h[i * d..(i + 1) * d];
            let hi: f64 = row
                .iter()
                .zip(x.iter().zip(&self.center))
                .map(|(h, (x, c))| h * (x - c))
                .sum();
            s += (x[i] - self.center[i]) * hi;
        }
        0.5 * s
    }
    #[inline]
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        self.gradient_in(self.dim(), x, g);
    }
    /// [`Landscape::gradient`] at every point, with the loops compiled for d ≤ 4 (same arithmetic).
    fn gradients(&self, xs: &[f64], gs: &mut [f64]) {
        #[inline(always)]
        fn each(q: &Quadratic, d: usize, xs: &[f64], gs: &mut [f64]) {
            for (x, g) in xs.chunks_exact(d).zip(gs.chunks_exact_mut(d)) {
                q.gradient_in(d, x, g);
            }
        }
        match self.dim() {
            1 => each(self, 1, xs, gs),
            2 => each(self, 2, xs, gs),
            3 => each(self, 3, xs, gs),
            4 => each(self, 4, xs, gs),
            d => each(self, d, xs, gs),
        }
    }
    fn hessian(&self, _x: &[f64], h: &mut [f64]) {
        h.copy_from_slice(&self.h);
    }
    fn third(&self, _x: &[f64], _u: &[f64], t: &mut [f64]) {
        t.fill(0.0);
    }
    /// H v, without copying H.
    fn hessian_vector(&self, _x: &[f64], v: &[f64], hv: &mut [f64]) {
        crate::linalg::matvec(&self.h, v, hv);
    }
    fn name(&self) -> &'static str {
        "quadratic"
    }
    fn constant_hessian(&self) -> Option<&[f64]> {
        Some(&self.h)
    }
    /// A quadratic with a diagonal Hessian is a sum of one-variable parabolas.
    fn separable(&self) -> bool {
        let d = self.dim();
        (0..d).all(|i| (0..d).all(|j| i == j || self.h[i * d + j] == 0.0))
    }
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        vec![("center".into(), self.center.clone())]
    }
}
