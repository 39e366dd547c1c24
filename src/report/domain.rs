//! Where f itself is not finite: a 2-D landscape evaluated over the region its sample paths are drawn on
//! (`trajectories.png`), so that a formula used outside its domain (log, sqrt or a power of a negative
//! number, a division by zero, an overflow) is reported in words instead of leaving a blank background.

use crate::model::landscape::Landscape;

/// Grid points per axis at which f is evaluated.
const GRID: usize = 101;
/// Relative padding of the region beyond the paths' bounding box (as the figure pads its axes).
const PAD: f64 = 0.08;

/// The warning when f is NaN or ±∞ at some of the 101 × 101 grid points of the box spanned by `points` (the
/// stored sample-path positions, the saddle and the attractors; only their first two coordinates, non-finite
/// ones skipped) padded by 8 % per side, for a 2-D landscape; None otherwise. It names the fraction, the box
/// and one point where f is not finite.
pub fn nonfinite_warning<'a>(l: &dyn Landscape, points: impl IntoIterator<Item = &'a [f64]>) -> Option<String> {
    if l.dim() != 2 {
        return None;
    }
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    let mut any = false;
    for p in points {
        if p.len() >= 2 && p[0].is_finite() && p[1].is_finite() {
            any = true;
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
    }
    if !any {
        return None;
    }
    for k in 0..2 {
        let w = hi[k] - lo[k];
        let pad = if w > 0.0 { PAD * w } else { 0.5 * lo[k].abs().max(1.0) };
        (lo[k], hi[k]) = (lo[k] - pad, hi[k] + pad);
    }
    let at = |k: usize, i: usize| lo[k] + (hi[k] - lo[k]) * i as f64 / (GRID - 1) as f64;
    let (mut bad, mut example) = (0usize, None);
    for j in 0..GRID {
        for i in 0..GRID {
            let x = [at(0, i), at(1, j)];
            if !l.value(&x).is_finite() {
                bad += 1;
                example.get_or_insert(x);
            }
        }
    }
    let x = example?;
    let total = GRID * GRID;
    let (share, figure) = if bad == total {
        ("everywhere on".to_string(), "trajectories.png has no contours")
    } else {
        (
            format!("at {:.2} % of the grid points of", 100.0 * bad as f64 / total as f64),
            "trajectories.png shows those cells grey",
        )
    };
    Some(format!(
        "f is not finite (NaN or ±∞) {share} the region the sample paths are drawn on, [{:.4e}, {:.4e}] × [{:.4e}, {:.4e}] (e.g. f({:.4e}, {:.4e}) = {}); {figure}. Fix: keep the formula inside its domain there (log and sqrt of non-negative arguments, no division by zero), or start the paths where f is defined",
        lo[0],
        hi[0],
        lo[1],
        hi[1],
        x[0],
        x[1],
        l.value(&x)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::landscape::{Expression, Quadratic};

    fn expr(f: &str) -> Expression {
        Expression::new(f, &["x".to_string(), "y".to_string()]).unwrap()
    }

    /// log(x) is NaN for x < 0: over x ∈ [−1, 3] padded to [−1.32, 3.32] (grid step 0.0464), the columns
    /// i = 0…28 have x < 0, i.e. 29 of 101.
    #[test]
    fn a_formula_outside_its_domain_is_reported() {
        let pts: [&[f64]; 2] = [&[-1.0, -1.0], &[3.0, 1.0]];
        let w = nonfinite_warning(&expr("log(x) + y^2"), pts).expect("a warning");
        assert!(w.contains("f is not finite") && w.contains("Fix:"), "{w}");
        assert!(
            w.contains(&format!("at {:.2} %", 100.0 * 29.0 / 101.0)) && w.contains("grey"),
            "{w}"
        );
        assert!(w.contains("[-1.3200e0, 3.3200e0]"), "{w}");
        let w = nonfinite_warning(&expr("log(-1 - x^2) + y"), pts).expect("a warning");
        assert!(w.contains("everywhere on") && w.contains("no contours"), "{w}");
    }

    #[test]
    fn finite_landscapes_and_other_dimensions_are_not_reported() {
        let pts: [&[f64]; 2] = [&[-3.0, -2.0], &[5.0, 4.0]];
        assert_eq!(nonfinite_warning(&expr("x^2 - y^2 + exp(x)"), pts), None);
        let q1 = Quadratic::new(&[vec![1.0]], None).unwrap();
        assert_eq!(nonfinite_warning(&q1, [&[f64::NAN][..], &[1.0][..]]), None);
        // No finite point: nothing is drawn.
        assert_eq!(nonfinite_warning(&expr("log(x)"), [&[f64::NAN, 1.0][..]]), None);
    }
}
