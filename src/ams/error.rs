//! What can stop an AMS estimate. Each error names the `[ams]` key that controls it and how to fix it
//! ([`AmsError::key`], [`AmsError::fix`]); the setup stage turns it into the project's model-file error.

/// Errors of the AMS estimators.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AmsError {
    /// A parameter is out of range.
    #[error("{message}")]
    InvalidConfig {
        /// The `[ams]` key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The start is not in A.
    #[error("the start has ξ = {xi} ≥ a = {a}; it must lie in A = {{ξ < a}}")]
    StartOutsideA {
        /// ξ(x₀).
        xi: f64,
        /// a.
        a: f64,
    },
    /// ξ became NaN.
    #[error("the reaction coordinate is NaN (a diverged path) at step {time}")]
    NonFinite {
        /// Step count.
        time: u64,
    },
    /// The iteration cap was hit.
    #[error("AMS stopped after {iterations} iterations at level {level} < b")]
    MaxIterations {
        /// Iterations done.
        iterations: usize,
        /// Level reached.
        level: f64,
    },
    /// An excursion did not end.
    #[error("an excursion ran {steps} steps without returning to A or reaching B")]
    ExcursionTooLong {
        /// The cap.
        steps: u64,
    },
    /// A replayed path differed from the stored one.
    #[error(
        "replaying a stored path gave ξ = {found} instead of {expected}: the step is not a deterministic function of (state, generator)"
    )]
    ReplayMismatch {
        /// Stored ξ.
        expected: f64,
        /// Replayed ξ.
        found: f64,
    },
    /// The direct phase never left A.
    #[error("replica {replica}: the direct phase saw no entrance into {{ξ ≥ c}} within max_direct_steps")]
    NoEntrance {
        /// Replica.
        replica: usize,
    },
    /// Fallback::Always without a hit.
    #[error("fallback = \"always\", but the direct phase never reached B")]
    NoDirectHit,
    /// Every replica's AMS run went extinct, so p̂ = 0 and the mean exit time is not estimable.
    #[error("every one of the {replicas} AMS runs went extinct (all particles tied at one level)")]
    AllExtinct {
        /// Replicas.
        replicas: usize,
    },
}

impl AmsError {
    /// The `[ams]` key whose value controls this error.
    pub fn key(&self) -> &'static str {
        match self {
            AmsError::InvalidConfig { key, .. } => key,
            AmsError::StartOutsideA { .. } => "a_quantile",
            AmsError::NonFinite { .. } => "coordinate",
            AmsError::MaxIterations { .. } => "max_iterations",
            AmsError::ExcursionTooLong { .. } => "max_excursion_steps",
            AmsError::ReplayMismatch { .. } => "checkpoint_spacing",
            AmsError::NoEntrance { .. } => "max_direct_steps",
            AmsError::NoDirectHit => "fallback",
            AmsError::AllExtinct { .. } => "particles",
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> &'static str {
        match self {
            AmsError::InvalidConfig { .. } => "see the documented range of this key",
            AmsError::StartOutsideA { .. } => {
                "raise ams.a_quantile or set ams.a_level above ξ at the start, or start closer to the saddle"
            }
            AmsError::NonFinite { .. } => {
                "the coordinate formula must be finite inside the exit region, and paths must not diverge there"
            }
            AmsError::MaxIterations { .. } => {
                "raise ams.max_iterations (the escape is rarer than the cap allows), or use fewer particles"
            }
            AmsError::ExcursionTooLong { .. } => {
                "raise ams.max_excursion_steps, or raise the level a (ams.a_quantile) so that excursions return to A"
            }
            AmsError::ReplayMismatch { .. } => {
                "set ams.checkpoint_spacing = 0 (this dynamics cannot be replayed; please report it)"
            }
            AmsError::NoEntrance { .. } => {
                "raise ams.max_direct_steps, or lower the level a (ams.a_quantile / ams.a_level) so that paths leave A"
            }
            AmsError::NoDirectHit => "use fallback = \"auto\" or \"never\"",
            AmsError::AllExtinct { .. } => {
                "use more particles (ams.particles) or a finer reaction coordinate (ams.coordinate)"
            }
        }
    }
}
