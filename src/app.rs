//! One handler per command of the command line ([`crate::cli`]): each reads its inputs, runs the library and
//! prints where the results are. Output folders are written through [`crate::report::output`].

use crate::cli::{Cli, Command, Common};
use crate::error::{Error, Result};
use crate::model::critical::{self, find_all, grid_starts};
use crate::model::{CriticalPoint, Landscape};
use crate::report::output::{self, Kind, Staging};
use crate::report::{self, Report, Theory};
use crate::setup::schema::LandscapeConfig;
use crate::setup::{Experiment, Source};
use crate::sweep::{Axis, Sweep, SweepTable};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The embedded default job (`models/default.toml`), run by `samsde` without arguments.
pub const DEFAULT_MODEL: &str = include_str!("../models/default.toml");

/// Runs the command `cli` asks for.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => run_default(),
        Some(Command::Run(c)) => run_model(&c),
        Some(Command::Sweep { common, vary }) => sweep(&common, vary),
        Some(Command::Saddles {
            model,
            range,
            grid,
            json,
        }) => saddles(&model, range, grid, json),
        Some(Command::Theory { model, set }) => theory(&model, &set),
        Some(Command::Plot { dir }) => plot(&dir),
        Some(Command::Paper { out, quick, threads }) => paper(out, quick, threads),
    }
}

/// The model file of `c` with its overrides (`--paths`, `--seed`, then every `--set` in order).
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
    let dir = PathBuf::from("output").join(&exp.name);
    // The default job replaces its own earlier output (only a folder samsde wrote; see `report::output`).
    let figs = run_into(&exp, &dir, 0, true)?;
    print_done(&dir, &figs);
    Ok(())
}

fn run_model(c: &Common) -> Result<()> {
    let src = source(c)?;
    let exp = Experiment::load(&src)?;
    let dir = c.out.clone().unwrap_or_else(|| PathBuf::from("output").join(&exp.name));
    let figs = run_into(&exp, &dir, c.threads, c.force)?;
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

/// Runs `exp` and writes its output folder `dir` (results, resolved configuration, figures); returns the
/// figures rendered. The folder is checked and its temporary folder created before the run starts
/// ([`Staging::prepare`]); an existing folder is replaced only with `replace` and only if samsde wrote it.
fn run_into(exp: &Experiment, dir: &Path, threads: usize, replace: bool) -> Result<Vec<PathBuf>> {
    let staging = Staging::prepare(dir, Kind::Run, replace)?;
    let resolved = exp.resolved_toml()?;
    let report = report::run(exp, threads, true)?;
    report::print_warnings(&report, "");
    for d in &report.summary.dynamics {
        if let Some(kind) = crate::setup::DynamicsKind::from_name(&d.kind)
            && let Some(w) = report::snr_warning(&d.label, kind, d.snr_median)
        {
            eprintln!("{w}");
        }
    }
    let tmp = staging.path();
    report.write_dir(tmp)?;
    output::write_file(&tmp.join("config.resolved.toml"), &resolved)?;
    let figs = crate::plot::render_all(&report, Some(exp.model.landscape().as_ref()), tmp)?;
    // Figures were rendered in the temporary folder: report their final paths.
    let figs = figs.iter().map(|f| staging.final_path(f)).collect();
    staging.commit()?;
    Ok(figs)
}

fn sweep(c: &Common, axes: Vec<Axis>) -> Result<()> {
    let base = source(c)?;
    // Every point is validated before anything is run or written.
    let sw = Sweep::new(&base, axes)?;
    let dir = c
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_sweep", sw.name())));
    let staging = Staging::prepare(&dir, Kind::Sweep, c.force)?;
    let table = sw.run(c.threads, true)?;
    table.write_dir(staging.path())?;
    let figs = crate::plot::sweep::render_all(&table, staging.path())?;
    let figs: Vec<PathBuf> = figs.iter().map(|f| staging.final_path(f)).collect();
    staging.commit()?;
    println!("sweep of {} points: {}", sw.points(), dir.display());
    println!("  sweep.csv, sweep.json");
    for f in figs {
        println!("  {}", f.display());
    }
    Ok(())
}

/// The landscape of a model file's `[landscape]` section alone.
fn landscape_of(src: &Source) -> Result<Arc<dyn Landscape>> {
    let cfg: LandscapeConfig = src.section("landscape")?;
    crate::setup::model::landscape(src, &cfg)
}

fn plot(dir: &Path) -> Result<()> {
    let figs = if dir.join("sweep.json").exists() {
        let table = SweepTable::read_dir(dir)?;
        crate::plot::sweep::render_all(&table, dir)?
    } else {
        let report = Report::read_dir(dir)?;
        // The contour plot needs the landscape; a folder without a readable configuration plots without it.
        let landscape = Source::read(&dir.join("config.resolved.toml"))
            .and_then(|src| landscape_of(&src))
            .ok();
        crate::plot::render_all(&report, landscape.as_deref(), dir)?
    };
    // Keep the folder replaceable: its marker lists the figures too.
    output::record(dir, &figs)?;
    if figs.is_empty() {
        println!("no figures apply to this folder");
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
    let th = report::theory::theory(&exp);
    #[derive(Serialize)]
    struct Entry<'a> {
        label: &'a str,
        kind: &'a str,
        theory: Option<Theory>,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        model: &'a str,
        saddle: &'a CriticalPoint,
        t_end: f64,
        dynamics: Vec<Entry<'a>>,
    }
    let out = Out {
        model: &exp.name,
        saddle: &exp.saddle,
        t_end: exp.t_end,
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
    println!("{}", json(&out)?);
    Ok(())
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v).map_err(|e| Error::Output(e.to_string()))
}

fn saddles(model: &Path, (lo, hi): (f64, f64), grid: usize, as_json: bool) -> Result<()> {
    let src = Source::read(model)?;
    let l = landscape_of(&src)?;
    let d = l.dim();
    let mut starts = grid_starts(&vec![lo; d], &vec![hi; d], grid).map_err(|e| Error::Usage(format!("--grid: {e}")))?;
    starts.extend(l.known_points().into_iter().map(|(_, x)| x));
    let found = find_all(
        l.as_ref(),
        &starts,
        critical::DEFAULT_TOL,
        critical::DEFAULT_MAX_ITER,
        critical::MERGE_RADIUS,
    )
    .map_err(|e| Error::Usage(e.to_string()))?;
    if as_json {
        println!("{}", json(&found)?);
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

fn paper(out: PathBuf, quick: bool, threads: usize) -> Result<()> {
    let t0 = std::time::Instant::now();
    // Like the default job, `paper` replaces its own earlier output, never a folder with anyone else's files.
    let staging = Staging::prepare(&out, Kind::Paper, true)?;
    let opt = crate::paper::Options {
        out: staging.path().to_path_buf(),
        quick,
        threads,
    };
    let done = crate::paper::run(&opt)?;
    let report = staging.final_path(&done.report);
    let figures: Vec<PathBuf> = done.figures.iter().map(|f| staging.final_path(f)).collect();
    staging.commit()?;
    let rows: Vec<&crate::paper::Row> = done.sections.iter().flat_map(|s| &s.rows).collect();
    println!(
        "{}/{} checks agree with the paper ({:.1} s)",
        rows.iter().filter(|r| r.agree).count(),
        rows.len(),
        t0.elapsed().as_secs_f64()
    );
    println!("report: {}", report.display());
    println!("figures:");
    for f in &figures {
        println!("  {}", f.display());
    }
    Ok(())
}
