//! Stage two of the configuration: a [`Config`] validated into a ready [`Experiment`] — the model, the chosen
//! saddle, one stepper per dynamics, the plan every path follows — holding validated values only.
//!
//! Everything is checked here, before any file is written: a bad model file is one [`Error::Model`] naming the
//! file, the dotted key, its line and the fix. Running is [`Experiment::run`] (`super::run`); turning the
//! observations into a report is the report module's job.

use super::build::{DEFAULT_EPSILON, DynamicsKind, DynamicsSpec, build, dnsam_epsilon};
use super::model::{self, landscape_filled};
use super::rare::AmsPlan;
use super::schema::{Config, ExitConfig, ExitEstimator, LandscapeConfig, SaddleConfig, Start};
use super::source::Source;
use crate::ensemble::{Entry, Plan, Region, Schedule};
use crate::error::{Error, Result};
use crate::model::critical::{choose_saddle, default_basins};
use crate::model::{CriticalKind, CriticalPoint, Model};
use crate::sde::NoiseStructure;
use crate::solver::SolverSpec;

/// What the report says about one dynamics besides its statistics.
#[derive(Debug, Clone)]
pub struct DynamicsMeta {
    /// Label.
    pub label: String,
    /// Validated parameters.
    pub spec: DynamicsSpec,
    /// Noise structure (None for discrete optimizers).
    pub structure: Option<NoiseStructure>,
    /// Strong order (None for discrete optimizers).
    pub strong_order: Option<f64>,
    /// Time per step.
    pub dt: f64,
    /// Remarks.
    pub notes: Vec<String>,
}

/// A validated, ready-to-run model file.
pub struct Experiment {
    /// The model file (for messages).
    pub file: String,
    /// The model's name (the default output folder is `output/<name>/`).
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Paths per dynamics.
    pub paths: u64,
    /// Paths stored per dynamics (`paths.csv`).
    pub sample_paths: u64,
    /// Horizon T.
    pub t_end: f64,
    /// Landscape and noise.
    pub model: Model,
    /// The chosen saddle, classified.
    pub saddle: CriticalPoint,
    /// Solver.
    pub solver: SolverSpec,
    /// One entry per dynamics (label, stepper, schedule), in model-file order.
    pub entries: Vec<Entry>,
    /// Their descriptions.
    pub meta: Vec<DynamicsMeta>,
    /// Start, regions, attractors.
    pub plan: Plan,
    /// Attractor labels and centres.
    pub basin_labels: Vec<(String, Vec<f64>)>,
    /// The rare-event estimator of the mean exit time (`[exit] estimator = "ams"`).
    pub ams: Option<AmsPlan>,
    /// What the user should know before trusting the numbers (printed on stderr and kept in summary.json):
    /// a "saddle" that is a minimum, an adjusted step, fewer snapshots than asked.
    pub warnings: Vec<String>,
    /// Every effective value, for `config.resolved.toml` and records of what was run.
    resolved: Config,
}

fn finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

fn check_vec(src: &Source, key: &str, v: &[f64], d: usize) -> Result<()> {
    if v.len() != d {
        return Err(src.error(
            Some(key),
            &format!("has {} entries, expected {d}", v.len()),
            &format!("give {d} coordinates (the dimension of the landscape)"),
        ));
    }
    if !finite(v) {
        return Err(src.error(
            Some(key),
            &format!("non-finite entry in {v:?}"),
            "all entries must be finite numbers",
        ));
    }
    Ok(())
}

/// Checks a finite, positive number.
fn positive(src: &Source, key: &str, v: f64, fix: &str) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(src.error(Some(key), &format!("invalid value {v}"), fix))
    }
}

impl Experiment {
    /// Validates `src` (with its overrides) into an experiment. Nothing is written.
    pub fn load(src: &Source) -> Result<Experiment> {
        let mut c = src.config()?;
        let err = |k: &str, m: String, f: &str| src.error(Some(k), &m, f);
        if c.name.trim().is_empty() || c.name.contains(['/', '\\']) || c.name.starts_with('.') {
            return Err(err(
                "name",
                format!("invalid name {:?}", c.name),
                "use a plain folder name, e.g. \"my_model\"",
            ));
        }
        let model = model::model(src, &c.landscape, &c.noise)?;
        let l = model.landscape().as_ref();
        let d = l.dim();
        let mut warnings = Vec::new();
        let solver = solver(src, &c, &mut warnings)?;
        c.solver.dt = solver.dt;
        ensemble_and_output(src, &mut c, &mut warnings)?;
        let saddle = saddle(src, &c, l)?;
        if saddle.kind == CriticalKind::Minimum {
            warnings.push(format!(
                "the chosen saddle {:?} is a minimum (index 0: every Hessian eigenvalue is > 0, {:?}), not a saddle; exit times and widths describe a well. Give saddle.point or saddle.guess near a saddle (`samsde saddles MODEL` lists the critical points)",
                saddle.x, saddle.eigenvalues
            ));
        }
        let start = start(src, &c, &saddle)?;
        let region = region(src, &c.exit, &saddle)?;
        if let Some(r) = &region
            && !r.inside(&start)
        {
            return Err(err(
                "ensemble.x0",
                format!("the start {start:?} is outside the exit region"),
                "start inside the region, or enlarge exit.radius",
            ));
        }
        let ams = match (&region, c.exit.estimator()) {
            (Some(r), ExitEstimator::Ams) => Some(AmsPlan::new(src, &c.ams, r, l, c.ensemble.seed, &start)?),
            _ => None,
        };
        // Basins.
        let b = c.basins.clone();
        positive(src, "basins.radius", b.radius, "must be a finite number > 0, e.g. 0.1")?;
        let basin_labels = match &b.points {
            Some(pts) => {
                for (i, p) in pts.iter().enumerate() {
                    check_vec(src, &format!("basins.points[{i}]"), p, d)?;
                }
                pts.iter()
                    .enumerate()
                    .map(|(i, p)| (format!("basin_{}", i + 1), p.clone()))
                    .collect()
            }
            None => default_basins(l, &saddle.x),
        };
        let (entries, meta) = dynamics(src, &mut c, &model, &solver, &saddle, &start, &mut warnings)?;
        let plan = Plan {
            start: start.clone(),
            spread: c.ensemble.spread,
            saddle: saddle.x.clone(),
            region,
            bridge: c.exit.bridge(),
            stop_on_exit: c.exit.stop(),
            basins: basin_labels.iter().map(|(_, x)| x.clone()).collect(),
            basin_radius: b.radius,
            stop_on_basin: b.stop,
            blowup: c.ensemble.blowup,
        };
        // Resolved values, so that config.resolved.toml reproduces the run on its own.
        c.ensemble.x0 = Some(start);
        c.ensemble.start = None;
        c.ensemble.offset = None;
        c.saddle = SaddleConfig {
            point: Some(saddle.x.clone()),
            guess: None,
        };
        c.basins.points = Some(plan.basins.clone());
        c.landscape = landscape_filled(&c.landscape);
        Ok(Experiment {
            file: src.file.clone(),
            name: c.name.clone(),
            seed: c.ensemble.seed,
            paths: c.ensemble.paths,
            sample_paths: c.output.sample_paths,
            t_end: c.solver.t_end,
            model,
            saddle,
            solver,
            entries,
            meta,
            plan,
            basin_labels,
            ams,
            warnings,
            resolved: c,
        })
    }

    /// Every effective value of the run (defaults filled, overrides applied, saddle, start and basins
    /// resolved): what `config.resolved.toml` holds.
    pub fn resolved(&self) -> &Config {
        &self.resolved
    }

    /// The resolved configuration as TOML (`config.resolved.toml`).
    pub fn resolved_toml(&self) -> Result<String> {
        let body = toml::to_string(&self.resolved).map_err(|e| Error::Output(e.to_string()))?;
        Ok(format!(
            "# Every effective value of this run (defaults filled, overrides applied); `samsde run` accepts it as is.\n{body}"
        ))
    }

    /// The index of the dynamics labelled `label`.
    pub fn dynamics_index(&self, label: &str) -> Result<usize> {
        self.meta
            .iter()
            .position(|m| m.label == label)
            .ok_or_else(|| Error::Usage(format!("{}: no dynamics labelled {label}", self.file)))
    }
}

/// `[solver]`: the step and horizon. A step that does not divide t_end is shortened to t_end/⌈t_end/dt⌉, so
/// that the SDEs end exactly at t_end (with a warning).
fn solver(src: &Source, c: &Config, warnings: &mut Vec<String>) -> Result<SolverSpec> {
    let (dt, t_end) = (c.solver.dt, c.solver.t_end);
    positive(
        src,
        "solver.dt",
        dt,
        "the step dt must be a finite number > 0, e.g. 1e-3",
    )?;
    positive(src, "solver.t_end", t_end, "the horizon must be a finite number > 0")?;
    if dt > t_end {
        return Err(src.error(
            Some("solver.dt"),
            &format!("dt = {dt} exceeds t_end = {t_end}"),
            "choose dt ≤ t_end",
        ));
    }
    let ratio = t_end / dt;
    let steps = (ratio * (1.0 - 1e-9)).ceil().max(1.0);
    let dt = if (ratio - ratio.round()).abs() <= 1e-9 * ratio {
        dt
    } else {
        let dt_whole = t_end / steps;
        warnings.push(format!(
            "solver.dt = {dt} does not divide solver.t_end = {t_end}; the SDEs use dt = {dt_whole} ({steps} steps) so that the last snapshot is at t_end"
        ));
        dt_whole
    };
    Ok(SolverSpec {
        kind: c.solver.kind,
        dt,
        allow_dropping_areas: c.solver.allow_dropping_areas,
    })
}

/// Whether `key` is given in the model file or by `--set`.
fn given(src: &Source, key: &str) -> bool {
    let mut t = Some(&src.table);
    let parts: Vec<&str> = key.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        match t.and_then(|t| t.get(*p)) {
            Some(toml::Value::Table(inner)) => t = Some(inner),
            Some(_) => return i + 1 == parts.len(),
            None => return false,
        }
    }
    false
}

/// `[ensemble]` and `[output]` numbers; `output.sample_paths` beyond the paths is lowered to them (with a
/// warning when the value was given).
fn ensemble_and_output(src: &Source, c: &mut Config, warnings: &mut Vec<String>) -> Result<()> {
    let e = c.ensemble.clone();
    if e.paths == 0 {
        return Err(src.error(
            Some("ensemble.paths"),
            "invalid value 0",
            "run at least 1 path, e.g. paths = 1000",
        ));
    }
    if !(e.spread.is_finite() && e.spread >= 0.0) {
        return Err(src.error(
            Some("ensemble.spread"),
            &format!("invalid value {}", e.spread),
            "must be a finite number ≥ 0",
        ));
    }
    positive(src, "ensemble.blowup", e.blowup, "must be a finite number > 0")?;
    if c.output.snapshots < 2 {
        return Err(src.error(
            Some("output.snapshots"),
            &format!("invalid value {}", c.output.snapshots),
            "need at least 2 snapshots (t = 0 and t_end)",
        ));
    }
    if c.output.sample_paths > e.paths {
        if given(src, "output.sample_paths") {
            warnings.push(format!(
                "output.sample_paths = {} exceeds ensemble.paths = {}; storing all {} paths",
                c.output.sample_paths, e.paths, e.paths
            ));
        }
        c.output.sample_paths = e.paths;
    }
    Ok(())
}

/// `[saddle]`: the point the analysis is centred on.
fn saddle(src: &Source, c: &Config, l: &dyn crate::model::Landscape) -> Result<CriticalPoint> {
    let d = l.dim();
    let s = &c.saddle;
    if s.point.is_some() && s.guess.is_some() {
        return Err(src.error(
            Some("saddle.guess"),
            "both saddle.point and saddle.guess are given",
            "keep one of them",
        ));
    }
    for (key, v) in [("saddle.point", &s.point), ("saddle.guess", &s.guess)] {
        if let Some(v) = v {
            check_vec(src, key, v, d)?;
        }
    }
    let center = match &c.landscape {
        LandscapeConfig::Quadratic { center, .. } => center.as_deref(),
        _ => None,
    };
    choose_saddle(l, s.point.as_deref(), s.guess.as_deref(), center).map_err(|e| src.locate(e))
}

/// `[ensemble]` start: `x0`, or the saddle plus `offset`.
fn start(src: &Source, c: &Config, saddle: &CriticalPoint) -> Result<Vec<f64>> {
    let e = &c.ensemble;
    let d = saddle.x.len();
    match (&e.x0, e.start) {
        (Some(_), Some(_)) => Err(src.error(
            Some("ensemble.start"),
            "both ensemble.x0 and ensemble.start are given",
            "keep one of them",
        )),
        (Some(x0), None) => {
            check_vec(src, "ensemble.x0", x0, d)?;
            if e.offset.is_some() {
                return Err(src.error(
                    Some("ensemble.offset"),
                    "offset is only used with start = \"saddle\"",
                    "remove it, or replace x0 by start = \"saddle\"",
                ));
            }
            Ok(x0.clone())
        }
        (None, None | Some(Start::Saddle)) => {
            let off = e.offset.clone().unwrap_or_else(|| vec![0.0; d]);
            check_vec(src, "ensemble.offset", &off, d)?;
            Ok(saddle.x.iter().zip(&off).map(|(a, b)| a + b).collect())
        }
    }
}

/// `[exit]`: the region around the saddle.
fn region(src: &Source, x: &ExitConfig, saddle: &CriticalPoint) -> Result<Option<Region>> {
    let center = saddle.x.clone();
    let d = center.len();
    let lift = |e| src.locate(e);
    Ok(match x {
        ExitConfig::None {} => None,
        ExitConfig::Ball { radius, .. } => Some(Region::ball(center, *radius).map_err(lift)?),
        ExitConfig::Box {
            radius, half_widths, ..
        } => {
            let hw = half_widths.clone().unwrap_or_else(|| vec![*radius; d]);
            Some(Region::boxed(center, hw).map_err(lift)?)
        }
        ExitConfig::Slab {
            radius,
            normal,
            half_width,
            ..
        } => {
            let n = normal.clone().unwrap_or_else(|| saddle.eigenvectors[0].clone());
            Some(Region::slab(center, n, half_width.unwrap_or(*radius)).map_err(lift)?)
        }
    })
}

/// `[[dynamics]]`: labels (defaulted to the kind in upper case), then one stepper per entry.
fn dynamics(
    src: &Source,
    c: &mut Config,
    model: &Model,
    solver: &SolverSpec,
    saddle: &CriticalPoint,
    start: &[f64],
    warnings: &mut Vec<String>,
) -> Result<(Vec<Entry>, Vec<DynamicsMeta>)> {
    if c.dynamics.is_empty() {
        return Err(src.error(
            Some("dynamics"),
            "no [[dynamics]] entries",
            "add at least one, e.g. [[dynamics]] kind = \"sgd\"",
        ));
    }
    for dy in c.dynamics.iter_mut() {
        if dy.label.is_empty() {
            dy.label = dy.kind.name().to_uppercase();
        }
    }
    let mut built_all = Vec::new();
    let mut meta = Vec::new();
    let mut epsilons = Vec::new();
    for (i, dy) in c.dynamics.iter().enumerate() {
        let prefix = format!("dynamics.{}", dy.label);
        if c.dynamics[..i].iter().any(|o| o.label == dy.label) {
            return Err(src.error(
                Some(&format!("{prefix}.label")),
                &format!("duplicate label \"{}\"", dy.label),
                "give every [[dynamics]] entry a distinct label",
            ));
        }
        if !label_ok(&dy.label) {
            return Err(src.error(
                Some(&format!("{prefix}.label")),
                &format!(
                    "label {:?} has a character other than A–Z, a–z, 0–9, '_' or '-'",
                    dy.label
                ),
                "use ASCII letters, digits, '_' or '-' (labels address entries in --set dynamics.LABEL.key=… \
                 and head CSV columns)",
            ));
        }
        let mut eps_note = None;
        let epsilon = match (dy.epsilon, dy.kind) {
            (Some(e), _) => e,
            (None, DynamicsKind::Dnsam) => match dnsam_epsilon(model, &saddle.x, start) {
                Some(e) => {
                    eps_note = Some(format!(
                        "DNSAM ε = √tr Σ_B(d) = {e:.6e} (default: the noise scale, so ‖g‖_ε is the root-mean-square mini-batch gradient norm at the saddle); the width depends on ε (README: measured sensitivity); set dynamics.{}.epsilon to change it",
                        dy.label
                    ));
                    e
                }
                None => {
                    warnings.push(format!(
                        "{prefix}: the gradient noise vanishes at the saddle and at the start, so DNSAM's ε falls back to {DEFAULT_EPSILON:e}; its diffusion ρ‖H‖/ε may diverge near the saddle (set {prefix}.epsilon)"
                    ));
                    DEFAULT_EPSILON
                }
            },
            (None, _) => DEFAULT_EPSILON,
        };
        epsilons.push(epsilon);
        let spec = DynamicsSpec {
            kind: dy.kind,
            lr: dy.lr,
            rho: dy.rho,
            momentum: dy.momentum,
            epsilon,
        };
        let built = build(&spec, model, solver, &saddle.x, &prefix).map_err(|e| src.locate(e))?;
        // Steps of this dynamics (its own dt: a discrete optimizer steps with η); checked before counting.
        let ratio = c.solver.t_end / built.dt;
        if ratio > MAX_STEPS {
            let key = if built.dt == solver.dt {
                "solver.dt".to_string()
            } else {
                format!("{prefix}.lr")
            };
            return Err(src.error(
                Some(&key),
                &format!(
                    "t_end / dt = {:e} / {:e} = {ratio:.3e} steps, more than 2⁵³ (the step count must be exact)",
                    c.solver.t_end, built.dt
                ),
                "use a larger step or a shorter solver.t_end",
            ));
        }
        let mut notes = built.notes;
        notes.extend(eps_note);
        let (steps, t_last) = Schedule::whole_steps(built.dt, c.solver.t_end);
        if t_last != c.solver.t_end {
            warnings.push(format!(
                "{prefix}: t_end = {} is not a whole number of steps η = {}; this optimizer stops at its last step, t = {}",
                c.solver.t_end, built.dt, t_last
            ));
            notes.push(format!(
                "last step at t = {t_last} (t_end = {} is not a whole number of steps)",
                c.solver.t_end
            ));
        }
        meta.push(DynamicsMeta {
            label: dy.label.clone(),
            spec,
            structure: built.structure,
            strong_order: built.strong_order,
            dt: built.dt,
            notes,
        });
        built_all.push((dy.label.clone(), built.stepper, steps, built.dt));
    }
    // The resolved configuration carries every effective ε.
    for (dy, e) in c.dynamics.iter_mut().zip(epsilons) {
        dy.epsilon = Some(e);
    }
    // Every dynamics records the same number of snapshot times, all distinct: at most steps + 1 of the
    // dynamics with the fewest steps.
    let fewest = built_all.iter().map(|b| b.2).min().unwrap_or(1);
    let snapshots = c.output.snapshots.min(fewest + 1);
    if snapshots < c.output.snapshots {
        warnings.push(format!(
            "output.snapshots = {} exceeds the {} distinct step times of the coarsest dynamics; recording {snapshots}",
            c.output.snapshots,
            fewest + 1
        ));
        c.output.snapshots = snapshots;
    }
    let entries = built_all
        .into_iter()
        .map(|(label, stepper, _, dt)| Entry {
            label,
            stepper,
            schedule: Schedule::new(dt, c.solver.t_end, snapshots),
        })
        .collect();
    Ok((entries, meta))
}

/// The most steps a dynamics may take: 2⁵³, beyond which step indices and times kΔt are not exact in f64.
pub const MAX_STEPS: f64 = 9_007_199_254_740_992.0;

/// A label: one or more ASCII letters, digits, '_' or '-' (the character set the error message promises).
pub fn label_ok(label: &str) -> bool {
    !label.is_empty()
        && label
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped model file parses and validates (no simulation), and so does its resolved form.
    #[test]
    fn shipped_models_validate() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let mut n = 0;
        for sub in [dir.clone(), dir.join("paper")] {
            for e in std::fs::read_dir(&sub).expect("models/ exists") {
                let p = e.expect("entry").path();
                if p.extension().is_some_and(|x| x == "toml") {
                    let src = Source::read(&p).unwrap_or_else(|e| panic!("{e}"));
                    let exp = Experiment::load(&src).unwrap_or_else(|e| panic!("{e}"));
                    let text = std::fs::read_to_string(&p).expect("readable");
                    assert!(text.starts_with('#'), "{} must start with a comment", p.display());
                    let again = Source::parse("resolved", &exp.resolved_toml().expect("toml")).expect("parses");
                    Experiment::load(&again).unwrap_or_else(|e| panic!("{}: resolved: {e}", p.display()));
                    n += 1;
                }
            }
        }
        assert!(n >= 18, "found {n} model files");
    }
}
