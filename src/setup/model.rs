//! The landscape and noise builders: `[landscape]` and `[noise]` of the schema become a validated
//! [`Model`]. This is where landscape and noise kinds are registered: a new landscape is one file in
//! `model/landscape/`, one variant of [`LandscapeConfig`] and one arm in [`landscape`]; a new noise model one
//! variant of [`NoiseKind`] and one arm in [`noise`].

use super::schema::{LandscapeConfig, NoiseConfig, NoiseKind, NoiseParameters};
use super::source::Source;
use crate::error::Result;
use crate::model::landscape::{Beale, DoubleWell, Expression, Landscape, MonkeySaddle, Quadratic, ToyNetwork};
use crate::model::{Model, Noise};
use std::sync::Arc;

/// The default Hessian of `kind = "quadratic"`: H = diag(1, −0.5).
pub fn default_hessian() -> Vec<Vec<f64>> {
    vec![vec![1.0, 0.0], vec![0.0, -0.5]]
}

/// `[landscape]` with every default filled in (the one place the landscapes' defaults live): the quadratic's
/// Hessian and centre (the origin, one coordinate per row of H), the double well's depth `a` = 1, the toy
/// network's `samples` = 64, `teacher` = 1 and `seed` = 0, the expression's `variables` = ["x", "y"]. What
/// `config.resolved.toml` and summary.json's `landscape_parameters` hold.
pub fn landscape_filled(c: &LandscapeConfig) -> LandscapeConfig {
    match c.clone() {
        LandscapeConfig::Quadratic { hessian, center } => {
            let h = hessian.unwrap_or_else(default_hessian);
            let center = center.unwrap_or_else(|| vec![0.0; h.len()]);
            LandscapeConfig::Quadratic {
                hessian: Some(h),
                center: Some(center),
            }
        }
        LandscapeConfig::DoubleWell { a } => LandscapeConfig::DoubleWell {
            a: Some(a.unwrap_or(1.0)),
        },
        LandscapeConfig::ToyNetwork { samples, teacher, seed } => LandscapeConfig::ToyNetwork {
            samples: Some(samples.unwrap_or(64)),
            teacher: Some(teacher.unwrap_or(1.0)),
            seed: Some(seed.unwrap_or(0)),
        },
        LandscapeConfig::Expression { formula, variables } => LandscapeConfig::Expression {
            formula,
            variables: Some(variables.unwrap_or_else(|| vec!["x".into(), "y".into()])),
        },
        other => other,
    }
}

/// The parameters of the noise model `[noise]` describes on a `dim`-dimensional landscape: its kind, the
/// batch size B and the keys of that kind only, with defaults filled (`linear`'s Σ₁ defaults to σ₁² I).
/// summary.json's `noise_parameters`.
pub fn noise_parameters(n: &NoiseConfig, dim: usize) -> NoiseParameters {
    let batch_size = n.batch_size;
    match n.kind {
        NoiseKind::Isotropic => NoiseParameters::Isotropic {
            batch_size,
            sigma: n.sigma,
        },
        NoiseKind::Hessian => NoiseParameters::Hessian {
            batch_size,
            scale: n.scale,
            delta: n.delta,
        },
        NoiseKind::FiniteSum => NoiseParameters::FiniteSum {
            batch_size,
            replacement: n.replacement,
        },
        NoiseKind::Linear => NoiseParameters::Linear {
            batch_size,
            covariance: linear_covariance(n, dim),
        },
    }
}

/// Σ₁ of `linear` noise: the given `covariance`, else σ₁² I.
fn linear_covariance(n: &NoiseConfig, dim: usize) -> Vec<Vec<f64>> {
    n.covariance.clone().unwrap_or_else(|| {
        (0..dim)
            .map(|i| (0..dim).map(|j| if i == j { n.sigma * n.sigma } else { 0.0 }).collect())
            .collect()
    })
}

/// A value [`landscape_filled`] has filled in.
fn filled_value<T: Default>(v: Option<T>) -> T {
    debug_assert!(v.is_some(), "landscape_filled fills every default");
    v.unwrap_or_default()
}

/// Builds the landscape of a `[landscape]` section; errors are located in `src`.
pub fn landscape(src: &Source, c: &LandscapeConfig) -> Result<Arc<dyn Landscape>> {
    let lift = |e| src.locate(e);
    let filled = landscape_filled(c);
    Ok(match &filled {
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
        LandscapeConfig::DoubleWell { a } => Arc::new(DoubleWell::new(filled_value(*a)).map_err(lift)?),
        LandscapeConfig::ToyNetwork { samples, teacher, seed } => Arc::new(
            ToyNetwork::new(filled_value(*samples), filled_value(*teacher), filled_value(*seed)).map_err(lift)?,
        ),
        LandscapeConfig::Expression { formula, variables } => {
            let Some(f) = formula else {
                return Err(src.error(
                    Some("landscape.formula"),
                    "missing: kind = \"expression\" needs a formula",
                    "add e.g. formula = \"0.5*x^2 - 0.25*y^2\" and variables = [\"x\", \"y\"]",
                ));
            };
            let vars = variables.as_deref().unwrap_or_default();
            Arc::new(Expression::new(f, vars).map_err(lift)?)
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
            Noise::linear(&linear_covariance(n, d), b, d).map_err(lift)
        }
    }
}

/// The validated model of a model file's `[landscape]` and `[noise]`.
pub fn model(src: &Source, landscape_config: &LandscapeConfig, noise_config: &NoiseConfig) -> Result<Model> {
    let l = landscape(src, landscape_config)?;
    let n = noise(src, noise_config, &l)?;
    Model::new(l, n).map_err(|e| src.locate(e))
}
