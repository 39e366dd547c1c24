//! Stage two of the configuration: a [`Config`] validated into a ready [`Experiment`] (landscape, noise, the
//! chosen saddle, one stepper per dynamics, the ensemble plan), and the run that turns it into a [`Report`].
//!
//! Everything is checked here, before any file is written: a bad model file is one [`Error::Model`] naming the
//! file, the dotted key, its line and the fix.

use crate::config::{Config, Source, nearest};
use crate::ensemble::{self, Ensemble, Entry, Plan, Region, RunStats, Schedule};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::model::critical::{self, CriticalKind, CriticalPoint, classify, find_all, grid_starts, newton};
use crate::model::landscape::{Beale, DoubleWell, Expression, Landscape, MonkeySaddle, Quadratic, ToyNetwork};
use crate::model::noise::Noise;
use crate::report::{
    BasinRow, DynamicsSummary, ExitSummary, FinalMoments, MomentRow, PairedSummary, PathRow, Report, Summary,
    SurvivalRow, Width,
};
use crate::sde::NoiseStructure;
use crate::setup::{DynamicsKind, DynamicsSpec, build};
use crate::solver::{SolverKind, SolverSpec};
use std::sync::Arc;

/// Landscape kinds, as spelled in model files.
pub const LANDSCAPE_KINDS: [&str; 6] = [
    "quadratic",
    "beale",
    "monkey_saddle",
    "double_well",
    "toy_network",
    "expression",
];
/// Noise kinds.
pub const NOISE_KINDS: [&str; 4] = ["isotropic", "hessian", "finite_sum", "linear"];
/// Exit-region kinds.
pub const EXIT_KINDS: [&str; 4] = ["none", "ball", "box", "slab"];
/// Solver kinds.
pub const SOLVER_KINDS: [&str; 2] = ["euler_maruyama", "milstein"];

/// Half-width of the box of Newton starts around the saddle used to find the default basins.
pub const BASIN_SEARCH_HALF_WIDTH: f64 = 3.0;
/// Upper bound on the number of grid starts used to find the default basins.
pub const BASIN_SEARCH_MAX_STARTS: usize = 2000;
/// A `saddle.point` must satisfy ‖∇f‖ ≤ this to be accepted as a critical point.
pub const SADDLE_POINT_TOL: f64 = 1e-6;
/// Duplicate critical points closer than this are merged.
pub const MERGE_RADIUS: f64 = 1e-4;

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
    /// Every effective value: defaults filled, overrides applied, the saddle, start and basins resolved.
    pub config: Config,
    /// Landscape and noise.
    pub model: Model,
    /// The chosen saddle, classified.
    pub saddle: CriticalPoint,
    /// Solver.
    pub solver: SolverSpec,
    /// One entry per dynamics.
    pub entries: Vec<Entry>,
    /// Their descriptions.
    pub meta: Vec<DynamicsMeta>,
    /// Start, regions, attractors.
    pub plan: Plan,
    /// Attractor labels and centres.
    pub basin_labels: Vec<(String, Vec<f64>)>,
}

fn finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Turns a library error into a model-file error located in `src`.
pub fn locate_error(src: &Source, e: Error) -> Error {
    match e {
        Error::Invalid { key, value, fix } => src.error(Some(&key), &format!("invalid value {value}"), &fix),
        Error::Dimension { key, expected, found } => src.error(
            Some(&key),
            &format!("has {found} entries, expected {expected}"),
            &format!("give {expected} entries (the dimension of the landscape)"),
        ),
        Error::Formula { .. } => src.error(Some("landscape.formula"), &e.to_string(), "correct the formula"),
        Error::Unsupported { what, fix } => src.error(Some("solver.kind"), &format!("unsupported: {what}"), &fix),
        Error::NoConvergence(m) => src.error(
            Some("saddle.guess"),
            &format!("Newton's method did not converge: {m}"),
            "give saddle.guess closer to the saddle, or saddle.point",
        ),
        other => other,
    }
}

/// Builds the landscape of a `[landscape]` section.
pub fn build_landscape(src: &Source, c: &Config) -> Result<Arc<dyn Landscape>> {
    let l = &c.landscape;
    let lift = |e| locate_error(src, e);
    let given = [
        ("hessian", l.hessian.is_some(), &["quadratic"][..]),
        ("center", l.center.is_some(), &["quadratic"][..]),
        ("formula", l.formula.is_some(), &["expression"][..]),
        ("variables", l.variables.is_some(), &["expression"][..]),
        ("samples", l.samples.is_some(), &["toy_network"][..]),
        ("teacher", l.teacher.is_some(), &["toy_network"][..]),
        ("seed", l.seed.is_some(), &["toy_network"][..]),
        ("a", l.a.is_some(), &["double_well"][..]),
    ];
    if LANDSCAPE_KINDS.contains(&l.kind.as_str())
        && let Some((key, _, kinds)) = given
            .iter()
            .find(|(_, set, kinds)| *set && !kinds.contains(&l.kind.as_str()))
    {
        return Err(src.error(
            Some(&format!("landscape.{key}")),
            &format!("is not used by kind = \"{}\" (only by {})", l.kind, kinds.join(", ")),
            "remove it, or change landscape.kind",
        ));
    }
    let l: Arc<dyn Landscape> = match l.kind.as_str() {
        "quadratic" => {
            let h = l
                .hessian
                .clone()
                .unwrap_or_else(|| vec![vec![1.0, 0.0], vec![0.0, -0.5]]);
            if let Some(c) = &l.center
                && c.len() != h.len()
            {
                return Err(src.error(
                    Some("landscape.center"),
                    &format!("has {} entries but the Hessian is {}×{}", c.len(), h.len(), h.len()),
                    "give one centre coordinate per row of the Hessian",
                ));
            }
            Arc::new(Quadratic::new(&h, l.center.as_deref()).map_err(lift)?)
        }
        "beale" => Arc::new(Beale),
        "monkey_saddle" => Arc::new(MonkeySaddle),
        "double_well" => Arc::new(DoubleWell::new(l.a.unwrap_or(1.0)).map_err(lift)?),
        "toy_network" => Arc::new(
            ToyNetwork::new(l.samples.unwrap_or(64), l.teacher.unwrap_or(1.0), l.seed.unwrap_or(0)).map_err(lift)?,
        ),
        "expression" => {
            let Some(f) = &l.formula else {
                return Err(src.error(
                    Some("landscape.formula"),
                    "missing: kind = \"expression\" needs a formula",
                    "add e.g. formula = \"0.5*x^2 - 0.25*y^2\" and variables = [\"x\", \"y\"]",
                ));
            };
            let vars = l.variables.clone().unwrap_or_else(|| vec!["x".into(), "y".into()]);
            Arc::new(Expression::new(f, &vars).map_err(lift)?)
        }
        other => return Err(bad_kind(src, "landscape.kind", other, &LANDSCAPE_KINDS)),
    };
    Ok(l)
}

fn bad_kind(src: &Source, key: &str, value: &str, valid: &[&str]) -> Error {
    let near = nearest(value, valid.iter().copied());
    src.error(
        Some(key),
        &format!("unknown kind \"{value}\""),
        &format!(
            "{}one of: {}",
            near.map(|n| format!("did you mean \"{n}\"? ")).unwrap_or_default(),
            valid.join(" | ")
        ),
    )
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

fn build_noise(src: &Source, c: &Config, arc: &Arc<dyn Landscape>) -> Result<Noise> {
    let l = arc.as_ref();
    let n = &c.noise;
    let lift = |e| locate_error(src, e);
    let b = n.batch_size;
    if !(b.is_finite() && b >= 1.0) {
        return Err(src.error(
            Some("noise.batch_size"),
            &format!("invalid value {b}"),
            "the batch size B must be ≥ 1",
        ));
    }
    match n.kind.as_str() {
        "isotropic" => Noise::isotropic(n.sigma, b).map_err(lift),
        "hessian" => Noise::hessian(n.scale, b, n.delta).map_err(lift),
        "finite_sum" => {
            let Some(fs) = arc.clone().finite_sum() else {
                return Err(src.error(
                    Some("noise.kind"),
                    &format!(
                        "finite_sum noise needs a finite-sum landscape, and `{}` is not one",
                        l.name()
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
            Noise::finite_sum(b as usize, n.replacement, fs).map_err(lift)
        }
        "linear" => {
            let d = l.dim();
            let cov = n.covariance.clone().unwrap_or_else(|| {
                (0..d)
                    .map(|i| (0..d).map(|j| if i == j { n.sigma * n.sigma } else { 0.0 }).collect())
                    .collect()
            });
            Noise::linear(&cov, b, d).map_err(lift)
        }
        other => Err(bad_kind(src, "noise.kind", other, &NOISE_KINDS)),
    }
}

fn choose_saddle(src: &Source, c: &Config, l: &dyn Landscape) -> Result<CriticalPoint> {
    let d = l.dim();
    let s = &c.saddle;
    if s.point.is_some() && s.guess.is_some() {
        return Err(src.error(
            Some("saddle.guess"),
            "both saddle.point and saddle.guess are given",
            "keep one of them",
        ));
    }
    let x = if let Some(p) = &s.point {
        check_vec(src, "saddle.point", p, d)?;
        let mut g = vec![0.0; d];
        l.gradient(p, &mut g);
        let gn = crate::linalg::norm(&g);
        if gn > SADDLE_POINT_TOL {
            return Err(src.error(
                Some("saddle.point"),
                &format!("{p:?} is not a critical point (‖∇f‖ = {gn:.3e})"),
                "use saddle.guess to let Newton's method find the nearby critical point",
            ));
        }
        p.clone()
    } else {
        let guess = match &s.guess {
            Some(g) => {
                check_vec(src, "saddle.guess", g, d)?;
                g.clone()
            }
            None => l
                .known_points()
                .into_iter()
                .find(|(name, _)| name.contains("saddle"))
                .map(|(_, x)| x)
                .or_else(|| c.landscape.center.clone().filter(|c| c.len() == d))
                .unwrap_or_else(|| vec![0.0; d]),
        };
        newton(l, &guess, critical::DEFAULT_TOL, critical::DEFAULT_MAX_ITER).map_err(|e| match e {
            Error::NoConvergence(m) => src.error(
                Some("saddle.guess"),
                &format!("Newton's method from {guess:?} did not converge: {m}"),
                "give saddle.guess closer to a saddle, or saddle.point",
            ),
            e => locate_error(src, e),
        })?
    };
    classify(l, &x).map_err(|e| locate_error(src, e))
}

fn default_basins(l: &dyn Landscape, saddle: &[f64]) -> Vec<(String, Vec<f64>)> {
    let d = l.dim();
    let mut per_axis = 1usize;
    while (per_axis + 1)
        .checked_pow(d as u32)
        .is_some_and(|n| n <= BASIN_SEARCH_MAX_STARTS)
        && per_axis < 41
    {
        per_axis += 1;
    }
    let lo: Vec<f64> = saddle.iter().map(|s| s - BASIN_SEARCH_HALF_WIDTH).collect();
    let hi: Vec<f64> = saddle.iter().map(|s| s + BASIN_SEARCH_HALF_WIDTH).collect();
    let mut starts = grid_starts(&lo, &hi, per_axis).unwrap_or_default();
    let known = l.known_points();
    starts.extend(known.iter().map(|(_, x)| x.clone()));
    let found = find_all(
        l,
        &starts,
        critical::DEFAULT_TOL,
        critical::DEFAULT_MAX_ITER,
        MERGE_RADIUS,
    )
    .unwrap_or_default();
    let mut pts: Vec<Vec<f64>> = found
        .into_iter()
        .filter(|p| p.kind == CriticalKind::Minimum)
        .map(|p| p.x)
        .collect();
    for (name, x) in &known {
        let near = pts
            .iter()
            .any(|p| p.iter().zip(x).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt() < MERGE_RADIUS);
        if name.contains("minimum") && !near {
            pts.push(x.clone());
        }
    }
    pts.into_iter()
        .enumerate()
        .map(|(i, x)| (format!("minimum_{}", i + 1), x))
        .collect()
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
        let landscape = build_landscape(src, &c)?;
        let l = landscape.as_ref();
        let d = l.dim();
        let noise = build_noise(src, &c, &landscape)?;
        let model = Model::new(landscape.clone(), noise).map_err(|e| locate_error(src, e))?;
        // Solver.
        let solver_kind = match c.solver.kind.as_str() {
            "euler_maruyama" => SolverKind::EulerMaruyama,
            "milstein" => SolverKind::Milstein,
            other => return Err(bad_kind(src, "solver.kind", other, &SOLVER_KINDS)),
        };
        let (dt, t_end) = (c.solver.dt, c.solver.t_end);
        if !(dt.is_finite() && dt > 0.0) {
            return Err(err(
                "solver.dt",
                format!("invalid value {dt}"),
                "the step dt must be a finite number > 0, e.g. 1e-3",
            ));
        }
        if !(t_end.is_finite() && t_end > 0.0) {
            return Err(err(
                "solver.t_end",
                format!("invalid value {t_end}"),
                "the horizon must be a finite number > 0",
            ));
        }
        if dt > t_end {
            return Err(err(
                "solver.dt",
                format!("dt = {dt} exceeds t_end = {t_end}"),
                "choose dt ≤ t_end",
            ));
        }
        let solver = SolverSpec {
            kind: solver_kind,
            dt,
            allow_dropping_areas: c.solver.allow_dropping_areas,
        };
        // Ensemble and output.
        let e = &c.ensemble;
        if e.paths == 0 {
            return Err(err(
                "ensemble.paths",
                "invalid value 0".into(),
                "run at least 1 path, e.g. paths = 1000",
            ));
        }
        if !(e.spread.is_finite() && e.spread >= 0.0) {
            return Err(err(
                "ensemble.spread",
                format!("invalid value {}", e.spread),
                "must be a finite number ≥ 0",
            ));
        }
        if !(e.blowup.is_finite() && e.blowup > 0.0) {
            return Err(err(
                "ensemble.blowup",
                format!("invalid value {}", e.blowup),
                "must be a finite number > 0",
            ));
        }
        if c.output.snapshots < 2 {
            return Err(err(
                "output.snapshots",
                format!("invalid value {}", c.output.snapshots),
                "need at least 2 snapshots (t = 0 and t_end)",
            ));
        }
        // Saddle and start.
        let saddle = choose_saddle(src, &c, l)?;
        let start = match (&e.x0, &e.start) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "ensemble.start",
                    "both ensemble.x0 and ensemble.start are given".into(),
                    "keep one of them",
                ));
            }
            (Some(x0), None) => {
                check_vec(src, "ensemble.x0", x0, d)?;
                if e.offset.is_some() {
                    return Err(err(
                        "ensemble.offset",
                        "offset is only used with start = \"saddle\"".into(),
                        "remove it, or replace x0 by start = \"saddle\"",
                    ));
                }
                x0.clone()
            }
            (None, s) => {
                if let Some(s) = s
                    && s != "saddle"
                {
                    return Err(err(
                        "ensemble.start",
                        format!("unknown start \"{s}\""),
                        "use start = \"saddle\" (with an optional offset), or x0 = [...]",
                    ));
                }
                let off = e.offset.clone().unwrap_or_else(|| vec![0.0; d]);
                check_vec(src, "ensemble.offset", &off, d)?;
                saddle.x.iter().zip(&off).map(|(a, b)| a + b).collect()
            }
        };
        // Exit region.
        let x = &c.exit;
        let center = saddle.x.clone();
        let lift = |e| locate_error(src, e);
        let region = match x.kind.as_str() {
            "none" => None,
            "ball" => Some(Region::ball(center, x.radius).map_err(lift)?),
            "box" => {
                let hw = x.half_widths.clone().unwrap_or_else(|| vec![x.radius; d]);
                Some(Region::boxed(center, hw).map_err(lift)?)
            }
            "slab" => {
                let n = x.normal.clone().unwrap_or_else(|| saddle.eigenvectors[0].clone());
                Some(Region::slab(center, n, x.half_width.unwrap_or(x.radius)).map_err(lift)?)
            }
            other => return Err(bad_kind(src, "exit.kind", other, &EXIT_KINDS)),
        };
        if let Some(r) = &region
            && !r.inside(&start)
        {
            return Err(err(
                "ensemble.x0",
                format!("the start {start:?} is outside the exit region"),
                "start inside the region, or enlarge exit.radius",
            ));
        }
        // Basins.
        let b = &c.basins;
        if !(b.radius.is_finite() && b.radius > 0.0) {
            return Err(err(
                "basins.radius",
                format!("invalid value {}", b.radius),
                "must be a finite number > 0, e.g. 0.1",
            ));
        }
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
        // Dynamics.
        if c.dynamics.is_empty() {
            return Err(err(
                "dynamics",
                "no [[dynamics]] entries".into(),
                "add at least one, e.g. [[dynamics]] kind = \"sgd\"",
            ));
        }
        for dy in c.dynamics.iter_mut() {
            if dy.label.is_empty() {
                dy.label = dy.kind.to_uppercase();
            }
        }
        let mut entries = Vec::new();
        let mut meta: Vec<DynamicsMeta> = Vec::new();
        for (i, dy) in c.dynamics.iter().enumerate() {
            let prefix = format!("dynamics.{}", dy.label);
            if c.dynamics[..i].iter().any(|o| o.label == dy.label) {
                return Err(err(
                    &format!("{prefix}.label"),
                    format!("duplicate label \"{}\"", dy.label),
                    "give every [[dynamics]] entry a distinct label",
                ));
            }
            if dy.label.contains(['.', '=', ' ', '\t']) {
                return Err(err(
                    &format!("{prefix}.label"),
                    format!("label \"{}\" contains '.', '=' or a space", dy.label),
                    "use letters, digits, '_' or '-' (labels address entries in --set dynamics.LABEL.key=…)",
                ));
            }
            let names = DynamicsKind::ALL.map(|k| k.name());
            let Some(k) = names.iter().position(|k| *k == dy.kind) else {
                return Err(bad_kind(src, &format!("{prefix}.kind"), &dy.kind, &names));
            };
            let kind = DynamicsKind::ALL[k];
            let spec = DynamicsSpec {
                kind,
                lr: dy.lr,
                rho: dy.rho,
                momentum: dy.momentum,
                epsilon: dy.epsilon,
            };
            let built = build(&spec, &model, &solver, &saddle.x, &prefix).map_err(|e| match e {
                Error::Unsupported { what, fix } => {
                    src.error(Some("solver.kind"), &format!("unsupported: {what}"), &fix)
                }
                e => locate_error(src, e),
            })?;
            let schedule = Schedule::new(built.dt, t_end, c.output.snapshots);
            meta.push(DynamicsMeta {
                label: dy.label.clone(),
                spec,
                structure: built.structure,
                strong_order: built.strong_order,
                dt: built.dt,
                notes: built.notes,
            });
            entries.push(Entry {
                label: dy.label.clone(),
                stepper: built.stepper,
                schedule,
            });
        }
        let plan = Plan {
            start: start.clone(),
            spread: e.spread,
            saddle: saddle.x.clone(),
            region,
            bridge: c.exit.bridge,
            stop_on_exit: c.exit.stop,
            basins: basin_labels.iter().map(|(_, x)| x.clone()).collect(),
            basin_radius: b.radius,
            stop_on_basin: b.stop,
            blowup: e.blowup,
        };
        // Resolved values, so that config.resolved.toml reproduces the run on its own.
        c.ensemble.x0 = Some(start);
        c.ensemble.start = None;
        c.ensemble.offset = None;
        c.saddle = crate::config::SaddleConfig {
            point: Some(saddle.x.clone()),
            guess: None,
        };
        c.basins.points = Some(plan.basins.clone());
        if c.landscape.kind == "quadratic" && c.landscape.hessian.is_none() {
            c.landscape.hessian = Some(vec![vec![1.0, 0.0], vec![0.0, -0.5]]);
        }
        Ok(Experiment {
            file: src.file.clone(),
            config: c,
            model,
            saddle,
            solver,
            entries,
            meta,
            plan,
            basin_labels,
        })
    }

    /// The resolved configuration as TOML (`config.resolved.toml`).
    pub fn resolved_toml(&self) -> Result<String> {
        let body = toml::to_string(&self.config).map_err(|e| Error::Output(e.to_string()))?;
        Ok(format!(
            "# Every effective value of this run (defaults filled, overrides applied); `samsde run` accepts it as is.\n{body}"
        ))
    }

    /// Runs the ensemble on a local pool of `threads` workers (0: all cores) and builds the report.
    pub fn run(&self, threads: usize, progress: bool) -> Result<Report> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::Output(format!("cannot start the thread pool: {e}")))?;
        let c = &self.config;
        let ens = Ensemble {
            paths: c.ensemble.paths,
            seed: c.ensemble.seed,
            sample_paths: c.output.sample_paths,
            progress,
        };
        let t0 = std::time::Instant::now();
        let stats = pool.install(|| ensemble::run(&ens, &self.entries, &self.plan, c.solver.t_end));
        let wall = t0.elapsed().as_secs_f64();
        Ok(self.report(&stats, pool.current_num_threads(), wall))
    }

    /// Turns run statistics into a report.
    pub fn report(&self, stats: &RunStats, threads: usize, wall_seconds: f64) -> Report {
        let c = &self.config;
        let l = self.model.landscape().as_ref();
        let theories = crate::theory_report::theory(self);
        let mut dynamics = Vec::new();
        let (mut moments, mut survival, mut basins, mut paths) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let traces: Vec<f64> = stats
            .dynamics
            .iter()
            .map(|s| s.moments.last().map_or(f64::NAN, |m| m.estimate().trace))
            .collect();
        for (i, (st, m)) in stats.dynamics.iter().zip(&self.meta).enumerate() {
            let last = st.moments.last().map(|m| m.estimate());
            let t = st.times.last().copied().unwrap_or(c.solver.t_end);
            let (final_moments, width) = match &last {
                Some(e) => (
                    FinalMoments {
                        t,
                        n: e.n,
                        mean: e.mean.clone(),
                        cov: e.cov.clone(),
                        mean_stderr: e.mean_stderr.clone(),
                    },
                    Width {
                        trace: e.trace,
                        trace_stderr: e.trace_stderr,
                        eigenvalues: e.eigenvalues.clone(),
                        msd: e.msd,
                        msd_stderr: e.msd_stderr,
                    },
                ),
                None => (
                    FinalMoments {
                        t,
                        n: 0,
                        mean: vec![],
                        cov: vec![],
                        mean_stderr: vec![],
                    },
                    Width {
                        trace: f64::NAN,
                        trace_stderr: f64::NAN,
                        eigenvalues: vec![],
                        msd: f64::NAN,
                        msd_stderr: f64::NAN,
                    },
                ),
            };
            let exit = st.exit.as_ref().map(|x| {
                let e = x.estimate();
                for (t, s, at_risk) in x.survival() {
                    survival.push(SurvivalRow {
                        label: m.label.clone(),
                        t,
                        survival: s,
                        at_risk,
                    });
                }
                ExitSummary {
                    estimate: e,
                    correction: if self.plan.bridge { "brownian_bridge" } else { "none" }.into(),
                }
            });
            let be = st.basins.estimate(&self.basin_labels);
            basins.extend(be.iter().map(|b| BasinRow {
                label: m.label.clone(),
                class: b.label.clone(),
                count: b.count,
                probability: b.probability,
                ci_lo: b.ci95[0],
                ci_hi: b.ci95[1],
            }));
            let paired = (i > 0).then(|| {
                let p = &stats.paired[i - 1];
                let md = p.msd_difference.last().cloned().unwrap_or_default();
                let has_exit = self.plan.region.is_some();
                PairedSummary {
                    reference: self.meta[0].label.clone(),
                    msd_difference: md.mean,
                    msd_difference_stderr: md.stderr(),
                    exit_difference: has_exit.then_some(p.exit_difference.mean),
                    exit_difference_stderr: has_exit.then(|| p.exit_difference.stderr()),
                    width_ratio: traces[i] / traces[0],
                }
            });
            for (j, mm) in st.moments.iter().enumerate() {
                let e = mm.estimate();
                let reference =
                    (i > 0).then(|| (&stats.dynamics[0].moments[j], &stats.paired[i - 1].msd_difference[j]));
                let tj = st.times[j];
                let th = crate::theory_report::theory_at(self, i, tj);
                moments.push(MomentRow {
                    label: m.label.clone(),
                    t: tj,
                    n: e.n,
                    mean: e.mean,
                    cov: e.cov.concat(),
                    trace: e.trace,
                    trace_stderr: e.trace_stderr,
                    eigenvalues: e.eigenvalues,
                    msd: e.msd,
                    msd_stderr: e.msd_stderr,
                    theory_trace: th.as_ref().and_then(|t| t.trace),
                    theory_msd: th.as_ref().and_then(|t| t.msd),
                    width_ratio: reference
                        .map(|(r, _)| e.trace / r.estimate().trace)
                        .filter(|v| v.is_finite()),
                    msd_difference: reference.map(|(_, d)| d.mean),
                    msd_difference_stderr: reference.map(|(_, d)| d.stderr()).filter(|v| v.is_finite()),
                });
            }
            dynamics.push(DynamicsSummary {
                label: m.label.clone(),
                kind: m.spec.kind.name().into(),
                lr: m.spec.lr,
                rho: m.spec.effective_rho(),
                momentum: m.spec.momentum,
                dt: m.dt,
                solver: if m.spec.kind.is_discrete() {
                    "discrete".into()
                } else {
                    c.solver.kind.clone()
                },
                strong_order: m.strong_order,
                structure: m.structure.map(|s| {
                    serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                }),
                notes: m.notes.clone(),
                final_moments,
                width,
                exit,
                basins: be,
                diverged: st.diverged,
                paired,
                theory: theories.get(i).cloned().flatten(),
            });
        }
        let mut samples: Vec<_> = stats.samples.iter().collect();
        samples.sort_by_key(|s| (s.dynamics, s.path));
        for s in samples {
            let label = &self.meta[s.dynamics].label;
            let times = &stats.dynamics[s.dynamics].times;
            for (j, p) in s.points.iter().enumerate() {
                if let Some(x) = p {
                    paths.push(PathRow {
                        label: label.clone(),
                        path: s.path,
                        t: times[j],
                        x: x.clone(),
                    });
                }
            }
        }
        Report {
            summary: Summary {
                samsde_version: env!("CARGO_PKG_VERSION").into(),
                model: c.name.clone(),
                seed: c.ensemble.seed,
                paths: c.ensemble.paths,
                threads,
                wall_seconds,
                landscape: l.name().into(),
                variables: l.variable_names(),
                noise: self.model.noise().describe(),
                saddle: self.saddle.x.clone(),
                saddle_eigenvalues: self.saddle.eigenvalues.clone(),
                t_end: c.solver.t_end,
                exit_region: self.plan.region.clone(),
                dynamics,
            },
            moments,
            survival,
            basins,
            paths,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped model file parses and validates (no simulation).
    #[test]
    fn shipped_models_validate() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).expect("models/ exists") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "toml") {
                let src = Source::read(&p).unwrap_or_else(|e| panic!("{e}"));
                let exp = Experiment::load(&src).unwrap_or_else(|e| panic!("{e}"));
                let text = std::fs::read_to_string(&p).expect("readable");
                assert!(text.starts_with('#'), "{} must start with a comment", p.display());
                // The resolved configuration is itself a valid model file.
                let again = Source::parse("resolved", &exp.resolved_toml().expect("toml")).expect("parses");
                Experiment::load(&again).unwrap_or_else(|e| panic!("{}: resolved: {e}", p.display()));
                n += 1;
            }
        }
        assert!(n >= 11, "found {n} model files");
    }
}
