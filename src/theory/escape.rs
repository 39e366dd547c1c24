//! Mean escape times from the 1-D saddle f = −a y²/2 (λ = −a < 0) under constant batch noise Σ_B = σ_B²
//! (N3), from the saddle y = 0 to |y| = L, for the three SDEs the study compares (math spec §4, O5, O6, O8,
//! O10, O12):
//!
//! - S-SGD1: dY = aY dt + √η σ_B dW (inverted OU, O5);
//! - S-USAM: dY = a(1 − ρa)Y dt + √η (1 − ρa) σ_B dW (exact linear case, §4.2): an inverted OU for ρa < 1,
//!   an OU trap for ρa > 1 (Kim Thm 1) whose noise (1 − ρa)σ_B vanishes at ρa = 1;
//! - S-SAM-mb (§4.3, exact in 1-D): b(y) = −λy − ρλ m(y), σ²(y) = η v(y), m(y) = erf(λy/(σ_B√2)),
//!   v(y) = σ_B² + ρ²λ²(1 − m²) + 2ρλσ_B √(2/π) e^{−λ²y²/(2σ_B²)}; the saddle is a trap iff
//!   σ_B < √(2/π) ρa (O12), with barriers at ±y_s, b(y_s) = 0.
//!
//! [`escape_time`] is the exact MFPT of the SDE (O6, reflecting at the symmetry point 0, absorbing at L).
//! [`escape_time_asymptotic`] is the matching large-barrier formula: O5's [ln(4κL²/s²) + γ_E]/(2κ) for an
//! inverted OU; for the USAM OU trap (no barrier top: the exit is at the boundary), the boundary-limited
//! Laplace form T ≈ s√π/(2κ'^{3/2}L) · e^{κ'L²/s²} [D]; for trapped S-SAM-mb the Eyring–Kramers–Laplace time
//! with position-dependent noise (O10, [`laplace_escape_time_1d`]) over one barrier, halved because either
//! barrier ±y_s lets the path out: T ≈ τ/2 (as O9's symmetric trap).

use super::first_passage::{DEFAULT_GRID, inverted_ou_mfpt_asymptotic, mfpt_reflecting};
use super::kramers::laplace_escape_time_1d;
use super::{non_negative, positive};
use crate::error::{Error, Result};
use statrs::function::erf::erf;
use std::f64::consts::PI;

/// One of the three SDEs at the 1-D saddle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SaddleSde {
    /// S-SGD1.
    Sgd,
    /// S-USAM with radius ρ.
    Usam {
        /// ρ ≥ 0.
        rho: f64,
    },
    /// S-SAM-mb (the mini-batch SAM optimizer's SDE) with radius ρ.
    SamMb {
        /// ρ ≥ 0.
        rho: f64,
    },
}

/// The 1-D saddle problem: f = −a y²/2, noise σ_B, learning rate η, exit at |y| = L.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Saddle1d {
    /// a = −λ > 0.
    pub a: f64,
    /// σ_B > 0 (Σ_B = σ_B², i.e. σ₁²/B).
    pub sigma_b: f64,
    /// η > 0.
    pub eta: f64,
    /// L > 0.
    pub l: f64,
}

impl Saddle1d {
    fn check(&self, sde: SaddleSde) -> Result<()> {
        positive("a", self.a)?;
        positive("sigma_b", self.sigma_b)?;
        positive("eta", self.eta)?;
        positive("l", self.l)?;
        if let SaddleSde::Usam { rho } | SaddleSde::SamMb { rho } = sde {
            non_negative("rho", rho)?;
        }
        Ok(())
    }

    /// Drift b(y) of `sde`.
    pub fn drift(&self, sde: SaddleSde, y: f64) -> f64 {
        let a = self.a;
        match sde {
            SaddleSde::Sgd => a * y,
            SaddleSde::Usam { rho } => a * (1.0 - rho * a) * y,
            SaddleSde::SamMb { rho } => a * y - rho * a * erf(a * y / (self.sigma_b * std::f64::consts::SQRT_2)),
        }
    }

    /// Squared diffusion σ²(y) of `sde`.
    pub fn variance(&self, sde: SaddleSde, y: f64) -> f64 {
        let (a, s, eta) = (self.a, self.sigma_b, self.eta);
        match sde {
            SaddleSde::Sgd => eta * s * s,
            SaddleSde::Usam { rho } => eta * ((1.0 - rho * a) * s).powi(2),
            SaddleSde::SamMb { rho } => {
                let m = erf(a * y / (s * std::f64::consts::SQRT_2));
                let g = (-(a * y / s).powi(2) / 2.0).exp();
                eta * (s * s + rho * rho * a * a * (1.0 - m * m) - 2.0 * rho * a * s * (2.0 / PI).sqrt() * g)
            }
        }
    }

    /// U''(y) = −b'(y) of S-SAM-mb (its drift is −U' with U the implicit potential in 1-D).
    fn sam_u2(&self, rho: f64, y: f64) -> f64 {
        let (a, s) = (self.a, self.sigma_b);
        -a + rho * a * a * (2.0 / PI).sqrt() / s * (-(a * y / s).powi(2) / 2.0).exp()
    }

    /// The barrier y_s > 0 of trapped S-SAM-mb: the root of y = ρ erf(ay/(σ_B√2)) in (0, ρ) (None if the
    /// saddle is not a trap, σ_B ≥ √(2/π)ρa).
    pub fn sam_barrier(&self, rho: f64) -> Option<f64> {
        if self.sam_u2(rho, 0.0) <= 0.0 {
            return None;
        }
        let g = |y: f64| self.drift(SaddleSde::SamMb { rho }, y);
        // g < 0 just right of 0 (trap) and g(ρ) = aρ(1 − erf(·)) > 0.
        let (mut lo, mut hi) = (0.0, rho);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if g(mid) < 0.0 || mid == 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (hi < self.l).then_some(0.5 * (lo + hi))
    }

    /// Exact mean exit time of `sde` from 0 to |y| = L (O6, reflecting at 0), by quadrature.
    pub fn escape_time(&self, sde: SaddleSde) -> Result<f64> {
        self.check(sde)?;
        if let SaddleSde::Usam { rho } = sde
            && rho * self.a == 1.0
        {
            return Ok(f64::INFINITY);
        }
        mfpt_reflecting(
            |y| self.drift(sde, y),
            |y| self.variance(sde, y),
            0.0,
            self.l,
            0.0,
            DEFAULT_GRID,
        )
    }

    /// The large-barrier asymptotic of [`Saddle1d::escape_time`] (see the module docs); `None` for S-SAM-mb
    /// when the saddle is not a trap, and for USAM at ρa = 1.
    pub fn escape_time_asymptotic(&self, sde: SaddleSde) -> Result<Option<f64>> {
        self.check(sde)?;
        let (a, l) = (self.a, self.l);
        Ok(match sde {
            SaddleSde::Sgd => Some(inverted_ou_mfpt_asymptotic(a, self.variance(sde, 0.0), l)?),
            SaddleSde::Usam { rho } => {
                let k = a * (1.0 - rho * a);
                let s2 = self.variance(sde, 0.0);
                if k > 0.0 {
                    Some(inverted_ou_mfpt_asymptotic(k, s2, l)?)
                } else if k < 0.0 {
                    let kp = -k;
                    Some(s2.sqrt() * PI.sqrt() / (2.0 * kp.powf(1.5) * l) * (kp * l * l / s2).exp())
                } else {
                    None
                }
            }
            SaddleSde::SamMb { rho } => match self.sam_barrier(rho) {
                None => None,
                Some(ys) => {
                    let e = self.sam_exponent(rho, ys);
                    let (d0, dz) = (self.variance(sde, 0.0) / 2.0, self.variance(sde, ys) / 2.0);
                    let tau = laplace_escape_time_1d(self.sam_u2(rho, 0.0), self.sam_u2(rho, ys), d0, dz, e)
                        .map_err(|e| Error::invalid("rho", rho, format!("no Laplace asymptotic: {e}")))?;
                    Some(0.5 * tau)
                }
            },
        })
    }

    /// The Laplace exponent E = ∫₀^{y_s} 2U'/σ² dy of trapped S-SAM-mb (the "barrier over noise" of O10;
    /// the escape time grows like e^E), or None when the saddle is not a trap. The asymptotic of
    /// [`Saddle1d::escape_time_asymptotic`] needs E ≫ 1.
    pub fn sam_barrier_exponent(&self, rho: f64) -> Option<f64> {
        self.sam_barrier(rho).map(|ys| self.sam_exponent(rho, ys))
    }

    /// E = ∫₀^{y_s} 2U'/σ² dy = −∫₀^{y_s} 2b/σ² dy (Gauss–Legendre, 64 panels of 8 nodes).
    fn sam_exponent(&self, rho: f64, ys: f64) -> f64 {
        const X: [f64; 4] = [
            0.183_434_642_495_649_8,
            0.525_532_409_916_329,
            0.796_666_477_413_626_7,
            0.960_289_856_497_536_3,
        ];
        const W: [f64; 4] = [
            0.362_683_783_378_362,
            0.313_706_645_877_887_3,
            0.222_381_034_453_374_5,
            0.101_228_536_290_376_3,
        ];
        let sde = SaddleSde::SamMb { rho };
        let f = |y: f64| -2.0 * self.drift(sde, y) / self.variance(sde, y);
        let panels = 64;
        let h = ys / panels as f64;
        let mut sum = 0.0;
        for p in 0..panels {
            let c = (p as f64 + 0.5) * h;
            for (x, w) in X.iter().zip(W) {
                sum += w * (f(c - 0.5 * h * x) + f(c + 0.5 * h * x)) * 0.5 * h;
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const O12: Saddle1d = Saddle1d {
        a: 2.0,
        sigma_b: 0.1,
        eta: 0.01,
        l: 1.0,
    };

    /// SGD and USAM are O5's inverted OU (κ = a(1 − ρa), s² = η(1 − ρa)²σ_B²), USAM beyond ρa = 1 an OU.
    #[test]
    fn linear_cases_are_o5() {
        use crate::theory::first_passage::inverted_ou_mfpt;
        let s = Saddle1d { sigma_b: 1.5, ..O12 };
        let t = s.escape_time(SaddleSde::Sgd).unwrap();
        assert!((t / inverted_ou_mfpt(2.0, 0.0225, 1.0).unwrap() - 1.0).abs() < 1e-12);
        let t = s.escape_time(SaddleSde::Usam { rho: 0.75 }).unwrap();
        let exact = inverted_ou_mfpt(-1.0, 0.01 * 0.25 * 2.25, 1.0).unwrap();
        assert!((t / exact - 1.0).abs() < 1e-12, "{t} {exact}");
        // The boundary-limited OU asymptotic approaches the exact value as κ'L²/s² grows (relative error
        // O(s²/(κ'L²))): exponent 178 here.
        let a = s
            .escape_time_asymptotic(SaddleSde::Usam { rho: 0.75 })
            .unwrap()
            .unwrap();
        assert!((a / t - 1.0).abs() < 0.01, "{a} vs {t}");
        assert!(s.escape_time(SaddleSde::Usam { rho: 0.5 }).unwrap().is_infinite());
    }

    /// S-SAM-mb: the trap exists exactly below the O12 threshold σ_B = √(2/π)ρa; its barrier solves
    /// b(y_s) = 0; the Laplace asymptotic approaches the exact MFPT as the exponent grows.
    #[test]
    fn sam_mb_trap_barrier_and_laplace_asymptotic() {
        let thr = (2.0 / PI).sqrt() * 0.1 * 2.0;
        assert!(
            Saddle1d {
                sigma_b: thr * 1.01,
                ..O12
            }
            .sam_barrier(0.1)
            .is_none()
        );
        let s = Saddle1d { sigma_b: 0.12, ..O12 };
        let ys = s.sam_barrier(0.1).unwrap();
        assert!(
            s.drift(SaddleSde::SamMb { rho: 0.1 }, ys).abs() < 1e-12 && ys > 0.05 && ys < 0.1,
            "{ys}"
        );
        let mut last = f64::INFINITY;
        for sb in [0.14, 0.12, 0.1] {
            let s = Saddle1d { sigma_b: sb, ..O12 };
            let sde = SaddleSde::SamMb { rho: 0.1 };
            let exact = s.escape_time(sde).unwrap();
            let asy = s.escape_time_asymptotic(sde).unwrap().unwrap();
            let err = (asy / exact - 1.0).abs();
            eprintln!("σ_B = {sb}: exact {exact:.4e}, Laplace {asy:.4e}, rel {err:.3}");
            assert!(err < last, "σ_B = {sb}: {asy} vs {exact} ({err} not below {last})");
            last = err;
        }
        assert!(last < 0.05, "{last}");
    }
}
