//! `[exit] estimator = "ams"`: the validated rare-event plan of an experiment ([`AmsPlan`]) and its run, one
//! [`AmsOutcome`] per dynamics (the mean exit time by AMS and, with attractors, where escapes end).
//!
//! The AMS master seed is derived from the run's seed, so every dynamics of a run uses the same generator
//! streams, and a run is reproducible at any thread count. Errors of the estimator become model-file errors
//! naming the `[ams]` key that controls them.

use super::schema::AmsSection;
use super::source::Source;
use crate::ams::{
    self, AmsConfig, AmsError, AttractorCommittor, ExitCoordinate, MeanExitEstimate, SetA, StepperProcess,
    TargetEstimate,
};
use crate::brownian::splitmix64;
use crate::ensemble::{Entry, Plan};
use crate::error::{Error, Result};
use crate::model::Region;
use crate::model::landscape::{Expression, Landscape};
use serde::{Deserialize, Serialize};

/// Salt of the AMS master seed: seed_ams = splitmix64(seed ⊕ salt).
const AMS_SALT: u64 = 0x414d_535f_5345_4544;

/// The validated rare-event estimator of an experiment.
#[derive(Debug, Clone)]
pub struct AmsPlan {
    /// Estimator parameters (seed derived from the run's seed).
    pub config: AmsConfig,
    /// The reaction coordinate (B = the outside of the exit region).
    pub coordinate: ExitCoordinate,
    /// Estimate where escapes end (one committor per attractor).
    pub basins: bool,
}

impl AmsPlan {
    /// Validates `[ams]` for the exit `region` of a landscape (for a formula coordinate), the run's `seed`
    /// and the `start`.
    pub fn new(
        src: &Source,
        section: &AmsSection,
        region: &Region,
        landscape: &dyn Landscape,
        seed: u64,
        start: &[f64],
    ) -> Result<AmsPlan> {
        let config = section.config(splitmix64(seed ^ AMS_SALT));
        config.validate().map_err(|e| ams_error(src, &e))?;
        if section.a_level.is_some() && section.a_quantile.is_some() {
            return Err(src.error(
                Some("ams.a_level"),
                "both ams.a_level and ams.a_quantile are given",
                "keep one of them",
            ));
        }
        let coordinate = match &section.coordinate {
            None => ExitCoordinate::new(region.clone()),
            Some(f) => {
                let e = Expression::new(f, &landscape.variable_names()).map_err(|e| {
                    src.error(
                        Some("ams.coordinate"),
                        &e.to_string(),
                        &format!(
                            "write a formula over the landscape's variables {:?} (functions exp log sin cos tanh sqrt abs)",
                            landscape.variable_names()
                        ),
                    )
                })?;
                let v = e.value(start);
                if !v.is_finite() {
                    return Err(src.error(
                        Some("ams.coordinate"),
                        &format!("the coordinate is {v} at the start {start:?}"),
                        "the formula must be finite inside the exit region",
                    ));
                }
                ExitCoordinate::formula(region.clone(), e)
            }
        };
        if let SetA::Level(a) = config.set_a
            && coordinate.at(start) >= a
        {
            return Err(src.error(
                Some("ams.a_level"),
                &format!(
                    "the start {start:?} has ξ = {} ≥ a = {a}, so it is not in A = {{ξ < a}}",
                    coordinate.at(start)
                ),
                "choose a_level above ξ at the start (or use a_quantile)",
            ));
        }
        if let Some(c) = section.entry_level
            && !(c.is_finite() && c < coordinate.target())
        {
            return Err(src.error(
                Some("ams.entry_level"),
                &format!("invalid value {c}"),
                &format!(
                    "the entrance level must be finite and below the exit level {}",
                    coordinate.target()
                ),
            ));
        }
        Ok(AmsPlan {
            config,
            coordinate,
            basins: section.basins,
        })
    }
}

/// Where escapes end: one attractor's probability per excursion and its share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmsBasin {
    /// Attractor label (as in `basins.csv`).
    pub label: String,
    /// The estimate.
    pub estimate: TargetEstimate,
}

/// What AMS found for one dynamics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmsOutcome {
    /// The mean exit time.
    pub exit: MeanExitEstimate,
    /// Per attractor, with `[ams] basins = true`.
    pub basins: Vec<AmsBasin>,
    /// The reaction coordinate, described.
    pub coordinate: String,
    /// Whether the exit level b is the region's boundary level (false for a formula coordinate).
    pub target_is_level: bool,
    /// Whether exits between steps were detected by the Brownian-bridge correction.
    pub bridge: bool,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Runs AMS for dynamics `entry` (on the current rayon pool).
pub fn run(
    plan: &AmsPlan,
    entry: &Entry,
    run_plan: &Plan,
    basin_labels: &[(String, Vec<f64>)],
    file: &str,
) -> Result<AmsOutcome> {
    let t0 = std::time::Instant::now();
    let err = |e: AmsError| run_error(file, &entry.label, &e);
    let mut process = StepperProcess::new(entry.stepper.as_ref(), &run_plan.start, run_plan.spread);
    if run_plan.bridge {
        process = process.with_bridge(plan.coordinate.region());
    }
    let bridged = process.flag_index().is_some();
    let xi = &plan.coordinate.clone().with_bridge_flag(process.flag_index());
    let b = xi.target();
    let a = ams::level_a(&process, xi, b, &plan.config).map_err(err)?;
    let cfg = AmsConfig {
        set_a: SetA::Level(a),
        ..plan.config.clone()
    };
    let attractors: Vec<Vec<f64>> = if plan.basins {
        run_plan.basins.clone()
    } else {
        Vec::new()
    };
    let targets: Vec<AttractorCommittor> = (0..attractors.len())
        .map(|k| AttractorCommittor::new(xi, a, &attractors, k, run_plan.basin_radius))
        .collect();
    let found = ams::rare_events(&process, xi, b, &targets, &cfg).map_err(err)?;
    Ok(AmsOutcome {
        exit: found.exit,
        basins: found
            .targets
            .into_iter()
            .zip(basin_labels)
            .map(|(estimate, (label, _))| AmsBasin {
                label: label.clone(),
                estimate,
            })
            .collect(),
        coordinate: xi.describe(),
        target_is_level: !xi.is_formula(),
        bridge: bridged,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// A validation error of the estimator, located in the model file.
fn ams_error(src: &Source, e: &AmsError) -> Error {
    src.error(Some(&format!("ams.{}", e.key())), &e.to_string(), e.fix())
}

/// An estimator failure while running dynamics `label`: a model-file error (exit status 2, nothing written)
/// naming the `[ams]` key that controls it.
fn run_error(file: &str, label: &str, e: &AmsError) -> Error {
    Error::Model {
        file: file.into(),
        key: Some(format!("ams.{}", e.key())),
        line: None,
        message: format!("AMS for dynamics {label}: {e}"),
        fix: e.fix().into(),
    }
}
