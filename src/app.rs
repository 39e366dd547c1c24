//! One handler per command of the command line ([`crate::cli`]): each reads its inputs, runs the library and
//! prints where the results are. Output folders are written through [`crate::report::output`].

use crate::cli::{Cli, Command, Common};
use crate::error::{Error, Result};
use crate::model::critical::{self, find_all, grid_starts};
use crate::model::{CriticalPoint, Landscape};
use crate::plot::Format;
use crate::progress::duration;
use crate::report::output::{self, Kind, Staging};
use crate::report::{self, Report, Theory};
use crate::setup::resources::LONG_PATH_STEPS;
use crate::setup::schema::LandscapeConfig;
use crate::setup::{Experiment, Resources, Source};
use crate::shard::{self, Merged, ShardId};
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
        Some(Command::Plot { dir, format }) => plot(&dir, format),
        Some(Command::Paper {
            out,
            quick,
            threads,
            format,
        }) => paper(out, quick, threads, format),
        Some(Command::Merge {
            dirs,
            out,
            force,
            format,
        }) => merge(&dirs, &out, force, format),
        Some(Command::Submit {
            model,
            shards,
            out,
            sbatch,
            wait,
            dry_run,
            paths,
            seed,
            set,
            vary,
            force,
        }) => submit(&Submit {
            common: Common {
                model,
                out,
                paths,
                seed,
                threads: 0,
                set,
                force,
                shard: None,
                format: Format::Png,
            },
            shards,
            sbatch,
            vary,
            wait,
            dry_run,
        }),
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
    let t0 = std::time::Instant::now();
    let src = Source::parse("<embedded default model>", DEFAULT_MODEL)?;
    let exp = Experiment::load(&src)?;
    let dir = PathBuf::from("output").join(&exp.name);
    // The default job replaces its own earlier output (only a folder samsde wrote; see `report::output`).
    let figs = run_into(&exp, &dir, 0, true, Format::Png)?;
    print_done(&dir, &figs, t0);
    Ok(())
}

fn run_model(c: &Common) -> Result<()> {
    let t0 = std::time::Instant::now();
    let src = source(c)?;
    let exp = Experiment::load(&src)?;
    if let Some(id) = c.shard {
        let dir = c.out.clone().unwrap_or_else(|| shard_dir(&exp.name, id));
        let meta = shard::write_run(&src, &exp, id, &dir, c.threads, c.force)?;
        println!(
            "shard {id}: blocks {}..{} of {} ({} paths each): {}",
            meta.span.start,
            meta.span.end,
            meta.span.total,
            crate::ensemble::BLOCK,
            dir.display()
        );
        println!("  merge all {} shard folders with: samsde merge DIR… --out OUT", id.n);
        return Ok(());
    }
    let dir = c.out.clone().unwrap_or_else(|| PathBuf::from("output").join(&exp.name));
    let figs = run_into(&exp, &dir, c.threads, c.force, c.format)?;
    print_done(&dir, &figs, t0);
    Ok(())
}

/// The default folder of shard `id`: output/<name>/shards/<K> (the layout of `samsde submit`).
fn shard_dir(name: &str, id: ShardId) -> PathBuf {
    PathBuf::from("output").join(name).join("shards").join(id.k.to_string())
}

fn print_done(dir: &Path, figs: &[PathBuf], t0: std::time::Instant) {
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
    println!("wall time: {}", duration(t0.elapsed().as_secs_f64()));
}

/// The worker threads a pool of `threads` gets (0: rayon's default, all cores).
fn pool_threads(threads: usize) -> usize {
    if threads > 0 {
        threads
    } else {
        rayon::current_num_threads()
    }
}

/// Refuses (exit status 2) a run that would not fit in memory; announces one that will take long.
fn check_cost(r: &Resources, total_path_steps: f64, what: &str) -> Result<()> {
    r.check_memory()?;
    if total_path_steps >= LONG_PATH_STEPS {
        eprintln!(
            "samsde: {what}: {total_path_steps:.1e} path-steps ({}); this takes a while{}",
            r.describe(),
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                " (the bar shows the remaining time)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Runs `exp` and writes its output folder `dir` (results, resolved configuration, figures); returns the
/// figures rendered. The folder is checked and its temporary folder created before the run starts
/// ([`Staging::prepare`]); an existing folder is replaced only with `replace` and only if samsde wrote it.
fn run_into(exp: &Experiment, dir: &Path, threads: usize, replace: bool, format: Format) -> Result<Vec<PathBuf>> {
    let cost = exp.resources(pool_threads(threads));
    check_cost(&cost, cost.path_steps, "this run")?;
    let staging = Staging::prepare(dir, Kind::Run, replace)?;
    let report = report::run(exp, threads, true)?;
    print_run_warnings(&report);
    let figs = write_run_files(exp, &report, staging.path(), format)?;
    // Figures were rendered in the temporary folder: report their final paths.
    let figs = figs.iter().map(|f| staging.final_path(f)).collect();
    staging.commit()?;
    Ok(figs)
}

/// Prints the report's warnings (after `run` and `merge`), including those of every dynamics whose gradient
/// signal-to-noise ratio is outside its model's regime (`report::snr_warning`, in `summary.warnings`).
fn print_run_warnings(report: &Report) {
    report::print_warnings(report, "");
}

/// Writes a run's results, resolved configuration and figures (in `format`) into `tmp`; returns the figures.
fn write_run_files(exp: &Experiment, report: &Report, tmp: &Path, format: Format) -> Result<Vec<PathBuf>> {
    report.write_dir(tmp)?;
    output::write_file(&tmp.join("config.resolved.toml"), &exp.resolved_toml()?)?;
    crate::plot::render_all_as(report, Some(exp.model.landscape().as_ref()), tmp, format)
}

/// Whether `dir` lies inside `out` (both existing; compared canonically).
fn inside(dir: &Path, out: &Path) -> bool {
    match (dir.canonicalize(), out.canonicalize()) {
        (Ok(d), Ok(o)) => d.starts_with(&o) && d != o,
        _ => false,
    }
}

/// `samsde merge DIR… --out OUT`: the shards' checks and merge first (nothing is written on an error), then
/// the output folder as `run` / `sweep` writes it. An OUT that holds the shard folders (the layout of `samsde
/// submit`) keeps its subfolders and receives the result files.
fn merge(dirs: &[PathBuf], out: &Path, force: bool, format: Format) -> Result<()> {
    let t0 = std::time::Instant::now();
    if let Ok(o) = out.canonicalize()
        && dirs.iter().any(|d| d.canonicalize().is_ok_and(|d| d == o))
    {
        return Err(Error::Usage(format!(
            "--out {}: is one of the shard folders; merge into another folder, e.g. their parent",
            out.display()
        )));
    }
    let in_place = dirs.iter().any(|d| inside(d, out));
    let merged = shard::merge(dirs)?;
    if let Merged::Run { report, .. } = &merged {
        print_run_warnings(report);
    }
    let kind = match &merged {
        Merged::Run { .. } => Kind::Run,
        Merged::Sweep { .. } => Kind::Sweep,
    };
    let mut figs = Vec::new();
    {
        let mut fill = |tmp: &Path| -> Result<()> {
            figs = match &merged {
                Merged::Run { exp, report } => write_run_files(exp, report, tmp, format)?,
                Merged::Sweep { table } => write_sweep_files(table, tmp, format)?,
            };
            Ok(())
        };
        if in_place {
            output::container::write_into(out, kind, force, &mut fill)?;
        } else {
            let staging = Staging::prepare(out, kind, force)?;
            fill(staging.path())?;
            staging.commit()?;
        }
    }
    // Figures were rendered in a temporary folder: report their final paths.
    let figs: Vec<PathBuf> = figs.iter().filter_map(|f| f.file_name()).map(|n| out.join(n)).collect();
    match &merged {
        Merged::Run { report, .. } => {
            let n = report.summary.sharding.as_ref().map_or(0, |s| s.shards);
            println!("merged {n} shards of {} paths", report.summary.paths);
            print_done(out, &figs, t0);
        }
        Merged::Sweep { table } => {
            let n = table.sharding.as_ref().map_or(0, |s| s.shards);
            println!(
                "merged {n} shards of a sweep of {} points: {}",
                table.points.len(),
                out.display()
            );
            print_sweep_files(&figs);
            println!("wall time: {}", duration(t0.elapsed().as_secs_f64()));
        }
    }
    Ok(())
}

/// `samsde submit`: its arguments.
struct Submit {
    common: Common,
    shards: u64,
    sbatch: Vec<String>,
    vary: Vec<String>,
    wait: bool,
    dry_run: bool,
}

/// An absolute form of `p` (canonical where it exists).
fn absolute(p: &Path) -> Result<PathBuf> {
    p.canonicalize()
        .or_else(|_| std::path::absolute(p))
        .map_err(Error::io(p))
}

/// `samsde submit`: validates the model (or sweep) and the sbatch options before anything is written, then
/// writes the batch scripts, submits the shard array and the merge job, and with `--wait` follows them.
fn submit(s: &Submit) -> Result<()> {
    let c = &s.common;
    crate::slurm::check_sbatch_args(&s.sbatch)?;
    let base = source(c)?;
    let mut args = Vec::new();
    if let Some(p) = c.paths {
        args.extend(["--paths".into(), p.to_string()]);
    }
    if let Some(v) = c.seed {
        args.extend(["--seed".into(), v.to_string()]);
    }
    for v in &c.set {
        args.extend(["--set".into(), v.clone()]);
    }
    let (subcommand, default_out, units, unit) = if s.vary.is_empty() {
        let exp = Experiment::load(&base)?;
        exp.check_shardable()?;
        (
            "run",
            PathBuf::from("output").join(&exp.name),
            exp.blocks(),
            format!("blocks of {} paths", crate::ensemble::BLOCK),
        )
    } else {
        let axes = s.vary.iter().map(|v| Axis::parse(v)).collect::<Result<Vec<_>>>()?;
        for v in &s.vary {
            args.extend(["--vary".into(), v.clone()]);
        }
        let sw = Sweep::new(&base, axes)?;
        let out = PathBuf::from("output").join(format!("{}_sweep", sw.name()));
        ("sweep", out, sw.points() as u64, "grid points".into())
    };
    if s.shards > units {
        return Err(Error::Usage(format!(
            "--shards {}: this {subcommand} has only {units} {unit}; use at most {units} shards",
            s.shards
        )));
    }
    let out = c.out.clone().unwrap_or(default_out);
    let exe = std::env::current_exe().map_err(|e| Error::Usage(format!("cannot locate the samsde binary: {e}")))?;
    let job = crate::slurm::Job {
        exe: absolute(&exe)?,
        subcommand,
        model: absolute(&c.model)?,
        args,
        out: absolute(&out)?,
        submit_dir: absolute(Path::new("."))?,
        shards: s.shards,
        sbatch: s.sbatch.clone(),
    };
    for (what, p) in [
        ("the samsde binary", &job.exe),
        ("the model file", &job.model),
        ("--out", &job.out),
        ("the working directory", &job.submit_dir),
    ] {
        crate::slurm::check_path(what, p)?;
    }
    if s.dry_run {
        println!("{}", job.dry_run());
        return Ok(());
    }
    if crate::slurm::jobs::find_on_path("sbatch").is_none() {
        return Err(Error::Usage(
            "sbatch not found on PATH: run samsde submit where Slurm's commands are (a login node), \
             or pass --dry-run to see the batch scripts"
                .into(),
        ));
    }
    if c.force {
        // An earlier submission's folder: what its jobs added (shards, logs) is samsde's too.
        output::container::adopt_layout(&job.out)?;
    }
    let staging = Staging::prepare(&job.out, Kind::Submit, c.force)?;
    job.write_scripts(staging.path())?;
    staging.commit()?;
    let jobs = crate::slurm::submit(&job)?;
    output::record(&job.out, &[job.slurm_dir().join("jobs.json")])?;
    println!(
        "shards: job {} (array 0-{}), merge: job {}",
        jobs.array_job,
        s.shards - 1,
        jobs.merge_job
    );
    println!("  scripts and logs: {}", job.slurm_dir().display());
    println!("  results (once the merge job ran): {}", job.out.display());
    if !s.wait {
        println!("  follow with: squeue -j {},{}", jobs.array_job, jobs.merge_job);
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let marker = if subcommand == "run" {
        "summary.json"
    } else {
        "sweep.json"
    };
    crate::slurm::wait(&job, &jobs, marker)?;
    println!(
        "merged into {} after {:.1} s",
        job.out.join(marker).display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

fn sweep(c: &Common, axes: Vec<Axis>) -> Result<()> {
    let t0 = std::time::Instant::now();
    let base = source(c)?;
    // Every point is validated before anything is run or written.
    let sw = Sweep::new(&base, axes)?;
    let dir = c
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_sweep", sw.name())));
    if let Some(id) = c.shard {
        let dir = c
            .out
            .clone()
            .unwrap_or_else(|| shard_dir(&format!("{}_sweep", sw.name()), id));
        let meta = shard::write_sweep(&base, &sw, id, &dir, c.threads, c.force)?;
        println!(
            "shard {id}: grid points {}..{} of {}: {}",
            meta.span.start,
            meta.span.end,
            meta.span.total,
            dir.display()
        );
        println!("  merge all {} shard folders with: samsde merge DIR… --out OUT", id.n);
        return Ok(());
    }
    if let Some((worst, total)) = sw.resources(pool_threads(c.threads)) {
        check_cost(&worst, total, &format!("this sweep of {} points", sw.points()))?;
    }
    let staging = Staging::prepare(&dir, Kind::Sweep, c.force)?;
    let table = sw.run(c.threads, true)?;
    let figs = write_sweep_files(&table, staging.path(), c.format)?;
    let figs: Vec<PathBuf> = figs.iter().map(|f| staging.final_path(f)).collect();
    staging.commit()?;
    println!("sweep of {} points: {}", sw.points(), dir.display());
    print_sweep_files(&figs);
    println!("wall time: {}", duration(t0.elapsed().as_secs_f64()));
    Ok(())
}

/// Writes a sweep's table and figures (in `format`) into `tmp`; returns the figures.
fn write_sweep_files(table: &SweepTable, tmp: &Path, format: Format) -> Result<Vec<PathBuf>> {
    table.write_dir(tmp)?;
    crate::plot::sweep::render_all_as(table, tmp, format)
}

fn print_sweep_files(figs: &[PathBuf]) {
    println!("  sweep.csv, sweep.json");
    for f in figs {
        println!("  {}", f.display());
    }
}

/// The landscape of a model file's `[landscape]` section alone.
fn landscape_of(src: &Source) -> Result<Arc<dyn Landscape>> {
    let cfg: LandscapeConfig = src.section("landscape")?;
    crate::setup::model::landscape(src, &cfg)
}

fn plot(dir: &Path, format: Format) -> Result<()> {
    let figs = if dir.join("sweep.json").exists() {
        let table = SweepTable::read_dir(dir)?;
        crate::plot::sweep::render_all_as(&table, dir, format)?
    } else {
        let report = Report::read_dir(dir)?;
        // The contour plot needs the landscape; a folder without a readable configuration plots without it.
        let landscape = Source::read(&dir.join("config.resolved.toml"))
            .and_then(|src| landscape_of(&src))
            .ok();
        crate::plot::render_all_as(&report, landscape.as_deref(), dir, format)?
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

fn paper(out: PathBuf, quick: bool, threads: usize, format: Format) -> Result<()> {
    let t0 = std::time::Instant::now();
    // Like the default job, `paper` replaces its own earlier output, never a folder with anyone else's files.
    let staging = Staging::prepare(&out, Kind::Paper, true)?;
    let opt = crate::paper::Options {
        out: staging.path().to_path_buf(),
        quick,
        threads,
        format,
    };
    let done = crate::paper::run(&opt)?;
    let report = staging.final_path(&done.report);
    let figures: Vec<PathBuf> = done.figures.iter().map(|f| staging.final_path(f)).collect();
    staging.commit()?;
    let rows: Vec<&crate::paper::Row> = done.sections.iter().flat_map(|s| &s.rows).collect();
    println!(
        "{}/{} checks agree with the paper",
        rows.iter().filter(|r| r.agree).count(),
        rows.len(),
    );
    println!("report: {}", report.display());
    println!("figures:");
    for f in &figures {
        println!("  {}", f.display());
    }
    println!("wall time: {}", duration(t0.elapsed().as_secs_f64()));
    Ok(())
}
