//! The theory rows of a report: the one place that turns an [`Experiment`] into closed-form predictions
//! ([`Theory`]), shared by `samsde run` (summary.json, moments.csv) and `samsde theory` (no simulation).
//!
//! - O1: exact OU mean and covariance at time t of the linearisation at the saddle, for SGD and USAM on a
//!   quadratic landscape with constant noise (no momentum);
//! - O3: USAM's attraction threshold ρ* = 1/|λ₋| and whether this dynamics' linearisation attracts;
//! - O5: the exact mean exit time of the 1-D inverted OU process along the most unstable eigendirection from
//!   the saddle to the exit boundary (ball radius or slab half-width), and its asymptotic formula.

use super::schema::Theory;
use crate::model::{Noise, Region};
use crate::sde::Kim;
use crate::setup::{DynamicsKind, Experiment};
use crate::theory::attraction::{usam_attracting, usam_threshold};
use crate::theory::first_passage::{inverted_ou_mfpt, inverted_ou_mfpt_asymptotic};
use crate::theory::ou::{LinearKind, linear_model, matrix_abs, ou_moments};
use crate::theory::restricted::inverted_ou_restricted_mfpt;
use nalgebra::{DMatrix, DVector};

/// Σ_B as a constant matrix, when the noise model has one on this landscape.
fn sigma_b(exp: &Experiment) -> Option<DMatrix<f64>> {
    let d = exp.model.dim();
    let h = exp.model.landscape().constant_hessian();
    match exp.model.noise() {
        Noise::Isotropic { sigma, batch } => Some(DMatrix::identity(d, d) * (sigma * sigma / batch)),
        Noise::Linear { cov, .. } => Some(DMatrix::from_row_slice(d, d, cov)),
        Noise::Hessian { scale, batch, .. } => {
            let h = DMatrix::from_row_slice(d, d, h?);
            matrix_abs(&h).ok().map(|a| a * (scale / batch))
        }
        Noise::FiniteSum { .. } => None,
    }
}

fn linear_kind(k: DynamicsKind) -> Option<LinearKind> {
    match k {
        DynamicsKind::Sgd => Some(LinearKind::Sgd),
        DynamicsKind::Usam => Some(LinearKind::Usam),
        DynamicsKind::Kim => Some(LinearKind::ModelK),
        _ => None,
    }
}

/// (H, Σ_B) of the linear model of dynamics `kind`: model K is linear on any landscape (H = ∇²f(d) and Σ_B at
/// the saddle, as it runs); SGD and USAM only on a quadratic with constant noise.
fn linear_parts(exp: &Experiment, kind: LinearKind) -> Option<(DMatrix<f64>, DMatrix<f64>)> {
    let d = exp.model.dim();
    if kind == LinearKind::ModelK {
        let l = exp.model.landscape().as_ref();
        let mut h = vec![0.0; d * d];
        l.hessian(&exp.saddle.x, &mut h);
        let s = Kim::noise_covariance(l, exp.model.noise(), &exp.saddle.x);
        return Some((DMatrix::from_row_slice(d, d, &h), DMatrix::from_row_slice(d, d, &s)));
    }
    if !exp.model.is_linear_gaussian() {
        return None;
    }
    let h = DMatrix::from_row_slice(d, d, exp.model.landscape().constant_hessian()?);
    Some((h, sigma_b(exp)?))
}

/// O1 at time `t` for dynamics `i` (None where it does not apply).
pub fn theory_at(exp: &Experiment, i: usize, t: f64) -> Option<Theory> {
    let m = exp.meta.get(i)?;
    let kind = linear_kind(m.spec.kind)?;
    if m.spec.momentum != 0.0 {
        return None;
    }
    let d = exp.model.dim();
    let (h, s) = linear_parts(exp, kind)?;
    let (a, sd) = linear_model(kind, &h, &s, m.spec.lr, m.spec.rho).ok()?;
    let x0 = DVector::from_iterator(d, exp.plan.start.iter().zip(&exp.saddle.x).map(|(a, b)| a - b));
    let (mean, mut cov) = ou_moments(&a, &sd, &x0, t).ok()?;
    if exp.plan.spread > 0.0 {
        let e = (-&a * t).exp();
        cov += &e * e.transpose() * exp.plan.spread.powi(2);
    }
    let trace = cov.trace();
    let msd = mean.norm_squared() + trace;
    Some(Theory {
        mean: Some(mean.iter().zip(&exp.saddle.x).map(|(m, c)| m + c).collect()),
        cov: Some((0..d).map(|r| (0..d).map(|c| cov[(r, c)]).collect()).collect()),
        trace: Some(trace),
        msd: Some(msd),
        ..Theory::default()
    })
}

/// All predictions for every dynamics at t_end (None for a dynamics where nothing applies).
pub fn theory(exp: &Experiment) -> Vec<Option<Theory>> {
    let t_end = exp.t_end;
    let eig = &exp.saddle.eigenvalues;
    (0..exp.meta.len())
        .map(|i| {
            let m = &exp.meta[i];
            let mut th = theory_at(exp, i, t_end).unwrap_or_default();
            let mut any = th.trace.is_some();
            if any {
                th.notes.push(
                    "O1: exact OU law of the linear SDE at the saddle (Euler–Maruyama bias O(dt) not included)".into(),
                );
                if exp.plan.region.is_some() && exp.plan.stop_on_exit {
                    th.notes
                        .push("paths stop at their exit, so the simulated moments are of the survivors only".into());
                }
            }
            if let Some(rho_star) = usam_threshold(eig) {
                any = true;
                th.attraction_threshold_rho = Some(rho_star);
                let rho = match m.spec.kind {
                    DynamicsKind::Sgd | DynamicsKind::SgdDiscrete => Some(0.0),
                    DynamicsKind::Usam | DynamicsKind::UsamDiscrete | DynamicsKind::Kim => Some(m.spec.rho),
                    _ => None,
                };
                th.attracting = rho.map(|r| usam_attracting(eig, r));
                th.notes.push(format!("O3: the linearised USAM flow is attracted to the saddle for ρ > {rho_star:.6}"));
            }
            if let (Some(l), Some(kind)) = (exit_distance(exp), linear_kind(m.spec.kind))
                && let Some((_, s)) = linear_parts(exp, kind)
                && m.spec.momentum == 0.0
                && let Some(&lambda) = eig.first()
                && lambda < 0.0
            {
                let q = DVector::from_column_slice(&exp.saddle.eigenvectors[0]);
                // κ = −λ·(drift factor), s² = η·(noise factor)²·qᵀΣ_B q along the unstable eigenvector q.
                let p = 1.0 + m.spec.rho * lambda;
                let (drift, noise) = match kind {
                    LinearKind::Usam => (p, p),
                    LinearKind::ModelK => (p * p, 1.0),
                    LinearKind::Sgd => (1.0, 1.0),
                };
                let kappa = -lambda * drift;
                let s2 = m.spec.lr * noise * noise * (q.transpose() * &s * &q)[(0, 0)];
                if s2 > 0.0
                    && let Ok(tm) = inverted_ou_mfpt(kappa, s2, l)
                {
                    any = true;
                    th.exit_mean_time = Some(tm);
                    th.exit_mean_time_asymptotic = inverted_ou_mfpt_asymptotic(kappa, s2, l).ok();
                    let horizon = exp.entries[i].schedule.t_end;
                    th.exit_restricted_mean_time = inverted_ou_restricted_mfpt(kappa, s2, l, horizon).ok();
                    th.notes.push(format!(
                        "O5: 1-D inverted OU along the most unstable direction from the saddle to distance {l} (κ = {kappa:.6}, s² = {s2:.3e}); ignores the stable directions and the start offset; exit_restricted_mean_time is E[min(τ, T)] of the same process at the horizon T"
                    ));
                }
            }
            any.then_some(th)
        })
        .collect()
}

/// Distance from the saddle to the exit boundary along the unstable direction (ball and slab regions).
fn exit_distance(exp: &Experiment) -> Option<f64> {
    match exp.plan.region.as_ref()? {
        Region::Ball { radius, .. } => Some(*radius),
        Region::Slab { half_width, .. } => Some(*half_width),
        Region::Box { .. } => None,
    }
}
