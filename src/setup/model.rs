//! The landscape and noise builders: `[landscape]` and `[noise]` of the schema become a validated
//! [`Model`]. This is where landscape and noise kinds are registered: a new landscape is one file in
//! `model/landscape/`, one variant of [`LandscapeConfig`] and one arm in [`landscape`]; a new noise model one
//! variant of [`NoiseKind`] and one arm in [`noise`].
//!
//! Data files (`hessian_file`, `center_file`, `covariance_file`, `gradients_file`, the `mlp` data set) are
//! read here, relative to the model file's folder ([`Source::data_path`]); a problem in one is reported at the
//! model-file key that names it, with the data file, what is wrong and the fix ([`data_error`]).

use super::schema::{LandscapeConfig, NoiseConfig, NoiseKind, NoiseParameters};
use super::source::Source;
use crate::error::{Error, Result};
use crate::model::landscape::mlp::{Activation, Dataset, Loss};
use crate::model::landscape::{Beale, DoubleWell, Expression, Landscape, Mlp, MonkeySaddle, Quadratic, ToyNetwork};
use crate::model::{Model, Noise};
use crate::npy;
use std::path::Path;
use std::sync::Arc;

/// The default Hessian of `kind = "quadratic"`: H = diag(1, −0.5).
pub fn default_hessian() -> Vec<Vec<f64>> {
    vec![vec![1.0, 0.0], vec![0.0, -0.5]]
}

/// The default hidden widths of `kind = "mlp"`.
pub const DEFAULT_HIDDEN: [usize; 1] = [8];

/// A problem with the data file `path` named by the model-file key `key`, located in `src`: the data file's
/// own message and fix (from [`crate::npy`] or the CSV reader) prefixed with the file, or, when the file
/// cannot be opened, the OS error and a hint on how relative paths are resolved. Always exit status 2.
pub fn data_error(src: &Source, key: &str, path: &Path, e: Error) -> Error {
    let shown = path.display();
    match e {
        Error::Model { message, fix, .. } => src.error(Some(key), &format!("{shown}: {message}"), &fix),
        Error::Io { source, .. } => src.error(
            Some(key),
            &format!("cannot read {shown}: {source}"),
            "check the path; a relative path is relative to the model file's folder",
        ),
        other => src.error(Some(key), &format!("{shown}: {other}"), ""),
    }
}

/// `[landscape]` with every default filled in (the one place the landscapes' defaults live): the quadratic's
/// Hessian and centre (the origin, one coordinate per row of H), the double well's depth `a` = 1, the toy
/// network's `samples` = 64, `teacher` = 1 and `seed` = 0, the expression's `variables` = ["x", "y"]. What
/// `config.resolved.toml` and summary.json's `landscape_parameters` hold. The `mlp`'s `hidden` = [8], `tanh`,
/// `cross_entropy`, `standardize` = false; a quadratic from `hessian_file` is left as given.
pub fn landscape_filled(c: &LandscapeConfig) -> LandscapeConfig {
    match c.clone() {
        LandscapeConfig::Quadratic {
            hessian,
            center,
            hessian_file,
            center_file,
        } => {
            // With a Hessian file the dimension is the file's: nothing is filled in.
            let hessian = hessian.or_else(|| hessian_file.is_none().then(default_hessian));
            let center = match (&hessian, center_file.is_none()) {
                (Some(h), true) => Some(center.unwrap_or_else(|| vec![0.0; h.len()])),
                _ => center,
            };
            LandscapeConfig::Quadratic {
                hessian,
                center,
                hessian_file,
                center_file,
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
        LandscapeConfig::Mlp {
            data,
            hidden,
            activation,
            loss,
            standardize,
        } => LandscapeConfig::Mlp {
            data,
            hidden: Some(hidden.unwrap_or_else(|| DEFAULT_HIDDEN.to_vec())),
            activation: Some(activation.unwrap_or(Activation::Tanh)),
            loss: Some(loss.unwrap_or(Loss::CrossEntropy)),
            standardize: Some(standardize.unwrap_or(false)),
        },
        LandscapeConfig::Expression { formula, variables } => LandscapeConfig::Expression {
            formula,
            variables: Some(variables.unwrap_or_else(|| vec!["x".into(), "y".into()])),
        },
        other => other,
    }
}

/// The parameters of the noise model `[noise]` describes on a `dim`-dimensional landscape: its kind, the
/// batch size B and the keys of that kind only, with defaults filled (`linear`'s Σ₁ defaults to σ₁² I; a Σ₁ or gradients from a file are named by
/// the file).
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
            covariance: if n.covariance_file.is_some() {
                Vec::new()
            } else {
                linear_covariance(n, dim)
            },
            covariance_file: n.covariance_file.clone(),
        },
        NoiseKind::Gradients => NoiseParameters::Gradients {
            batch_size,
            replacement: n.replacement,
            gradients_file: n.gradients_file.clone().unwrap_or_default(),
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

/// Builds the landscape of a `[landscape]` section; errors are located in `src`.
pub fn landscape(src: &Source, c: &LandscapeConfig) -> Result<Arc<dyn Landscape>> {
    let lift = |e| src.locate(e);
    let filled = landscape_filled(c);
    Ok(match &filled {
        LandscapeConfig::Quadratic {
            hessian,
            center,
            hessian_file,
            center_file,
        } => Arc::new(quadratic(src, hessian, center, hessian_file, center_file)?),
        LandscapeConfig::Beale {} => Arc::new(Beale),
        LandscapeConfig::MonkeySaddle {} => Arc::new(MonkeySaddle),
        LandscapeConfig::DoubleWell { a } => Arc::new(DoubleWell::new(a.unwrap_or(1.0)).map_err(lift)?),
        LandscapeConfig::ToyNetwork { samples, teacher, seed } => {
            Arc::new(ToyNetwork::new(samples.unwrap_or(64), teacher.unwrap_or(1.0), seed.unwrap_or(0)).map_err(lift)?)
        }
        LandscapeConfig::Mlp {
            data,
            hidden,
            activation,
            loss,
            standardize,
        } => {
            let Some(file) = data else {
                return Err(src.error(
                    Some("landscape.data"),
                    "missing: kind = \"mlp\" needs a data set",
                    "add e.g. data = \"data/iris.csv\" (a CSV file, the target in the last column)",
                ));
            };
            let loss = loss.unwrap_or(Loss::CrossEntropy);
            let path = src.data_path(file);
            let mut set = Dataset::from_csv(&path, loss).map_err(|e| data_error(src, "landscape.data", &path, e))?;
            if standardize.unwrap_or(false) {
                set = set.standardized().0;
            }
            let hidden = hidden.clone().unwrap_or_else(|| DEFAULT_HIDDEN.to_vec());
            Arc::new(Mlp::new(set, &hidden, activation.unwrap_or(Activation::Tanh), loss).map_err(lift)?)
        }
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

/// `kind = "quadratic"`: H from `hessian` or `hessian_file`, c from `center` or `center_file`.
fn quadratic(
    src: &Source,
    hessian: &Option<Vec<Vec<f64>>>,
    center: &Option<Vec<f64>>,
    hessian_file: &Option<String>,
    center_file: &Option<String>,
) -> Result<Quadratic> {
    let lift = |e| src.locate(e);
    let both = |key: &str, other: &str| {
        src.error(
            Some(key),
            &format!("both `{other}` and `{key}` are given"),
            "keep one of them",
        )
    };
    if hessian.is_some() && hessian_file.is_some() {
        return Err(both("landscape.hessian_file", "landscape.hessian"));
    }
    if center.is_some() && center_file.is_some() {
        return Err(both("landscape.center_file", "landscape.center"));
    }
    let (h, d) = match hessian_file {
        Some(f) => {
            let key = "landscape.hessian_file";
            let path = src.data_path(f);
            let m = npy::read_symmetric(&path, "Hessian", npy::DEFAULT_SYMMETRY_RTOL, None)
                .map_err(|e| data_error(src, key, &path, e))?;
            (m.data, m.rows)
        }
        None => {
            let rows = hessian.clone().unwrap_or_else(default_hessian);
            let d = rows.len();
            if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != d) {
                return Err(src.error(
                    Some("landscape.hessian"),
                    &format!("row {i} has {} entries but there are {d} rows", r.len()),
                    "give a square matrix, one row per coordinate",
                ));
            }
            (rows.concat(), d)
        }
    };
    let c = match center_file {
        Some(f) => {
            let key = "landscape.center_file";
            let path = src.data_path(f);
            Some(npy::read_vector(&path, Some(d)).map_err(|e| data_error(src, key, &path, e))?)
        }
        None => center.clone(),
    };
    if let Some(c) = &c
        && c.len() != d
    {
        return Err(src.error(
            Some("landscape.center"),
            &format!("has {} entries but the Hessian is {d}×{d}", c.len()),
            "give one centre coordinate per row of the Hessian",
        ));
    }
    Quadratic::from_matrix(&h, d, c.as_deref()).map_err(lift)
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
    for (key, given, kind) in [
        ("noise.covariance", n.covariance.is_some(), NoiseKind::Linear),
        ("noise.covariance_file", n.covariance_file.is_some(), NoiseKind::Linear),
        ("noise.gradients_file", n.gradients_file.is_some(), NoiseKind::Gradients),
    ] {
        if given && n.kind != kind {
            return Err(src.error(
                Some(key),
                &format!("`{key}` is only read with kind = \"{}\"", kind.name()),
                &format!("set noise.kind = \"{}\", or remove the key", kind.name()),
            ));
        }
    }
    let d = landscape.dim();
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
                    "use landscape.kind = \"toy_network\" or \"mlp\", or another noise kind (isotropic, hessian, \
                     linear, gradients)",
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
            if n.covariance.is_some() && n.covariance_file.is_some() {
                return Err(src.error(
                    Some("noise.covariance_file"),
                    "both `noise.covariance` and `noise.covariance_file` are given",
                    "keep one of them",
                ));
            }
            if let Some(f) = &n.covariance_file {
                let key = "noise.covariance_file";
                let path = src.data_path(f);
                let m = npy::read_covariance(&path, npy::DEFAULT_SYMMETRY_RTOL, Some(d))
                    .map_err(|e| data_error(src, key, &path, e))?;
                return Noise::linear_matrix(&m.data, b, d, key).map_err(|e| match e {
                    Error::Invalid { value, fix, .. } => {
                        src.error(Some(key), &format!("{}: invalid value {value}", path.display()), &fix)
                    }
                    e => lift(e),
                });
            }
            Noise::linear(&linear_covariance(n, d), b, d).map_err(lift)
        }
        NoiseKind::Gradients => {
            let key = "noise.gradients_file";
            let Some(f) = &n.gradients_file else {
                return Err(src.error(
                    Some(key),
                    "missing: kind = \"gradients\" needs the per-sample gradients",
                    "add gradients_file = \"G.npy\" (shape (N, d), one row per sample's gradient at the saddle)",
                ));
            };
            let path = src.data_path(f);
            let g = npy::read_gradients(&path, Some(d)).map_err(|e| data_error(src, key, &path, e))?;
            Noise::from_gradients(&g.data, g.rows, d, b, n.replacement, key).map_err(|e| match e {
                Error::Invalid { key: k, value, fix } if k == key => {
                    src.error(Some(key), &format!("{}: {value}", path.display()), &fix)
                }
                e => lift(e),
            })
        }
    }
}

/// The validated model of a model file's `[landscape]` and `[noise]`.
pub fn model(src: &Source, landscape_config: &LandscapeConfig, noise_config: &NoiseConfig) -> Result<Model> {
    let l = landscape(src, landscape_config)?;
    let n = noise(src, noise_config, &l)?;
    Model::new(l, n).map_err(|e| src.locate(e))
}

/// The model-file keys that name data files, as (section, key): read relative to the model file's folder.
pub const DATA_FILE_KEYS: [(&str, &str); 5] = [
    ("landscape", "hessian_file"),
    ("landscape", "center_file"),
    ("landscape", "data"),
    ("noise", "covariance_file"),
    ("noise", "gradients_file"),
];

/// The absolute form of the data-file path `p` as written in `src`: resolved against the model file's folder
/// ([`Source::data_path`]), then canonical if the file exists, else made absolute against the current folder.
fn absolute(src: &Source, p: &str) -> String {
    let path = src.data_path(p);
    let path = std::fs::canonicalize(&path)
        .or_else(|_| std::path::absolute(&path))
        .unwrap_or(path);
    path.display().to_string()
}

/// Rewrites every data-file path of `landscape` and `noise` as an absolute path, so that a resolved
/// configuration (`config.resolved.toml`) reads the same files from any folder.
pub fn absolute_paths(src: &Source, landscape: &mut LandscapeConfig, noise: &mut NoiseConfig) {
    let abs = |p: &mut Option<String>| {
        if let Some(f) = p {
            *f = absolute(src, f);
        }
    };
    match landscape {
        LandscapeConfig::Quadratic {
            hessian_file,
            center_file,
            ..
        } => {
            abs(hessian_file);
            abs(center_file);
        }
        LandscapeConfig::Mlp { data, .. } => abs(data),
        _ => {}
    }
    abs(&mut noise.covariance_file);
    abs(&mut noise.gradients_file);
}

/// `src`'s table (overrides applied) with every data-file path ([`DATA_FILE_KEYS`]) made absolute: the model
/// as a shard folder stores it (`model.toml`), which `samsde merge` loads from whatever folder it runs in.
pub fn table_with_absolute_paths(src: &Source) -> toml::Table {
    let mut table = src.table.clone();
    for (section, key) in DATA_FILE_KEYS {
        if let Some(toml::Value::Table(t)) = table.get_mut(section)
            && let Some(toml::Value::String(p)) = t.get_mut(key)
        {
            *p = absolute(src, p);
        }
    }
    table
}
