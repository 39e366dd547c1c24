//! Eyring–Kramers and Laplace asymptotics of escape times over a barrier (math spec O8, O9, O10).
//!
//! For dX = −∇U(X) dt + s dW (constant noise, ε = s²/2) the mean transition time from a minimum m over an
//! index-1 saddle z is
//!
//! τ ≈ (2π/|λ₋(z)|) √(|det ∇²U(z)| / det ∇²U(m)) · e^{2ΔU/s²},  ΔU = U(z) − U(m),
//!
//! and the MFPT from m to the saddle itself is ≈ τ/2 (half the paths that reach z fall back). In 1-D the
//! prefactor is 2π/√(U''(m)|U''(z)|). The USAM drift is a gradient, so U = f + (ρ/2)‖∇f‖² applies; for
//! full-batch SAM, U = f + ρ‖∇f‖ (O8).

use super::{finite, positive, square};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::f64::consts::PI;

/// 1-D Kramers transition time τ = 2π/√(U''(m)|U''(z)|) · e^{2ΔU/s²} (O8, O9).
///
/// `u2_min` = U''(m) > 0, `u2_saddle` = U''(z) < 0, `delta_u` = U(z) − U(m), `s2` = s² > 0. For the MFPT
/// from m to z use τ/2; for O9's symmetric trap (two saddles ±y_s) the mean exit time is also τ/2.
pub fn kramers_time_1d(u2_min: f64, u2_saddle: f64, delta_u: f64, s2: f64) -> Result<f64> {
    positive("u2_min", u2_min)?;
    if !(u2_saddle.is_finite() && u2_saddle < 0.0) {
        return Err(Error::invalid("u2_saddle", u2_saddle, "U'' at the saddle must be < 0"));
    }
    finite("delta_u", delta_u)?;
    positive("s2", s2)?;
    Ok(2.0 * PI / (u2_min * u2_saddle.abs()).sqrt() * (2.0 * delta_u / s2).exp())
}

/// Multi-d Eyring–Kramers time τ = (2π/|λ₋(z)|) √(|det ∇²U(z)|/det ∇²U(m)) · e^{2ΔU/s²} (O8).
///
/// `hess_min` must be positive definite and `hess_saddle` symmetric with exactly one negative eigenvalue
/// λ₋(z) (no zero eigenvalue); both are read through their lower triangles.
pub fn eyring_kramers_time(hess_min: &DMatrix<f64>, hess_saddle: &DMatrix<f64>, delta_u: f64, s2: f64) -> Result<f64> {
    let n = hess_min.nrows();
    if n == 0 {
        return Err(Error::invalid("hess_min", "[]", "give a non-empty square matrix"));
    }
    square("hess_min", hess_min, n)?;
    square("hess_saddle", hess_saddle, n)?;
    finite("delta_u", delta_u)?;
    positive("s2", s2)?;
    let em = hess_min.clone().symmetric_eigen().eigenvalues;
    if let Some(v) = em.iter().find(|v| **v <= 0.0) {
        return Err(Error::invalid(
            "hess_min",
            v,
            "the minimum's Hessian must be positive definite",
        ));
    }
    let ez = hess_saddle.clone().symmetric_eigen().eigenvalues;
    let neg: Vec<f64> = ez.iter().copied().filter(|v| *v < 0.0).collect();
    if neg.len() != 1 || ez.iter().any(|v| *v == 0.0) {
        return Err(Error::invalid(
            "hess_saddle",
            format!("eigenvalues {:?}", ez.as_slice()),
            "the saddle's Hessian must have exactly one negative and no zero eigenvalue (index-1 saddle)",
        ));
    }
    let det_z: f64 = ez.iter().product();
    let det_m: f64 = em.iter().product();
    Ok(2.0 * PI / neg[0].abs() * (det_z.abs() / det_m).sqrt() * (2.0 * delta_u / s2).exp())
}

/// MFPT(m → z) ≈ τ/2 with τ from [`eyring_kramers_time`] (O8).
pub fn eyring_kramers_mfpt(hess_min: &DMatrix<f64>, hess_saddle: &DMatrix<f64>, delta_u: f64, s2: f64) -> Result<f64> {
    Ok(0.5 * eyring_kramers_time(hess_min, hess_saddle, delta_u, s2)?)
}

/// 1-D Laplace escape time with position-dependent Itô noise D(y) = σ²(y)/2 (O10):
///
/// τ ≈ 2π √(D_z / (D_m U''(m) |U''(z)|)) · e^{E},  E = ∫_m^z U'(y)/D(y) dy = ∫_m^z 2U'/σ²,
///
/// where `exponent` is E (for constant noise E = 2ΔU/s² and this is [`kramers_time_1d`]). The prefactor
/// depends on the Fokker–Planck convention; this is the Itô one (O10: π e^{7.1875} = 4155.67).
pub fn laplace_escape_time_1d(u2_min: f64, u2_saddle: f64, d_min: f64, d_saddle: f64, exponent: f64) -> Result<f64> {
    positive("u2_min", u2_min)?;
    if !(u2_saddle.is_finite() && u2_saddle < 0.0) {
        return Err(Error::invalid("u2_saddle", u2_saddle, "U'' at the saddle must be < 0"));
    }
    positive("d_min", d_min)?;
    positive("d_saddle", d_saddle)?;
    finite("exponent", exponent)?;
    Ok(2.0 * PI * (d_saddle / (d_min * u2_min * u2_saddle.abs())).sqrt() * exponent.exp())
}

/// Xie–Sato–Sugiyama's SGD escape time as recalled in the spec (\[M\], O10):
/// τ = 2π(1/|H_b|) exp[(2BΔL/η)(s/H_a + (1−s)/|H_b|)], with the path factor s ∈ [0, 1].
///
/// Under Itô this prefactor is a factor 2 above the exact MFPT in O10's test case (8311.35 vs 4472.14),
/// whereas [`laplace_escape_time_1d`] gives 4155.67; the exponent is the robust part.
pub fn xie_escape_time(h_a: f64, h_b: f64, delta_l: f64, eta_over_b: f64, s: f64) -> Result<f64> {
    positive("h_a", h_a)?;
    if !(h_b.is_finite() && h_b != 0.0) {
        return Err(Error::invalid(
            "h_b",
            h_b,
            "the saddle curvature must be finite and non-zero",
        ));
    }
    finite("delta_l", delta_l)?;
    positive("eta_over_b", eta_over_b)?;
    if !(0.0..=1.0).contains(&s) {
        return Err(Error::invalid("s", s, "the path factor must be in [0, 1]"));
    }
    let hb = h_b.abs();
    Ok(2.0 * PI / hb * (2.0 * delta_l / eta_over_b * (s / h_a + (1.0 - s) / hb)).exp())
}
