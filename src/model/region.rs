//! Regions around the saddle d, for exit times and trapping: a ball ‖x−d‖ < R, a box |xᵢ−dᵢ| < hᵢ, or a slab
//! |v·(x−d)| < L. Each also gives the Brownian-bridge probability that a path which is inside at both ends
//! of a step left it in between (the exit correction).

use crate::error::{Result, ensure};

/// A face whose crossing exponent 2ab/(v dt) is at least this (p = e^{−exponent} ≤ 1e-15) counts as not
/// crossed: its probability is exactly 0 and no uniform is drawn for it (issue 12: the bridge nearly free).
/// The bias this allows is below 1e-15 per face and step, e.g. < 1e-8 on an exit probability over 10⁶
/// steps of a box in 4-D.
pub const NEGLIGIBLE_EXPONENT: f64 = 34.538776394910684; // 15 ln 10
use serde::{Deserialize, Serialize};

/// A neighbourhood of the saddle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Region {
    /// ‖x − center‖ < radius.
    Ball {
        /// Centre (the saddle).
        center: Vec<f64>,
        /// Radius R.
        radius: f64,
    },
    /// |xᵢ − centerᵢ| < half_widths\[i\] for every i.
    Box {
        /// Centre (the saddle).
        center: Vec<f64>,
        /// Half-widths hᵢ.
        half_widths: Vec<f64>,
    },
    /// |normal · (x − center)| < half_width, with a unit normal.
    Slab {
        /// Centre (the saddle).
        center: Vec<f64>,
        /// Unit normal v (normalised on construction).
        normal: Vec<f64>,
        /// Half-width L.
        half_width: f64,
    },
}

impl Region {
    /// A validated ball.
    pub fn ball(center: Vec<f64>, radius: f64) -> Result<Self> {
        ensure(
            radius.is_finite() && radius > 0.0,
            "exit.radius",
            radius,
            "must be a finite number > 0",
        )?;
        Ok(Region::Ball { center, radius })
    }
    /// A validated box.
    pub fn boxed(center: Vec<f64>, half_widths: Vec<f64>) -> Result<Self> {
        if half_widths.len() != center.len() {
            return Err(crate::Error::Dimension {
                key: "exit.half_widths".into(),
                expected: center.len(),
                found: half_widths.len(),
            });
        }
        for h in &half_widths {
            ensure(
                h.is_finite() && *h > 0.0,
                "exit.half_widths",
                h,
                "every half-width must be a finite number > 0",
            )?;
        }
        Ok(Region::Box { center, half_widths })
    }
    /// A validated slab (the normal is normalised).
    pub fn slab(center: Vec<f64>, normal: Vec<f64>, half_width: f64) -> Result<Self> {
        if normal.len() != center.len() {
            return Err(crate::Error::Dimension {
                key: "exit.normal".into(),
                expected: center.len(),
                found: normal.len(),
            });
        }
        let n = crate::linalg::norm(&normal);
        ensure(
            n.is_finite() && n > 0.0,
            "exit.normal",
            format!("{normal:?}"),
            "must be a non-zero finite vector",
        )?;
        ensure(
            half_width.is_finite() && half_width > 0.0,
            "exit.half_width",
            half_width,
            "must be a finite number > 0",
        )?;
        Ok(Region::Slab {
            center,
            normal: normal.iter().map(|v| v / n).collect(),
            half_width,
        })
    }

    /// Whether x is inside.
    #[inline]
    pub fn inside(&self, x: &[f64]) -> bool {
        match self {
            Region::Ball { center, radius } => {
                let r2: f64 = x.iter().zip(center).map(|(a, c)| (a - c) * (a - c)).sum();
                r2 < radius * radius
            }
            Region::Box { center, half_widths } => x
                .iter()
                .zip(center)
                .zip(half_widths)
                .all(|((a, c), h)| (a - c).abs() < *h),
            Region::Slab {
                center,
                normal,
                half_width,
            } => {
                let s: f64 = x.iter().zip(center).zip(normal).map(|((a, c), n)| (a - c) * n).sum();
                s.abs() < *half_width
            }
        }
    }

    /// Probability that a Brownian bridge from `x0` to `x1` (both inside) over time `dt` crossed the
    /// boundary, each face treated as a half-space: p = exp(−2ab/(v dt)) with a, b the distances of the two
    /// ends to the face and v the variance rate normal to it (`var(dir)`), exactly 0 when the exponent is at
    /// least [`NEGLIGIBLE_EXPONENT`] (p ≤ 1e-15); faces combine as 1 − Π(1 − p).
    /// `dir` is a scratch vector of length d.
    pub fn crossing_probability(
        &self,
        x0: &[f64],
        x1: &[f64],
        dt: f64,
        dir: &mut [f64],
        mut var: impl FnMut(&[f64]) -> f64,
    ) -> f64 {
        let face = |a: f64, b: f64, v: f64| {
            let e = 2.0 * a * b / (v * dt);
            if v > 0.0 && e < NEGLIGIBLE_EXPONENT {
                (-e).exp()
            } else {
                0.0
            }
        };
        match self {
            Region::Ball { center, radius } => {
                let r0 = x0
                    .iter()
                    .zip(center)
                    .map(|(a, c)| (a - c) * (a - c))
                    .sum::<f64>()
                    .sqrt();
                let r1 = x1
                    .iter()
                    .zip(center)
                    .map(|(a, c)| (a - c) * (a - c))
                    .sum::<f64>()
                    .sqrt();
                if r1 == 0.0 {
                    return 0.0;
                }
                for i in 0..dir.len() {
                    dir[i] = (x1[i] - center[i]) / r1;
                }
                face(radius - r0, radius - r1, var(dir))
            }
            Region::Box { center, half_widths } => {
                let mut stay = 1.0;
                for i in 0..dir.len() {
                    let (s0, s1, h) = (x0[i] - center[i], x1[i] - center[i], half_widths[i]);
                    dir.fill(0.0);
                    dir[i] = 1.0;
                    let v = var(dir);
                    stay *= (1.0 - face(h - s0, h - s1, v)) * (1.0 - face(h + s0, h + s1, v));
                }
                1.0 - stay
            }
            Region::Slab {
                center,
                normal,
                half_width,
            } => {
                let s0: f64 = x0.iter().zip(center).zip(normal).map(|((a, c), n)| (a - c) * n).sum();
                let s1: f64 = x1.iter().zip(center).zip(normal).map(|((a, c), n)| (a - c) * n).sum();
                dir.copy_from_slice(normal);
                let v = var(dir);
                1.0 - (1.0 - face(half_width - s0, half_width - s1, v))
                    * (1.0 - face(half_width + s0, half_width + s1, v))
            }
        }
    }

    /// The centre.
    pub fn center(&self) -> &[f64] {
        match self {
            Region::Ball { center, .. } | Region::Box { center, .. } | Region::Slab { center, .. } => center,
        }
    }
}
