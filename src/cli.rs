//! The command line: `samsde run | sweep | saddles | theory | plot` (clap derive). `main.rs` only maps the
//! result to an exit status: 0 success, 2 a bad model file or usage, 1 a runtime I/O failure.

use crate::config::Source;
use crate::error::{Error, Result};
use crate::experiment::{Experiment, build_landscape};
use crate::model::critical::{self, find_all, grid_starts};
use crate::model::landscape::Landscape;
use crate::report::Report;
use crate::sweep::{Axis, Sweep, SweepTable};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The embedded default job (`models/default.toml`), run by `samsde` without arguments.
pub const DEFAULT_MODEL: &str = include_str!("../models/default.toml");

/// Simulate SGD / USAM / SAM stochastic differential equations near saddle points.
#[derive(Debug, Parser)]
#[command(
    name = "samsde",
    version,
    after_help = "Examples:
  samsde                                   run the embedded default job into output/default/
  samsde run models/quadratic_sgd_sam_usam.toml --paths 2000 --threads 2
  samsde run models/w1.toml --set dynamics.USAM.rho=0.1 --set solver.dt=1e-3 --force
  samsde sweep models/quadratic_sgd_sam_usam.toml --vary dynamics.SAM.rho=0:0.5:11
  samsde saddles models/beale_e1.toml --range -4:4 --grid 41
  samsde theory models/w1.toml
  samsde plot output/default
  samsde paper --quick"
)]
pub struct Cli {
    /// What to do (default: run the embedded default job).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options shared by `run` and `sweep`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The model file (TOML).
    pub model: PathBuf,
    /// Output folder (default: output/<name>/, or output/<name>_sweep/ for sweeps).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override ensemble.paths.
    #[arg(long)]
    pub paths: Option<u64>,
    /// Override ensemble.seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (0: all cores). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Override any key by its dotted path, e.g. dynamics.SAM.rho=0.1, solver.dt=1e-3 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace an existing output folder.
    #[arg(long)]
    pub force: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a model file and write summary.json, CSV files and figures.
    #[command(after_help = "Examples:
  samsde run models/quadratic_sgd_sam_usam.toml
  samsde run models/w1.toml --paths 1000 --seed 7 --threads 2 --out /tmp/w1 --force
  samsde run models/beale_e1.toml --set dynamics.SAM_0.5.rho=0.4 --set solver.t_end=0.5")]
    Run(Common),
    /// Run a model over a grid of parameter values (same seed at every point) and tabulate the results.
    #[command(after_help = "Examples:
  samsde sweep models/quadratic_sgd_sam_usam.toml --vary dynamics.SAM.rho=0:0.5:11
  samsde sweep models/batch_size_study.toml --vary noise.batch_size=1,2,4,8 --vary dynamics.SAM.rho=0.01,0.1

--vary KEY=START:STOP:COUNT is a linear grid, KEY=A,B,C a list; several --vary form the cartesian product.
Writes sweep.csv, sweep.json and the sweep figures into output/<name>_sweep/: with one --vary,
sweep_msd.png, sweep_exit_time.png, sweep_trapped.png, sweep_escape.png (those that apply); with two,
phase_<label>.png per dynamics (trapping probability, with the O3 / O12 boundary where it applies).")]
    Sweep {
        /// Model file and shared options.
        #[command(flatten)]
        common: Common,
        /// KEY=START:STOP:COUNT or KEY=V1,V2,… (repeatable).
        #[arg(long = "vary", value_name = "KEY=GRID", required = true)]
        vary: Vec<String>,
    },
    /// Find and classify the critical points of a model's landscape from a grid of Newton starts.
    #[command(after_help = "Examples:
  samsde saddles models/beale_e1.toml
  samsde saddles models/double_well_basins.toml --range -2:2 --grid 21 --json")]
    Saddles {
        /// The model file.
        model: PathBuf,
        /// Box of starts, the same on every axis: LO:HI.
        #[arg(long, default_value = "-4:4", allow_hyphen_values = true)]
        range: String,
        /// Starts per axis.
        #[arg(long, default_value_t = 41)]
        grid: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the closed-form predictions for the chosen saddle without simulating (JSON).
    #[command(after_help = "Example:
  samsde theory models/w1.toml")]
    Theory {
        /// The model file.
        model: PathBuf,
        /// Override keys as in `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Reproduce the SAM-saddle study: run the embedded `models/paper/*.toml`, write figures and REPORT.md.
    #[command(after_help = "Examples:
  samsde paper --quick                      under a minute on 2 cores, into output/paper/
  samsde paper --out /tmp/paper             full run (a few minutes)

Writes <out>/REPORT.md (one row per claim: paper value, samsde value, criterion, agree yes/no),
<out>/figures/*.png and <out>/models/*.toml. Files in an existing folder are overwritten.")]
    Paper {
        /// Output folder.
        #[arg(long, default_value = "output/paper")]
        out: PathBuf,
        /// Fewer paths and coarser grids (under a minute on 2 cores).
        #[arg(long)]
        quick: bool,
        /// Worker threads (0: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Re-render the figures of an output folder (a run, or a sweep with sweep.json) from its saved data.
    #[command(after_help = "Example:
  samsde plot output/default")]
    Plot {
        /// The output folder of a run or a sweep.
        dir: PathBuf,
    },
}

/// Parses the arguments and runs the command.
pub fn main<I, T>(args: I) -> Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    match cli.command {
        None => run_default(),
        Some(Command::Run(c)) => run(&c),
        Some(Command::Sweep { common, vary }) => sweep(&common, &vary),
        Some(Command::Saddles {
            model,
            range,
            grid,
            json,
        }) => saddles(&model, &range, grid, json),
        Some(Command::Theory { model, set }) => theory(&model, &set),
        Some(Command::Plot { dir }) => plot(&dir),
        Some(Command::Paper { out, quick, threads }) => paper(out, quick, threads),
    }
}

fn source(c: &Common) -> Result<Source> {
    let mut src = Source::read(&c.model)?;
    if let Some(p) = c.paths {
        src.set(&format!("ensemble.paths={p}"))?;
    }
    if let Some(s) = c.seed {
        src.set(&format!("ensemble.seed={s}"))?;
    }
    for s in &c.set {
        src.set(s)?;
    }
    Ok(src)
}

fn run_default() -> Result<()> {
    let src = Source::parse("<embedded default model>", DEFAULT_MODEL)?;
    let exp = Experiment::load(&src)?;
    let dir = PathBuf::from("output").join(&exp.config.name);
    let figs = run_into(&exp, &dir, 0, true)?;
    print_done(&dir, &figs);
    Ok(())
}

fn print_done(dir: &Path, figs: &[PathBuf]) {
    println!("results: {}", dir.display());
    println!("  summary.json, moments.csv, exit_times.csv, basins.csv, paths.csv, config.resolved.toml");
    if figs.is_empty() {
        println!("figures: none apply to this run");
    } else {
        println!("figures:");
        for f in figs {
            println!("  {}", f.display());
        }
    }
}

fn run(c: &Common) -> Result<()> {
    let src = source(c)?;
    let exp = Experiment::load(&src)?;
    let dir = c
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&exp.config.name));
    check_out(&dir, c.force)?;
    let figs = run_into(&exp, &dir, c.threads, c.force)?;
    print_done(&dir, &figs);
    Ok(())
}

/// Fails (usage error) if `dir` exists and `force` is not set.
fn check_out(dir: &Path, force: bool) -> Result<()> {
    if dir.exists() && !force {
        return Err(Error::Usage(format!(
            "output folder {} already exists; pass --force to replace it, or --out DIR",
            dir.display()
        )));
    }
    Ok(())
}

/// Writes into a temporary sibling of `dir` with `fill`, then renames it into place (replacing `dir`).
fn write_atomically(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let io = |p: &Path| {
        let p = p.display().to_string();
        move |source| Error::Io { path: p, source }
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::rename(&tmp, dir).map_err(io(dir))
}

/// Runs `exp` and writes its output folder `dir`; returns the figures rendered.
fn run_into(exp: &Experiment, dir: &Path, threads: usize, force: bool) -> Result<Vec<PathBuf>> {
    check_out(dir, force)?;
    let resolved = exp.resolved_toml()?;
    let report = exp.run(threads, true)?;
    let mut figs = Vec::new();
    write_atomically(dir, |tmp| {
        report.write_dir(tmp)?;
        let p = tmp.join("config.resolved.toml");
        std::fs::write(&p, &resolved).map_err(|source| Error::Io {
            path: p.display().to_string(),
            source,
        })?;
        figs = render_figures(&report, Some(exp.model.landscape().as_ref()), tmp)?;
        Ok(())
    })?;
    // Figures were rendered in the temporary folder: report their final paths.
    Ok(figs
        .into_iter()
        .filter_map(|f| f.file_name().map(|n| dir.join(n)))
        .collect())
}

/// The one call site of the figure module, shared by `run` and `plot`.
pub fn render_figures(report: &Report, landscape: Option<&dyn Landscape>, dir: &Path) -> Result<Vec<PathBuf>> {
    crate::plot::render_all(report, landscape, dir)
}

fn paper(out: PathBuf, quick: bool, threads: usize) -> Result<()> {
    let t0 = std::time::Instant::now();
    let opt = crate::paper::Options { out, quick, threads };
    let done = crate::paper::run(&opt)?;
    let rows: Vec<&crate::paper::Row> = done.sections.iter().flat_map(|s| &s.rows).collect();
    println!(
        "{}/{} checks agree with the paper ({:.1} s)",
        rows.iter().filter(|r| r.agree).count(),
        rows.len(),
        t0.elapsed().as_secs_f64()
    );
    println!("report: {}", done.report.display());
    println!("figures:");
    for f in &done.figures {
        println!("  {}", f.display());
    }
    Ok(())
}

fn plot(dir: &Path) -> Result<()> {
    if dir.join("sweep.json").exists() {
        let table = SweepTable::read_dir(dir)?;
        let figs = crate::sweep::render_figures(&table, dir)?;
        if figs.is_empty() {
            println!("no figures apply to this sweep");
        }
        for f in figs {
            println!("{}", f.display());
        }
        return Ok(());
    }
    let report = Report::read_dir(dir)?;
    let cfg = dir.join("config.resolved.toml");
    let landscape = match Source::read(&cfg) {
        Ok(src) => src.config().ok().and_then(|c| build_landscape(&src, &c).ok()),
        Err(_) => None,
    };
    let figs = render_figures(&report, landscape.as_deref(), dir)?;
    if figs.is_empty() {
        println!("no figures apply to this run");
    }
    for f in figs {
        println!("{}", f.display());
    }
    Ok(())
}

fn theory(model: &Path, set: &[String]) -> Result<()> {
    let mut src = Source::read(model)?;
    for s in set {
        src.set(s)?;
    }
    let exp = Experiment::load(&src)?;
    let th = crate::theory_report::theory(&exp);
    #[derive(Serialize)]
    struct Entry<'a> {
        label: &'a str,
        kind: &'a str,
        theory: Option<crate::report::Theory>,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        model: &'a str,
        saddle: &'a crate::model::CriticalPoint,
        t_end: f64,
        dynamics: Vec<Entry<'a>>,
    }
    let out = Out {
        model: &exp.config.name,
        saddle: &exp.saddle,
        t_end: exp.config.solver.t_end,
        dynamics: exp
            .meta
            .iter()
            .zip(th)
            .map(|(m, t)| Entry {
                label: &m.label,
                kind: m.spec.kind.name(),
                theory: t,
            })
            .collect(),
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&out).map_err(|e| Error::Output(e.to_string()))?
    );
    Ok(())
}

fn saddles(model: &Path, range: &str, grid: usize, json: bool) -> Result<()> {
    let src = Source::read(model)?;
    let cfg = src.config()?;
    let l = build_landscape(&src, &cfg)?;
    let bad = || Error::Usage(format!("--range {range}: expected LO:HI with LO < HI, e.g. -4:4"));
    let (lo, hi) = range.split_once(':').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad());
    }
    if grid == 0 {
        return Err(Error::Usage("--grid must be ≥ 1".into()));
    }
    let d = l.dim();
    let mut starts = grid_starts(&vec![lo; d], &vec![hi; d], grid).map_err(|e| Error::Usage(format!("--grid: {e}")))?;
    starts.extend(l.known_points().into_iter().map(|(_, x)| x));
    let found = find_all(
        l.as_ref(),
        &starts,
        critical::DEFAULT_TOL,
        critical::DEFAULT_MAX_ITER,
        1e-4,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&found).map_err(|e| Error::Output(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{} critical points of `{}` (Newton from {} starts in [{lo}, {hi}]^{d})",
        found.len(),
        l.name(),
        starts.len()
    );
    println!("{:<18} {:>5}  {:<28} {:>12}  eigenvalues", "kind", "index", "x", "f");
    for p in &found {
        let index = p.eigenvalues.iter().filter(|v| **v < 0.0).count();
        let x = p.x.iter().map(|v| format!("{v:.6}")).collect::<Vec<_>>().join(", ");
        let e = p
            .eigenvalues
            .iter()
            .map(|v| format!("{v:.6}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "{:<18} {:>5}  {:<28} {:>12.6}  [{e}]",
            p.kind.label(),
            index,
            format!("({x})"),
            p.value
        );
    }
    Ok(())
}

fn sweep(c: &Common, vary: &[String]) -> Result<()> {
    let base = source(c)?;
    let axes = vary.iter().map(|v| Axis::parse(v)).collect::<Result<Vec<_>>>()?;
    // Every point is validated before anything is run or written.
    let sw = Sweep::new(&base, axes)?;
    let dir = c
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_sweep", sw.name())));
    check_out(&dir, c.force)?;
    let table = sw.run(c.threads)?;
    let mut figs = Vec::new();
    write_atomically(&dir, |tmp| {
        figs = table.write_dir(tmp)?;
        Ok(())
    })?;
    println!("sweep of {} points: {}", sw.points(), dir.display());
    println!("  sweep.csv, sweep.json");
    for f in figs.iter().filter_map(|f| f.file_name()) {
        println!("  {}", dir.join(f).display());
    }
    Ok(())
}
