//! The model-file schema: the serde types of a TOML model file (stage one of the two-stage configuration;
//! stage two, validation into a ready [`Experiment`](super::Experiment), is [`super::experiment`]).
//!
//! Every struct denies unknown keys; a typo is reported with the nearest valid key or kind (edit distance,
//! [`super::source`]). Kinds are enums: `[landscape]` and `[exit]` are tagged by their `kind` (each kind has
//! exactly its own keys), and the `kind` of a dynamics, a solver and a noise model is an enum value. Every key
//! has a default, documented on its field; an omitted `kind` is the documented default kind.

use super::build::DynamicsKind;
use crate::ams::{AmsConfig, Fallback};
use crate::solver::SolverKind;
use serde::{Deserialize, Serialize};

/// A whole model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Name of the model; the default output folder is `output/<name>/`. Default: `"model"`.
    pub name: String,
    /// The loss.
    pub landscape: LandscapeConfig,
    /// The gradient-noise model.
    pub noise: NoiseConfig,
    /// Which saddle the analysis is centred on.
    pub saddle: SaddleConfig,
    /// One or more dynamics, run on the same noise path by path. Default: one `sgd` entry.
    pub dynamics: Vec<DynamicsConfig>,
    /// Step rule, step size and horizon.
    pub solver: SolverConfig,
    /// Paths, seed and start.
    pub ensemble: EnsembleConfig,
    /// Exit region around the saddle (exit times).
    pub exit: ExitConfig,
    /// Attractors (basin probabilities).
    pub basins: BasinsConfig,
    /// Parameters of the rare-event estimator (`[exit] estimator = "ams"`).
    pub ams: AmsSection,
    /// What to store.
    pub output: OutputConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "model".into(),
            landscape: LandscapeConfig::default(),
            noise: NoiseConfig::default(),
            saddle: SaddleConfig::default(),
            dynamics: vec![DynamicsConfig::default()],
            solver: SolverConfig::default(),
            ensemble: EnsembleConfig::default(),
            exit: ExitConfig::default(),
            basins: BasinsConfig::default(),
            ams: AmsSection::default(),
            output: OutputConfig::default(),
        }
    }
}

/// `[landscape]`, tagged by `kind`. Default: `quadratic` with H = diag(1, −0.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LandscapeConfig {
    /// f = ½(x−c)ᵀH(x−c).
    Quadratic {
        /// The symmetric Hessian H. Default: `[[1.0, 0.0], [0.0, -0.5]]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hessian: Option<Vec<Vec<f64>>>,
        /// The centre c. Default: the origin.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        center: Option<Vec<f64>>,
    },
    /// The Beale function (E1).
    Beale {},
    /// The monkey saddle x³ − 3xy².
    MonkeySaddle {},
    /// The double well.
    DoubleWell {
        /// Depth a. Default: 1.0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        a: Option<f64>,
    },
    /// The E3 toy network (a finite sum; noise model N2).
    ToyNetwork {
        /// Number of samples N. Default: 64.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        samples: Option<usize>,
        /// Teacher weight. Default: 1.0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        teacher: Option<f64>,
        /// Seed of the inputs. Default: 0.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seed: Option<u64>,
    },
    /// A formula f(variables) with exact derivatives by automatic differentiation.
    Expression {
        /// The formula. Required.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        formula: Option<String>,
        /// The variable names, in coordinate order. Default: `["x", "y"]`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variables: Option<Vec<String>>,
    },
}

impl Default for LandscapeConfig {
    fn default() -> Self {
        LandscapeConfig::Quadratic {
            hessian: None,
            center: None,
        }
    }
}

/// `[noise]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// isotropic | hessian | finite_sum | linear. Default: `"isotropic"`.
    pub kind: NoiseKind,
    /// isotropic: per-sample gradient-noise standard deviation σ₁ (Σ_B = σ₁²/B · I). Default: 1.0.
    pub sigma: f64,
    /// Batch size B ≥ 1 (an integer for finite_sum). Default: 1.
    pub batch_size: f64,
    /// hessian: scale c of Σ_B = (c/B)|H|_δ. Default: 1.0.
    pub scale: f64,
    /// hessian: regulariser δ of |λ|. Default: 1e-3.
    pub delta: f64,
    /// finite_sum: sample the batch with replacement. Default: true.
    pub replacement: bool,
    /// linear: per-sample covariance Σ₁ (Σ_B = Σ₁/B). Default: σ₁² I.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariance: Option<Vec<Vec<f64>>>,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            kind: NoiseKind::Isotropic,
            sigma: 1.0,
            batch_size: 1.0,
            scale: 1.0,
            delta: 1e-3,
            replacement: true,
            covariance: None,
        }
    }
}

/// The parameters of a noise model as summary.json records them (`noise_parameters`): the kind, the batch
/// size B and only the keys that kind uses, every default filled (see `setup::model::noise_parameters`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NoiseParameters {
    /// N0: Σ_B = σ₁²/B · I.
    Isotropic {
        /// B.
        batch_size: f64,
        /// σ₁.
        sigma: f64,
    },
    /// N1: Σ_B = (c/B)|H|_δ.
    Hessian {
        /// B.
        batch_size: f64,
        /// c.
        scale: f64,
        /// δ.
        delta: f64,
    },
    /// N2: the covariance of the per-sample gradients of a finite sum over batches of B samples.
    FiniteSum {
        /// B.
        batch_size: f64,
        /// Batches drawn with replacement.
        replacement: bool,
    },
    /// N3: Σ_B = Σ₁/B.
    Linear {
        /// B.
        batch_size: f64,
        /// Σ₁.
        covariance: Vec<Vec<f64>>,
    },
}

/// The gradient-noise models (math spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// N0: Σ_B = σ₁²/B · I.
    Isotropic,
    /// N1: Σ_B = (c/B)|H|_δ.
    Hessian,
    /// N2: the covariance of the per-sample gradients of a finite-sum landscape.
    FiniteSum,
    /// N3: constant Σ_B = Σ₁/B (f_γ = f + ξᵀx).
    Linear,
}

impl NoiseKind {
    /// Every noise kind.
    pub const ALL: [NoiseKind; 4] = [
        NoiseKind::Isotropic,
        NoiseKind::Hessian,
        NoiseKind::FiniteSum,
        NoiseKind::Linear,
    ];
    /// Model-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            NoiseKind::Isotropic => "isotropic",
            NoiseKind::Hessian => "hessian",
            NoiseKind::FiniteSum => "finite_sum",
            NoiseKind::Linear => "linear",
        }
    }
    /// The kind spelled `name`, if any.
    pub fn from_name(name: &str) -> Option<NoiseKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// `[saddle]`: give at most one of `point` (used as is, after classification) or `guess` (Newton's method
/// from there). Default: Newton from the landscape's known saddle, else the quadratic centre, else the origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SaddleConfig {
    /// The saddle itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<Vec<f64>>,
    /// A guess for Newton's method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guess: Option<Vec<f64>>,
}

/// One `[[dynamics]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamicsConfig {
    /// Label, unique within the file (addresses the entry in `--set dynamics.LABEL.key=…`). Default: the kind
    /// in upper case.
    pub label: String,
    /// sgd | usam | sam | dnsam | kim | sgd_discrete | usam_discrete | sam_discrete. Default: `"sgd"`.
    pub kind: DynamicsKind,
    /// Learning rate η > 0. Default: 0.01.
    pub lr: f64,
    /// SAM radius ρ ≥ 0. Default: 0.05.
    pub rho: f64,
    /// Heavy-ball momentum μ ∈ [0, 1). Default: 0.
    pub momentum: f64,
    /// ε > 0 of SAM's regularised norm ‖g‖_ε = (‖g‖² + ε²)^{1/2}. Default: 1e-12, except for `dnsam`:
    /// √tr Σ_B(d), the noise scale at the saddle (see `setup::build::dnsam_epsilon`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
}

impl Default for DynamicsConfig {
    fn default() -> Self {
        DynamicsConfig {
            label: String::new(),
            kind: DynamicsKind::Sgd,
            lr: 0.01,
            rho: 0.05,
            momentum: 0.0,
            epsilon: None,
        }
    }
}

/// `[solver]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SolverConfig {
    /// euler_maruyama | milstein. Default: `"euler_maruyama"`.
    pub kind: SolverKind,
    /// Step dt > 0 of the SDEs (discrete optimizers step by η). Default: 1e-3.
    pub dt: f64,
    /// Horizon T > 0. Default: 10.
    pub t_end: f64,
    /// Let Milstein run on non-commutative noise without Lévy areas (strong order ½). Default: false.
    pub allow_dropping_areas: bool,
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig {
            kind: SolverKind::EulerMaruyama,
            dt: 1e-3,
            t_end: 10.0,
            allow_dropping_areas: false,
        }
    }
}

/// `[ensemble]`: give `x0`, or `start = "saddle"` with an optional `offset` (the default start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnsembleConfig {
    /// Number of paths ≥ 1. Default: 1000.
    pub paths: u64,
    /// Master seed, any whole number from 0 to 2⁶⁴ − 1 (above 2⁶³ − 1, TOML's largest integer, write it as a
    /// string: `seed = "18446744073709551615"`). Default: 0.
    #[serde(with = "seed")]
    pub seed: u64,
    /// Start position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x0: Option<Vec<f64>>,
    /// `"saddle"`: start at the chosen saddle plus `offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Start>,
    /// Offset from the saddle (with `start = "saddle"`). Default: zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<Vec<f64>>,
    /// Standard deviation of a Gaussian perturbation of the start. Default: 0.
    pub spread: f64,
    /// A path with an entry beyond this in absolute value has diverged. Default: 1e8.
    pub blowup: f64,
}

/// Where paths start when `x0` is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// At the chosen saddle (plus `offset`).
    Saddle,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        EnsembleConfig {
            paths: 1000,
            seed: 0,
            x0: None,
            start: None,
            offset: None,
            spread: 0.0,
            blowup: 1e8,
        }
    }
}

/// `[exit]`: the region around the saddle whose first exit is timed, tagged by `kind`. Default: `none`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ExitConfig {
    /// No exit times.
    None {},
    /// The ball ‖x − d‖ < radius.
    Ball {
        /// Radius R > 0. Default: 1.0.
        #[serde(default = "one")]
        radius: f64,
        /// Brownian-bridge correction of discretely monitored exits. Default: true.
        #[serde(default = "yes")]
        bridge: bool,
        /// Stop a path at its exit. Default: false, so that the moments at every snapshot cover all paths
        /// (with `true`, later snapshots cover only the paths still inside, and runs are faster).
        #[serde(default)]
        stop: bool,
        /// How the mean exit time is estimated: `"direct"` (the ensemble's paths up to t_end; a restricted
        /// mean when some are censored) or `"ams"` (adaptive multilevel splitting, parameters in `[ams]`; for
        /// exits that take far longer than t_end). Default: `"direct"`.
        #[serde(default)]
        estimator: ExitEstimator,
    },
    /// The box |xᵢ − dᵢ| < hᵢ.
    Box {
        /// Default half-width of every axis. Default: 1.0.
        #[serde(default = "one")]
        radius: f64,
        /// Half-width hᵢ per coordinate. Default: `radius` on every axis.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        half_widths: Option<Vec<f64>>,
        /// Brownian-bridge correction. Default: true.
        #[serde(default = "yes")]
        bridge: bool,
        /// Stop a path at its exit. Default: false.
        #[serde(default)]
        stop: bool,
        /// `"direct"` or `"ams"`, as for `ball`. Default: `"direct"`.
        #[serde(default)]
        estimator: ExitEstimator,
    },
    /// The slab |v·(x − d)| < L.
    Slab {
        /// Default half-width L. Default: 1.0.
        #[serde(default = "one")]
        radius: f64,
        /// Normal v. Default: the saddle's most unstable eigenvector.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        normal: Option<Vec<f64>>,
        /// Half-width L. Default: `radius`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        half_width: Option<f64>,
        /// Brownian-bridge correction. Default: true.
        #[serde(default = "yes")]
        bridge: bool,
        /// Stop a path at its exit. Default: false.
        #[serde(default)]
        stop: bool,
        /// `"direct"` or `"ams"`, as for `ball`. Default: `"direct"`.
        #[serde(default)]
        estimator: ExitEstimator,
    },
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

impl ExitConfig {
    /// Whether exits are Brownian-bridge corrected (false without a region).
    pub fn bridge(&self) -> bool {
        match self {
            ExitConfig::None {} => false,
            ExitConfig::Ball { bridge, .. } | ExitConfig::Box { bridge, .. } | ExitConfig::Slab { bridge, .. } => {
                *bridge
            }
        }
    }
    /// Whether paths stop at their exit.
    pub fn stop(&self) -> bool {
        match self {
            ExitConfig::None {} => false,
            ExitConfig::Ball { stop, .. } | ExitConfig::Box { stop, .. } | ExitConfig::Slab { stop, .. } => *stop,
        }
    }
    /// The estimator of the mean exit time (`direct` without a region).
    pub fn estimator(&self) -> ExitEstimator {
        match self {
            ExitConfig::None {} => ExitEstimator::Direct,
            ExitConfig::Ball { estimator, .. }
            | ExitConfig::Box { estimator, .. }
            | ExitConfig::Slab { estimator, .. } => *estimator,
        }
    }
}

/// How `[exit]` estimates the mean exit time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitEstimator {
    /// The ensemble's paths up to t_end (mean, or restricted mean E[min(τ, T)] when some are censored).
    #[default]
    Direct,
    /// Adaptive multilevel splitting with the renewal formula (`crate::ams`), parameters in `[ams]`.
    Ams,
}

impl Default for ExitConfig {
    fn default() -> Self {
        ExitConfig::None {}
    }
}

/// The sections tagged by `kind`, with the kind an omitted `kind` means.
pub const TAGGED_SECTIONS: [(&str, &str); 2] = [("landscape", "quadratic"), ("exit", "none")];

/// For an error inside the tagged section `section` that serde cannot place (e.g. a wrong type): the key of
/// `sub` that causes it, found by deserialising the section's kind with one key at a time.
pub fn culprit(section: &str, sub: &toml::Table) -> Option<String> {
    fn probe<T: serde::de::DeserializeOwned>(sub: &toml::Table) -> Option<String> {
        let kind = sub.get("kind")?;
        sub.iter().filter(|(k, _)| *k != "kind").find_map(|(k, v)| {
            let mut one = toml::Table::new();
            one.insert("kind".into(), kind.clone());
            one.insert(k.clone(), v.clone());
            match one.try_into::<T>() {
                Err(e) if !e.message().starts_with("missing field") => Some(k.clone()),
                _ => None,
            }
        })
    }
    match section {
        "landscape" => probe::<LandscapeConfig>(sub),
        "exit" => probe::<ExitConfig>(sub),
        _ => None,
    }
}

/// `[basins]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasinsConfig {
    /// Radius of each attractor's ball (> 0). Default: 0.1.
    pub radius: f64,
    /// Attractor centres. Default: the minima found by Newton from a grid of starts around the saddle and the
    /// landscape's known points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<Vec<f64>>>,
    /// Stop a path when it reaches an attractor. Default: false.
    pub stop: bool,
}

impl Default for BasinsConfig {
    fn default() -> Self {
        BasinsConfig {
            radius: 0.1,
            points: None,
            stop: false,
        }
    }
}

/// `[ams]`: the rare-event estimator, used when `[exit] estimator = "ams"` (ignored otherwise). Every key
/// has a default; the math and the measured accuracy of the defaults are in the docs of `crate::ams`.
///
/// A = {ξ < a} is a small set around the start (the trap), excursions start on entering {ξ ≥ c} and end back
/// in A or at the exit (ξ ≥ b, the boundary of the exit region). Exits are detected as in the ensemble: at
/// step times, plus the Brownian-bridge correction between steps when `[exit] bridge` is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AmsSection {
    /// Reaction coordinate ξ inside the exit region: a formula over the landscape's variables in the
    /// language of the `expression` landscape, larger toward the exit (e.g. `"abs(y)"`). Default: the exit
    /// region's own distance from the saddle d — ball ‖x − d‖, box maxᵢ |xᵢ − dᵢ|/hᵢ, slab |v·(x − d)|.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordinate: Option<String>,
    /// Particles N per AMS run (≥ 2). Default: 500.
    pub particles: usize,
    /// Particles killed per iteration, 1 ≤ k < N (ties kill more). Default: 1.
    pub killed: usize,
    /// Independent replicas R (≥ 2); the 95 % intervals come from their spread. Default: 20.
    pub replicas: usize,
    /// The level a of A = {ξ < a} as the quantile of ξ along a pilot path from the start (raised above ξ at
    /// the start if needed), in (0, 1). Default: 0.9 (unless `a_level` is given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_quantile: Option<f64>,
    /// A fixed level a instead of the quantile. Default: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_level: Option<f64>,
    /// Entrance level c ∈ [a, b) where excursions start. Default: c = a.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_level: Option<f64>,
    /// Steps of the pilot path that places a. Default: 200000.
    pub pilot_steps: u64,
    /// Paths per replica in the direct phase (approach and loop times, entrance points). Default: 4.
    pub direct_paths: usize,
    /// Excursions per replica in the direct phase. Default: 2000.
    pub direct_cycles: u64,
    /// Entrance points kept per replica. Default: 2 × particles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<usize>,
    /// Iteration cap of one AMS run (an error when hit: stopping early would bias the estimate). Default: 1e6.
    pub max_iterations: usize,
    /// Step cap of one excursion (an error when hit). Default: 1e9.
    pub max_excursion_steps: u64,
    /// Step cap of one direct-phase path. Default: 1e9.
    pub max_direct_steps: u64,
    /// Minimum increase of ξ between stored states of a particle: 0 stores a state at every new maximum,
    /// `inf` only at branch points (least memory, some re-simulation). Default: 0.
    pub checkpoint_spacing: f64,
    /// `"auto"` (direct simulation when exits are frequent enough that AMS has nothing to gain), `"never"`,
    /// `"always"`. Default: `"auto"`.
    pub fallback: Fallback,
    /// Also estimate, per attractor of `[basins]`, the probability that an excursion reaches it before
    /// returning to A, and so where escapes end. Default: true.
    pub basins: bool,
}

/// The default quantile of ξ that places the level a.
pub const DEFAULT_A_QUANTILE: f64 = 0.9;

impl Default for AmsSection {
    fn default() -> Self {
        let d = AmsConfig::default();
        AmsSection {
            coordinate: None,
            particles: d.particles,
            killed: d.killed,
            replicas: d.replicas,
            a_quantile: None,
            a_level: None,
            entry_level: d.entry_level,
            pilot_steps: d.pilot_steps,
            direct_paths: d.direct_paths,
            direct_cycles: d.direct_cycles,
            pool: d.pool,
            max_iterations: d.max_iterations,
            max_excursion_steps: d.max_excursion_steps,
            max_direct_steps: d.max_direct_steps,
            checkpoint_spacing: d.checkpoint_spacing,
            fallback: d.fallback,
            basins: true,
        }
    }
}

impl AmsSection {
    /// The estimator's parameters with master seed `seed`.
    pub fn config(&self, seed: u64) -> AmsConfig {
        AmsConfig {
            particles: self.particles,
            killed: self.killed,
            replicas: self.replicas,
            set_a: match self.a_level {
                Some(a) => crate::ams::SetA::Level(a),
                None => crate::ams::SetA::Quantile(self.a_quantile.unwrap_or(DEFAULT_A_QUANTILE)),
            },
            entry_level: self.entry_level,
            pilot_steps: self.pilot_steps,
            direct_paths: self.direct_paths,
            direct_cycles: self.direct_cycles,
            max_direct_steps: self.max_direct_steps,
            pool: self.pool,
            max_iterations: self.max_iterations,
            max_excursion_steps: self.max_excursion_steps,
            checkpoint_spacing: self.checkpoint_spacing,
            fallback: self.fallback,
            seed,
        }
    }
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Snapshot times from 0 to T (≥ 2). Default: 101. More than the steps + 1 of the dynamics with the fewest
    /// steps are lowered to that, with a warning.
    pub snapshots: usize,
    /// Sample paths stored per dynamics in `paths.csv`. Default: 64. More than `ensemble.paths` are lowered
    /// to it (with a warning when given).
    pub sample_paths: u64,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            snapshots: 101,
            sample_paths: 64,
        }
    }
}

/// A seed in TOML: every u64. An integer up to 2⁶³ − 1 (TOML integers are signed 64-bit), or a string of
/// digits for any u64; written back the same way. A negative number gets a plain message.
pub mod seed {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    /// What a seed must be (the message of every seed error).
    pub const EXPECTED: &str = "a seed is a whole number from 0 to 18446744073709551615";

    /// Writes an integer when TOML can hold it, else a string.
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        if i64::try_from(*v).is_ok() {
            s.serialize_u64(*v)
        } else {
            s.serialize_str(&v.to_string())
        }
    }

    /// Reads an integer ≥ 0 or a string of digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        struct Seed;
        impl Visitor<'_> for Seed {
            type Value = u64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
                u64::try_from(v).map_err(|_| E::custom(format!("{EXPECTED}; negative seeds ({v}) are not accepted")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
                let t = v.trim();
                if t.starts_with('-') {
                    return Err(E::custom(format!("{EXPECTED}; negative seeds ({t}) are not accepted")));
                }
                t.parse().map_err(|_| E::custom(format!("{EXPECTED} (got {v:?})")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
                Err(E::custom(format!("{EXPECTED} (got {v})")))
            }
        }
        d.deserialize_any(Seed)
    }
}
