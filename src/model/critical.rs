//! Finding and classifying critical points: how a user chooses the saddle a run starts at (math spec §1, O3).
//!
//! 1. [`newton`] solves ∇f(x) = 0 from a guess. Newton's method on the gradient converges to whichever
//!    critical point is near — saddles and maxima as well as minima — which is what we want here.
//! 2. [`classify`] evaluates the Hessian there, H = QΛQᵀ, and names the point by the signs of its
//!    eigenvalues: all positive → minimum, all negative → maximum, some negative and some positive → an
//!    index-k saddle with k negative eigenvalues (also when others are ≈ 0: a saddle with flat directions, as
//!    at the zero-weights saddle of an MLP); otherwise (eigenvalues ≈ 0 and only one sign) → degenerate.
//!
//! In high dimension ([`NEWTON_DENSE_MAX_DIM`], [`DENSE_EIGEN_MAX_DIM`]) Newton's method becomes Newton-MR
//! and the dense eigen-decomposition Lanczos on Hessian–vector products ([`super::krylov`]).
//! 3. [`find_all`] runs both from many starts (e.g. [`grid_starts`]), merges duplicates and sorts by value.
//! 4. [`choose_saddle`] picks the point a run is centred on, [`default_basins`] the minima that are its
//!    default attractors.
//!
//! This runs once per experiment, before the simulation, so it allocates freely and uses nalgebra.

use super::krylov::{self, LanczosOptions, NewtonMrOptions};
use super::landscape::Landscape;
use crate::error::{Error, Result};
use crate::linalg;
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Default gradient tolerance for [`newton`]: converged when ‖∇f(x)‖ ≤ 1e−10.
pub const DEFAULT_TOL: f64 = 1e-10;
/// Default iteration budget for [`newton`]. Quadratic convergence needs < 10 steps near a non-degenerate
/// point; at a degenerate point convergence is only linear (the error halves per step for a cubic), hence 100.
pub const DEFAULT_MAX_ITER: usize = 100;
/// Singular values σ ≤ `PINV_RTOL` · σ_max of H are treated as 0 in the Newton step δ = −H⁺∇f, so a singular or
/// nearly singular Hessian (a degenerate point, a valley of minima) gives a finite minimum-norm step.
pub const PINV_RTOL: f64 = 1e-10;
/// Relative part of the zero-eigenvalue test in [`classify`]: |λ| ≤ `DEGENERATE_RTOL` · max_j |λ_j| is round-off.
pub const DEGENERATE_RTOL: f64 = 1e-8;
/// Safety factor of the location part of the zero-eigenvalue test in [`classify`] (see there).
pub const DEGENERATE_LOCATION_FACTOR: f64 = 10.0;
/// Above this dimension [`newton`] runs Newton-MR ([`krylov::newton_mr`]: MINRES on Hessian–vector products)
/// instead of dense Newton steps from an SVD of H.
pub const NEWTON_DENSE_MAX_DIM: usize = 64;
/// Above this dimension [`classify`] finds only the lowest [`LANCZOS_EIGENPAIRS`] eigenpairs by Lanczos on
/// Hessian–vector products instead of the whole spectrum by a dense eigen-decomposition (≈ 0.7 s at d = 1000,
/// growing as d³).
pub const DENSE_EIGEN_MAX_DIM: usize = 2000;
/// How many of the lowest eigenpairs [`classify`] finds by Lanczos above [`DENSE_EIGEN_MAX_DIM`].
pub const LANCZOS_EIGENPAIRS: usize = 32;
/// Above this dimension [`classify`] estimates ‖T‖_F from [`T_PROBES`] random directions u ~ N(0, I)
/// (E‖T\[u\]‖_F² = ‖T‖_F²) instead of the d exact contractions T\[e_k\].
pub const T_EXACT_MAX_DIM: usize = 32;
/// Random directions of the ‖T‖_F estimate above [`T_EXACT_MAX_DIM`].
pub const T_PROBES: usize = 4;

/// What kind of critical point x is, from the eigenvalues λ of H(x) (serialised as `"kind": "minimum"`,
/// `"maximum"`, `"degenerate"` or `"saddle"` with a separate `"index": k` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CriticalKind {
    /// All λ > 0.
    Minimum,
    /// Some λ < 0 and some λ > 0 (eigenvalues ≈ 0 may also be present: a saddle with flat directions).
    Saddle {
        /// The Morse index: the number of negative eigenvalues (1 ≤ index < d).
        index: usize,
    },
    /// All λ < 0.
    Maximum,
    /// Some λ ≈ 0 (see [`classify`] for the tolerance) and no pair of opposite signs: the Hessian alone cannot
    /// decide (e.g. the monkey saddle, a valley of minima).
    Degenerate,
}

impl CriticalKind {
    /// Human-readable label: "minimum", "index-1 saddle", "maximum" or "degenerate".
    pub fn label(&self) -> String {
        match self {
            CriticalKind::Minimum => "minimum".into(),
            CriticalKind::Saddle { index } => format!("index-{index} saddle"),
            CriticalKind::Maximum => "maximum".into(),
            CriticalKind::Degenerate => "degenerate".into(),
        }
    }
}

/// A classified critical point. Serialises flat: `{"x": [..], "value": .., "kind": "saddle", "index": 1,
/// "eigenvalues": [..], "eigenvectors": [[..], ..], "gradient_norm": ..}` (`index` only for saddles).
#[derive(Debug, Clone, Serialize)]
pub struct CriticalPoint {
    /// The location x.
    pub x: Vec<f64>,
    /// f(x).
    pub value: f64,
    /// Minimum, index-k saddle, maximum or degenerate.
    #[serde(flatten)]
    pub kind: CriticalKind,
    /// Eigenvalues λ₁ ≤ … ≤ λ_d of H(x), ascending: all d, or above [`DENSE_EIGEN_MAX_DIM`] the lowest
    /// [`LANCZOS_EIGENPAIRS`] and the largest, found by Lanczos (see `complete_spectrum`).
    pub eigenvalues: Vec<f64>,
    /// Unit eigenvectors q_j, one per eigenvalue (H q_j = λ_j q_j), each with its largest-magnitude entry
    /// positive so that the sign is reproducible. Not serialised when d > [`SERIALISED_EIGENVECTORS_MAX_DIM`].
    #[serde(skip_serializing_if = "too_many")]
    pub eigenvectors: Vec<Vec<f64>>,
    /// ‖∇f(x)‖, the residual of the critical-point equation.
    pub gradient_norm: f64,
    /// How many eigenvalues count as zero (|λ| within the tolerance of [`classify`]).
    pub zero_eigenvalues: usize,
    /// Whether `eigenvalues` holds the whole spectrum (false: the lowest ones, by Lanczos; the index is then
    /// the number of negative ones found, a lower bound when all of them are negative).
    pub complete_spectrum: bool,
}

/// Above this dimension the eigenvectors of a [`CriticalPoint`] are not serialised (d² numbers).
pub const SERIALISED_EIGENVECTORS_MAX_DIM: usize = 16;

fn too_many(v: &[Vec<f64>]) -> bool {
    v.first().is_some_and(|q| q.len() > SERIALISED_EIGENVECTORS_MAX_DIM)
}

fn check_point(l: &dyn Landscape, x: &[f64], key: &str) -> Result<()> {
    if x.len() != l.dim() {
        return Err(Error::Dimension {
            key: key.into(),
            expected: l.dim(),
            found: x.len(),
        });
    }
    if let Some(v) = x.iter().find(|v| !v.is_finite()) {
        return Err(Error::invalid(key, v, "all coordinates must be finite numbers"));
    }
    Ok(())
}

fn check_solver(tol: f64, max_iter: usize) -> Result<()> {
    if !(tol.is_finite() && tol > 0.0) {
        return Err(Error::invalid(
            "critical.tol",
            tol,
            "the gradient tolerance must be a finite number > 0, e.g. 1e-10",
        ));
    }
    if max_iter == 0 {
        return Err(Error::invalid(
            "critical.max_iter",
            max_iter,
            "allow at least 1 Newton iteration, e.g. 100",
        ));
    }
    Ok(())
}

/// Solves ∇f(x) = 0 by Newton's method from `guess`: x ← x + δ with H(x) δ = −∇f(x), until ‖∇f(x)‖ ≤ `tol`.
/// Above [`NEWTON_DENSE_MAX_DIM`] this is Newton-MR ([`krylov::newton_mr`], at least its default iterations),
/// which needs only Hessian–vector products; below, dense steps as follows.
///
/// The step is the pseudo-inverse solution δ = −H⁺∇f from an SVD, with singular values below
/// [`PINV_RTOL`] · σ_max dropped, so a singular Hessian (degenerate points, valleys of minima) does not break
/// the iteration; for a regular H this is exactly the Newton step. As a light globalisation the step length is
/// capped at 1 + ‖x‖ (the cap never binds close to a critical point, so local convergence is unchanged).
/// Newton converges to the nearest critical point of any kind — saddles included.
///
/// Errors: [`Error::Dimension`] / [`Error::Invalid`] for a bad guess, `tol` ≤ 0 or `max_iter` = 0;
/// [`Error::NoConvergence`] if the iterate leaves the finite numbers, stalls, or `max_iter` steps are not
/// enough (the message gives the last x and ‖∇f‖).
pub fn newton(l: &dyn Landscape, guess: &[f64], tol: f64, max_iter: usize) -> Result<Vec<f64>> {
    check_point(l, guess, "critical.guess")?;
    check_solver(tol, max_iter)?;
    let d = l.dim();
    if d > NEWTON_DENSE_MAX_DIM {
        let opts = NewtonMrOptions {
            tol,
            max_iter: max_iter.max(krylov::NewtonMrOptions::default().max_iter),
            ..NewtonMrOptions::default()
        };
        return krylov::newton_mr(l, guess, &opts).map(|r| r.x);
    }
    let mut x = guess.to_vec();
    let mut g = vec![0.0; d];
    let mut h = vec![0.0; d * d];
    for _ in 0..max_iter {
        l.gradient(&x, &mut g);
        let gn = linalg::norm(&g);
        if !gn.is_finite() {
            return Err(Error::NoConvergence(format!(
                "Newton's method from {guess:?} reached x = {x:?} where ∇f is not finite; start closer to a critical point"
            )));
        }
        if gn <= tol {
            return Ok(x);
        }
        l.hessian(&x, &mut h);
        let svd = DMatrix::from_row_slice(d, d, &h).svd(true, true);
        let smax = svd.singular_values.max();
        let rhs = DVector::from_iterator(d, g.iter().map(|v| -v));
        let mut step = match svd.solve(&rhs, PINV_RTOL * smax) {
            Ok(s) if s.iter().all(|v| v.is_finite()) => s,
            _ => {
                return Err(Error::NoConvergence(format!(
                    "Newton's method from {guess:?}: the Hessian at x = {x:?} could not be inverted"
                )));
            }
        };
        let sn = step.norm();
        let cap = 1.0 + linalg::norm(&x);
        if sn > cap {
            step *= cap / sn;
        }
        if sn <= f64::EPSILON * cap {
            return Err(Error::NoConvergence(format!(
                "Newton's method from {guess:?} stalled at x = {x:?} with ‖∇f‖ = {gn:.3e} > tol = {tol:.1e} \
                 (the tolerance may be below this landscape's round-off; try a larger tol)"
            )));
        }
        for (xi, si) in x.iter_mut().zip(step.iter()) {
            *xi += si;
        }
    }
    l.gradient(&x, &mut g);
    let gn = linalg::norm(&g);
    if gn <= tol {
        return Ok(x);
    }
    Err(Error::NoConvergence(format!(
        "Newton's method from {guess:?} did not reach ‖∇f‖ ≤ {tol:.1e} in {max_iter} iterations \
         (last x = {x:?}, ‖∇f‖ = {gn:.3e}); try another guess or more iterations"
    )))
}

/// Classifies x (normally the output of [`newton`]) by the eigen-decomposition H(x) = QΛQᵀ.
///
/// An eigenvalue counts as zero when
/// |λ| ≤ [`DEGENERATE_RTOL`] · max_j |λ_j| + [`DEGENERATE_LOCATION_FACTOR`] · √(‖∇f(x)‖ · ‖T(x)‖_F).
/// The first term is round-off in H. The second is how much H can change between x and the true critical point:
/// a residual ‖∇f‖ at a degenerate point means a distance r with ‖∇f‖ ~ ‖T‖r², over which the eigenvalues
/// move by ~‖T‖r = √(‖∇f‖‖T‖), with T = ∇³f. At a non-degenerate point found to ‖∇f‖ ≈ 1e−10 this term is
/// ~1e−5·√‖T‖, far below the eigenvalues. Then: some eigenvalue below −tol and some above +tol → a saddle whose
/// index is the number below −tol, whatever the zero eigenvalues (a negative and a positive curvature
/// direction make x a saddle; the zero ones are counted in `zero_eigenvalues`); else any zero eigenvalue →
/// [`CriticalKind::Degenerate`] (H = 0, a valley, the monkey saddle); else all positive → minimum, all
/// negative → maximum. Above [`DENSE_EIGEN_MAX_DIM`] the eigenvalues are the lowest ones and the largest,
/// by Lanczos on Hessian–vector products, and H itself is never formed.
///
/// Errors: [`Error::Dimension`] or [`Error::Invalid`] if x has the wrong length or a non-finite entry.
pub fn classify(l: &dyn Landscape, x: &[f64]) -> Result<CriticalPoint> {
    check_point(l, x, "critical.x")?;
    let d = l.dim();
    let mut g = vec![0.0; d];
    l.gradient(x, &mut g);
    let gradient_norm = linalg::norm(&g);
    let t_norm = third_norm(l, x);
    let (vals, vecs, hnorm, complete) = if d <= DENSE_EIGEN_MAX_DIM {
        let mut h = vec![0.0; d * d];
        l.hessian(x, &mut h);
        let (vals, vecs) = linalg::eigen(&h, d);
        let hnorm = vals.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let vecs: Vec<Vec<f64>> = (0..d).map(|j| (0..d).map(|i| vecs[i * d + j]).collect()).collect();
        (vals, vecs, hnorm, true)
    } else {
        lanczos_spectrum(l, x)?
    };
    let zero = DEGENERATE_RTOL * hnorm + DEGENERATE_LOCATION_FACTOR * (gradient_norm * t_norm).sqrt();
    let negative = vals.iter().filter(|v| **v < -zero).count();
    let positive = vals.iter().filter(|v| **v > zero).count();
    let zeros = vals.len() - negative - positive;
    let kind = if negative > 0 && positive > 0 {
        CriticalKind::Saddle { index: negative }
    } else if zeros > 0 || vals.is_empty() {
        CriticalKind::Degenerate
    } else if negative == 0 {
        CriticalKind::Minimum
    } else {
        CriticalKind::Maximum
    };
    let eigenvectors = vecs
        .into_iter()
        .map(|mut q| {
            let big = q
                .iter()
                .copied()
                .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            let n = linalg::norm(&q);
            let s = if big < 0.0 { -1.0 / n } else { 1.0 / n };
            q.iter_mut().for_each(|v| *v *= s);
            q
        })
        .collect();
    Ok(CriticalPoint {
        x: x.to_vec(),
        value: l.value(x),
        kind,
        eigenvalues: vals,
        eigenvectors,
        gradient_norm,
        zero_eigenvalues: zeros,
        complete_spectrum: complete,
    })
}

/// ‖T(x)‖_F with ‖T‖_F² = Σ_k ‖T\[e_k\]‖_F², exactly up to [`T_EXACT_MAX_DIM`], else estimated from
/// [`T_PROBES`] fixed random directions (E‖T\[u\]‖_F² = ‖T‖_F² for u ~ N(0, I)).
fn third_norm(l: &dyn Landscape, x: &[f64]) -> f64 {
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let d = l.dim();
    let (mut e, mut t, mut t2) = (vec![0.0; d], vec![0.0; d * d], 0.0);
    if d <= T_EXACT_MAX_DIM {
        for k in 0..d {
            e.fill(0.0);
            e[k] = 1.0;
            l.third(x, &e, &mut t);
            t2 += linalg::dot(&t, &t);
        }
    } else {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0x7_3ee);
        for _ in 0..T_PROBES {
            e.iter_mut().for_each(|v| *v = StandardNormal.sample(&mut rng));
            l.third(x, &e, &mut t);
            t2 += linalg::dot(&t, &t) / T_PROBES as f64;
        }
    }
    t2.sqrt()
}

/// The lowest [`LANCZOS_EIGENPAIRS`] eigenpairs of H(x) by Lanczos, then the largest (a Lanczos run on −H),
/// ascending, and ‖H‖ = max |λ| among them: (eigenvalues, eigenvectors, ‖H‖, complete = false).
/// Eigenvalues (ascending), their eigenvectors, ‖H‖ and whether the spectrum is complete.
type Eigenpairs = (Vec<f64>, Vec<Vec<f64>>, f64, bool);

fn lanczos_spectrum(l: &dyn Landscape, x: &[f64]) -> Result<Eigenpairs> {
    let d = l.dim();
    let opts = LanczosOptions {
        k: LANCZOS_EIGENPAIRS.min(d),
        stop_at_nonnegative: false,
        ..LanczosOptions::default()
    };
    let low = krylov::hessian_spectrum(l, x, &opts)?;
    let top = krylov::lowest_eigenpairs(
        &mut |v, out| {
            l.hessian_vector(x, v, out);
            out.iter_mut().for_each(|o| *o = -*o);
        },
        d,
        &LanczosOptions { k: 1, ..opts },
    )?;
    let hnorm = low
        .eigenvalues
        .iter()
        .chain(top.eigenvalues.iter().map(|v| -v).collect::<Vec<_>>().iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    let mut vals = low.eigenvalues;
    let mut vecs = low.eigenvectors;
    if let (Some(&lmax), Some(q)) = (top.eigenvalues.first(), top.eigenvectors.first())
        && vals.last().is_some_and(|v| *v < -lmax)
    {
        vals.push(-lmax);
        vecs.push(q.clone());
    }
    Ok((vals, vecs, hnorm, false))
}

/// Runs [`newton`] (with `tol`, `max_iter`) and [`classify`] from every start, skipping starts that do not
/// converge. Points closer than `merge_radius` (Euclidean) to one already found are duplicates; of two
/// duplicates the one with the smaller ‖∇f‖ is kept. The result is sorted by f (ascending, ties by x).
///
/// Degenerate points converge only linearly, so their copies from different starts can differ by ~√tol;
/// choose `merge_radius` well above that (1e−4 is a good default for `tol` = 1e−10) and below the spacing
/// of distinct critical points.
///
/// Errors: invalid `tol`, `max_iter`, `merge_radius` (must be finite and ≥ 0) or a start of the wrong
/// dimension or with a non-finite entry. A start from which Newton does not converge is not an error.
pub fn find_all(
    l: &dyn Landscape,
    starts: &[Vec<f64>],
    tol: f64,
    max_iter: usize,
    merge_radius: f64,
) -> Result<Vec<CriticalPoint>> {
    check_solver(tol, max_iter)?;
    if !(merge_radius.is_finite() && merge_radius >= 0.0) {
        return Err(Error::invalid(
            "critical.merge_radius",
            merge_radius,
            "the merge radius must be a finite distance ≥ 0, e.g. 1e-4",
        ));
    }
    for (i, s) in starts.iter().enumerate() {
        check_point(l, s, &format!("critical.starts[{i}]"))?;
    }
    let mut found: Vec<CriticalPoint> = Vec::new();
    let mut g = vec![0.0; l.dim()];
    for s in starts {
        let Ok(x) = newton(l, s, tol, max_iter) else {
            continue;
        };
        let dup = found.iter().position(|f| {
            let d2: f64 = f.x.iter().zip(&x).map(|(a, b)| (a - b) * (a - b)).sum();
            d2.sqrt() < merge_radius
        });
        // A duplicate is classified only if it would replace the one found (its ‖∇f‖ is smaller).
        if let Some(k) = dup {
            l.gradient(&x, &mut g);
            if linalg::norm(&g) >= found[k].gradient_norm {
                continue;
            }
        }
        let Ok(cp) = classify(l, &x) else { continue };
        match dup {
            Some(k) if cp.gradient_norm < found[k].gradient_norm => found[k] = cp,
            Some(_) => {}
            None => found.push(cp),
        }
    }
    found.sort_by(|a, b| {
        a.value.total_cmp(&b.value).then_with(|| {
            a.x.iter()
                .zip(&b.x)
                .map(|(p, q)| p.total_cmp(q))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    });
    Ok(found)
}

/// Upper bound on the number of points [`grid_starts`] will generate.
pub const MAX_GRID_POINTS: usize = 1_000_000;

/// A tensor grid of `per_axis` points per axis on the box [lo, hi] (endpoints included; the midpoint when
/// `per_axis` = 1), as starts for [`find_all`]. Point order: the last coordinate varies fastest.
///
/// Errors: `lo` and `hi` of different lengths, an empty box, non-finite bounds, lo > hi, `per_axis` = 0, or
/// more than [`MAX_GRID_POINTS`] points.
pub fn grid_starts(lo: &[f64], hi: &[f64], per_axis: usize) -> Result<Vec<Vec<f64>>> {
    if lo.len() != hi.len() {
        return Err(Error::Dimension {
            key: "critical.hi".into(),
            expected: lo.len(),
            found: hi.len(),
        });
    }
    if lo.is_empty() {
        return Err(Error::invalid(
            "critical.lo",
            "[]",
            "give one lower and one upper bound per coordinate",
        ));
    }
    for (i, (a, b)) in lo.iter().zip(hi).enumerate() {
        if !(a.is_finite() && b.is_finite() && a <= b) {
            return Err(Error::invalid(
                format!("critical.lo[{i}], critical.hi[{i}]"),
                format!("{a}, {b}"),
                "bounds must be finite with lo ≤ hi",
            ));
        }
    }
    let total = u32::try_from(lo.len())
        .ok()
        .and_then(|d| per_axis.checked_pow(d))
        .filter(|n| *n <= MAX_GRID_POINTS);
    let total = match (per_axis, total) {
        (0, _) => {
            return Err(Error::invalid(
                "critical.per_axis",
                per_axis,
                "use at least 1 point per axis",
            ));
        }
        (_, Some(n)) => n,
        (_, None) => {
            return Err(Error::invalid(
                "critical.per_axis",
                per_axis,
                format!(
                    "per_axis^{} exceeds {MAX_GRID_POINTS} starts; use fewer points per axis",
                    lo.len()
                ),
            ));
        }
    };
    let coord = |i: usize, k: usize| {
        if per_axis == 1 {
            0.5 * (lo[i] + hi[i])
        } else {
            lo[i] + (hi[i] - lo[i]) * k as f64 / (per_axis - 1) as f64
        }
    };
    let d = lo.len();
    Ok((0..total)
        .map(|mut n| {
            let mut p = vec![0.0; d];
            for i in (0..d).rev() {
                p[i] = coord(i, n % per_axis);
                n /= per_axis;
            }
            p
        })
        .collect())
}

/// A `saddle.point` must satisfy ‖∇f‖ ≤ this to be accepted as a critical point.
pub const SADDLE_POINT_TOL: f64 = 1e-6;
/// Half-width of the box of Newton starts around the saddle used to find the default basins.
pub const BASIN_SEARCH_HALF_WIDTH: f64 = 3.0;
/// Upper bound on the number of grid starts used to find the default basins.
pub const BASIN_SEARCH_MAX_STARTS: usize = 2000;
/// Duplicate critical points closer than this are merged.
pub const MERGE_RADIUS: f64 = 1e-4;

/// The point the analysis is centred on, classified: `point` as given (it must be critical, ‖∇f‖ ≤
/// [`SADDLE_POINT_TOL`]); else Newton's method from `guess`, else from the landscape's known saddle, else
/// from `fallback` (e.g. a quadratic's centre), else from the origin. Errors name `saddle.point` or carry
/// Newton's failure.
pub fn choose_saddle(
    l: &dyn Landscape,
    point: Option<&[f64]>,
    guess: Option<&[f64]>,
    fallback: Option<&[f64]>,
) -> Result<CriticalPoint> {
    let d = l.dim();
    let x = if let Some(p) = point {
        let mut g = vec![0.0; d];
        l.gradient(p, &mut g);
        let gn = linalg::norm(&g);
        if gn > SADDLE_POINT_TOL {
            return Err(Error::invalid(
                "saddle.point",
                format!("{p:?} (not a critical point: ‖∇f‖ = {gn:.3e})"),
                "use saddle.guess to let Newton's method find the nearby critical point",
            ));
        }
        p.to_vec()
    } else {
        let guess = match guess {
            Some(g) => g.to_vec(),
            None => l
                .known_points()
                .into_iter()
                .find(|(name, _)| name.contains("saddle"))
                .map(|(_, x)| x)
                .or_else(|| fallback.filter(|c| c.len() == d).map(<[f64]>::to_vec))
                .unwrap_or_else(|| vec![0.0; d]),
        };
        newton(l, &guess, DEFAULT_TOL, DEFAULT_MAX_ITER).map_err(|e| match e {
            Error::NoConvergence(m) => Error::NoConvergence(format!("from {guess:?}: {m}")),
            e => e,
        })?
    };
    classify(l, &x)
}

/// The default attractors: the minima found by Newton's method from a grid of starts in a box of half-width
/// [`BASIN_SEARCH_HALF_WIDTH`] around the saddle (at most [`BASIN_SEARCH_MAX_STARTS`]) and from the
/// landscape's known points, plus known minima Newton did not reach; labelled `minimum_1`, `minimum_2`, ….
pub fn default_basins(l: &dyn Landscape, saddle: &[f64]) -> Vec<(String, Vec<f64>)> {
    let d = l.dim();
    let mut per_axis = 1usize;
    while (per_axis + 1)
        .checked_pow(d as u32)
        .is_some_and(|n| n <= BASIN_SEARCH_MAX_STARTS)
        && per_axis < 41
    {
        per_axis += 1;
    }
    let lo: Vec<f64> = saddle.iter().map(|s| s - BASIN_SEARCH_HALF_WIDTH).collect();
    let hi: Vec<f64> = saddle.iter().map(|s| s + BASIN_SEARCH_HALF_WIDTH).collect();
    let mut starts = grid_starts(&lo, &hi, per_axis).unwrap_or_default();
    let known = l.known_points();
    starts.extend(known.iter().map(|(_, x)| x.clone()));
    let found = find_all(l, &starts, DEFAULT_TOL, DEFAULT_MAX_ITER, MERGE_RADIUS).unwrap_or_default();
    let mut pts: Vec<Vec<f64>> = found
        .into_iter()
        .filter(|p| p.kind == CriticalKind::Minimum)
        .map(|p| p.x)
        .collect();
    for (name, x) in &known {
        let near = pts
            .iter()
            .any(|p| p.iter().zip(x).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt() < MERGE_RADIUS);
        if name.contains("minimum") && !near {
            pts.push(x.clone());
        }
    }
    pts.into_iter()
        .enumerate()
        .map(|(i, x)| (format!("minimum_{}", i + 1), x))
        .collect()
}
