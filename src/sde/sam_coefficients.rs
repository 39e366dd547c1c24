//! The per-step coefficients of S-SAM-mb (math spec §4.3) under isotropic batch noise Σ_B = s² I, as small
//! pure, allocation-free functions on slices: the general path ([`super::Sam`]) and the fixed-size fast path
//! (`stepper::fixed_sam`) call them, and so can vectorised multi-path kernels.
//!
//! With r = ‖g‖/s, ĝ = g/‖g‖ and the moment functions of [`IsotropicMoments`] (u = (g+ξ)/‖g+ξ‖, ξ = s z):
//! E\[u\] = m₁ĝ, E\[u ξᵀ\] = s K with K = βI + (α − β)ĝĝᵀ, and Cov(u) = V = qI + (p − m₁² − q)ĝĝᵀ. For the SAM
//! step on a quadratic, G = g + ρHu + ξ, so with k = Hĝ, a = α − β and c = p − m₁² − q:
//!
//! ```text
//! E[G]   = g + ρ m₁ k
//! Cov[G] = s² I + ρ s (2βH + a(kĝᵀ + ĝkᵀ)) + ρ² (q H² + c kkᵀ)      [= Σ + ρ(HC + CᵀH) + ρ² H V H]
//! ```
//!
//! At g = 0 the limit is exact: a = c = 0 for d ≥ 2 and ĝ drops out; for d = 1, c = 1 and ĝ = ±1 enters only
//! through kkᵀ = H². In 1-D this is b = −λy − ρλ m(y), Cov = v(y) of the spec (tests/dynamics.rs).
//!
//! The directional derivative along v (x-direction) uses dg = Hv, dH = T\[v\], r′ = ĝ·dg/s,
//! ĝ′ = (I − ĝĝᵀ)dg/‖g‖, k′ = dH ĝ + H ĝ′ and the r-derivatives of the table (α = dm₁/dr, …):
//!
//! ```text
//! dCov = ρ s (2β′H + 2β dH + a′(kĝᵀ + ĝkᵀ) + a(k′ĝᵀ + kĝ′ᵀ + ĝ′kᵀ + ĝk′ᵀ))
//!      + ρ² (q′H² + q(dH H + H dH) + c′kkᵀ + c(k′kᵀ + kk′ᵀ)),
//! β′ = β_r r′, a′ = (α_r − β_r) r′, q′ = q_r r′, c′ = (p_r − 2m₁α − q_r) r′.
//! ```
//!
//! a/‖g‖ and c/‖g‖ stay bounded as g → 0 (a, c = O(r²) for d ≥ 2; ĝ′ = 0 in 1-D), so the derivative is
//! continuous through the saddle; at g = 0 exactly ĝ′ is set to 0, its limit's contribution.

use super::sam_moments::{IsoScalars, IsotropicMoments};

/// r below which g counts as 0 (the terms with ĝ′ are then O(r) ≤ 1e-150 and dropped).
const R_ZERO: f64 = 1e-150;

/// The scalar data of one evaluation: the moment functions at r, their r-derivatives, ‖g‖ and the unit ĝ
/// (e₁ at g = 0), written by [`iso_prepare`].
#[derive(Debug, Clone, Copy)]
pub struct IsoPoint {
    /// m₁, p, q, α, β at r.
    pub v: IsoScalars,
    /// Their r-derivatives.
    pub dv: IsoScalars,
    /// ‖g‖.
    pub gnorm: f64,
    /// r = ‖g‖/s (0 when s = 0).
    pub r: f64,
}

/// Evaluates the moment functions at r = ‖g‖/s and writes ĝ into `ghat` (e₁ when g = 0). With s = 0 the
/// direction is deterministic (u = ĝ): m₁ = 1 (0 at g = 0), p = 1, and q = α = β = 0 with zero derivatives.
#[inline]
pub fn iso_prepare(iso: &IsotropicMoments, g: &[f64], s: f64, ghat: &mut [f64]) -> IsoPoint {
    iso_prepare_with(iso, g, s, ghat, true)
}

/// [`iso_prepare`], with the r-derivatives only when `derivatives` is set (otherwise `dv` is 0; the values are
/// the same bits either way, at half the table work).
#[inline]
pub fn iso_prepare_with(iso: &IsotropicMoments, g: &[f64], s: f64, ghat: &mut [f64], derivatives: bool) -> IsoPoint {
    let gnorm = crate::linalg::norm(g);
    if gnorm > 0.0 && gnorm.is_finite() {
        for (h, gi) in ghat.iter_mut().zip(g) {
            *h = gi / gnorm;
        }
    } else {
        ghat.fill(0.0);
        ghat[0] = if gnorm == 0.0 { 1.0 } else { f64::NAN };
    }
    if s == 0.0 {
        let m1 = if gnorm > 0.0 { 1.0 } else { 0.0 };
        let v = IsoScalars {
            m1,
            p: m1 * m1,
            q: 0.0,
            alpha: 0.0,
            beta: 0.0,
        };
        let dv = IsoScalars {
            m1: 0.0,
            p: 0.0,
            q: 0.0,
            alpha: 0.0,
            beta: 0.0,
        };
        return IsoPoint { v, dv, gnorm, r: 0.0 };
    }
    let r = gnorm / s;
    let (v, dv) = if derivatives {
        iso.eval_with_dr(r)
    } else {
        let zero = IsoScalars {
            m1: 0.0,
            p: 0.0,
            q: 0.0,
            alpha: 0.0,
            beta: 0.0,
        };
        (iso.eval(r), zero)
    };
    IsoPoint { v, dv, gnorm, r }
}

/// E\[G\] into `mean` and Cov\[G\] into `cov` (d×d, row-major) for isotropic Σ_B = s² I at a point with
/// gradient g, Hessian `h` and `h2` = H² (see the module docs). `ghat`, `k`: d-vector scratch. Allocation-free.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn iso_mean_cov(
    iso: &IsotropicMoments,
    h: &[f64],
    h2: &[f64],
    g: &[f64],
    s: f64,
    rho: f64,
    ghat: &mut [f64],
    k: &mut [f64],
    mean: &mut [f64],
    cov: &mut [f64],
) -> IsoPoint {
    iso_mean_cov_with(iso, h, h2, g, s, rho, ghat, k, mean, cov, true)
}

/// [`iso_mean_cov`], with the table's r-derivatives (for [`iso_cov_jvp`]) only when `derivatives` is set: the
/// same mean and covariance bits either way, at half the table work without them.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn iso_mean_cov_with(
    iso: &IsotropicMoments,
    h: &[f64],
    h2: &[f64],
    g: &[f64],
    s: f64,
    rho: f64,
    ghat: &mut [f64],
    k: &mut [f64],
    mean: &mut [f64],
    cov: &mut [f64],
    derivatives: bool,
) -> IsoPoint {
    let d = g.len();
    let pt = iso_prepare_with(iso, g, s, ghat, derivatives);
    let IsoScalars { m1, p, q, alpha, beta } = pt.v;
    crate::linalg::matvec(h, ghat, k);
    let a = alpha - beta;
    let c = p - m1 * m1 - q;
    for i in 0..d {
        mean[i] = g[i] + rho * m1 * k[i];
        for j in 0..d {
            let ij = i * d + j;
            let diag = if i == j { s * s } else { 0.0 };
            cov[ij] = diag
                + rho * s * (2.0 * beta * h[ij] + a * (k[i] * ghat[j] + ghat[i] * k[j]))
                + rho * rho * (q * h2[ij] + c * k[i] * k[j]);
        }
    }
    pt
}

/// The directional derivative dCov\[G\]\[v\] into `dcov` at the point last prepared (`pt`, `ghat`, `k` as left by
/// [`iso_mean_cov`]), given dg = Hv (`dg`) and dH = T\[v\] (`dh`, zeros for a quadratic). `gp`, `kp`: d-vector
/// scratch. Allocation-free.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn iso_cov_jvp(
    pt: &IsoPoint,
    h: &[f64],
    h2: &[f64],
    s: f64,
    rho: f64,
    ghat: &[f64],
    k: &[f64],
    dg: &[f64],
    dh: &[f64],
    gp: &mut [f64],
    kp: &mut [f64],
    dcov: &mut [f64],
) {
    let d = ghat.len();
    let IsoScalars {
        m1,
        p: _,
        q,
        alpha,
        beta,
    } = pt.v;
    let dv = pt.dv;
    let gdg = crate::linalg::dot(ghat, dg);
    let rp = if s > 0.0 { gdg / s } else { 0.0 };
    if pt.r > R_ZERO && pt.gnorm > 0.0 {
        for i in 0..d {
            gp[i] = (dg[i] - ghat[i] * gdg) / pt.gnorm;
        }
    } else {
        gp.fill(0.0);
    }
    // k′ = dH ĝ + H ĝ′
    for i in 0..d {
        let mut acc = 0.0;
        for j in 0..d {
            acc += dh[i * d + j] * ghat[j] + h[i * d + j] * gp[j];
        }
        kp[i] = acc;
    }
    let a = alpha - beta;
    let c = pt.v.p - m1 * m1 - q;
    let (db, da, dq, dc) = (
        dv.beta * rp,
        (dv.alpha - dv.beta) * rp,
        dv.q * rp,
        (dv.p - 2.0 * m1 * alpha - dv.q) * rp,
    );
    for i in 0..d {
        for j in 0..d {
            let ij = i * d + j;
            let mut dhh = 0.0; // (dH H + H dH)_ij
            for l in 0..d {
                dhh += dh[i * d + l] * h[l * d + j] + h[i * d + l] * dh[l * d + j];
            }
            let sym_kg = k[i] * ghat[j] + ghat[i] * k[j];
            let dsym_kg = kp[i] * ghat[j] + k[i] * gp[j] + gp[i] * k[j] + ghat[i] * kp[j];
            dcov[ij] = rho * s * (2.0 * db * h[ij] + 2.0 * beta * dh[ij] + da * sym_kg + a * dsym_kg)
                + rho * rho * (dq * h2[ij] + q * dhh + dc * k[i] * k[j] + c * (kp[i] * k[j] + k[i] * kp[j]));
        }
    }
}
