//! Saddles in many dimensions with Hessian–vector products only (issue 13, item 3; math spec §1: a saddle has
//! ∇f = 0 and λ₋ < 0, its index is the number of negative eigenvalues of H).
//!
//! - [`minres`]: MINRES (Paige & Saunders 1975) for H δ = b with a symmetric, possibly indefinite or singular H
//!   given as a product v ↦ Hv.
//! - [`newton_mr`]: Newton-MR (Roosta, Liu, Xu & Cartis, 2018/2022) for ∇f(x) = 0: the step δ minimises
//!   ‖Hδ + g‖ in the Krylov space of MINRES, and a backtracking line search on φ = ½‖∇f‖² accepts it. Since
//!   ∇φ = Hg and ⟨Hg, δ⟩ = ⟨g, Hδ⟩ = −‖g‖² + ⟨g, r⟩ < 0 whenever the MINRES residual r = Hδ + g is shorter
//!   than g, δ always descends on ‖∇f‖², whatever the signs of H's eigenvalues: the iteration converges to
//!   critical points of any index — saddles as well as minima — and, near a non-degenerate one, quadratically
//!   like Newton's method. MINRES iterates lie in range(H), so a singular H (the softmax shift invariance of
//!   cross_entropy, degenerate saddles) gives a finite step.
//! - [`lowest_eigenpairs`] / [`hessian_spectrum`]: the k lowest eigenvalues of H by Lanczos with full
//!   reorthogonalisation and explicit locking: each run builds a Krylov basis orthogonal to the eigenvectors
//!   already locked, stops when its lowest Ritz pairs have converged (residual ‖Hq − θq‖ ≤ tol·‖H‖), and locks
//!   them. Because locked vectors are deflated, repeated eigenvalues (common at MLP saddles, e.g. the
//!   zero-weights saddle with every eigenvalue h-fold) are found with their multiplicity. With
//!   `stop_at_nonnegative` the search ends at the first locked eigenvalue ≥ −`zero_tol`, so the number of
//!   negative ones found is the Morse index.
//!
//! These run once per experiment and allocate freely (O(m d) memory for an m-vector basis).

use super::landscape::Landscape;
use crate::error::{Error, Result};
use crate::linalg::{dot, norm};
use nalgebra::{DMatrix, SymmetricEigen};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::StandardNormal;
use serde::Serialize;

/// Outcome of [`minres`].
#[derive(Debug, Clone)]
pub struct MinresResult {
    /// The approximate solution δ.
    pub x: Vec<f64>,
    /// ‖b − Hδ‖ as estimated by the recurrence.
    pub residual: f64,
    /// Matrix–vector products used.
    pub iterations: usize,
}

/// Relative tolerance of MINRES's least-squares stop: ‖H r‖ ≤ `MINRES_LS_RTOL`·‖H‖·‖r‖ means x solves
/// min ‖Hx − b‖ (an inconsistent singular system). Kept far below any residual tolerance: with an
/// ill-conditioned H, ‖Hr‖/(‖H‖‖r‖) is small long before r is.
pub const MINRES_LS_RTOL: f64 = 1e-12;

/// MINRES for H x = b from x = 0, with `op(v, out)` computing out = H v (H symmetric, any signs, possibly
/// singular). Stops when ‖b − Hx‖ ≤ `rtol`·‖b‖, when ‖H(b − Hx)‖ ≤ [`MINRES_LS_RTOL`]·‖H‖·‖b − Hx‖ (a
/// least-squares solution of an inconsistent singular system), when the Krylov space is invariant, or after
/// `max_iter` products. The recurrences are Paige & Saunders' (1975), as in SciPy's `minres` without preconditioner.
pub fn minres(op: &mut dyn FnMut(&[f64], &mut [f64]), b: &[f64], rtol: f64, max_iter: usize) -> MinresResult {
    let d = b.len();
    let mut x = vec![0.0; d];
    let beta1 = norm(b);
    if beta1 == 0.0 {
        return MinresResult {
            x,
            residual: 0.0,
            iterations: 0,
        };
    }
    let (mut r1, mut r2, mut y) = (b.to_vec(), b.to_vec(), b.to_vec());
    let (mut w, mut w1, mut w2) = (vec![0.0; d], vec![0.0; d], vec![0.0; d]);
    let mut v = vec![0.0; d];
    let (mut oldb, mut beta, mut dbar, mut epsln, mut phibar) = (0.0, beta1, 0.0, 0.0, beta1);
    let (mut cs, mut sn) = (-1.0f64, 0.0f64);
    let mut anorm2 = 0.0f64;
    let mut iterations = 0;
    while iterations < max_iter {
        iterations += 1;
        let s = 1.0 / beta;
        v.iter_mut().zip(&y).for_each(|(vi, yi)| *vi = s * yi);
        op(&v, &mut y);
        if iterations >= 2 {
            let c = beta / oldb;
            y.iter_mut().zip(&r1).for_each(|(yi, ri)| *yi -= c * ri);
        }
        let alfa = dot(&v, &y);
        let c = alfa / beta;
        y.iter_mut().zip(&r2).for_each(|(yi, ri)| *yi -= c * ri);
        std::mem::swap(&mut r1, &mut r2);
        r2.copy_from_slice(&y);
        oldb = beta;
        beta = norm(&r2);
        anorm2 += alfa * alfa + oldb * oldb + beta * beta;
        let oldeps = epsln;
        let delta = cs * dbar + sn * alfa;
        let gbar = sn * dbar - cs * alfa;
        let root = gbar.hypot(dbar);
        epsln = sn * beta;
        dbar = -cs * beta;
        let gamma = gbar.hypot(beta).max(f64::EPSILON);
        cs = gbar / gamma;
        sn = beta / gamma;
        let phi = cs * phibar;
        phibar *= sn;
        std::mem::swap(&mut w1, &mut w2);
        std::mem::swap(&mut w2, &mut w);
        // Now w1 = old w2, w2 = old w; w is overwritten.
        for k in 0..d {
            w[k] = (v[k] - oldeps * w1[k] - delta * w2[k]) / gamma;
            x[k] += phi * w[k];
        }
        let rnorm = phibar;
        let arnorm = phibar * root;
        if rnorm <= rtol * beta1 || arnorm <= MINRES_LS_RTOL * anorm2.sqrt() * rnorm || beta <= f64::EPSILON * beta1 {
            break;
        }
    }
    MinresResult {
        x,
        residual: phibar,
        iterations,
    }
}

/// Settings of [`newton_mr`].
#[derive(Debug, Clone, Copy)]
pub struct NewtonMrOptions {
    /// Converged when ‖∇f(x)‖ ≤ `tol`. Default 1e−10.
    pub tol: f64,
    /// Newton iterations. Default 200.
    pub max_iter: usize,
    /// Hessian–vector products per MINRES solve; default 0 means d (exact in exact arithmetic).
    pub max_inner: usize,
    /// Armijo constant c of the line search φ(x + αδ) ≤ φ(x) + cα⟨Hg, δ⟩. Default 1e−4.
    pub armijo: f64,
}

impl Default for NewtonMrOptions {
    fn default() -> Self {
        NewtonMrOptions {
            tol: 1e-10,
            max_iter: 200,
            max_inner: 0,
            armijo: 1e-4,
        }
    }
}

/// Outcome of [`newton_mr`].
#[derive(Debug, Clone, Serialize)]
pub struct NewtonMrResult {
    /// The critical point found.
    pub x: Vec<f64>,
    /// ‖∇f(x)‖ there.
    pub gradient_norm: f64,
    /// Newton iterations taken.
    pub iterations: usize,
    /// Hessian–vector products used (MINRES and line searches).
    pub hessian_vector_products: usize,
}

/// Newton-MR for ∇f(x) = 0 from `guess` (see the module documentation): converges to the critical point of any
/// index that the merit function ½‖∇f‖² leads to. Each iteration solves min ‖Hδ + g‖ by MINRES with relative
/// tolerance min(0.1, √‖g‖) (inexact Newton: superlinear near a non-degenerate point) and halves α from 1
/// until φ(x + αδ) ≤ φ(x) + 10⁻⁴α⟨g, Hδ⟩.
///
/// Errors: a guess of the wrong length or with non-finite entries, and [`Error::NoConvergence`] when the line
/// search fails (a stationary point of ‖∇f‖² that is not critical: Hg = 0, g ≠ 0), ∇f leaves the finite
/// numbers, or `max_iter` is reached; the message gives ‖∇f‖.
pub fn newton_mr(l: &dyn Landscape, guess: &[f64], opts: &NewtonMrOptions) -> Result<NewtonMrResult> {
    let d = l.dim();
    if guess.len() != d {
        return Err(Error::Dimension {
            key: "critical.guess".into(),
            expected: d,
            found: guess.len(),
        });
    }
    if guess.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "critical.guess",
            "[…]",
            "all coordinates must be finite numbers",
        ));
    }
    if !(opts.tol.is_finite() && opts.tol > 0.0) || opts.max_iter == 0 {
        return Err(Error::invalid(
            "critical.tol",
            opts.tol,
            "the tolerance must be > 0 and max_iter ≥ 1",
        ));
    }
    let max_inner = if opts.max_inner == 0 { d } else { opts.max_inner };
    let mut x = guess.to_vec();
    let mut g = vec![0.0; d];
    let mut g_try = vec![0.0; d];
    let mut x_try = vec![0.0; d];
    let mut hd = vec![0.0; d];
    let mut hvps = 0usize;
    l.gradient(&x, &mut g);
    let mut gn = norm(&g);
    for it in 0..opts.max_iter {
        if !gn.is_finite() {
            return Err(Error::NoConvergence(format!(
                "Newton-MR: ∇f is not finite after {it} iterations; start closer to a critical point"
            )));
        }
        if gn <= opts.tol {
            return Ok(NewtonMrResult {
                x,
                gradient_norm: gn,
                iterations: it,
                hessian_vector_products: hvps,
            });
        }
        let minus_g: Vec<f64> = g.iter().map(|v| -v).collect();
        let sol = minres(
            &mut |v, out| l.hessian_vector(&x, v, out),
            &minus_g,
            0.1f64.min(gn.sqrt()),
            max_inner,
        );
        hvps += sol.iterations + 1;
        let step = sol.x;
        l.hessian_vector(&x, &step, &mut hd);
        let slope = dot(&g, &hd); // ⟨Hg, δ⟩ = ⟨g, Hδ⟩
        if slope >= 0.0 {
            return Err(Error::NoConvergence(format!(
                "Newton-MR stalled after {it} iterations at ‖∇f‖ = {gn:.3e}: H∇f ≈ 0 (a stationary point of ‖∇f‖² \
                 that is not critical); try another guess"
            )));
        }
        let phi = 0.5 * gn * gn;
        let mut alpha = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            for k in 0..d {
                x_try[k] = x[k] + alpha * step[k];
            }
            l.gradient(&x_try, &mut g_try);
            let gt = norm(&g_try);
            if gt.is_finite() && 0.5 * gt * gt <= phi + opts.armijo * alpha * slope {
                accepted = true;
                break;
            }
            alpha *= 0.5;
        }
        if !accepted {
            return Err(Error::NoConvergence(format!(
                "Newton-MR: no step decreases ‖∇f‖ from {gn:.3e} after {it} iterations (round-off floor?); \
                 try a larger tol"
            )));
        }
        std::mem::swap(&mut x, &mut x_try);
        std::mem::swap(&mut g, &mut g_try);
        gn = norm(&g);
    }
    if gn <= opts.tol {
        return Ok(NewtonMrResult {
            x,
            gradient_norm: gn,
            iterations: opts.max_iter,
            hessian_vector_products: hvps,
        });
    }
    Err(Error::NoConvergence(format!(
        "Newton-MR did not reach ‖∇f‖ ≤ {:.1e} in {} iterations (‖∇f‖ = {gn:.3e}); try more iterations or \
         another guess",
        opts.tol, opts.max_iter
    )))
}

/// Settings of [`lowest_eigenpairs`].
#[derive(Debug, Clone, Copy)]
pub struct LanczosOptions {
    /// How many of the lowest eigenpairs to find (at most d).
    pub k: usize,
    /// End the search at the first locked eigenvalue ≥ −`zero_tol` (it is kept), so that the number of
    /// negative eigenvalues found is the Morse index. Default true.
    pub stop_at_nonnegative: bool,
    /// Eigenvalues |λ| ≤ `zero_tol` count as zero (not negative). Default 1e−8 (absolute; scale it with ‖H‖).
    pub zero_tol: f64,
    /// Converged when ‖Hq − θq‖ ≤ `tol`·‖H‖ (‖H‖ estimated by the largest |Ritz value| seen). Default 1e−9.
    pub tol: f64,
    /// Largest Krylov basis per run; default 0 means min(d, 200).
    pub max_basis: usize,
    /// Seed of the random start vectors (deterministic results). Default 1.
    pub seed: u64,
}

impl Default for LanczosOptions {
    fn default() -> Self {
        LanczosOptions {
            k: 6,
            stop_at_nonnegative: true,
            zero_tol: 1e-8,
            tol: 1e-9,
            max_basis: 0,
            seed: 1,
        }
    }
}

/// The lowest part of a symmetric operator's spectrum, from [`lowest_eigenpairs`].
#[derive(Debug, Clone, Serialize)]
pub struct Spectrum {
    /// The eigenvalues found, ascending.
    pub eigenvalues: Vec<f64>,
    /// Unit eigenvectors, one per eigenvalue.
    #[serde(skip)]
    pub eigenvectors: Vec<Vec<f64>>,
    /// ‖Hq − λq‖ of each pair, computed with one product each.
    pub residuals: Vec<f64>,
    /// The Morse index (number of eigenvalues < −zero_tol) when the search reached a non-negative eigenvalue;
    /// `None` when all k found are negative (the index is then at least k).
    pub index: Option<usize>,
    /// Operator products used.
    pub products: usize,
}

/// The k lowest eigenpairs of the symmetric d×d operator `op(v, out)` (out = H v) by Lanczos with locking (see
/// the module documentation). Errors: k = 0 or k > d, bad tolerances, or no convergence within 50 restarts
/// per eigenpair.
pub fn lowest_eigenpairs(op: &mut dyn FnMut(&[f64], &mut [f64]), d: usize, opts: &LanczosOptions) -> Result<Spectrum> {
    if opts.k == 0 || opts.k > d {
        return Err(Error::invalid(
            "lanczos.k",
            opts.k,
            format!("ask for 1 … d = {d} eigenpairs"),
        ));
    }
    if !(opts.tol.is_finite() && opts.tol > 0.0 && opts.zero_tol.is_finite() && opts.zero_tol >= 0.0) {
        return Err(Error::invalid(
            "lanczos.tol",
            opts.tol,
            "tolerances must be finite, tol > 0, zero_tol ≥ 0",
        ));
    }
    let max_basis = if opts.max_basis == 0 {
        d.min(200)
    } else {
        opts.max_basis.min(d)
    }
    .max(1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(opts.seed);
    let mut locked: Vec<(f64, Vec<f64>)> = Vec::new();
    let mut products = 0usize;
    let mut hnorm = 0.0f64;
    let mut w = vec![0.0; d];
    let mut restart: Option<Vec<f64>> = None;
    let mut failures = 0usize;
    let project_out = |v: &mut [f64], basis: &[Vec<f64>], locked: &[(f64, Vec<f64>)]| {
        // Classical Gram–Schmidt, twice ("twice is enough").
        for _ in 0..2 {
            for (_, q) in locked {
                let c = dot(v, q);
                v.iter_mut().zip(q).for_each(|(a, b)| *a -= c * b);
            }
            for q in basis {
                let c = dot(v, q);
                v.iter_mut().zip(q).for_each(|(a, b)| *a -= c * b);
            }
        }
    };
    'outer: while locked.len() < opts.k {
        if locked.len() == d {
            break;
        }
        // Start vector: the best unconverged Ritz vector of the last run, else random; deflated.
        let mut v: Vec<f64> = restart
            .take()
            .unwrap_or_else(|| (0..d).map(|_| rng.sample::<f64, _>(StandardNormal)).collect());
        project_out(&mut v, &[], &locked);
        let mut nv = norm(&v);
        if nv < 1e-8 {
            v = (0..d).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
            project_out(&mut v, &[], &locked);
            nv = norm(&v);
        }
        v.iter_mut().for_each(|a| *a /= nv);
        let room = (d - locked.len()).min(max_basis);
        let mut basis: Vec<Vec<f64>> = vec![v];
        let (mut alpha, mut beta): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
        loop {
            let j = basis.len() - 1;
            op(&basis[j], &mut w);
            products += 1;
            let a = dot(&w, &basis[j]);
            alpha.push(a);
            project_out(&mut w, &basis, &locked);
            let b = norm(&w);
            let m = alpha.len();
            let invariant = b <= 1e-12 * hnorm.max(a.abs()).max(f64::MIN_POSITIVE);
            let full = m >= room;
            if invariant || full || m % 3 == 0 {
                // Ritz pairs of the tridiagonal T_m.
                let mut t = DMatrix::<f64>::zeros(m, m);
                for i in 0..m {
                    t[(i, i)] = alpha[i];
                    if i + 1 < m {
                        t[(i, i + 1)] = beta[i];
                        t[(i + 1, i)] = beta[i];
                    }
                }
                let eig = SymmetricEigen::new(t);
                let mut order: Vec<usize> = (0..m).collect();
                order.sort_by(|&p, &q| eig.eigenvalues[p].total_cmp(&eig.eigenvalues[q]));
                hnorm = eig.eigenvalues.iter().fold(hnorm, |h, v| h.max(v.abs()));
                // Lock only the lowest Ritz pair of a run: a Krylov space holds one copy of a repeated
                // eigenvalue, so a higher converged Ritz value may sit above copies not found yet.
                let lowest = order[0];
                let res = if invariant {
                    0.0
                } else {
                    (b * eig.eigenvectors[(m - 1, lowest)]).abs()
                };
                let ritz = |c: usize| -> Vec<f64> {
                    let mut q = vec![0.0; d];
                    for (i, bi) in basis.iter().enumerate() {
                        let s = eig.eigenvectors[(i, c)];
                        q.iter_mut().zip(bi).for_each(|(qa, ba)| *qa += s * ba);
                    }
                    let n = norm(&q);
                    q.iter_mut().for_each(|qa| *qa /= n);
                    q
                };
                if res <= opts.tol * hnorm.max(f64::MIN_POSITIVE) {
                    let theta = eig.eigenvalues[lowest];
                    let mut q = ritz(lowest);
                    project_out(&mut q, &[], &locked);
                    let n = norm(&q);
                    q.iter_mut().for_each(|qa| *qa /= n);
                    locked.push((theta, q));
                    failures = 0;
                    if opts.stop_at_nonnegative && theta >= -opts.zero_tol {
                        break 'outer;
                    }
                    continue 'outer;
                }
                if invariant || full {
                    failures += 1;
                    if failures > 50 {
                        return Err(Error::NoConvergence(format!(
                            "Lanczos: eigenpair {} did not converge to tol = {:.1e} in 50 restarts of {room} \
                             vectors; raise max_basis or tol",
                            locked.len() + 1,
                            opts.tol
                        )));
                    }
                    // Restart from the best Ritz vector plus a 1% random part, so that copies of
                    // eigenvalues orthogonal to this Krylov space can still appear.
                    let mut r = ritz(lowest);
                    r.iter_mut()
                        .for_each(|v| *v += 0.01 * rng.sample::<f64, _>(StandardNormal) / (d as f64).sqrt());
                    restart = Some(r);
                    continue 'outer;
                }
            }
            beta.push(b);
            let next: Vec<f64> = w.iter().map(|x| x / b).collect();
            basis.push(next);
        }
    }
    locked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut residuals = Vec::with_capacity(locked.len());
    for (lam, q) in &locked {
        op(q, &mut w);
        products += 1;
        let r: f64 = w
            .iter()
            .zip(q)
            .map(|(h, qi)| (h - lam * qi).powi(2))
            .sum::<f64>()
            .sqrt();
        residuals.push(r);
    }
    let negative = locked.iter().filter(|(lam, _)| *lam < -opts.zero_tol).count();
    let index = if negative < locked.len() || locked.len() == d {
        Some(negative)
    } else {
        None
    };
    Ok(Spectrum {
        eigenvalues: locked.iter().map(|(l, _)| *l).collect(),
        eigenvectors: locked.into_iter().map(|(_, q)| q).collect(),
        residuals,
        index,
        products,
    })
}

/// The lowest eigenpairs of ∇²f(x) from [`Landscape::hessian_vector`] (see [`lowest_eigenpairs`]).
pub fn hessian_spectrum(l: &dyn Landscape, x: &[f64], opts: &LanczosOptions) -> Result<Spectrum> {
    if x.len() != l.dim() {
        return Err(Error::Dimension {
            key: "x".into(),
            expected: l.dim(),
            found: x.len(),
        });
    }
    lowest_eigenpairs(&mut |v, out| l.hessian_vector(x, v, out), l.dim(), opts)
}
