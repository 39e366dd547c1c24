//! The results schema: what `summary.json` and the CSV files of an output folder hold (documented in the
//! README, pinned by `tests/cli.rs`).
//!
//! Files: `summary.json` ([`Summary`]), `moments.csv` ([`MomentRow`]), `exit_times.csv` ([`SurvivalRow`]),
//! `basins.csv` ([`BasinRow`]), `paths.csv` ([`PathRow`]); [`Report`] is all of them.

use crate::model::Region;
use crate::setup::schema::{LandscapeConfig, NoiseParameters};
use crate::stats::{BasinEstimate, ExitEstimate};
use serde::{Deserialize, Serialize};

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Version of samsde that wrote it.
    pub samsde_version: String,
    /// The model's `name`.
    pub model: String,
    /// Master seed.
    pub seed: u64,
    /// Number of paths per dynamics.
    pub paths: u64,
    /// Worker threads used (results do not depend on it).
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Landscape kind and its coordinate names.
    pub landscape: String,
    /// Coordinate names (x, y, …).
    pub variables: Vec<String>,
    /// Noise model, described.
    pub noise: String,
    /// The `[landscape]` parameters, tagged by `kind`, every default filled (e.g. `hessian` and `center` of a
    /// quadratic). Absent from summaries written before samsde recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landscape_parameters: Option<LandscapeConfig>,
    /// The noise model's parameters: `kind`, `batch_size` and the keys of that kind (`sigma`; `scale`,
    /// `delta`; `replacement`; `covariance` Σ₁). Absent from summaries written before samsde recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_parameters: Option<NoiseParameters>,
    /// The saddle d the analysis is centred on.
    pub saddle: Vec<f64>,
    /// Eigenvalues of ∇²f(d), ascending.
    pub saddle_eigenvalues: Vec<f64>,
    /// Horizon T.
    pub t_end: f64,
    /// Exit region, if any.
    pub exit_region: Option<Region>,
    /// Per dynamics, in model-file order.
    pub dynamics: Vec<DynamicsSummary>,
    /// What to know before trusting the numbers (also printed on stderr): diverged paths, withheld widths,
    /// a "saddle" that is a minimum, an adjusted step.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// How a merged run was split (absent for a run in one piece). For a merged run, `threads` is the most
    /// any shard used and `wall_seconds` the shards' simulation seconds added up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding: Option<Sharding>,
}

/// Bookkeeping of a run or sweep merged from shards (`samsde merge`): nothing in it changes a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sharding {
    /// Number of shards N.
    pub shards: u64,
    /// Hash of the resolved configuration the shards share (FNV-1a, 64 bits, hex).
    pub model_hash: String,
    /// Worker threads of each shard, in shard order.
    pub shard_threads: Vec<usize>,
    /// Simulation seconds of each shard, in shard order.
    pub shard_wall_seconds: Vec<f64>,
}

/// One dynamics in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicsSummary {
    /// Label from the model file.
    pub label: String,
    /// Kind (sgd, usam, …).
    pub kind: String,
    /// Learning rate η.
    pub lr: f64,
    /// Radius ρ.
    pub rho: f64,
    /// Momentum μ.
    pub momentum: f64,
    /// Time per step (dt, or η for discrete optimizers).
    pub dt: f64,
    /// Solver name, or "discrete".
    pub solver: String,
    /// Strong order of the solver on this SDE (null for discrete optimizers).
    pub strong_order: Option<f64>,
    /// Noise structure (additive, diagonal, commutative, general; null for discrete).
    pub structure: Option<String>,
    /// Remarks: regularisation, approximations, fast path.
    pub notes: Vec<String>,
    /// Moments at t_end.
    #[serde(rename = "final")]
    pub final_moments: FinalMoments,
    /// Width of the cloud at t_end.
    pub width: Width,
    /// Exit-time statistics (null without an exit region).
    pub exit: Option<ExitSummary>,
    /// Basin classes (attractors, trapped, unresolved, diverged).
    pub basins: Vec<BasinEstimate>,
    /// Paths that diverged (non-finite or beyond the blow-up bound).
    pub diverged: u64,
    /// Paired differences against the first dynamics (null for the first).
    pub paired: Option<PairedSummary>,
    /// Closed-form predictions that apply (null if none).
    pub theory: Option<Theory>,
    /// Median over snapshots and paths of the gradient signal-to-noise ratio ‖g(x)‖/√tr Σ_B(x) (±2.3 %,
    /// `stats::snr`); null when nothing was observed. Below 3, models that normalise by the full gradient
    /// (`sam_fullbatch`, `dnsam`) are outside their validity and the mini-batch SAM model `sam` applies.
    #[serde(default)]
    pub snr_median: Option<f64>,
}

/// Mean and covariance at t_end, over the paths running then. Null where not estimable (no path running,
/// fewer than two for the covariance) or withheld (more than 1 % of the paths diverged).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalMoments {
    /// Time.
    pub t: f64,
    /// Paths observed.
    pub n: u64,
    /// Mean.
    pub mean: Option<Vec<f64>>,
    /// Covariance rows.
    pub cov: Option<Vec<Vec<f64>>>,
    /// Standard error of the mean.
    pub mean_stderr: Option<Vec<f64>>,
}

/// Width of the cloud at t_end. Null where not estimable or withheld, as [`FinalMoments`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Width {
    /// tr C.
    pub trace: Option<f64>,
    /// Its standard error (from the fourth moment, no Gaussian assumption).
    pub trace_stderr: Option<f64>,
    /// Eigenvalues of C, ascending.
    pub eigenvalues: Option<Vec<f64>>,
    /// E‖x − d‖².
    pub msd: Option<f64>,
    /// Its standard error.
    pub msd_stderr: Option<f64>,
}

/// Exit-time statistics: the estimator's output ([`ExitEstimate`], flattened into the same JSON object) and
/// the monitoring correction used. Derefs to the estimate, so `exit.mean_time` etc. read directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitSummary {
    /// The estimate (flattened). With `[exit] estimator = "ams"`, `mean_time`, `mean_time_stderr`, `ci95` and
    /// `estimator` (`"ams"`, or `"direct_restarts"` when the estimator fell back to direct simulation) come
    /// from [`AmsExit`]; the other fields (counts, restricted mean, quantiles) describe the ensemble's paths up
    /// to t_end.
    #[serde(flatten)]
    pub estimate: ExitEstimate,
    /// "brownian_bridge" or "none": whether exits between two steps were detected (by the ensemble, and by
    /// AMS with `[exit] estimator = "ams"`; discrete-time dynamics have no bridge).
    pub correction: String,
    /// The rare-event estimate (`[exit] estimator = "ams"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ams: Option<AmsExit>,
}

/// The AMS estimate of the mean exit time (`exit.ams` in summary.json): the renewal formula
/// E τ = T₀ − L + (L + q)/p (Cérou et al. 2011) with p and q from adaptive multilevel splitting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmsExit {
    /// `"ams"`, or `"direct_restarts"`: exits were frequent, so AMS had nothing to gain and the estimate is
    /// the mean of the complete exit times of its direct phase (paths restarted at the start after each exit).
    pub method: String,
    /// p: probability that an excursion from the entrance level reaches the exit before returning to A.
    pub escape_probability: f64,
    /// Its 95 % interval over replicas (null under `direct_restarts`).
    pub escape_probability_ci95: Option<[f64; 2]>,
    /// AMS iterations, summed over replicas.
    pub iterations: usize,
    /// Particles N per AMS run.
    pub particles: usize,
    /// Particles killed per iteration.
    pub killed: usize,
    /// Independent replicas.
    pub replicas: usize,
    /// Replicas whose AMS run went extinct.
    pub extinct_replicas: usize,
    /// The reaction coordinate ξ.
    pub coordinate: String,
    /// Level a of A = {ξ < a}.
    pub level_a: f64,
    /// Entrance level c.
    pub entry_level: f64,
    /// Exit level b (null for a formula coordinate, whose exit is the region's boundary).
    pub exit_level: Option<f64>,
    /// Mean approach time T₀ from the start to the first entrance.
    pub mean_approach_time: f64,
    /// Mean duration L of a failed loop (entrance → return to A → next entrance).
    pub mean_loop_time: f64,
    /// Mean duration of a successful excursion.
    pub mean_success_time: f64,
    /// Exits seen by the direct phases.
    pub direct_exits: u64,
    /// Entrances seen by the direct phases.
    pub direct_entrances: u64,
    /// Steps simulated (direct phases and AMS, including replays).
    pub steps: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The ensemble's own estimate of the paths up to t_end, kept for comparison: `mean` or
    /// `restricted_mean` (E[min(τ, t_end)], a lower bound).
    pub ensemble_estimator: String,
    /// Its value.
    pub ensemble_mean_time: Option<f64>,
    /// Per attractor (`[ams] basins = true`): where escapes end.
    pub basins: Vec<AmsBasinSummary>,
}

/// One attractor in `exit.ams.basins`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmsBasinSummary {
    /// Attractor label.
    pub label: String,
    /// p_k: probability that an excursion reaches this attractor before returning to A or reaching another.
    pub probability: f64,
    /// Its 95 % interval over replicas.
    pub probability_ci95: [f64; 2],
    /// p_k/Σ_j p_j: the fraction of escapes that end here (null when no replica reached an attractor).
    pub share: Option<f64>,
    /// Its 95 % interval (delta method over replicas).
    pub share_ci95: Option<[f64; 2]>,
}

impl std::ops::Deref for ExitSummary {
    type Target = ExitEstimate;
    fn deref(&self) -> &ExitEstimate {
        &self.estimate
    }
}

/// Paired differences against the reference (first) dynamics, path by path with common random numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedSummary {
    /// Label of the reference dynamics.
    pub reference: String,
    /// MSD(this) − MSD(reference) at t_end (null without paths running in both).
    pub msd_difference: Option<f64>,
    /// Its standard error.
    pub msd_difference_stderr: Option<f64>,
    /// E\[min(τ,T)\](this) − E\[min(τ,T)\](reference), if exit times are measured.
    pub exit_difference: Option<f64>,
    /// Its standard error.
    pub exit_difference_stderr: Option<f64>,
    /// tr C(this) / tr C(reference) at t_end (null where either width is missing).
    pub width_ratio: Option<f64>,
}

/// Closed forms beside the simulated numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Theory {
    /// O1: OU mean at t_end of the linearisation at the saddle (linear dynamics only).
    pub mean: Option<Vec<f64>>,
    /// O1: its covariance.
    pub cov: Option<Vec<Vec<f64>>>,
    /// O1: trace of the covariance.
    pub trace: Option<f64>,
    /// O1: MSD E‖x − d‖².
    pub msd: Option<f64>,
    /// O5/O6: exact 1-D mean exit time along the unstable direction.
    pub exit_mean_time: Option<f64>,
    /// O5 restricted to the horizon: E[min(τ, T)] of the same 1-D process (what a censored run estimates).
    #[serde(default)]
    pub exit_restricted_mean_time: Option<f64>,
    /// O5/O7: asymptotic formula for the same.
    pub exit_mean_time_asymptotic: Option<f64>,
    /// O3: the radius above which USAM is attracted to the saddle (1/|λ₋|).
    pub attraction_threshold_rho: Option<f64>,
    /// O3: whether this dynamics' linearisation attracts at its ρ.
    pub attracting: Option<bool>,
    /// What the numbers assume.
    pub notes: Vec<String>,
}

/// A row of `moments.csv`: one dynamics at one snapshot time. A NaN is a missing value (written as an empty
/// cell): not estimable from the paths running then, or withheld because more than 1 % had diverged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MomentRow {
    /// Dynamics label.
    pub label: String,
    /// Time.
    pub t: f64,
    /// Paths observed.
    pub n: u64,
    /// Mean (d).
    pub mean: Vec<f64>,
    /// Covariance, row-major (d×d).
    pub cov: Vec<f64>,
    /// tr C.
    pub trace: f64,
    /// Its standard error.
    pub trace_stderr: f64,
    /// Eigenvalues of C, ascending (d).
    pub eigenvalues: Vec<f64>,
    /// MSD.
    pub msd: f64,
    /// Its standard error.
    pub msd_stderr: f64,
    /// O1 trace at this time (linear dynamics), if known.
    pub theory_trace: Option<f64>,
    /// O1 MSD at this time, if known.
    pub theory_msd: Option<f64>,
    /// tr C / tr C of the first (reference) dynamics at this time (None for the reference itself).
    pub width_ratio: Option<f64>,
    /// Paired MSD − MSD of the reference, path by path with common random numbers.
    pub msd_difference: Option<f64>,
    /// Its standard error.
    pub msd_difference_stderr: Option<f64>,
}

/// A row of `exit_times.csv`: the Kaplan–Meier survival curve of one dynamics at one event time (every
/// distinct exit time, plus t = 0 and the horizon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurvivalRow {
    /// Dynamics label.
    pub label: String,
    /// Time.
    pub t: f64,
    /// Ŝ(t) = P(τ > t), just after t.
    pub survival: f64,
    /// Paths at risk (not yet exited) just before t.
    pub at_risk: u64,
    /// Paths that exited at t.
    #[serde(default)]
    pub exits: u64,
}

/// A row of `basins.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasinRow {
    /// Dynamics label.
    pub label: String,
    /// Class (attractor label, trapped, unresolved, diverged).
    pub class: String,
    /// Paths.
    pub count: u64,
    /// Probability (NaN, an empty cell, without paths).
    pub probability: f64,
    /// Clopper–Pearson 95 % lower bound.
    pub ci_lo: f64,
    /// Upper bound.
    pub ci_hi: f64,
}

/// A row of `paths.csv`: one stored sample path at one snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathRow {
    /// Dynamics label.
    pub label: String,
    /// Path index.
    pub path: u64,
    /// Time.
    pub t: f64,
    /// Position (d).
    pub x: Vec<f64>,
}

/// Everything in an output folder but the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `summary.json`.
    pub summary: Summary,
    /// `moments.csv`.
    pub moments: Vec<MomentRow>,
    /// `exit_times.csv`.
    pub survival: Vec<SurvivalRow>,
    /// `basins.csv`.
    pub basins: Vec<BasinRow>,
    /// `paths.csv`.
    pub paths: Vec<PathRow>,
}
