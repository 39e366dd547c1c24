//! Heavy-ball momentum near a saddle (math spec §4.5, oracle O11): the underdamped S-HB model as a linear
//! SDE, its overdamped limit S-HB-od, unstable-direction growth rates, and the exact moments of the
//! discrete PyTorch heavy ball.
//!
//! The update field is linear, G(x) = A x (A = H for SGD, H + ρH² for USAM, H(I+ρH)² for model K, with x
//! measured from the saddle), and S_G is the covariance of one update (|H|/B for SGD under N1,
//! (I+ρH)Σ_B(I+ρH) for USAM under N3).

use super::ou::em_moments;
use super::{positive, square};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

fn check(a: &DMatrix<f64>, s_g: &DMatrix<f64>, eta: f64, mu: f64) -> Result<usize> {
    let n = a.nrows();
    if n == 0 {
        return Err(Error::invalid("a", "[]", "give a non-empty square matrix"));
    }
    square("a", a, n)?;
    square("s_g", s_g, n)?;
    positive("eta", eta)?;
    if !(0.0..1.0).contains(&mu) {
        return Err(Error::invalid("mu", mu, "momentum must be in [0, 1)"));
    }
    Ok(n)
}

/// (A_big, S_big) of S-HB written as dZ = −A_big Z dt + S_big^{1/2} dW for Z = (X, V) ∈ ℝ^{2d} (§4.5):
///
/// dX = V dt,  dV = −((1−μ)/η) V dt − (1/η) A X dt + η^{−1/2} S_G^{1/2} dW,
///
/// so A_big = [[0, −I], [A/η, ((1−μ)/η) I]] and S_big = [[0, 0], [0, S_G/η]]. Pass them to
/// [`super::ou::ou_moments`] with Z(0) = (x0, 0) for the exact law; Var X(t) is the top-left d×d block.
/// Errors: shapes, η ≤ 0, μ ∉ [0, 1).
pub fn shb_linear(a: &DMatrix<f64>, s_g: &DMatrix<f64>, eta: f64, mu: f64) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let n = check(a, s_g, eta, mu)?;
    let mut ab = DMatrix::<f64>::zeros(2 * n, 2 * n);
    let mut sb = DMatrix::<f64>::zeros(2 * n, 2 * n);
    ab.view_mut((0, n), (n, n))
        .copy_from(&(-DMatrix::<f64>::identity(n, n)));
    ab.view_mut((n, 0), (n, n)).copy_from(&(a / eta));
    ab.view_mut((n, n), (n, n))
        .copy_from(&(DMatrix::<f64>::identity(n, n) * ((1.0 - mu) / eta)));
    sb.view_mut((n, n), (n, n)).copy_from(&(s_g / eta));
    Ok((ab, sb))
}

/// (A, S) of the overdamped / effective-learning-rate limit S-HB-od (§4.5):
/// dX = −G/(1−μ) dt + (√η/(1−μ)) S_G^{1/2} dW, i.e. A = A_G/(1−μ), S = η S_G/(1−μ)².
/// Valid only for η‖H‖/(1−μ)² ≪ 1; at μ = 0 it is S-SGD1 (O11's μ = 0 column).
pub fn shb_od_linear(a: &DMatrix<f64>, s_g: &DMatrix<f64>, eta: f64, mu: f64) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    check(a, s_g, eta, mu)?;
    let om = 1.0 - mu;
    Ok((a / om, s_g * (eta / (om * om))))
}

/// Unstable-direction growth rates for |λ_eff| = |λ(1+ρλ)^p| (§4.5 table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthRates {
    /// Exact S-HB: r = (1−μ)/(2η) · [√(1 + 4η|λ_eff|/(1−μ)²) − 1].
    pub shb: f64,
    /// S-HB-od: |λ_eff|/(1−μ).
    pub overdamped: f64,
    /// Discrete heavy ball (A-mom): ln z / η with z the largest root of z² − (1+μ+η|λ_eff|)z + μ = 0.
    pub discrete: f64,
}

/// The three growth rates of [`GrowthRates`] for an unstable direction; only |λ_eff| is used.
/// Example: λ = −2, η = 0.01, μ = 0.9 gives 10.0, 20.0 and 10.16. Errors: λ_eff not finite, η ≤ 0,
/// μ ∉ [0, 1).
pub fn growth_rates(lambda_eff: f64, eta: f64, mu: f64) -> Result<GrowthRates> {
    super::finite("lambda_eff", lambda_eff)?;
    positive("eta", eta)?;
    if !(0.0..1.0).contains(&mu) {
        return Err(Error::invalid("mu", mu, "momentum must be in [0, 1)"));
    }
    let l = lambda_eff.abs();
    let om = 1.0 - mu;
    let shb = om / (2.0 * eta) * ((1.0 + 4.0 * eta * l / (om * om)).sqrt() - 1.0);
    let p = 1.0 + mu + eta * l;
    let z = 0.5 * (p + (p * p - 4.0 * mu).sqrt());
    Ok(GrowthRates {
        shb,
        overdamped: l / om,
        discrete: z.ln() / eta,
    })
}

/// Exact mean and covariance of x after `steps` steps of the discrete PyTorch heavy ball (A-mom) with a
/// linear update field and Gaussian update noise, b₀ = 0:
///
/// b⁺ = μ b + (A x + ξ),  x⁺ = x − η b⁺,  ξ ~ N(0, S_G) i.i.d.
///
/// The state (x, b) follows Z⁺ = M Z + N ξ with M = [[I − ηA, −ημI], [A, μI]], N = [[−ηI], \[I\]], so
/// C⁺ = M C Mᵀ + N S_G Nᵀ is propagated exactly. μ = 0 is discrete SGD. Errors: shapes, η ≤ 0,
/// μ ∉ [0, 1).
pub fn heavy_ball_discrete_moments(
    a: &DMatrix<f64>,
    s_g: &DMatrix<f64>,
    eta: f64,
    mu: f64,
    x0: &DVector<f64>,
    steps: usize,
) -> Result<(DVector<f64>, DMatrix<f64>)> {
    let n = check(a, s_g, eta, mu)?;
    if x0.len() != n {
        return Err(Error::Dimension {
            key: "x0".into(),
            expected: n,
            found: x0.len(),
        });
    }
    let id = DMatrix::<f64>::identity(n, n);
    let mut m = DMatrix::<f64>::zeros(2 * n, 2 * n);
    m.view_mut((0, 0), (n, n)).copy_from(&(&id - a * eta));
    m.view_mut((0, n), (n, n)).copy_from(&(&id * (-eta * mu)));
    m.view_mut((n, 0), (n, n)).copy_from(a);
    m.view_mut((n, n), (n, n)).copy_from(&(&id * mu));
    let mut nn = DMatrix::<f64>::zeros(2 * n, n);
    nn.view_mut((0, 0), (n, n)).copy_from(&(&id * (-eta)));
    nn.view_mut((n, 0), (n, n)).copy_from(&id);
    let q = &nn * s_g * nn.transpose();
    // Z⁺ = M Z + noise(q) is the EM recursion of A' = (I − M)/dt, S' = q/dt with dt = 1.
    let big_a = DMatrix::<f64>::identity(2 * n, 2 * n) - m;
    let mut z0 = DVector::<f64>::zeros(2 * n);
    z0.rows_mut(0, n).copy_from(x0);
    let (mean, cov) = em_moments(&big_a, &q, &z0, 1.0, steps)?;
    Ok((mean.rows(0, n).into_owned(), cov.view((0, 0), (n, n)).into_owned()))
}
