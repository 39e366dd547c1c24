//! When a saddle attracts USAM / SAM, and the discrete artefacts at an attracting saddle (math spec §4.3,
//! §4.4 Thm 1, oracles O3, O4, O12).

use super::{finite, non_negative, positive};
use crate::error::{Error, Result};
use statrs::function::gamma::ln_gamma;
use std::f64::consts::PI;

/// USAM (and Kim Thm 1) attraction threshold ρ* = 1/|λ₋| with λ₋ = min_j λ_j (O3): the saddle attracts
/// for ρ > ρ*. `None` when there is no negative eigenvalue (nothing to attract against: not a saddle).
/// Example: f = x² − y² gives 0.5; the Beale saddle (0, 1), λ = ±27.75, gives 0.036036.
pub fn usam_threshold(eigenvalues: &[f64]) -> Option<f64> {
    let lmin = eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
    (lmin < 0.0).then(|| 1.0 / lmin.abs())
}

/// Whether the linearised USAM flow ẋ = −(H + ρH²)x is attracting (O3): λ_j(1 + ρλ_j) > 0 for every j.
/// The marginal case λ(1+ρλ) = 0 (e.g. ρ = 0.5 on f = x² − y²) is not attracting; an empty spectrum is not
/// attracting either.
pub fn usam_attracting(eigenvalues: &[f64], rho: f64) -> bool {
    !eigenvalues.is_empty() && eigenvalues.iter().all(|&l| l * (1.0 + rho * l) > 0.0)
}

/// Time for the 1-D SAM flow along an unstable direction (λ = −a) to reach the saddle (O3):
/// |y|(t) = ρ − (ρ − |y0|)e^{at}, so t* = (1/a) ln(ρ/(ρ − |y0|)) for |y0| < ρ, and +∞ (the flow moves away)
/// for |y0| ≥ ρ. Example: a = 2, ρ = 0.5, y0 = 0.25 gives 0.346574. Errors: a ≤ 0, ρ ≤ 0.
pub fn sam_flow_hit_time(a: f64, rho: f64, y0: f64) -> Result<f64> {
    positive("a", a)?;
    positive("rho", rho)?;
    finite("y0", y0)?;
    let y = y0.abs();
    Ok(if y >= rho {
        f64::INFINITY
    } else {
        -(-y / rho).ln_1p() / a
    })
}

/// Amplitude of the discrete SAM 2-cycle along a λ > 0 direction at the saddle (O4):
/// x_{k+1} = x_k(1 − ηλ) − ηλρ sign(x_k) has the cycle |x| = ηλρ/(2 − ηλ). The same formula gives the
/// Euler chatter of S-SAM-ODE with step h = η (§5). Errors: η, λ, ρ not positive, or ηλ ≥ 2 (unstable).
pub fn sam_two_cycle_amplitude(eta: f64, lambda: f64, rho: f64) -> Result<f64> {
    positive("eta", eta)?;
    positive("lambda", lambda)?;
    non_negative("rho", rho)?;
    let el = eta * lambda;
    if el >= 2.0 {
        return Err(Error::invalid(
            "eta",
            eta,
            format!("ηλ = {el} must be < 2 for a 2-cycle to exist"),
        ));
    }
    Ok(el * rho / (2.0 - el))
}

/// Mini-batch SAM attraction threshold in 1-D under N3 (O12): linearising S-SAM-mb at 0 gives
/// b ≈ −λy(1 + ρλ√(2/π)/σ_B), so for λ = −a the saddle attracts iff σ_B < √(2/π) ρ a (i.e. the batch
/// size B > πσ₁²/(2ρ²a²)). Example: a = 2, ρ = 0.1 gives 0.159577.
pub fn minibatch_sam_threshold(a: f64, rho: f64) -> Result<f64> {
    positive("a", a)?;
    non_negative("rho", rho)?;
    Ok((2.0 / PI).sqrt() * rho * a)
}

/// Linear-response coefficient c_d of normalized mini-batch SAM with isotropic noise σ_B²I near a saddle
/// (§4.3): E[(g+ξ)/‖g+ξ‖] ≈ (c_d/σ_B) g with c_d = (1 − 1/d) Γ((d−1)/2) / (√2 Γ(d/2)) for d ≥ 2 and
/// c_1 = √(2/π). c_2 = 0.6267, c_10 = 0.3084. Errors: d = 0.
pub fn sam_response_coefficient(d: usize) -> Result<f64> {
    match d {
        0 => Err(Error::invalid("d", d, "dimension must be ≥ 1")),
        1 => Ok((2.0 / PI).sqrt()),
        _ => {
            let d = d as f64;
            Ok((1.0 - 1.0 / d) * (ln_gamma((d - 1.0) / 2.0) - ln_gamma(d / 2.0)).exp() / 2f64.sqrt())
        }
    }
}

/// Effective USAM radius of mini-batch SAM near a saddle (§4.3): ρ_eff = ρ c_d / σ_B (= ρ c_d √B/σ₁), with
/// c_d from [`sam_response_coefficient`]. A larger batch (smaller σ_B) gives a larger ρ_eff and stronger
/// attraction; the saddle attracts when ρ_eff > 1/|λ₋| (compare [`usam_threshold`]).
pub fn sam_effective_rho(rho: f64, sigma_b: f64, d: usize) -> Result<f64> {
    non_negative("rho", rho)?;
    positive("sigma_b", sigma_b)?;
    Ok(rho * sam_response_coefficient(d)? / sigma_b)
}
