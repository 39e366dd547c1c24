//! Gaussian moments of the mini-batch SAM ascent direction, for the weak-order-1 SDE of the SAM optimizer
//! (**S-SAM-mb**, math spec §4.3; 1-D oracle **O12**; issue 8).
//!
//! # The model
//! One SAM step under noise model N3 on a quadratic f uses the per-step gradient
//!
//! ```text
//! G(x, ξ) = g + ρ H u + ξ,   u = w/‖w‖,   w = g + ξ,   ξ ~ N(0, Σ),   g = ∇f(x)
//! ```
//!
//! (ε → 0 in the normalisation; see [`eps_effect`] for ε > 0). S-SAM-mb has drift `b = −E[G] = −(g + ρ H m)` and
//! diffusion `σσᵀ = η Cov[G] = η (Σ + ρ (H C + Cᵀ H) + ρ² H (P − m mᵀ) H)` with the three moments
//!
//! ```text
//! m = E[u] (d),   P = E[u uᵀ] (d×d),   C = E[u ξᵀ] (d×d, C_ij = E[u_i ξ_j]).
//! ```
//!
//! This module computes them deterministically (never by Monte Carlo) and [`sam_mb_mean_cov`] assembles E\[G\] and
//! Cov\[G\]. It uses only `std`: statrs 0.19.1's `erf`/`erfc` are off by ≈ 5e-11 (its interval constants are
//! Boost's `float` literals transcribed as decimals; fixed upstream in statrs PR #412), so erf is evaluated here
//! through Kummer's function ([`erf`]). Valid input never panics; invalid input gives [`MomentsError`]. Nothing
//! allocates after construction: tables and workspaces are built once, evaluations write into caller buffers.
//!
//! # Isotropic Σ = σ² I (any d ≥ 1): [`IsotropicMoments`], [`iso_exact`]
//! With `r = ‖g‖/σ`, `ĝ = g/‖g‖`, `ξ = σ z`, `x = r²/2`, `b = d/2 + 1` and Kummer's function
//! `M(a, b, −x) = ₁F₁(a; b; −x)`:
//!
//! ```text
//! E[u]     = m₁(r) ĝ,                              m₁ = r β(r)
//! E[u uᵀ]  = p(r) ĝĝᵀ + q(r) (I − ĝĝᵀ),            q = M(1, b, −x)/d,   p = 1 − (d−1) q
//! E[u zᵀ]  = α(r) ĝĝᵀ + β(r) (I − ĝĝᵀ),            α = c_d M(3/2, b, −x) = dm₁/dr,   β = c_d M(1/2, b, −x)
//! C = σ E[u zᵀ],   c_d = √2 Γ((d+1)/2) / (d Γ(d/2)) = (1 − 1/d) Γ((d−1)/2) / (√2 Γ(d/2))  (c₁ = √(2/π)).
//! ```
//!
//! Derivation: `‖w‖^{−2a} = Γ(a)^{−1} ∫₀^∞ s^{a−1} e^{−s‖w‖²} ds`, the Gaussian integrals
//! `E[e^{−s‖w‖²}] = det(I+2sΣ)^{−1/2} exp(−s gᵀ(I+2sΣ)^{−1}g)`, `E[w e^{−s‖w‖²}] = Z(s) (I+2sΣ)^{−1} g`,
//! `E[wwᵀ e^{−s‖w‖²}] = Z(s) [Σ(I+2sΣ)^{−1} + m(s)m(s)ᵀ]`, and for Σ = σ²I the substitution
//! `τ = 2sσ²/(1+2sσ²)` turn every moment into an Euler integral `∫₀¹ τ^{a−1}(1−τ)^{b−a−1} e^{−xτ} dτ`, e.g.
//! `m₁ = (r/√(2π)) ∫₀¹ τ^{−1/2}(1−τ)^{(d−1)/2} e^{−xτ} dτ` and `q = ½ ∫₀¹ (1−τ)^{d/2−1} e^{−xτ} dτ`.
//! Two identities tie the functions together: `∇_g E[u] = E[u ξᵀ] Σ^{−1}` (so α = m₁′ and β = m₁/r), and, for
//! d ≥ 2, Stein's lemma `E[u ξᵀ] = E[(I − uuᵀ)/‖w‖] Σ`, whose trace gives `E[1/‖w‖] = (α + (d−1)β)/((d−1)σ)`.
//! (Stein's form fails in d = 1, where u = sign(w) jumps at 0: `E[u z] = 2φ(r) = √(2/π)e^{−r²/2}` comes entirely
//! from the jump, and E\[1/|w|\] = ∞.)
//! Small r: `m₁ ≈ c_d r` (the spec's linear response, c₂ = 0.6267, c₁₀ = 0.3084, O12's √(2/π) for d = 1).
//! Large r: `m₁ = 1 − (d−1)/(2r²) + O(r⁻⁴)`, `β ≈ 1/r`, `α ≈ (d−1)/r³`, `q ≈ 1/r²`.
//!
//! **d = 1 reduces exactly** to the spec's closed forms (S-SAM-mb 1-D): `m₁ = c₁ r M(1/2, 3/2, −r²/2)` is
//! `erf(r/√2)` (an identity of Kummer's function), `p = 1` and `α = √(2/π) e^{−r²/2}` are set by their formulas
//! (q is set to 0: there is no direction ⟂ ĝ), so that
//! `b(y) = −λy − ρλ m(y)` and `σ² = η v(y)`, `v = σ_B² + ρ²λ²(1 − m²) + 2ρλσ_B √(2/π) e^{−λ²y²/(2σ_B²)}`.
//!
//! Derivatives in r (for Milstein's Dσ and for linearisation): `dm₁/dr = α`,
//! `dβ/dr = −r c_d/(2b) M(3/2, b+1, −x)`, `dα/dr = −3 r c_d/(2b) M(5/2, b+1, −x)`,
//! `dq/dr = −r/(d b) M(2, b+1, −x)`, `dp/dr = −(d−1) dq/dr`. The g-Jacobian of the drift follows from
//! `∂E[u]/∂g = C Σ^{−1} = (1/σ)[α ĝĝᵀ + β(I − ĝĝᵀ)]`.
//!
//! [`iso_exact`] evaluates M by Kummer's positive series `e^{−x} Σ_k (b−a)_k x^k/((b)_k k!)` for x ≤ 40 and,
//! beyond, by a trapezoidal rule in the logit variable of τ (see [`hyp1f1_neg`]); relative accuracy ≤ 5e-15
//! against mpmath, cost ≈ 40–60 µs for all ten functions. [`IsotropicMoments::new`] tabulates, once per run
//! (2–15 ms), the six functions
//! `M(a, b′, −x)·(1 + x/b)^{a}` (smooth and O(1) on all of x ∈ \[0, ∞)) in `t = x/(x + b) ∈ [0, 1)` with
//! piecewise Chebyshev series ([`TABLE_PANELS`] panels of degree [`TABLE_DEGREE`] − 1), which covers every
//! r ≥ 0 including the large-r asymptotics. Measured (tests `iso_table_vs_exact_*`, d ∈ {1, 2, 3, 10, 100, 10⁴},
//! r on a dense grid in \[0, 60\] plus r up to 10⁸): max |table − exact| ≤ 3.9e-15 for m₁, p, q, α, β and
//! ≤ 1.5e-15 for their r-derivatives; cost ≈ 24 ns (values) / 48 ns (values and derivatives) per call.
//! g = 0 is exact: `E[u] = 0`, `E[uuᵀ] = I/d`, `E[u ξᵀ] = σ c_d I`. σ = 0 is the deterministic limit `u = ĝ`.
//!
//! # Anisotropic Σ (any d, singular allowed): [`AnisotropicMoments`]
//! With Σ = Q Λ Qᵀ, `g̃ = Qᵀ g`, `e_i(s) = 1/(1 + 2sλ_i)`, `Z(s) = Π e_i^{1/2} exp(−s Σ g̃_i² e_i)`, the same
//! Laplace representation gives, in the eigenbasis, each moment as a 1-D integral over s ∈ (0, ∞):
//!
//! ```text
//! m̃_i   = π^{−1/2} ∫ s^{−1/2} Z e_i g̃_i ds
//! P̃_ij  = ∫ Z [δ_ij λ_i e_i + g̃_i g̃_j e_i e_j] ds
//! C̃_ij  = π^{−1/2} ∫ s^{−1/2} Z [δ_ij λ_i e_i − 2s g̃_i g̃_j e_i e_j λ_j] ds       (from E[w (w−g)ᵀ/‖w‖])
//! E[1/‖w‖] = π^{−1/2} ∫ s^{−1/2} Z ds
//! ```
//!
//! and `m = Q m̃`, `P = Q P̃ Qᵀ`, `C = Q C̃ Qᵀ`. After scaling Σ to λ_max = 1, the rule is the trapezoidal rule
//! in t for `s = e^{ψ(t)}`, `ψ(t) = t + e^{t−v_hi} − e^{v_lo−t}`, step [`ANISO_STEP`], where \[v_lo, v_hi\] covers
//! every scale of the integrand (1/(tr Σ + ‖g‖²), 1/(2λ_i), and the cut-off where `s gᵀ(I+2sΣ)^{−1}g` exceeds
//! 45 + ln(1 + ‖g‖²); if g has a component in Σ's null space the range must extend to that cut-off, because
//! the integrands do not decay before it) and ψ makes both algebraic tails decay double-exponentially. The
//! integrands are analytic in a strip of half-width ≈ π/2 around the real v-axis, so the error falls like
//! exp(−π²/h): measured ≤ 4e-13 at h = 0.3 (1e-15 at h = 0.25, 1e-11 at 0.35) over 616 cases, d ∈ {1,2,3,10},
//! λ_min/λ_max ∈ {1 … 1e-29, 0}, ‖g‖/√λ_max ∈ {0 … 1e6}. Cost: 40–70 nodes for ordinary Σ, up to ≈ 280 when
//! λ_min/λ_max → 1e-30 or g has a tiny null-space component; per node two `exp`, one `sqrt` and d
//! divisions, and O(d²) accumulation. Measured per evaluation (on-CPU): d = 2 ≈ 1.6–2.2 µs,
//! d = 10 ≈ 4–7 µs in the eigenbasis, +1.5 µs (d = 10) for the rotation, +0.3 µs for the Jacobi eigen-solve
//! ([`AnisotropicMoments::compute_from_cov`]). Eigenvalues below 1e-30 λ_max are treated as 0 (effect ≲ √1e-30
//! on the moments); singular Σ and g = 0 are exact. Accuracy (tests): ≤ 4e-13 against the isotropic functions,
//! ≤ 3e-13 against an independent angle quadrature in d = 2, within 5 SE of Monte Carlo in d = 2 and 10 (including
//! λ ratios 1e-6, 1e-8 and 0). No regime was found where the rule is inaccurate; it refuses ([`MomentsError`])
//! only non-finite input, a non-PSD Σ (eigenvalue < −1e-12 λ_max) or a non-orthonormal eigenbasis.
//!
//! # ε
//! The optimizer uses `u_ε = w/(‖w‖ + ε)`. With `δ = ε/(‖w‖ + ε) = ‖u − u_ε‖ ≤ min(1, ε/‖w‖)`, see
//! [`eps_effect`]: `‖E[u] − E[u_ε]‖ ≤ E[δ]`, `‖E[uuᵀ] − E[u_εu_εᵀ]‖₂ ≤ 2E[δ]`, `‖ΔCov(u)‖₂ ≤ 4E[δ]`,
//! `‖E[uξᵀ] − E[u_εξᵀ]‖₂ ≤ ε + ‖g‖E[δ]`, and `E[δ] ≤ min(1, ε E[1/‖w‖], (ε/σ₁)(√(2/π) ln(1 + σ₁/ε) + 1))`
//! with σ₁² = λ_max (the last bound projects w on the top eigenvector; it also covers d = 1, where E\[1/|w|\] = ∞).
//! For ε = 1e-12 and σ₁ ≥ 1e-3 this is ≤ 2e-8; for d ≥ 2 usually ε E\[1/‖w‖\] ≈ ε/σ.

use std::f64::consts::PI;
use std::fmt;

/// 1/√π.
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
/// √(2/π).
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
/// r above which the isotropic functions take their r = ∞ limits (m₁ = 1, β = 1/r, p = 1, others 0);
/// the neglected terms are O(d/r²) ≤ 1e-190 for d < 1e10.
const R_INFINITE: f64 = 1e100;

/// Number of Chebyshev panels of [`IsotropicMoments`] on t = x/(x + d/2 + 1) ∈ \[0, 1\].
pub const TABLE_PANELS: usize = 32;
/// Number of Chebyshev coefficients per panel and function (degree + 1).
pub const TABLE_DEGREE: usize = 10;
/// Number of tabulated functions: M(1/2,b), M(3/2,b), M(1,b), M(3/2,b+1), M(5/2,b+1), M(2,b+1).
const TABLE_FUNCS: usize = 6;
const BLOCK: usize = TABLE_FUNCS * TABLE_DEGREE;

/// Default trapezoidal step in t of the anisotropic rule (see [`AnisoRule`]).
pub const ANISO_STEP: f64 = 0.3;
/// Eigenvalues below this fraction of λ_max are treated as exactly 0.
const ANISO_LAMBDA_FLOOR: f64 = 1e-30;
/// Null-space components of g (relative to √λ_max) below this are treated as 0.
const ANISO_GNULL_FLOOR: f64 = 1e-15;

/// Errors of the moment routines (invalid input only; valid input never fails).
#[derive(Debug, Clone, PartialEq)]
pub enum MomentsError {
    /// d = 0.
    ZeroDimension,
    /// A slice has the wrong length.
    DimensionMismatch {
        /// Which argument.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An input contains NaN or ±∞.
    NonFinite(&'static str),
    /// σ < 0.
    NegativeSigma(f64),
    /// Σ has an eigenvalue below −1e-12 λ_max.
    NotPsd {
        /// The offending eigenvalue.
        min_eigenvalue: f64,
    },
    /// The eigenvector matrix is not orthonormal to 1e-8.
    NotOrthonormal {
        /// max |QᵀQ − I|.
        defect: f64,
    },
}

impl fmt::Display for MomentsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MomentsError::ZeroDimension => write!(f, "dimension d must be at least 1"),
            MomentsError::DimensionMismatch { what, expected, got } => {
                write!(f, "{what}: expected length {expected}, got {got}")
            }
            MomentsError::NonFinite(what) => write!(f, "{what} contains NaN or infinity"),
            MomentsError::NegativeSigma(s) => write!(f, "noise scale sigma = {s} is negative"),
            MomentsError::NotPsd { min_eigenvalue } => write!(
                f,
                "noise covariance is not positive semi-definite (eigenvalue {min_eigenvalue:e})"
            ),
            MomentsError::NotOrthonormal { defect } => {
                write!(f, "eigenvector matrix is not orthonormal (max |QᵀQ − I| = {defect:e})")
            }
        }
    }
}

impl std::error::Error for MomentsError {}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), MomentsError> {
    if expected == got {
        Ok(())
    } else {
        Err(MomentsError::DimensionMismatch { what, expected, got })
    }
}

fn check_finite(what: &'static str, v: &[f64]) -> Result<(), MomentsError> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(())
    } else {
        Err(MomentsError::NonFinite(what))
    }
}

mod anisotropic;
mod coefficients;
mod isotropic;
mod output;

pub use crate::special::{c_d, erf, hyp1f1_neg, hyp1f1_neg_by_quadrature, ln_gamma_half_ratio};
pub use anisotropic::*;
pub use coefficients::*;
pub use isotropic::*;
pub use output::*;
