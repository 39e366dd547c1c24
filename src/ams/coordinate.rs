//! Reaction coordinates ξ for the AMS estimators.
//!
//! - [`ExitCoordinate`]: the exit problem of a run. B is exactly the outside of the exit region, and inside
//!   it ξ measures the distance from the saddle d the way the region does: ball ‖x − d‖ (B = {ξ ≥ R}), box
//!   maxᵢ |xᵢ − dᵢ|/hᵢ (B = {ξ ≥ 1}), slab |v·(x − d)| (B = {ξ ≥ L}); or a user formula in the expression
//!   language of the `expression` landscape (B = the outside of the region, marked by ξ = `f64::MAX`).
//!   A diverged (non-finite) state is outside every region, hence an exit.
//! - [`BallCommittor`]: two balls A and B, ξ = u/(u + v) (O6 basin probabilities).
//! - [`AttractorCommittor`]: reach one attractor's ball before returning to the exit problem's set A or
//!   reaching another attractor (basin probabilities of rare escapes).
//!
//! Only the position (the first d entries of a momentum state) is read.

use super::Coordinate;
use crate::model::Region;
use crate::model::landscape::{Expression, Landscape};

/// ξ for the exit problem: B = {ξ ≥ [`ExitCoordinate::target`]} is exactly the outside of the region.
#[derive(Debug, Clone)]
pub struct ExitCoordinate {
    region: Region,
    formula: Option<Expression>,
    d: usize,
    b: f64,
    flag: Option<usize>,
}

impl ExitCoordinate {
    /// The default coordinate of `region`: ball ‖x − d‖ (b = R), box maxᵢ |xᵢ − dᵢ|/hᵢ (b = 1), slab
    /// |v·(x − d)| (b = L).
    pub fn new(region: Region) -> Self {
        let b = match &region {
            Region::Ball { radius, .. } => *radius,
            Region::Box { .. } => 1.0,
            Region::Slab { half_width, .. } => *half_width,
        };
        let d = region.center().len();
        ExitCoordinate {
            region,
            formula: None,
            d,
            b,
            flag: None,
        }
    }

    /// A formula ξ(x) (over the landscape's variables) inside `region`; outside, ξ = `f64::MAX` = b.
    pub fn formula(region: Region, formula: Expression) -> Self {
        let d = region.center().len();
        ExitCoordinate {
            region,
            formula: Some(formula),
            d,
            b: f64::MAX,
            flag: None,
        }
    }

    /// Also reads state entry `index` as the Brownian-bridge exit flag of
    /// [`StepperProcess::with_bridge`](super::StepperProcess::with_bridge): a non-zero flag is an exit.
    pub fn with_bridge_flag(mut self, index: Option<usize>) -> Self {
        self.flag = index;
        self
    }

    /// The target level b.
    pub fn target(&self) -> f64 {
        self.b
    }

    /// Whether ξ is a user formula.
    pub fn is_formula(&self) -> bool {
        self.formula.is_some()
    }

    /// The exit region.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The raw coordinate at position `x` (inside or outside the region).
    pub fn raw(&self, x: &[f64]) -> f64 {
        let x = &x[..self.d];
        if let Some(f) = &self.formula {
            return f.value(x);
        }
        match &self.region {
            Region::Ball { center, .. } => x.iter().zip(center).map(|(a, c)| (a - c) * (a - c)).sum::<f64>().sqrt(),
            Region::Box { center, half_widths } => x
                .iter()
                .zip(center)
                .zip(half_widths)
                .map(|((a, c), h)| (a - c).abs() / h)
                .fold(0.0, f64::max),
            Region::Slab {
                center,
                normal,
                half_width: _,
            } => x
                .iter()
                .zip(center)
                .zip(normal)
                .map(|((a, c), n)| (a - c) * n)
                .sum::<f64>()
                .abs(),
        }
    }

    /// ξ at the state `x`: the raw coordinate, kept below b, inside the region; b outside (or when the
    /// bridge flag is set).
    #[inline]
    pub fn at(&self, x: &[f64]) -> f64 {
        if self.flag.is_none_or(|i| x[i] == 0.0) && self.region.inside(&x[..self.d]) {
            self.raw(x).min(self.b.next_down())
        } else {
            self.b
        }
    }

    /// A one-line description, e.g. `‖x − d‖ (ball radius 1)`.
    pub fn describe(&self) -> String {
        if let Some(f) = &self.formula {
            return format!("{} inside the exit region, +max outside", f.formula());
        }
        match &self.region {
            Region::Ball { radius, .. } => format!("‖x − d‖ (exit at {radius})"),
            Region::Box { .. } => "maxᵢ |xᵢ − dᵢ|/hᵢ (exit at 1)".into(),
            Region::Slab { half_width, .. } => format!("|v·(x − d)| (exit at {half_width})"),
        }
    }
}

impl<S: AsRef<[f64]>> Coordinate<S> for ExitCoordinate {
    #[inline]
    fn value(&self, s: &S) -> f64 {
        self.at(s.as_ref())
    }
}

/// ‖x − c‖ over the first `c.len()` entries of x.
#[inline]
fn dist(x: &[f64], c: &[f64]) -> f64 {
    x.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
}

/// Committor-style coordinate for two balls A = B(m_A, r_A), B = B(m_B, r_B) (disjoint):
/// ξ(x) = u/(u + v), u = ‖x − m_A‖ − r_A, v = ‖x − m_B‖ − r_B.
///
/// The triangle inequality gives u + v ≥ ‖m_A − m_B‖ − r_A − r_B > 0, so ξ < 0 exactly in A, ξ ≥ 1 exactly
/// in B (ξ = 1 on its sphere) and 0 ≤ ξ < 1 in between: use levels a = 0, b = 1.
#[derive(Debug, Clone)]
pub struct BallCommittor {
    /// m_A.
    pub a_centre: Vec<f64>,
    /// r_A.
    pub a_radius: f64,
    /// m_B.
    pub b_centre: Vec<f64>,
    /// r_B.
    pub b_radius: f64,
}

impl BallCommittor {
    /// ξ at the position `x` (its first d entries).
    pub fn at(&self, x: &[f64]) -> f64 {
        let u = dist(x, &self.a_centre) - self.a_radius;
        let v = dist(x, &self.b_centre) - self.b_radius;
        u / (u + v)
    }
}

impl<S: AsRef<[f64]>> Coordinate<S> for BallCommittor {
    fn value(&self, s: &S) -> f64 {
        self.at(s.as_ref())
    }
}

/// Committor-style coordinate for "reach attractor k before returning to A or reaching another
/// attractor", with A = {ξ_exit < a} the set of the exit problem and the attractors balls of radius r
/// around the minima m_j (disjoint from A and from each other):
///
/// ξ_k(x) = −1 in A or in another attractor's ball, 1 in ball k, else u/(u + v) ∈ [0, 1) with
/// u = min(max(ξ_raw(x) − a, 0), min_{j≠k} (‖x − m_j‖ − r)) and v = ‖x − m_k‖ − r. (ξ_raw: the exit coordinate
/// without its cap at b)
///
/// Use levels a = 0, b = 1: p_k = P(ξ_k reaches 1 before dropping below 0).
#[derive(Debug, Clone)]
pub struct AttractorCommittor {
    exit: ExitCoordinate,
    a: f64,
    target: Vec<f64>,
    others: Vec<Vec<f64>>,
    radius: f64,
}

impl AttractorCommittor {
    /// The coordinate of attractor `k` of `attractors` (balls of `radius`), against A = {ξ_exit < a}.
    pub fn new(exit: &ExitCoordinate, a: f64, attractors: &[Vec<f64>], k: usize, radius: f64) -> Self {
        AttractorCommittor {
            exit: exit.clone(),
            a,
            target: attractors[k].clone(),
            others: attractors
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, m)| m.clone())
                .collect(),
            radius,
        }
    }

    /// ξ_k at the state `x`.
    pub fn at(&self, x: &[f64]) -> f64 {
        if self.exit.at(x) < self.a {
            return -1.0;
        }
        let v = dist(x, &self.target) - self.radius;
        let mut u = (self.exit.raw(x) - self.a).max(0.0);
        for o in &self.others {
            let w = dist(x, o) - self.radius;
            if w < 0.0 {
                return -1.0;
            }
            u = u.min(w);
        }
        if v < 0.0 {
            return 1.0;
        }
        if u + v > 0.0 { u / (u + v) } else { 0.0 }
    }
}

impl<S: AsRef<[f64]>> Coordinate<S> for AttractorCommittor {
    #[inline]
    fn value(&self, s: &S) -> f64 {
        self.at(s.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ball_committor_is_negative_in_a_and_at_least_one_in_b() {
        let bc = BallCommittor {
            a_centre: vec![-1.0, 0.0],
            a_radius: 0.2,
            b_centre: vec![1.0, 0.0],
            b_radius: 0.3,
        };
        assert!(bc.at(&[-1.1, 0.05]) < 0.0);
        assert!(bc.at(&[-0.8, 0.0]).abs() < 1e-15, "ξ = 0 on the sphere of A");
        assert!((bc.at(&[0.7, 0.0]) - 1.0).abs() < 1e-15, "ξ = 1 on the sphere of B");
        assert!(bc.at(&[0.9, 0.1]) > 1.0);
        // between the balls ξ ∈ (0, 1), increasing along the segment; a momentum state's velocity is ignored
        let xs: Vec<f64> = (1..10)
            .map(|i| bc.at(&[-0.8 + 0.15 * i as f64, 0.0, 5.0, 5.0]))
            .collect();
        assert!(
            xs.windows(2).all(|w| w[0] < w[1]) && xs[0] > 0.0 && xs[8] < 1.0,
            "{xs:?}"
        );
    }

    /// B = {ξ ≥ b} is exactly the outside of the region for every shape, including at the boundary and for a
    /// non-finite state; inside, ξ is the region's own distance.
    #[test]
    fn exit_coordinate_marks_exactly_the_outside() {
        let c = vec![0.5, -1.0];
        let regions = [
            Region::ball(c.clone(), 2.0).unwrap(),
            Region::boxed(c.clone(), vec![1.0, 0.25]).unwrap(),
            Region::slab(c.clone(), vec![3.0, 4.0], 0.5).unwrap(),
        ];
        for r in regions {
            let xi = ExitCoordinate::new(r.clone());
            let b = xi.target();
            for i in 0..400 {
                let t = i as f64 * 0.01;
                let x = [0.5 + 2.0 * t * (0.3 * t).cos(), -1.0 + t * 0.7];
                assert_eq!(xi.at(&x) >= b, !r.inside(&x), "{r:?} at {x:?}");
                if r.inside(&x) {
                    assert_eq!(xi.at(&x), xi.raw(&x).min(b.next_down()));
                }
            }
            assert_eq!(xi.at(&[f64::NAN, 0.0]), b, "a diverged state has exited");
            assert_eq!(xi.at(&c), 0.0);
        }
        let ball = ExitCoordinate::new(Region::ball(c.clone(), 2.0).unwrap());
        assert!((ball.raw(&[0.5 + 1.2, -1.0 - 1.6]) - 2.0).abs() < 1e-15);
        let boxed = ExitCoordinate::new(Region::boxed(c.clone(), vec![1.0, 0.25]).unwrap());
        assert!((boxed.raw(&[1.0, -0.9]) - 0.5).abs() < 1e-15, "max(0.5/1, 0.1/0.25)");
        let slab = ExitCoordinate::new(Region::slab(c.clone(), vec![3.0, 4.0], 0.5).unwrap());
        assert!(
            (slab.raw(&[0.5 + 0.3, -1.0 + 0.4]) - 0.5).abs() < 1e-15,
            "(0.6·0.3 + 0.8·0.4)"
        );
    }

    #[test]
    fn formula_coordinate_ranks_inside_and_marks_the_outside() {
        let vars = ["x".to_string(), "y".to_string()];
        let region = Region::slab(vec![0.0, 0.0], vec![0.0, 1.0], 1.0).unwrap();
        let xi = ExitCoordinate::formula(region, Expression::new("y^2 + 0.1*x", &vars).unwrap());
        assert!((xi.at(&[1.0, 0.5]) - 0.35).abs() < 1e-15);
        assert_eq!(xi.at(&[0.0, 1.5]), f64::MAX);
        assert!(xi.at(&[0.0, 0.999]) < xi.target());
        // momentum states: the velocity entries are not read
        assert!((xi.at(&[1.0, 0.5, 7.0, 7.0]) - 0.35).abs() < 1e-15);
    }

    #[test]
    fn attractor_committor_separates_a_the_target_and_the_others() {
        // Exit ball of radius 0.5 around the origin, A = {‖x‖ < 0.2}, attractors at (0, ±1), radius 0.1.
        let exit = ExitCoordinate::new(Region::ball(vec![0.0, 0.0], 0.5).unwrap());
        let m = vec![vec![0.0, 1.0], vec![0.0, -1.0]];
        let up = AttractorCommittor::new(&exit, 0.2, &m, 0, 0.1);
        assert_eq!(up.at(&[0.0, 0.1]), -1.0, "in A");
        assert_eq!(up.at(&[0.0, -0.95]), -1.0, "in the other attractor");
        assert_eq!(up.at(&[0.0, 0.95]), 1.0, "in the target");
        // along the axis ξ = (y − 0.2)/0.7 from the sphere of A to the target's sphere
        let path: Vec<f64> = (0..=13).map(|i| up.at(&[0.0, 0.2 + 0.05 * i as f64])).collect();
        assert_eq!(path[0], 0.0, "on the sphere of A");
        for (i, v) in path.iter().enumerate() {
            assert!((v - 0.05 * i as f64 / 0.7).abs() < 1e-12, "{path:?}");
        }
        // toward the other attractor ξ stays in [0, 1) and drops to −1 inside it
        assert!((0.0..1.0).contains(&up.at(&[0.0, -0.5])));
    }
}
