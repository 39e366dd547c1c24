//! Mean first-passage times (MFPT) and exit probabilities of 1-D Itô diffusions (math spec O5, O6, O7; also
//! the exact columns of O8, O9 and O10).
//!
//! The process is dY = b(Y) dt + σ(Y) dW on [l, r]. With φ(y) = ∫_l^y 2b/σ², scale density S'(y) = e^{−φ(y)}
//! and speed density m(y) = 2/(σ²(y) S'(y)) = (2/σ²(y)) e^{φ(y)}:
//!
//! - absorbing at both ends (O6): T(x) = ∫_l^r G(x,z) m(z) dz with
//!   G(x,z) = (S(x∧z) − S(l))(S(r) − S(x∨z)) / (S(r) − S(l)),
//! - reflecting at l, absorbing at r (O6): T(x) = ∫_x^r dy ∫_l^y (2/σ²(z)) e^{φ(z)−φ(y)} dz,
//! - P(exit at r) = (S(x) − S(l)) / (S(r) − S(l)).
//!
//! # Numerics
//!
//! The exponents φ reach hundreds (κy²/s² in O5, 2ΔU/s² in O8), so every positive quantity (S, m, the
//! inner integrals, the Green's-function integrals) is carried as its logarithm and only differences of
//! logarithms are exponentiated. Differences such as S(r) − S(z) are never formed: they are accumulated
//! directly from the right, so every term of the Green's formula is a positive product (no cancellation).
//!
//! [l, r] is cut into panels at l, at the user's break points (where b or σ² jump or kink, e.g. the
//! piecewise noise of O10), at x0 and at r; each panel carries an 8-point Gauss–Legendre rule (order 16 for
//! whole panels) and the spectral integration matrix of the same nodes for the cumulative integrals inside
//! a panel (order 9). `grid` is the base number of nodes; panels across which φ changes by more than 2 are
//! then split (at most 64-fold), so steep walls are resolved automatically. A few thousand nodes give 9+
//! significant digits on the spec tables; [`DEFAULT_GRID`] is generous.

use super::{finite, positive};
use crate::error::{Error, Result};
use crate::special::erf;

/// Euler–Mascheroni constant γ_E (O5 asymptotic).
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Number of nodes the convenience functions of this module use (≈ 1 ms per call).
pub const DEFAULT_GRID: usize = 20_000;

/// Gauss–Legendre nodes per panel.
const K: usize = 8;

/// Largest change of φ across one panel before [`Mesh::refine`] splits it.
const MAX_DPHI: f64 = 2.0;

/// Most pieces [`Mesh::refine`] cuts one panel into.
const MAX_SPLIT: usize = 64;

/// Boundary condition at the left end l (the right end r is always absorbing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftBoundary {
    /// The process is stopped at l as well as at r.
    Absorbing,
    /// The process is reflected at l (equivalently, l is a symmetry point of a symmetric problem, or far
    /// enough out that it is never reached).
    Reflecting,
}

/// T(x0) for absorbing l < r (O6, Green's-function form). See the module docs for the numerics.
///
/// `b` is the drift, `sigma2` the squared diffusion coefficient σ²(y) (> 0 on (l, r)), `grid` the number
/// of quadrature nodes (≥ 16; a few thousand is typical). Returns 0 for x0 = l or x0 = r.
pub fn mfpt(b: impl Fn(f64) -> f64, sigma2: impl Fn(f64) -> f64, l: f64, r: f64, x0: f64, grid: usize) -> Result<f64> {
    mfpt_piecewise(b, sigma2, l, r, x0, LeftBoundary::Absorbing, &[], grid)
}

/// T(x0) with l reflecting and r absorbing (O6 reflecting form):
/// T(x0) = ∫_{x0}^r dy ∫_l^y (2/σ²(z)) e^{φ(z)−φ(y)} dz.
///
/// Use it for symmetric problems started on the symmetry point (O5, O7: exit at |Y| = L from 0 is l = 0
/// reflecting, r = L) and for escape from a well whose far side is never visited (O8: MFPT(−1 → +1) with a
/// reflecting l well to the left of −1).
pub fn mfpt_reflecting(
    b: impl Fn(f64) -> f64,
    sigma2: impl Fn(f64) -> f64,
    l: f64,
    r: f64,
    x0: f64,
    grid: usize,
) -> Result<f64> {
    mfpt_piecewise(b, sigma2, l, r, x0, LeftBoundary::Reflecting, &[], grid)
}

/// The general MFPT: either boundary condition at l, plus `breaks`, points strictly inside (l, r) where b or
/// σ² jump or have a kink (each becomes a panel edge, which keeps the quadrature at full order; O10's
/// piecewise noise needs its switch point here). Breaks outside (l, r) are ignored.
#[allow(clippy::too_many_arguments)]
pub fn mfpt_piecewise(
    b: impl Fn(f64) -> f64,
    sigma2: impl Fn(f64) -> f64,
    l: f64,
    r: f64,
    x0: f64,
    left: LeftBoundary,
    breaks: &[f64],
    grid: usize,
) -> Result<f64> {
    let mut mesh = Mesh::new(l, r, x0, breaks, grid)?;
    mesh.refine(&b, &sigma2);
    let prof = Profile::new(&mesh, &b, &sigma2)?;
    let i = mesh.x0_knot;
    let log_t = match left {
        LeftBoundary::Absorbing => {
            let neg_phi: Vec<f64> = prof.phi.iter().map(|p| -p).collect();
            let (lsl_k, lsl_n) = mesh.cum_left(&neg_phi, true)?;
            let (lsr_k, lsr_n) = mesh.cum_right(&neg_phi, true)?;
            let lst = lsl_k[mesh.panels()];
            // S_l(z) m(z) and S_r(z) m(z), in logs.
            let gl: Vec<f64> = (0..prof.phi.len())
                .map(|n| prof.log_g[n] + prof.phi[n] + lsl_n[n])
                .collect();
            let gr: Vec<f64> = (0..prof.phi.len())
                .map(|n| prof.log_g[n] + prof.phi[n] + lsr_n[n])
                .collect();
            let (al, _) = mesh.cum_left(&gl, false)?;
            let (ar, _) = mesh.cum_right(&gr, false)?;
            lse(lsl_k[i] - lst + ar[i], lsr_k[i] - lst + al[i])
        }
        LeftBoundary::Reflecting => {
            let inner: Vec<f64> = (0..prof.phi.len()).map(|n| prof.log_g[n] + prof.phi[n]).collect();
            let (_, k_n) = mesh.cum_left(&inner, true)?;
            let log_j: Vec<f64> = (0..prof.phi.len()).map(|n| k_n[n] - prof.phi[n]).collect();
            let (t, _) = mesh.cum_right(&log_j, false)?;
            t[i]
        }
    };
    Ok(log_t.exp())
}

/// P(exit at r before l | Y(0) = x0) = (S(x0) − S(l)) / (S(r) − S(l)) for absorbing l < r (O6).
pub fn exit_probability_right(
    b: impl Fn(f64) -> f64,
    sigma2: impl Fn(f64) -> f64,
    l: f64,
    r: f64,
    x0: f64,
    grid: usize,
) -> Result<f64> {
    let mut mesh = Mesh::new(l, r, x0, &[], grid)?;
    mesh.refine(&b, &sigma2);
    let prof = Profile::new(&mesh, &b, &sigma2)?;
    let neg_phi: Vec<f64> = prof.phi.iter().map(|p| -p).collect();
    let (lsl, _) = mesh.cum_left(&neg_phi, false)?;
    let (lsr, _) = mesh.cum_right(&neg_phi, false)?;
    let i = mesh.x0_knot;
    // S_l(x)/(S_l(x) + S_r(x)) computed from both sides: accurate also when the answer is tiny.
    Ok(1.0 / (1.0 + (lsr[i] - lsl[i]).exp()))
}

/// Exact MFPT of the inverted OU process dY = κY dt + s dW from Y(0) = 0 to |Y| = L (O5):
/// T = (2/s²) ∫₀ᴸ e^{−κy²/s²} ∫₀ʸ e^{κz²/s²} dz dy. Any finite κ is accepted (κ < 0 is a stable OU).
pub fn inverted_ou_mfpt(kappa: f64, s2: f64, l: f64) -> Result<f64> {
    finite("kappa", kappa)?;
    positive("s2", s2)?;
    positive("l", l)?;
    mfpt_reflecting(|y| kappa * y, |_| s2, 0.0, l, 0.0, DEFAULT_GRID)
}

/// Large-barrier asymptotic of [`inverted_ou_mfpt`] (O5, valid for κL²/s² ≫ 1):
/// T ≈ [ln(4κL²/s²) + γ_E] / (2κ).
pub fn inverted_ou_mfpt_asymptotic(kappa: f64, s2: f64, l: f64) -> Result<f64> {
    positive("kappa", kappa)?;
    positive("s2", s2)?;
    positive("l", l)?;
    Ok(((4.0 * kappa * l * l / s2).ln() + EULER_GAMMA) / (2.0 * kappa))
}

/// P(exit on the + side | Y(0) = y0) for dY = κY dt + s dW with L → ∞ (O6): ½[1 + erf(y0 √κ / s)].
/// Note the argument is the noise amplitude s, not s².
pub fn inverted_ou_exit_plus(kappa: f64, s: f64, y0: f64) -> Result<f64> {
    positive("kappa", kappa)?;
    positive("s", s)?;
    finite("y0", y0)?;
    Ok(0.5 * (1.0 + erf(y0 * kappa.sqrt() / s)))
}

/// Exact MFPT of the 1-D normalized-SAM reduction dY = (aY − ρa sign Y) dt + s dW from Y(0) = 0 to
/// |Y| = L (O7). The problem is symmetric, so it is solved on [0, L] with 0 reflecting, where the cusp of
/// the potential U = ρa|y| − ay²/2 sits on the boundary and the quadrature keeps full order.
pub fn sam_cusp_mfpt(rho: f64, a: f64, s2: f64, l: f64) -> Result<f64> {
    super::non_negative("rho", rho)?;
    positive("a", a)?;
    positive("s2", s2)?;
    positive("l", l)?;
    let breaks = [rho];
    mfpt_piecewise(
        |y| a * y - rho * a,
        |_| s2,
        0.0,
        l,
        0.0,
        LeftBoundary::Reflecting,
        &breaks,
        DEFAULT_GRID,
    )
}

/// Cusp-Kramers asymptotic of [`sam_cusp_mfpt`] (O7): T ≈ (1/(ρa)) √(πs²/a) e^{ρ²a/s²}, independent of L
/// (valid for a barrier ΔU = ρ²a/2 large compared with s²/2, and L well beyond ρ).
pub fn sam_cusp_mfpt_asymptotic(rho: f64, a: f64, s2: f64) -> Result<f64> {
    positive("rho", rho)?;
    positive("a", a)?;
    positive("s2", s2)?;
    Ok((std::f64::consts::PI * s2 / a).sqrt() / (rho * a) * (rho * rho * a / s2).exp())
}

// ---------------------------------------------------------------------------------------------------------
// Quadrature machinery.

/// log(eᵃ + eᵇ), with −∞ as the log of 0.
fn lse(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + (-(a - b).abs()).exp().ln_1p()
}

/// Gauss–Legendre rule on [−1, 1] with its integration matrices.
struct Rule {
    /// Nodes, ascending.
    x: [f64; K],
    /// Weights.
    w: [f64; K],
    /// `ql[j][m]` = ∫_{−1}^{x_j} ℓ_m, ℓ_m the Lagrange basis polynomial of node m.
    ql: [[f64; K]; K],
    /// `qr[j][m]` = ∫_{x_j}^{1} ℓ_m.
    qr: [[f64; K]; K],
}

impl Rule {
    fn new() -> Self {
        let mut x = [0.0; K];
        let mut w = [0.0; K];
        for i in 0..K {
            // Newton on P_K from the Chebyshev-like guess; converges to machine precision in a few steps.
            let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (K as f64 + 0.5)).cos();
            let mut dp = 0.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, z);
                for k in 2..=K {
                    let p2 = ((2 * k - 1) as f64 * z * p1 - (k - 1) as f64 * p0) / k as f64;
                    p0 = p1;
                    p1 = p2;
                }
                dp = K as f64 * (z * p1 - p0) / (z * z - 1.0);
                let dz = p1 / dp;
                z -= dz;
                if dz.abs() < 1e-16 {
                    break;
                }
            }
            x[K - 1 - i] = z;
            w[K - 1 - i] = 2.0 / ((1.0 - z * z) * dp * dp);
        }
        let lagrange =
            |m: usize, s: f64| -> f64 { (0..K).filter(|&n| n != m).map(|n| (s - x[n]) / (x[m] - x[n])).product() };
        let mut ql = [[0.0; K]; K];
        let mut qr = [[0.0; K]; K];
        for j in 0..K {
            for m in 0..K {
                // K-point Gauss is exact for the degree-(K−1) polynomial ℓ_m.
                let (a, c) = ((x[j] + 1.0) / 2.0, (1.0 - x[j]) / 2.0);
                ql[j][m] = (0..K).map(|q| a * w[q] * lagrange(m, -1.0 + a * (x[q] + 1.0))).sum();
                qr[j][m] = (0..K).map(|q| c * w[q] * lagrange(m, x[j] + c * (x[q] + 1.0))).sum();
            }
        }
        Rule { x, w, ql, qr }
    }
}

/// Panels on [l, r] with K Gauss nodes each.
struct Mesh {
    rule: Rule,
    /// Panel edges, ascending, P+1 of them.
    knots: Vec<f64>,
    /// Index of the knot equal to x0.
    x0_knot: usize,
}

impl Mesh {
    fn new(l: f64, r: f64, x0: f64, breaks: &[f64], grid: usize) -> Result<Self> {
        finite("l", l)?;
        finite("r", r)?;
        finite("x0", x0)?;
        if l >= r {
            return Err(Error::invalid("l", l, format!("must be < r = {r}")));
        }
        if x0 < l || x0 > r {
            return Err(Error::invalid("x0", x0, format!("must lie in [l, r] = [{l}, {r}]")));
        }
        if let Some(v) = breaks.iter().find(|v| !v.is_finite()) {
            return Err(Error::invalid("breaks", v, "break points must be finite"));
        }
        let mut edges = vec![l, r, x0];
        edges.extend(breaks.iter().copied().filter(|&v| v > l && v < r));
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        let segments = edges.len() - 1;
        if grid < 2 * K * segments {
            return Err(Error::invalid(
                "grid",
                grid,
                format!(
                    "must be ≥ {} (two {K}-node panels per segment); a few thousand is typical",
                    2 * K * segments
                ),
            ));
        }
        let panels_total = (grid / K) as f64;
        let mut knots = vec![l];
        for s in 0..segments {
            let (a, c) = (edges[s], edges[s + 1]);
            let n = ((panels_total * (c - a) / (r - l)).round() as usize).max(2);
            for i in 1..=n {
                knots.push(if i == n { c } else { a + (c - a) * i as f64 / n as f64 });
            }
        }
        let x0_knot = knots.iter().position(|&k| k == x0).expect("x0 is an edge");
        Ok(Mesh {
            rule: Rule::new(),
            knots,
            x0_knot,
        })
    }

    /// Splits every panel across which φ changes by more than [`MAX_DPHI`] (estimated from the total
    /// variation h/2 Σ w_j |φ'(z_j)|) into equal pieces, at most [`MAX_SPLIT`] per panel, so that e^{±φ} is
    /// resolved where the drift is strong relative to the noise (steep walls, far reflecting boundaries).
    fn refine(&mut self, b: &impl Fn(f64) -> f64, sigma2: &impl Fn(f64) -> f64) {
        let mut knots = vec![self.knots[0]];
        let mut x0_knot = 0;
        for p in 0..self.panels() {
            let tv: f64 = (0..K)
                .map(|j| {
                    let y = self.node(p, j);
                    self.rule.w[j] * (2.0 * b(y) / sigma2(y)).abs()
                })
                .sum::<f64>()
                * self.half(p);
            // NaN (bad b or σ²) keeps one piece; Profile::new reports it.
            let pieces = if tv.is_finite() {
                ((tv / MAX_DPHI).ceil() as usize).clamp(1, MAX_SPLIT)
            } else {
                1
            };
            let (a, c) = (self.knots[p], self.knots[p + 1]);
            for i in 1..=pieces {
                knots.push(if i == pieces {
                    c
                } else {
                    a + (c - a) * i as f64 / pieces as f64
                });
            }
            if p + 1 == self.x0_knot {
                x0_knot = knots.len() - 1;
            }
        }
        self.knots = knots;
        self.x0_knot = x0_knot;
    }

    fn panels(&self) -> usize {
        self.knots.len() - 1
    }

    fn half(&self, p: usize) -> f64 {
        0.5 * (self.knots[p + 1] - self.knots[p])
    }

    fn node(&self, p: usize, j: usize) -> f64 {
        self.knots[p] + self.half(p) * (self.rule.x[j] + 1.0)
    }

    /// From logs of f at all nodes: log ∫_l^{knot} f at every knot and (if `nodes`) log ∫_l^{node} f at
    /// every node.
    fn cum_left(&self, logf: &[f64], nodes: bool) -> Result<(Vec<f64>, Vec<f64>)> {
        self.cum(logf, nodes, false)
    }

    /// As [`Mesh::cum_left`] for ∫_{knot or node}^r f.
    fn cum_right(&self, logf: &[f64], nodes: bool) -> Result<(Vec<f64>, Vec<f64>)> {
        self.cum(logf, nodes, true)
    }

    fn cum(&self, logf: &[f64], want_nodes: bool, from_right: bool) -> Result<(Vec<f64>, Vec<f64>)> {
        let np = self.panels();
        let mut k = vec![f64::NEG_INFINITY; np + 1];
        let mut n = if want_nodes {
            vec![f64::NEG_INFINITY; np * K]
        } else {
            Vec::new()
        };
        let order: Box<dyn Iterator<Item = usize>> = if from_right {
            Box::new((0..np).rev())
        } else {
            Box::new(0..np)
        };
        for p in order {
            let f = &logf[p * K..(p + 1) * K];
            let lh = self.half(p).ln();
            // Value already accumulated at the panel's entry edge.
            let base = if from_right { k[p + 1] } else { k[p] };
            let whole = lh + weighted(&self.rule.w, f, f64::NEG_INFINITY).expect("positive weights");
            let out = lse(base, whole);
            if from_right {
                k[p] = out;
            } else {
                k[p + 1] = out;
            }
            if want_nodes {
                for j in 0..K {
                    let q = if from_right { &self.rule.qr[j] } else { &self.rule.ql[j] };
                    // base + (h/2) Σ q_m f_m, summed together so a slightly negative partial sum (the
                    // interpolant dipping below 0 where f is tiny) is absorbed by what came before.
                    let v = weighted(q, f, base - lh).map(|v| v + lh).ok_or_else(|| {
                        Error::NoConvergence(format!(
                            "first-passage quadrature: integrand varies too fast near y = {} for the grid; increase `grid`",
                            self.node(p, j)
                        ))
                    })?;
                    n[p * K + j] = v;
                }
            }
        }
        Ok((k, n))
    }
}

/// log(e^{base} + Σ c_m e^{logf_m}), or `None` if the sum is not positive.
fn weighted(c: &[f64; K], logf: &[f64], base: f64) -> Option<f64> {
    let m = logf.iter().copied().fold(base, f64::max);
    if m == f64::NEG_INFINITY {
        return Some(f64::NEG_INFINITY);
    }
    let s: f64 = (base - m).exp() + c.iter().zip(logf).map(|(c, f)| c * (f - m).exp()).sum::<f64>();
    (s > 0.0).then(|| m + s.ln())
}

/// φ and log(2/σ²) at every node.
struct Profile {
    phi: Vec<f64>,
    log_g: Vec<f64>,
}

impl Profile {
    fn new(mesh: &Mesh, b: &impl Fn(f64) -> f64, sigma2: &impl Fn(f64) -> f64) -> Result<Self> {
        let np = mesh.panels();
        let mut dphi = vec![0.0; np * K];
        let mut log_g = vec![0.0; np * K];
        for p in 0..np {
            for j in 0..K {
                let y = mesh.node(p, j);
                let (bv, s2) = (b(y), sigma2(y));
                if !bv.is_finite() {
                    return Err(Error::invalid(
                        "b",
                        bv,
                        format!("drift must be finite on (l, r); at y = {y}"),
                    ));
                }
                if !(s2.is_finite() && s2 > 0.0) {
                    return Err(Error::invalid(
                        "sigma2",
                        s2,
                        format!("σ² must be finite and > 0 on (l, r); at y = {y}"),
                    ));
                }
                dphi[p * K + j] = 2.0 * bv / s2;
                log_g[p * K + j] = (2.0 / s2).ln();
            }
        }
        let mut phi = vec![0.0; np * K];
        let mut edge = 0.0;
        for p in 0..np {
            let h = mesh.half(p);
            let d = &dphi[p * K..(p + 1) * K];
            for j in 0..K {
                phi[p * K + j] = edge + h * mesh.rule.ql[j].iter().zip(d).map(|(q, v)| q * v).sum::<f64>();
            }
            edge += h * mesh.rule.w.iter().zip(d).map(|(w, v)| w * v).sum::<f64>();
        }
        Ok(Profile { phi, log_g })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_rule_integrates_polynomials() {
        let r = Rule::new();
        assert!((r.w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        // ∫_{-1}^{1} x^14 = 2/15
        let v: f64 = r.x.iter().zip(&r.w).map(|(x, w)| w * x.powi(14)).sum();
        assert!((v - 2.0 / 15.0).abs() < 1e-14);
        // Partial integrals of x^7 are exact.
        for j in 0..K {
            let xj = r.x[j];
            let ql: f64 = (0..K).map(|m| r.ql[j][m] * r.x[m].powi(7)).sum();
            let qr: f64 = (0..K).map(|m| r.qr[j][m] * r.x[m].powi(7)).sum();
            assert!((ql - (xj.powi(8) - 1.0) / 8.0).abs() < 1e-14);
            assert!((qr - (1.0 - xj.powi(8)) / 8.0).abs() < 1e-14);
        }
    }

    #[test]
    fn brownian_motion_exit_time() {
        // dY = dW on [0, 1]: T(x) = x(1 − x); reflecting at 0: T(x) = 1 − x².
        let t = mfpt(|_| 0.0, |_| 1.0, 0.0, 1.0, 0.3, 64).unwrap();
        assert!((t - 0.21).abs() < 1e-13, "{t}");
        let t = mfpt_reflecting(|_| 0.0, |_| 1.0, 0.0, 1.0, 0.3, 64).unwrap();
        assert!((t - 0.91).abs() < 1e-13, "{t}");
        let p = exit_probability_right(|_| 0.0, |_| 1.0, 0.0, 1.0, 0.3, 64).unwrap();
        assert!((p - 0.3).abs() < 1e-13, "{p}");
    }
}
