//! The landscape and noise builders: `[landscape]` and `[noise]` of the schema become a validated
//! [`Model`]. This is where landscape and noise kinds are registered: a new landscape is one file in
//! `model/landscape/`, one variant of [`LandscapeConfig`] and one arm in [`landscape`]; a new noise model one
//! variant of [`NoiseKind`] and one arm in [`noise`].

use super::schema::{LandscapeConfig, NoiseConfig, NoiseKind};
use super::source::Source;
use crate::error::Result;
use crate::model::landscape::{Beale, DoubleWell, Expression, Landscape, MonkeySaddle, Quadratic, ToyNetwork};
use crate::model::{Model, Noise};
use std::sync::Arc;

/// The default Hessian of `kind = "quadratic"`: H = diag(1, −0.5).
pub fn default_hessian() -> Vec<Vec<f64>> {
    vec![vec![1.0, 0.0], vec![0.0, -0.5]]
}

/// Builds the landscape of a `[landscape]` section; errors are located in `src`.
pub fn landscape(src: &Source, c: &LandscapeConfig) -> Result<Arc<dyn Landscape>> {
    let lift = |e| src.locate(e);
    Ok(match c {
        LandscapeConfig::Quadratic { hessian, center } => {
            let h = hessian.clone().unwrap_or_else(default_hessian);
            if let Some(c) = center
                && c.len() != h.len()
            {
                return Err(src.error(
                    Some("landscape.center"),
                    &format!("has {} entries but the Hessian is {}×{}", c.len(), h.len(), h.len()),
                    "give one centre coordinate per row of the Hessian",
                ));
            }
            Arc::new(Quadratic::new(&h, center.as_deref()).map_err(lift)?)
        }
        LandscapeConfig::Beale {} => Arc::new(Beale),
        LandscapeConfig::MonkeySaddle {} => Arc::new(MonkeySaddle),
        LandscapeConfig::DoubleWell { a } => Arc::new(DoubleWell::new(a.unwrap_or(1.0)).map_err(lift)?),
        LandscapeConfig::ToyNetwork { samples, teacher, seed } => {
            Arc::new(ToyNetwork::new(samples.unwrap_or(64), teacher.unwrap_or(1.0), seed.unwrap_or(0)).map_err(lift)?)
        }
        LandscapeConfig::Expression { formula, variables } => {
            let Some(f) = formula else {
                return Err(src.error(
                    Some("landscape.formula"),
                    "missing: kind = \"expression\" needs a formula",
                    "add e.g. formula = \"0.5*x^2 - 0.25*y^2\" and variables = [\"x\", \"y\"]",
                ));
            };
            let vars = variables.clone().unwrap_or_else(|| vec!["x".into(), "y".into()]);
            Arc::new(Expression::new(f, &vars).map_err(lift)?)
        }
    })
}

/// Builds the noise model of a `[noise]` section on `landscape`; errors are located in `src`.
pub fn noise(src: &Source, n: &NoiseConfig, landscape: &Arc<dyn Landscape>) -> Result<Noise> {
    let lift = |e| src.locate(e);
    let b = n.batch_size;
    if !(b.is_finite() && b >= 1.0) {
        return Err(src.error(
            Some("noise.batch_size"),
            &format!("invalid value {b}"),
            "the batch size B must be ≥ 1",
        ));
    }
    match n.kind {
        NoiseKind::Isotropic => Noise::isotropic(n.sigma, b).map_err(lift),
        NoiseKind::Hessian => Noise::hessian(n.scale, b, n.delta).map_err(lift),
        NoiseKind::FiniteSum => {
            let Some(losses) = landscape.clone().finite_sum() else {
                return Err(src.error(
                    Some("noise.kind"),
                    &format!(
                        "finite_sum noise needs a finite-sum landscape, and `{}` is not one",
                        landscape.name()
                    ),
                    "use landscape.kind = \"toy_network\", or another noise kind (isotropic, hessian, linear)",
                ));
            };
            if b.fract() != 0.0 {
                return Err(src.error(
                    Some("noise.batch_size"),
                    &format!("invalid value {b}"),
                    "finite_sum needs an integer batch size",
                ));
            }
            Noise::finite_sum(b as usize, n.replacement, losses).map_err(lift)
        }
        NoiseKind::Linear => {
            let d = landscape.dim();
            let cov = n.covariance.clone().unwrap_or_else(|| {
                (0..d)
                    .map(|i| (0..d).map(|j| if i == j { n.sigma * n.sigma } else { 0.0 }).collect())
                    .collect()
            });
            Noise::linear(&cov, b, d).map_err(lift)
        }
    }
}

/// The validated model of a model file's `[landscape]` and `[noise]`.
pub fn model(src: &Source, landscape_config: &LandscapeConfig, noise_config: &NoiseConfig) -> Result<Model> {
    let l = landscape(src, landscape_config)?;
    let n = noise(src, noise_config, &l)?;
    Model::new(l, n).map_err(|e| src.locate(e))
}
