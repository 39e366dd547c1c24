//! The parameters of the AMS estimators and their documented defaults (the model file's `[ams]` table maps
//! onto [`AmsConfig`]; see `setup::schema::AmsSection`).

use super::AmsError;
use super::splitting::SplittingParams;
use serde::{Deserialize, Serialize};

/// How the level a of A = {ξ < a} is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetA {
    /// A fixed level.
    Level(f64),
    /// The q-quantile of ξ along a pilot path of `pilot_steps` steps from the start (restarted at B), raised
    /// if needed so that the start lies in A.
    Quantile(f64),
}

/// Whether the direct estimate replaces AMS when B is reached often (see the module docs of [`super`]).
/// Model file: `"auto"`, `"never"`, `"always"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Direct when the direct phases saw H ≥ N·R/max(ln(E/H), 1) hits of B in E entrances.
    Auto,
    /// Always AMS.
    Never,
    /// Always direct (an error if B was never hit).
    Always,
}

/// Parameters of [`super::mean_exit_time`], [`super::rare_events`] and [`super::probability`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmsConfig {
    /// Particles N per AMS run. Default 500 (with R = 20: relative SE ≈ 3.5 % at p ≈ 10⁻⁵).
    pub particles: usize,
    /// Particles k killed per iteration (more on ties). Default 1 (smallest variance for a given N).
    pub killed: usize,
    /// Independent replicas R for the interval (≥ 2). Default 20.
    pub replicas: usize,
    /// Level a of A = {ξ < a}. Default `Quantile(0.9)`.
    pub set_a: SetA,
    /// Entrance level c ∈ [a, b) at which excursions start; `None` (default): c = a.
    pub entry_level: Option<f64>,
    /// Steps of the pilot path for `SetA::Quantile`. Default 200 000.
    pub pilot_steps: u64,
    /// Paths per replica in the direct phase. Default 4.
    pub direct_paths: usize,
    /// Cycles per replica in the direct phase: counted failed loops plus hits of B, split evenly over its
    /// paths. Default 2000.
    pub direct_cycles: u64,
    /// Step cap of one direct-phase path. Default 10⁹.
    pub max_direct_steps: u64,
    /// Entrance points kept per replica (N start points are drawn from them with replacement). Default 2N.
    pub pool: Option<usize>,
    /// Iteration cap of one AMS run (an error when exceeded). Default 10⁶.
    pub max_iterations: usize,
    /// Step cap of one excursion (an error when exceeded). Default 10⁹.
    pub max_excursion_steps: u64,
    /// Minimum increase of ξ between stored states of a particle: 0 (default) stores every record, larger
    /// values trade memory for replay (see [`super::splitting`]); use ∞ for very large states.
    pub checkpoint_spacing: f64,
    /// Fallback to the direct estimate. Default `Auto`.
    pub fallback: Fallback,
    /// Master seed. Default 0.
    pub seed: u64,
}

impl Default for AmsConfig {
    fn default() -> Self {
        AmsConfig {
            particles: 500,
            killed: 1,
            replicas: 20,
            set_a: SetA::Quantile(0.9),
            entry_level: None,
            pilot_steps: 200_000,
            direct_paths: 4,
            direct_cycles: 2000,
            max_direct_steps: 1_000_000_000,
            pool: None,
            max_iterations: 1_000_000,
            max_excursion_steps: 1_000_000_000,
            checkpoint_spacing: 0.0,
            fallback: Fallback::Auto,
            seed: 0,
        }
    }
}

impl AmsConfig {
    /// Checks the parameters that do not depend on the problem; errors name the `[ams]` key.
    pub fn validate(&self) -> Result<(), AmsError> {
        let bad = |key: &'static str, m: &str| Err(AmsError::InvalidConfig { key, message: m.into() });
        if self.particles < 2 {
            return bad("particles", "particles must be ≥ 2");
        }
        if self.killed == 0 || self.killed >= self.particles {
            return bad("killed", "killed must satisfy 1 ≤ killed < particles");
        }
        if self.replicas < 2 {
            return bad(
                "replicas",
                "replicas must be ≥ 2 (the interval comes from replica-to-replica variation)",
            );
        }
        match self.set_a {
            SetA::Quantile(q) if !(q > 0.0 && q < 1.0) => {
                return bad("a_quantile", "the quantile must lie in (0, 1)");
            }
            SetA::Level(a) if !a.is_finite() => return bad("a_level", "the level a must be finite"),
            _ => {}
        }
        if self.pilot_steps == 0 {
            return bad("pilot_steps", "pilot_steps must be ≥ 1");
        }
        if self.direct_paths == 0 {
            return bad("direct_paths", "direct_paths must be ≥ 1");
        }
        if self.direct_cycles == 0 {
            return bad("direct_cycles", "direct_cycles must be ≥ 1");
        }
        if self.pool == Some(0) {
            return bad("pool", "pool must be ≥ 1");
        }
        if self.max_iterations == 0 || self.max_excursion_steps == 0 || self.max_direct_steps == 0 {
            return bad(
                "max_iterations",
                "max_iterations, max_excursion_steps and max_direct_steps must be ≥ 1",
            );
        }
        if self.checkpoint_spacing.is_nan() || self.checkpoint_spacing < 0.0 {
            return bad("checkpoint_spacing", "checkpoint_spacing must be ≥ 0 (∞ allowed)");
        }
        Ok(())
    }

    /// The parameters of one splitting run between levels a and b.
    pub(crate) fn splitting(&self, a: f64, b: f64) -> SplittingParams {
        SplittingParams {
            particles: self.particles,
            killed: self.killed,
            a,
            b,
            max_iterations: self.max_iterations,
            max_excursion_steps: self.max_excursion_steps,
            checkpoint_spacing: self.checkpoint_spacing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_bad_values_name_their_key() {
        AmsConfig::default().validate().unwrap();
        let key = |c: AmsConfig| match c.validate() {
            Err(AmsError::InvalidConfig { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        let d = AmsConfig::default;
        assert_eq!(key(AmsConfig { killed: 500, ..d() }), "killed");
        assert_eq!(key(AmsConfig { particles: 1, ..d() }), "particles");
        assert_eq!(key(AmsConfig { replicas: 1, ..d() }), "replicas");
        assert_eq!(
            key(AmsConfig {
                set_a: SetA::Quantile(1.0),
                ..d()
            }),
            "a_quantile"
        );
        assert_eq!(
            key(AmsConfig {
                checkpoint_spacing: -1.0,
                ..d()
            }),
            "checkpoint_spacing"
        );
        assert_eq!(key(AmsConfig { pool: Some(0), ..d() }), "pool");
        AmsConfig {
            checkpoint_spacing: f64::INFINITY,
            ..d()
        }
        .validate()
        .unwrap();
    }
}
