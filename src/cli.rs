//! The command line: `samsde [run | sweep | merge | submit | saddles | theory | plot | paper]` (clap derive), with typed value
//! parsers, so that a command handler (the `app` module) receives checked values. Nothing here runs anything.

use crate::plot::Format;
use crate::shard::ShardId;
use crate::sweep::Axis;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
  samsde paper --quick
  samsde run models/w1.toml --shard 0/4 --out out/w1/shards/0
  samsde merge out/w1/shards/0 out/w1/shards/1 out/w1/shards/2 out/w1/shards/3 --out out/w1
  samsde submit models/w1.toml --shards 8 --out out/w1 --sbatch --time=30 --wait"
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
    /// Override ensemble.seed (0 to 18446744073709551615).
    #[arg(long, allow_hyphen_values = true, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (0: all cores; at most 8 per core). Results do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = threads)]
    pub threads: usize,
    /// Override any key by its dotted path, e.g. dynamics.SAM.rho=0.1, solver.dt=1e-3 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Replace an existing output folder, if samsde wrote it (never one holding other files).
    #[arg(long)]
    pub force: bool,
    /// Run only shard K of N (0 ≤ K < N) and write a shard folder for `samsde merge` (default --out:
    /// output/<name>/shards/K). A run is split by blocks of paths, a sweep by grid points.
    #[arg(long, value_name = "K/N", value_parser = shard_id)]
    pub shard: Option<ShardId>,
    /// Image format of the figures: png (1200×800 raster) or svg (vector, text as text).
    #[arg(long, value_name = "png|svg", default_value = "png", value_parser = image_format)]
    pub format: Format,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a model file and write summary.json, CSV files and figures.
    #[command(after_help = "Examples:
  samsde run models/quadratic_sgd_sam_usam.toml
  samsde run models/w1.toml --paths 1000 --seed 7 --threads 2 --out /tmp/w1 --force
  samsde run models/beale_e1.toml --set dynamics.SAM_r05.rho=0.4 --set solver.t_end=0.5
  samsde run models/w1.toml --format svg          figures as SVG instead of PNG")]
    Run(Common),
    /// Run a model over a grid of parameter values (same seed at every point) and tabulate the results.
    #[command(after_help = "Examples:
  samsde sweep models/quadratic_sgd_sam_usam.toml --vary dynamics.SAM.rho=0:0.5:11
  samsde sweep models/batch_size_study.toml --vary noise.batch_size=1,2,4,8 --vary dynamics.SAM.rho=0.01,0.1

--vary KEY=START:STOP:COUNT is a linear grid, KEY=A,B,C a list (KEY1+KEY2=… sets both keys to each value);
several --vary form the cartesian product.
Writes sweep.csv, sweep.json and the sweep figures into output/<name>_sweep/: with one --vary,
sweep_msd.png, sweep_exit_time.png, sweep_trapped.png, sweep_escape.png (those that apply); with two,
phase_<label>.png per dynamics (trapping probability, with the O3 / O12 boundary where it applies).")]
    Sweep {
        /// Model file and shared options.
        #[command(flatten)]
        common: Common,
        /// KEY=START:STOP:COUNT or KEY=V1,V2,… (repeatable).
        #[arg(long = "vary", value_name = "KEY=GRID", required = true, value_parser = axis)]
        vary: Vec<Axis>,
    },
    /// Merge the shard folders of a run or sweep (`--shard K/N`) into its output folder, equal to the run in
    /// one piece.
    #[command(after_help = "Examples:
  samsde merge out/w1/shards/0 out/w1/shards/1 out/w1/shards/2 --out out/w1
  samsde merge out/w1/shards/* --out out/w1-merged --force

Checks that the folders are the N shards of one run (same samsde version, model hash, seed, paths, N; every
K exactly once) and writes what `samsde run` writes: summary.json (with a `sharding` entry), the CSV files,
config.resolved.toml and the figures (for a sweep: sweep.csv, sweep.json and its figures). --out may be the
folder that holds the shards (the layout of `samsde submit`); its subfolders are kept. A missing, duplicated
or foreign shard is an error naming it (exit status 2).")]
    Merge {
        /// The shard folders (each written by `samsde run/sweep --shard K/N`).
        #[arg(required = true, value_name = "SHARD_DIR")]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Replace existing results in the output folder.
        #[arg(long)]
        force: bool,
        /// Image format of the figures: png or svg.
        #[arg(long, value_name = "png|svg", default_value = "png", value_parser = image_format)]
        format: Format,
    },
    /// Run a model (or, with --vary, a sweep) on a Slurm cluster: a job array of N shards and a merge job.
    #[command(after_help = "Examples:
  samsde submit models/w1.toml --shards 8 --out /scratch/w1
  samsde submit models/w1.toml --shards 8 --sbatch --partition=short --sbatch --time=30 --wait
  samsde submit models/quadratic_sgd_sam_usam.toml --shards 4 --vary dynamics.SAM.rho=0:0.5:12 --dry-run

Writes OUT/slurm/shards.sbatch (array task K runs `samsde run MODEL --shard K/N --out OUT/shards/K`, or
`samsde sweep` with the same --vary) and OUT/slurm/merge.sbatch (`samsde merge OUT/shards/0 … --out OUT`),
submits the array, then the merge job with --dependency=afterok:<array>, prints both job ids and records
them in OUT/slurm/jobs.json. Logs: OUT/slurm/logs/. Each --sbatch ARG is passed to both sbatch calls
(e.g. --sbatch --partition=short, --sbatch --cpus-per-task=4: the shards then use 4 threads). With --wait,
returns once the merge job ended: 0 when OUT holds the merged results, else 1 with the failed shards and
their logs. --dry-run prints the scripts and sbatch commands and writes nothing.")]
    Submit {
        /// The model file (TOML).
        model: PathBuf,
        /// Number of shards N (array tasks 0..N-1).
        #[arg(long, value_parser = at_least_one_u64)]
        shards: u64,
        /// Output folder (default: output/<name>/, or output/<name>_sweep/ with --vary).
        #[arg(long)]
        out: Option<PathBuf>,
        /// An option for sbatch, e.g. --sbatch --partition=short (repeatable; one option per --sbatch, with
        /// its value after `=`).
        #[arg(long = "sbatch", value_name = "ARG", allow_hyphen_values = true)]
        sbatch: Vec<String>,
        /// Wait for the merge job and report how it ended.
        #[arg(long)]
        wait: bool,
        /// Print the batch scripts and sbatch commands; submit and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Override ensemble.paths.
        #[arg(long)]
        paths: Option<u64>,
        /// Override ensemble.seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override any key, as in `run` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Run a sweep, as in `sweep` (repeatable): the array tasks share its grid points.
        #[arg(long = "vary", value_name = "KEY=GRID")]
        vary: Vec<String>,
        /// Replace an existing output folder.
        #[arg(long)]
        force: bool,
    },
    /// Find and classify the critical points of a model's landscape from a grid of Newton starts.
    #[command(after_help = "Examples:
  samsde saddles models/beale_e1.toml
  samsde saddles models/double_well_basins.toml --range -2:2 --grid 21 --json")]
    Saddles {
        /// The model file.
        model: PathBuf,
        /// Box of starts, the same on every axis: LO:HI.
        #[arg(long, default_value = "-4:4", allow_hyphen_values = true, value_parser = range)]
        range: (f64, f64),
        /// Starts per axis (≥ 1).
        #[arg(long, default_value_t = 41, value_parser = at_least_one)]
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
  samsde paper --quick --format svg         the figures as SVG

Writes <out>/REPORT.md (one row per claim: paper value, samsde value, criterion, agree yes/no),
<out>/figures/*.png (*.svg with --format svg) and <out>/models/*.toml. An existing folder is replaced only if samsde wrote it
(its .samsde-output.json lists every file in it); a folder with other files is refused.")]
    Paper {
        /// Output folder.
        #[arg(long, default_value = "output/paper")]
        out: PathBuf,
        /// Fewer paths and coarser grids (under a minute on 2 cores).
        #[arg(long)]
        quick: bool,
        /// Worker threads (0: all cores; at most 8 per core).
        #[arg(long, default_value_t = 0, value_parser = threads)]
        threads: usize,
        /// Image format of the figures: png or svg.
        #[arg(long, value_name = "png|svg", default_value = "png", value_parser = image_format)]
        format: Format,
    },
    /// Re-render the figures of an output folder (a run, or a sweep with sweep.json) from its saved data.
    #[command(after_help = "Examples:
  samsde plot output/default
  samsde plot output/default --format svg")]
    Plot {
        /// The output folder of a run or a sweep.
        dir: PathBuf,
        /// Image format of the figures: png or svg (the other format's figures stay).
        #[arg(long, value_name = "png|svg", default_value = "png", value_parser = image_format)]
        format: Format,
    },
}

/// `--format png|svg` (any case).
fn image_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("expected png or svg (got {s})"))
}

/// `--vary KEY=START:STOP:COUNT` or `KEY=A,B,C`.
fn axis(s: &str) -> Result<Axis, String> {
    Axis::parse(s).map_err(|e| e.to_string())
}

/// `--range LO:HI` with finite LO < HI.
fn range(s: &str) -> Result<(f64, f64), String> {
    let bad = || format!("expected LO:HI with LO < HI, e.g. -4:4 (got {s})");
    let (lo, hi) = s.split_once(':').ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        lo.trim().parse().map_err(|_| bad())?,
        hi.trim().parse().map_err(|_| bad())?,
    );
    if lo.is_finite() && hi.is_finite() && lo < hi {
        Ok((lo, hi))
    } else {
        Err(bad())
    }
}

/// `--shard K/N`.
fn shard_id(s: &str) -> Result<ShardId, String> {
    s.parse().map_err(|e: crate::Error| e.to_string())
}

/// A count ≥ 1 (u64).
fn at_least_one_u64(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number ≥ 1 (got {s})")),
    }
}

/// A count ≥ 1.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("expected a whole number ≥ 1 (got {s})")),
    }
}

/// `--seed`: every u64; a negative number gets a plain message.
fn seed(s: &str) -> Result<u64, String> {
    let t = s.trim();
    t.parse::<u64>().map_err(|_| {
        if t.starts_with('-') {
            format!(
                "a seed is a whole number from 0 to {}; negative seeds are not accepted",
                u64::MAX
            )
        } else {
            format!("a seed is a whole number from 0 to {} (got {s})", u64::MAX)
        }
    })
}

/// Worker threads allowed per core: more only adds memory (each thread runs its own blocks) and switching.
pub const THREADS_PER_CORE: usize = 8;

/// `--threads`: 0 (all cores) up to [`THREADS_PER_CORE`] × the cores of this machine.
fn threads(s: &str) -> Result<usize, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = THREADS_PER_CORE * cores;
    match s.trim().parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!(
            "expected 0 (all cores) or a whole number up to {max} ({THREADS_PER_CORE} × the {cores} cores of this \
             machine), got {s}"
        )),
    }
}
