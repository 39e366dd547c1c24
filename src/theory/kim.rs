//! Per-eigen-direction variance and mean-square displacement (MSD) from a quadratic saddle under N1 noise
//! (math spec §4.4, Kim et al. Thm 2, Cor. 1, Thm 3; oracle O2).
//!
//! Along an eigen-direction with Hessian eigenvalue λ, every model here is a scalar OU process
//! dZ = −α Z dt + √s dW, Z(0) = 0, so E Z(t)² = s (1 − e^{−2αt})/(2α) (= s t when α = 0):
//!
//! | model | α | s |
//! |---|---|---|
//! | SGD (ρ = 0) | λ | η\|λ\|/B |
//! | model K (Kim Thm 2) | λ(1+ρλ)² | η\|λ\|/B |
//! | S-USAM (exact under N3 with Σ_B = \|λ\|/B) | λ(1+ρλ) | η(1+ρλ)²\|λ\|/B |
//!
//! N1 is taken with c = 1, Σ_B = |H|/B; for another constant c pass B/c as `batch`. B is a real number
//! so that effective batch sizes are allowed.

use super::ou::LinearKind;
use super::{non_negative, positive};
use crate::error::{Error, Result};

/// s(1 − e^{−2αt})/(2α), continuous at α = 0 (where it is s t).
fn ou_var(alpha: f64, s: f64, t: f64) -> f64 {
    let x = -2.0 * alpha * t;
    if x == 0.0 { s * t } else { s * t * x.exp_m1() / x }
}

fn check(eta: f64, batch: f64, rho: f64, t: f64) -> Result<()> {
    positive("eta", eta)?;
    positive("batch", batch)?;
    non_negative("rho", rho)?;
    non_negative("t", t)
}

/// Kim et al. Thm 2 (as reported, \[S\]) for one eigen-direction λ ≠ 0:
///
/// σ²(t) = η|λ| / (2Bλ(1+ρλ)²) · [1 − exp(−2λ(1+ρλ)² t)],
///
/// which is exactly model K; ρ = 0 gives SGD. At λ = 0 or 1+ρλ = 0 the limit η|λ|t/B is returned.
pub fn kim_sigma2(lambda: f64, eta: f64, batch: f64, rho: f64, t: f64) -> Result<f64> {
    direction_variance(LinearKind::ModelK, lambda, eta, batch, rho, t)
}

/// E Z(t)² along one eigen-direction λ for SGD (`rho` ignored), model K or S-USAM (see the module table;
/// O2 columns SGD, model K, S-USAM).
pub fn direction_variance(kind: LinearKind, lambda: f64, eta: f64, batch: f64, rho: f64, t: f64) -> Result<f64> {
    super::finite("lambda", lambda)?;
    check(eta, batch, rho, t)?;
    let p = 1.0 + rho * lambda;
    let s0 = eta * lambda.abs() / batch;
    Ok(match kind {
        LinearKind::Sgd => ou_var(lambda, s0, t),
        LinearKind::ModelK => ou_var(lambda * p * p, s0, t),
        LinearKind::Usam => ou_var(lambda * p, s0 * p * p, t),
    })
}

/// MSD Δ(t) = E‖X(t) − d‖² = Σ_j σ_j²(t) over the Hessian eigenvalues (Kim Thm 2 for model K; the same
/// sum for SGD and S-USAM). Errors: no eigenvalues, non-finite ones, or bad η, B, ρ, t.
pub fn msd(kind: LinearKind, eigenvalues: &[f64], eta: f64, batch: f64, rho: f64, t: f64) -> Result<f64> {
    if eigenvalues.is_empty() {
        return Err(Error::invalid(
            "eigenvalues",
            "[]",
            "give at least one Hessian eigenvalue",
        ));
    }
    eigenvalues
        .iter()
        .map(|&l| direction_variance(kind, l, eta, batch, rho, t))
        .sum()
}

/// Kim et al. Cor. 1 (as reported, \[S\]), the small-t MSD gap for one direction:
/// Δ_SGD − Δ_SAM ≈ 2ηt²|λ|³ρ/B, valid for |λ|t ≪ 1 (O2 last column).
pub fn cor1_difference(lambda: f64, eta: f64, batch: f64, rho: f64, t: f64) -> Result<f64> {
    super::finite("lambda", lambda)?;
    check(eta, batch, rho, t)?;
    Ok(2.0 * eta * t * t * lambda.abs().powi(3) * rho / batch)
}

/// The exact O(t²) term of Δ_SGD − Δ_K for λ < 0 (§4.4): (2ρ|λ|³ − ρ²λ⁴) η t² / B. Its first-order term in
/// ρ is [`cor1_difference`].
pub fn model_k_difference_t2(lambda: f64, eta: f64, batch: f64, rho: f64, t: f64) -> Result<f64> {
    super::finite("lambda", lambda)?;
    check(eta, batch, rho, t)?;
    let a = lambda.abs();
    Ok((2.0 * rho * a.powi(3) - rho * rho * a.powi(4)) * eta * t * t / batch)
}

/// The leading (linear-in-t) term of Δ_SGD − Δ_USAM for λ < 0 (§4.4): (2ρ|λ| − ρ²λ²) η|λ| t / B.
pub fn usam_difference_t1(lambda: f64, eta: f64, batch: f64, rho: f64, t: f64) -> Result<f64> {
    super::finite("lambda", lambda)?;
    check(eta, batch, rho, t)?;
    let a = lambda.abs();
    Ok((2.0 * rho * a - rho * rho * a * a) * eta * a * t / batch)
}

/// Stationary variance along a stable direction λ > 0 (§4.4): SGD η/(2B), S-USAM η(1+ρλ)/(2B),
/// model K η/(2B(1+ρλ)²). Errors if λ ≤ 0 (no stationary law) or the model's rate is not positive.
pub fn stationary_variance(kind: LinearKind, lambda: f64, eta: f64, batch: f64, rho: f64) -> Result<f64> {
    positive("lambda", lambda)?;
    check(eta, batch, rho, 0.0)?;
    let p = 1.0 + rho * lambda;
    Ok(match kind {
        LinearKind::Sgd => eta / (2.0 * batch),
        LinearKind::Usam => eta * p / (2.0 * batch),
        LinearKind::ModelK => eta / (2.0 * batch * p * p),
    })
}

/// Kim et al. Thm 3 (as reported, \[S\]) with momentum γ ∈ [0, 1), one direction λ ≠ 0:
///
/// Δ = C₁(1 − e^{−C₂(1−γ)})² / ((1−γ)³B) + C₃(1 − e^{−C₄/(1−γ)}) / ((1−γ)B),
///
/// C₁ = η²|λ|/2, C₃ = η|λ|/(2λ(1+ρλ)²), C₄ = 2λ(1+ρλ)²t, and **C₂ = t/η**: the reported C₂ = η/t is taken
/// as a transcription slip (spec §4.5); with t/η this reproduces O11's "Thm 3" column (18.63, 1.634).
/// The second term is model K in the overdamped momentum form (S-HB-od, rate and noise scaled by 1/(1−γ)).
pub fn kim_thm3_msd(lambda: f64, eta: f64, batch: f64, rho: f64, gamma: f64, t: f64) -> Result<f64> {
    super::finite("lambda", lambda)?;
    check(eta, batch, rho, t)?;
    if !(0.0..1.0).contains(&gamma) {
        return Err(Error::invalid("gamma", gamma, "momentum must be in [0, 1)"));
    }
    let a = lambda.abs();
    let p = 1.0 + rho * lambda;
    let om = 1.0 - gamma;
    let c1 = eta * eta * a / 2.0;
    let c2 = t / eta;
    let first = c1 * (-(-c2 * om).exp_m1()).powi(2) / (om.powi(3) * batch);
    // C₃(1 − e^{−C₄/(1−γ)})/((1−γ)B) is the OU variance with rate λ(1+ρλ)²/(1−γ) and noise
    // η|λ|/((1−γ)²B) (model K in S-HB-od form); written that way it is continuous at λ(1+ρλ)² = 0.
    let second = ou_var(lambda * p * p / om, eta * a / (om * om * batch), t);
    Ok(first + second)
}
