//! Closed-form and quadrature predictions that the simulator is tested against (math spec §4 and §6,
//! oracles O1–O12).
//!
//! Every function here is pure and meant to be called once per experiment, not inside the per-step loop,
//! so they allocate freely and use nalgebra. Inputs a user could get wrong (a negative time, a matrix of the
//! wrong size, l ≥ r, …) are rejected with [`crate::Error`]; the doc comment of each function gives the
//! equation it evaluates and the spec id it reproduces.
//!
//! | file | concept | spec |
//! |---|---|---|
//! | [`ou`] | moments of linear SDEs (exact OU and its Euler–Maruyama recursion), model mapping | O1 |
//! | [`kim`] | Kim et al. Thm 2 / Cor. 1 / Thm 3 variances and the MSD per eigen-direction | §4.4, O2 |
//! | [`first_passage`] | 1-D mean first-passage times and exit probabilities by quadrature | O5, O6, O7, O9, O10 |
//! | [`restricted`] | restricted mean first-passage times E[min(τ, T)] by a backward-equation solve | O5 at horizon T |
//! | [`kramers`] | Eyring–Kramers and Laplace escape-time asymptotics | O8, O9, O10 |
//! | [`escape`] | escape times from the 1-D saddle for S-SGD1, S-USAM, S-SAM-mb: exact and asymptotic | O5, O6, O10, O12 |
//! | [`attraction`] | deterministic and mini-batch attraction thresholds of USAM / SAM | O3, O4, O12, §4.3 |
//! | [`momentum`] | S-HB / S-HB-od linear systems, growth rates, exact discrete heavy-ball moments | O11, §4.5 |

pub mod attraction;
pub mod escape;
pub mod first_passage;
pub mod kim;
pub mod kramers;
pub mod momentum;
pub mod ou;
pub mod restricted;

use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// `Ok` if `v` is finite and > 0, else an [`Error::Invalid`] naming `key`.
pub(crate) fn positive(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(key, v, "must be a finite number > 0"))
    }
}

/// `Ok` if `v` is finite and ≥ 0.
pub(crate) fn non_negative(key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(key, v, "must be a finite number ≥ 0"))
    }
}

/// `Ok` if `v` is finite.
pub(crate) fn finite(key: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(key, v, "must be a finite number"))
    }
}

/// `Ok` if `m` is `n×n` with finite entries.
pub(crate) fn square(key: &str, m: &DMatrix<f64>, n: usize) -> Result<()> {
    if m.nrows() != n {
        return Err(Error::Dimension {
            key: format!("{key} (rows)"),
            expected: n,
            found: m.nrows(),
        });
    }
    if m.ncols() != n {
        return Err(Error::Dimension {
            key: format!("{key} (columns)"),
            expected: n,
            found: m.ncols(),
        });
    }
    if let Some(v) = m.iter().find(|v| !v.is_finite()) {
        return Err(Error::invalid(key, v, "all entries must be finite"));
    }
    Ok(())
}
