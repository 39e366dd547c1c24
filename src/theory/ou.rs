//! Moments of the linear SDE dX = −A X dt + S^{1/2} dW (math spec O1): the exact Ornstein–Uhlenbeck law,
//! the exact law of its Euler–Maruyama recursion, and the mapping from a quadratic saddle to (A, S) for
//! SGD, USAM and Kim et al.'s model K.
//!
//! A need not be symmetric or stable: at a saddle A has negative eigenvalues and the covariance grows
//! exponentially (inverted OU). S is the diffusion matrix σσᵀ (symmetric positive semi-definite).

use super::{finite, non_negative, square};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// Which SDE a quadratic saddle f = ½(x−d)ᵀH(x−d) is mapped to by [`linear_model`] (O1 model mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinearKind {
    /// S-SGD1: A = H, S = ηΣ_B.
    Sgd,
    /// Exact S-USAM under N3 (§4.2): A = H + ρH², S = η(I+ρH)Σ_B(I+ρH).
    Usam,
    /// Kim et al.'s model K (§4.4): A = H(I+ρH)², S = η|H|/B.
    ModelK,
}

/// Mean and covariance of X(t) for dX = −A X dt + S^{1/2} dW, X(0) = x0 (O1):
///
/// - E X(t) = e^{−At} x0,
/// - C(t) = ∫₀ᵗ e^{−As} S e^{−Aᵀs} ds (the solution of Ċ = −AC − CAᵀ + S, C(0) = 0), computed by
///   Van Loan's method: with M = [[−A, S], [0, Aᵀ]] and E = e^{Mt}, C(t) = E₁₂ E₁₁ᵀ. The result is
///   symmetrised, (C + Cᵀ)/2.
///
/// For diagonal A = diag(λ_j), S = diag(s_j²): C_jj = s_j²(1 − e^{−2λ_j t})/(2λ_j) (s_j² t for λ_j = 0).
/// Errors: non-square or mismatched A, S, x0, non-finite entries, t < 0.
pub fn ou_moments(
    a: &DMatrix<f64>,
    s: &DMatrix<f64>,
    x0: &DVector<f64>,
    t: f64,
) -> Result<(DVector<f64>, DMatrix<f64>)> {
    let n = check_linear(a, s, x0)?;
    non_negative("t", t)?;
    let mut m = DMatrix::<f64>::zeros(2 * n, 2 * n);
    m.view_mut((0, 0), (n, n)).copy_from(&(-a));
    m.view_mut((0, n), (n, n)).copy_from(s);
    m.view_mut((n, n), (n, n)).copy_from(&a.transpose());
    let e = (m * t).exp();
    let e11 = e.view((0, 0), (n, n)).into_owned();
    let e12 = e.view((0, n), (n, n)).into_owned();
    let c = &e12 * e11.transpose();
    let c = (&c + c.transpose()) * 0.5;
    Ok((&e11 * x0, c))
}

/// O1 in the eigenbasis of a symmetric drift matrix A = Q diag(a) Qᵀ (every linear SDE of a quadratic saddle:
/// A is a function of H): with y₀ = Qᵀx₀ and S̃ = QᵀSQ (row-major d×d),
///
/// E y(t) = e^{−a t} y₀,  C̃_ij(t) = S̃_ij (1 − e^{−(aᵢ+aⱼ)t})/(aᵢ+aⱼ)  (S̃_ij t where aᵢ + aⱼ = 0),
///
/// which is [`ou_moments`] rotated: O(d²) instead of the matrix exponential of a 2d×2d matrix. Returns
/// (E y(t), C̃(t)) in the eigenbasis, C̃ in full (`full`) or only its diagonal (d entries: the trace and the
/// variances along the eigenvectors). Errors: mismatched lengths, non-finite entries, t < 0.
pub fn ou_moments_eigenbasis(a: &[f64], s_rot: &[f64], y0: &[f64], t: f64, full: bool) -> Result<(Vec<f64>, Vec<f64>)> {
    let d = a.len();
    if s_rot.len() != d * d || y0.len() != d {
        return Err(Error::Dimension {
            key: "s".into(),
            expected: d,
            found: if s_rot.len() != d * d {
                (s_rot.len() as f64).sqrt() as usize
            } else {
                y0.len()
            },
        });
    }
    for v in a.iter().chain(y0) {
        finite("a", *v)?;
    }
    non_negative("t", t)?;
    // (1 − e^{−xt})/x, continuous at x = 0 (value t).
    let integral = |x: f64| if x == 0.0 { t } else { -(-x * t).exp_m1() / x };
    let mean = a.iter().zip(y0).map(|(ai, yi)| (-ai * t).exp() * yi).collect();
    let cov = if full {
        (0..d * d).map(|k| s_rot[k] * integral(a[k / d] + a[k % d])).collect()
    } else {
        (0..d).map(|i| s_rot[i * d + i] * integral(2.0 * a[i])).collect()
    };
    Ok((mean, cov))
}

/// The exact mean and covariance after `steps` steps of the Euler–Maruyama recursion of the same SDE,
/// X⁺ = (I − A dt) X + √dt S^{1/2} ξ, ξ ~ N(0, I), X₀ = x0:
///
/// m⁺ = (I − A dt) m,  C⁺ = (I − A dt) C (I − A dt)ᵀ + S dt,  C₀ = 0.
///
/// Comparing a simulated EM ensemble with this (instead of [`ou_moments`]) removes the O(dt) discretisation
/// bias from the comparison, so what is left is Monte-Carlo error only. Errors as [`ou_moments`], plus
/// dt ≤ 0.
pub fn em_moments(
    a: &DMatrix<f64>,
    s: &DMatrix<f64>,
    x0: &DVector<f64>,
    dt: f64,
    steps: usize,
) -> Result<(DVector<f64>, DMatrix<f64>)> {
    let n = check_linear(a, s, x0)?;
    super::positive("dt", dt)?;
    let f = DMatrix::<f64>::identity(n, n) - a * dt;
    let sdt = s * dt;
    let mut m = x0.clone();
    let mut c = DMatrix::<f64>::zeros(n, n);
    for _ in 0..steps {
        m = &f * m;
        c = &f * c * f.transpose() + &sdt;
    }
    let c = (&c + c.transpose()) * 0.5;
    Ok((m, c))
}

/// (A, S) of the linear SDE dX = −A X dt + S^{1/2} dW that a quadratic saddle with Hessian `h` becomes
/// (O1 model mapping; X is measured from the saddle):
///
/// | kind | A | S |
/// |---|---|---|
/// | [`LinearKind::Sgd`] | H | η Σ_B |
/// | [`LinearKind::Usam`] | H + ρH² | η (I+ρH) Σ_B (I+ρH) |
/// | [`LinearKind::ModelK`] | H (I+ρH)² | η · `sigma_b` |
///
/// For model K the spec's S = η|H|/B is obtained by passing `sigma_b` = (1/B)|H| (N1 with c = 1; see
/// [`matrix_abs`]); any other `sigma_b` gives model K's drift with that noise. `rho` is ignored for SGD.
/// Errors: `h`, `sigma_b` not square of equal size or not finite, η ≤ 0, ρ < 0.
pub fn linear_model(
    kind: LinearKind,
    h: &DMatrix<f64>,
    sigma_b: &DMatrix<f64>,
    eta: f64,
    rho: f64,
) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let n = h.nrows();
    square("h", h, n)?;
    square("sigma_b", sigma_b, n)?;
    super::positive("eta", eta)?;
    non_negative("rho", rho)?;
    let p = DMatrix::<f64>::identity(n, n) + h * rho;
    Ok(match kind {
        LinearKind::Sgd => (h.clone(), sigma_b * eta),
        LinearKind::Usam => (h + h * h * rho, &p * sigma_b * &p * eta),
        LinearKind::ModelK => (h * &p * &p, sigma_b * eta),
    })
}

/// |H| = Q|Λ|Qᵀ for a symmetric H = QΛQᵀ (§1), e.g. to build the N1 covariance Σ_B = (c/B)|H|.
/// Only the lower triangle of `h` is read. Errors: not square or not finite.
pub fn matrix_abs(h: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    square("h", h, h.nrows())?;
    let eig = h.clone().symmetric_eigen();
    let d = DMatrix::from_diagonal(&eig.eigenvalues.map(f64::abs));
    Ok(&eig.eigenvectors * d * eig.eigenvectors.transpose())
}

fn check_linear(a: &DMatrix<f64>, s: &DMatrix<f64>, x0: &DVector<f64>) -> Result<usize> {
    let n = a.nrows();
    if n == 0 {
        return Err(Error::invalid("a", "[]", "give a non-empty square matrix"));
    }
    square("a", a, n)?;
    square("s", s, n)?;
    if x0.len() != n {
        return Err(Error::Dimension {
            key: "x0".into(),
            expected: n,
            found: x0.len(),
        });
    }
    for v in x0.iter() {
        finite("x0", *v)?;
    }
    Ok(n)
}
