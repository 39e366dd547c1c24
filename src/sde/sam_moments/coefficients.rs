//! ε and the SDE coefficients (see the module docs of [`super`]).

use super::*;

/// Bounds on the effect of the optimizer's ε (u_ε = w/(‖w‖ + ε)) on the moments; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpsEffect {
    /// Bound on E\[δ\], δ = ε/(‖w‖ + ε) = ‖u − u_ε‖.
    pub e_delta: f64,
    /// ‖E\[u\] − E\[u_ε\]‖ ≤ E\[δ\].
    pub mean: f64,
    /// ‖E\[uuᵀ\] − E\[u_εu_εᵀ\]‖₂ ≤ 2 E\[δ\].
    pub second: f64,
    /// ‖Cov(u) − Cov(u_ε)‖₂ ≤ 4 E\[δ\].
    pub cov_u: f64,
    /// ‖E\[uξᵀ\] − E\[u_εξᵀ\]‖₂ ≤ ε + ‖g‖ E\[δ\].
    pub cross: f64,
}

/// ε-effect bound. `inv_norm_mean` = E\[1/‖w‖\] (from [`DirectionMoments::inv_norm_mean`]; +∞ allowed),
/// `sigma_max` = √λ_max(Σ), `g_norm` = ‖g‖. `E[δ] ≤ min(1, ε E[1/‖w‖], (ε/σ₁)(√(2/π) ln(1 + σ₁/ε) + 1))`;
/// for Σ = 0 it is the exact ε/(‖g‖ + ε). The drift error is then ≤ ρ‖H‖ · `mean`.
pub fn eps_effect(eps: f64, inv_norm_mean: f64, sigma_max: f64, g_norm: f64) -> EpsEffect {
    let eps = eps.abs();
    let mut e = 1.0f64;
    if inv_norm_mean.is_finite() {
        e = e.min(eps * inv_norm_mean);
    }
    if sigma_max > 0.0 {
        e = e.min(eps / sigma_max * (SQRT_2_OVER_PI * (sigma_max / eps).ln_1p() + 1.0));
    } else if g_norm > 0.0 {
        e = e.min(eps / (g_norm + eps));
    }
    if eps == 0.0 {
        e = 0.0;
    }
    EpsEffect {
        e_delta: e,
        mean: e,
        second: 2.0 * e,
        cov_u: 4.0 * e,
        cross: eps + g_norm * e,
    }
}

/// S-SAM-mb coefficients for a quadratic f (spec §4.3): with g = ∇f(x), Hessian H (row-major, symmetric),
/// batch-noise covariance Σ and the direction moments of w = g + ξ:
/// `mean = E[G] = g + ρ H m` (drift b = −mean) and
/// `cov = Cov[G] = Σ + ρ (H C + Cᵀ H) + ρ² H (P − m mᵀ) H` (σσᵀ = η cov). `scratch` needs ≥ d² entries.
#[allow(clippy::too_many_arguments)]
pub fn sam_mb_mean_cov(
    h: &[f64],
    sigma: &[f64],
    g: &[f64],
    rho: f64,
    mo: &DirectionMoments,
    mean: &mut [f64],
    cov: &mut [f64],
    scratch: &mut [f64],
) -> Result<(), MomentsError> {
    let d = mo.d;
    check_len("h", d * d, h.len())?;
    check_len("sigma", d * d, sigma.len())?;
    check_len("g", d, g.len())?;
    check_len("mean", d, mean.len())?;
    check_len("cov", d * d, cov.len())?;
    if scratch.len() < d * d {
        return Err(MomentsError::DimensionMismatch {
            what: "scratch",
            expected: d * d,
            got: scratch.len(),
        });
    }
    for i in 0..d {
        mean[i] = g[i] + rho * (0..d).map(|k| h[i * d + k] * mo.mean[k]).sum::<f64>();
    }
    // scratch = H (P − m mᵀ)
    for i in 0..d {
        for j in 0..d {
            scratch[i * d + j] = (0..d)
                .map(|k| h[i * d + k] * (mo.second[k * d + j] - mo.mean[k] * mo.mean[j]))
                .sum();
        }
    }
    for i in 0..d {
        for j in 0..d {
            let hvh: f64 = (0..d).map(|k| scratch[i * d + k] * h[k * d + j]).sum();
            let hc: f64 = (0..d).map(|k| h[i * d + k] * mo.cross[k * d + j]).sum();
            let hc_t: f64 = (0..d).map(|k| h[j * d + k] * mo.cross[k * d + i]).sum();
            cov[i * d + j] = sigma[i * d + j] + rho * (hc + hc_t) + rho * rho * hvh;
        }
    }
    Ok(())
}
