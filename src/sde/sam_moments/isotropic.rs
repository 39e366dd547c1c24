//! Isotropic Σ = σ² I (see the module docs of [`super`]).

use super::*;

/// The five scalar functions of the isotropic moments at one r (or their r-derivatives, same field names):
/// `E[u] = m1 ĝ`, `E[uuᵀ] = p ĝĝᵀ + q (I − ĝĝᵀ)`, `E[u zᵀ] = alpha ĝĝᵀ + beta (I − ĝĝᵀ)` with ξ = σ z.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsoScalars {
    /// m₁ = E\[u·ĝ\].
    pub m1: f64,
    /// p = E\[(u·ĝ)²\].
    pub p: f64,
    /// q = E\[(u·e)²\] for a unit e ⟂ ĝ (0 when d = 1).
    pub q: f64,
    /// α = E\[(u·ĝ)(z·ĝ)\] = dm₁/dr.
    pub alpha: f64,
    /// β = E\[(u·e)(z·e)\] for a unit e ⟂ ĝ; = m₁/r (and c_d at r = 0; defined also for d = 1).
    pub beta: f64,
}

impl IsoScalars {
    fn at_zero(d: usize) -> Self {
        let cd = c_d(d);
        let df = d as f64;
        IsoScalars {
            m1: 0.0,
            p: 1.0 / df,
            q: if d == 1 { 0.0 } else { 1.0 / df },
            alpha: cd,
            beta: cd,
        }
    }
    fn zero_derivs() -> Self {
        IsoScalars {
            m1: 0.0,
            p: 0.0,
            q: 0.0,
            alpha: 0.0,
            beta: 0.0,
        }
    }
    fn at_infinity(r: f64) -> Self {
        IsoScalars {
            m1: 1.0,
            p: 1.0,
            q: 0.0,
            alpha: 0.0,
            beta: 1.0 / r,
        }
    }
    /// `E[1/‖v‖]` for v = r e₁ + z (multiply by 1/σ for E\[1/‖w‖\]): `(α + (d−1)β)/(d−1)` for d ≥ 2 (Stein),
    /// +∞ for d = 1.
    pub fn inv_norm_mean(&self, d: usize) -> f64 {
        if d <= 1 {
            f64::INFINITY
        } else {
            let dm = (d - 1) as f64;
            (self.alpha + dm * self.beta) / dm
        }
    }
}

/// Parity for r < 0: m₁ is odd, p, q, α, β are even (derivatives: the opposite).
pub(super) fn apply_parity(v: IsoScalars, dv: IsoScalars) -> (IsoScalars, IsoScalars) {
    (
        IsoScalars { m1: -v.m1, ..v },
        IsoScalars {
            m1: dv.m1,
            p: -dv.p,
            q: -dv.q,
            alpha: -dv.alpha,
            beta: -dv.beta,
        },
    )
}

/// Exact (series/quadrature) isotropic scalars and their r-derivatives at r for dimension d
/// (see the module docs for the formulas; ≈ 1e-15 accurate, 1–30 µs). r < 0 uses the parity
/// m₁(−r) = −m₁(r); NaN r gives NaN fields. Use [`IsotropicMoments`] inside a simulation.
pub fn iso_exact(d: usize, r: f64) -> Result<(IsoScalars, IsoScalars), MomentsError> {
    if d == 0 {
        return Err(MomentsError::ZeroDimension);
    }
    if r.is_nan() {
        let n = IsoScalars {
            m1: f64::NAN,
            p: f64::NAN,
            q: f64::NAN,
            alpha: f64::NAN,
            beta: f64::NAN,
        };
        return Ok((n, n));
    }
    if r < 0.0 {
        let (v, dv) = iso_exact(d, -r)?;
        return Ok(apply_parity(v, dv));
    }
    if r == 0.0 {
        return Ok((IsoScalars::at_zero(d), IsoScalars::zero_derivs()));
    }
    if r > R_INFINITE {
        return Ok((IsoScalars::at_infinity(r), IsoScalars::zero_derivs()));
    }
    let df = d as f64;
    let b = 0.5 * df + 1.0;
    let cd = c_d(d);
    let x = 0.5 * r * r;
    let beta = cd * hyp1f1_neg(0.5, b, x);
    let mut alpha = cd * hyp1f1_neg(1.5, b, x);
    let mut q = hyp1f1_neg(1.0, b, x) / df;
    let dbeta = -r * cd / (2.0 * b) * hyp1f1_neg(1.5, b + 1.0, x);
    let mut dalpha = -r * cd * 1.5 / b * hyp1f1_neg(2.5, b + 1.0, x);
    let mut dq = -r / (df * b) * hyp1f1_neg(2.0, b + 1.0, x);
    let m1 = r * beta;
    if d == 1 {
        alpha = SQRT_2_OVER_PI * (-x).exp();
        dalpha = -r * alpha;
        q = 0.0;
        dq = 0.0;
    }
    let p = if d == 1 { 1.0 } else { 1.0 - (df - 1.0) * q };
    let dp = if d == 1 { 0.0 } else { -(df - 1.0) * dq };
    Ok((
        IsoScalars { m1, p, q, alpha, beta },
        IsoScalars {
            m1: alpha,
            p: dp,
            q: dq,
            alpha: dalpha,
            beta: dbeta,
        },
    ))
}

/// Per-run table of the isotropic moment functions for one dimension d (built once from 1920 evaluations of M,
/// 2–15 ms for d ≤ 10⁴), evaluated at any r ≥ 0 in ≈ 24 ns (values) / 48 ns (with r-derivatives), no allocation.
///
/// Tabulates `G_j(t) = M(a_j, b_j, −x) (1 − t)^{−a_j}`, `t = x/(x + b)`, `b = d/2 + 1`, for
/// (a_j, b_j) ∈ {(½, b), (3/2, b), (1, b), (3/2, b+1), (5/2, b+1), (2, b+1)} — smooth on the closed interval
/// t ∈ \[0, 1\] because `M(a, ·, −x) ~ C x^{−a}(1 + O(1/x))` — with [`TABLE_PANELS`] Chebyshev panels; the r → ∞
/// asymptotics are therefore built in. Accuracy: ≤ 3.9e-15 (values), ≤ 1.5e-15 (derivatives) measured.
#[derive(Clone, Debug)]
pub struct IsotropicMoments {
    d: usize,
    df: f64,
    b: f64,
    cd: f64,
    panels: Vec<[f64; BLOCK]>,
}

impl IsotropicMoments {
    /// Builds the table for dimension d ≥ 1.
    pub fn new(d: usize) -> Result<Self, MomentsError> {
        if d == 0 {
            return Err(MomentsError::ZeroDimension);
        }
        let df = d as f64;
        let b = 0.5 * df + 1.0;
        let funcs: [(f64, f64); TABLE_FUNCS] = [
            (0.5, b),
            (1.5, b),
            (1.0, b),
            (1.5, b + 1.0),
            (2.5, b + 1.0),
            (2.0, b + 1.0),
        ];
        let n = TABLE_DEGREE;
        let mut panels = Vec::with_capacity(TABLE_PANELS);
        let mut vals = [[0.0; TABLE_DEGREE]; TABLE_FUNCS];
        for k in 0..TABLE_PANELS {
            let lo = k as f64 / TABLE_PANELS as f64;
            let half = 0.5 / TABLE_PANELS as f64;
            let mid = lo + half;
            for (i, node) in (0..n).map(|i| (i, (PI * (i as f64 + 0.5) / n as f64).cos())) {
                let t = mid + half * node;
                let omt = 1.0 - t;
                let x = b * t / omt;
                for (f, &(a, bb)) in funcs.iter().enumerate() {
                    vals[f][i] = hyp1f1_neg(a, bb, x) * omt.powf(-a);
                }
            }
            let mut block = [0.0; BLOCK];
            for f in 0..TABLE_FUNCS {
                for m in 0..n {
                    let mut s = 0.0;
                    for (i, v) in vals[f].iter().enumerate() {
                        s += v * (PI * m as f64 * (i as f64 + 0.5) / n as f64).cos();
                    }
                    let c = 2.0 * s / n as f64;
                    block[f * n + m] = if m == 0 { 0.5 * c } else { c };
                }
            }
            panels.push(block);
        }
        Ok(IsotropicMoments {
            d,
            df,
            b,
            cd: c_d(d),
            panels,
        })
    }

    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// c_d = α(0) = β(0) = lim m₁(r)/r.
    pub fn c_d(&self) -> f64 {
        self.cd
    }

    /// Locates r: returns (x, 1 − t, panel index, local Chebyshev variable).
    #[inline]
    fn locate(&self, r: f64) -> (f64, f64, usize, f64) {
        let x = 0.5 * r * r;
        let den = x + self.b;
        let omt = self.b / den;
        let pos = x / den * TABLE_PANELS as f64;
        let k = (pos as usize).min(TABLE_PANELS - 1);
        let u = 2.0 * (pos - k as f64) - 1.0;
        (x, omt, k, u)
    }

    /// m₁, p, q, α, β at r ≥ 0 (r < 0 by parity, NaN propagates).
    #[inline]
    pub fn eval(&self, r: f64) -> IsoScalars {
        if r.is_nan() || r <= 0.0 || r > R_INFINITE {
            return self.eval_special(r).0;
        }
        let (x, omt, k, u) = self.locate(r);
        let blk = &self.panels[k];
        let [g0, g1, g2] = clenshaw::<3>(blk, u);
        let sq = omt.sqrt();
        let beta = self.cd * g0 * sq;
        if self.d == 1 {
            return IsoScalars {
                m1: r * beta,
                p: 1.0,
                q: 0.0,
                alpha: SQRT_2_OVER_PI * (-x).exp(),
                beta,
            };
        }
        let q = g2 * omt / self.df;
        IsoScalars {
            m1: r * beta,
            p: 1.0 - (self.df - 1.0) * q,
            q,
            alpha: self.cd * g1 * omt * sq,
            beta,
        }
    }

    /// Values and r-derivatives (same field names: `dv.m1 = dm₁/dr = α`, `dv.p = dp/dr`, ...).
    #[inline]
    pub fn eval_with_dr(&self, r: f64) -> (IsoScalars, IsoScalars) {
        if r.is_nan() || r <= 0.0 || r > R_INFINITE {
            return self.eval_special(r);
        }
        let (x, omt, k, u) = self.locate(r);
        let blk = &self.panels[k];
        let [g0, g1, g2, g3, g4, g5] = clenshaw::<6>(blk, u);
        let sq = omt.sqrt();
        let cd = self.cd;
        let beta = cd * g0 * sq;
        let dbeta = -r * cd / (2.0 * self.b) * g3 * omt * sq;
        if self.d == 1 {
            let alpha = SQRT_2_OVER_PI * (-x).exp();
            return (
                IsoScalars {
                    m1: r * beta,
                    p: 1.0,
                    q: 0.0,
                    alpha,
                    beta,
                },
                IsoScalars {
                    m1: alpha,
                    p: 0.0,
                    q: 0.0,
                    alpha: -r * alpha,
                    beta: dbeta,
                },
            );
        }
        let alpha = cd * g1 * omt * sq;
        let q = g2 * omt / self.df;
        let dalpha = -r * cd * 1.5 / self.b * g4 * omt * omt * sq;
        let dq = -r / (self.df * self.b) * g5 * omt * omt;
        let dm = self.df - 1.0;
        (
            IsoScalars {
                m1: r * beta,
                p: 1.0 - dm * q,
                q,
                alpha,
                beta,
            },
            IsoScalars {
                m1: alpha,
                p: -dm * dq,
                q: dq,
                alpha: dalpha,
                beta: dbeta,
            },
        )
    }

    #[cold]
    fn eval_special(&self, r: f64) -> (IsoScalars, IsoScalars) {
        if r == 0.0 {
            (IsoScalars::at_zero(self.d), IsoScalars::zero_derivs())
        } else if r > R_INFINITE {
            (IsoScalars::at_infinity(r), IsoScalars::zero_derivs())
        } else if r < 0.0 {
            let (v, dv) = self.eval_with_dr(-r);
            apply_parity(v, dv)
        } else {
            let n = IsoScalars {
                m1: f64::NAN,
                p: f64::NAN,
                q: f64::NAN,
                alpha: f64::NAN,
                beta: f64::NAN,
            };
            (n, n)
        }
    }

    /// Full moments m, P, C and E\[1/‖w‖\] for w = g + ξ, ξ ~ N(0, σ² I), written into `out` (no allocation).
    ///
    /// g = 0: `m = 0`, `P = I/d`, `C = σ c_d I` (ĝ is never formed). σ = 0: `u = ĝ` deterministically
    /// (`C = 0`); if also g = 0 all moments are 0, which is what the ε-regularised optimizer step does.
    pub fn direction_moments(&self, g: &[f64], sigma: f64, out: &mut DirectionMoments) -> Result<(), MomentsError> {
        let d = self.d;
        check_len("g", d, g.len())?;
        check_len("out", d, out.d)?;
        check_finite("g", g)?;
        if !sigma.is_finite() {
            return Err(MomentsError::NonFinite("sigma"));
        }
        if sigma < 0.0 {
            return Err(MomentsError::NegativeSigma(sigma));
        }
        let gn = norm(g);
        out.clear();
        if sigma == 0.0 {
            deterministic_moments(g, gn, out);
            return Ok(());
        }
        let df = self.df;
        if gn == 0.0 {
            let s = IsoScalars::at_zero(d);
            for i in 0..d {
                out.second[i * d + i] = 1.0 / df;
                out.cross[i * d + i] = sigma * s.beta;
            }
            out.inv_norm_mean = s.inv_norm_mean(d) / sigma;
            return Ok(());
        }
        let s = self.eval(gn / sigma);
        for (i, gi) in g.iter().enumerate() {
            let hi = gi / gn;
            out.mean[i] = s.m1 * hi;
            for (j, gj) in g.iter().enumerate() {
                let hh = hi * (gj / gn);
                let delta = if i == j { 1.0 } else { 0.0 };
                out.second[i * d + j] = s.q * delta + (s.p - s.q) * hh;
                out.cross[i * d + j] = sigma * (s.beta * delta + (s.alpha - s.beta) * hh);
            }
        }
        out.inv_norm_mean = s.inv_norm_mean(d) / sigma;
        Ok(())
    }
}

/// Clenshaw summation of the first K Chebyshev series of a panel block at u ∈ \[−1, 1\].
#[inline(always)]
pub(super) fn clenshaw<const K: usize>(blk: &[f64; BLOCK], u: f64) -> [f64; K] {
    let n = TABLE_DEGREE;
    let u2 = 2.0 * u;
    let mut b1 = [0.0; K];
    let mut b2 = [0.0; K];
    for m in (1..n).rev() {
        for f in 0..K {
            let t = u2.mul_add(b1[f], blk[f * n + m] - b2[f]);
            b2[f] = b1[f];
            b1[f] = t;
        }
    }
    let mut out = [0.0; K];
    for f in 0..K {
        out[f] = u.mul_add(b1[f], blk[f * n] - b2[f]);
    }
    out
}

pub(super) fn norm(v: &[f64]) -> f64 {
    let scale = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let s: f64 = v.iter().map(|x| (x / scale) * (x / scale)).sum();
    scale * s.sqrt()
}

pub(super) fn deterministic_moments(g: &[f64], gn: f64, out: &mut DirectionMoments) {
    let d = g.len();
    if gn == 0.0 {
        out.inv_norm_mean = f64::INFINITY;
        return;
    }
    for (i, gi) in g.iter().enumerate() {
        out.mean[i] = gi / gn;
        for (j, gj) in g.iter().enumerate() {
            out.second[i * d + j] = (gi / gn) * (gj / gn);
        }
    }
    out.inv_norm_mean = 1.0 / gn;
}
