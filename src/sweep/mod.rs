//! Parameter sweeps: a grid of parameter values ([`grid`]) → one run per point, same seed ([`Sweep`]) → a
//! table ([`table`]: `sweep.csv`, `sweep.json`). The sweep figures are drawn from the table by
//! `plot::sweep`, so `samsde plot` re-renders them from `sweep.json` alone.

pub mod grid;
pub mod table;

pub use grid::{Axis, value_text};
pub use table::{SeriesPoint, SweepDynamics, SweepNoise, SweepPoint, SweepTable};

use crate::error::Result;
use crate::progress::Progress;
use crate::report::{self, Report};
use crate::setup::{Experiment, Resources, Source};

/// A validated sweep: the cartesian product of the axes (last axis fastest), one experiment per point.
pub struct Sweep {
    axes: Vec<Axis>,
    grid: Vec<Vec<usize>>,
    exps: Vec<Experiment>,
}

impl Sweep {
    /// Builds and validates every grid point of `base` with the axes applied (nothing is run).
    /// The axes are checked first ([`grid::check`]: no key twice, at most [`grid::MAX_POINTS`] points).
    pub fn new(base: &Source, axes: Vec<Axis>) -> Result<Sweep> {
        grid::check(&axes)?;
        let grid = grid::product(&axes);
        let mut exps = Vec::with_capacity(grid.len());
        for idx in &grid {
            let mut src = base.clone();
            for (a, &i) in axes.iter().zip(idx) {
                for key in &a.keys {
                    src.set(&format!("{key}={}", a.values[i]))?;
                }
            }
            exps.push(Experiment::load(&src)?);
        }
        Ok(Sweep { axes, grid, exps })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        self.exps.first().map(|e| e.name.as_str()).unwrap_or_default()
    }

    /// The axes, in `--vary` order.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.grid.len()
    }

    /// The experiment of every grid point, in grid order.
    pub fn experiments(&self) -> &[Experiment] {
        &self.exps
    }

    /// Runs every point on `threads` workers (0: all cores) and returns its report, in grid order; with
    /// `progress`, one bar over the whole sweep on stderr (a terminal only) naming the point being run and
    /// its parameters, with the ETA of the sweep.
    pub fn run_reports(&self, threads: usize, progress: bool) -> Result<Vec<Report>> {
        let n = self.exps.len();
        let total = self.exps.iter().map(|e| e.paths).sum();
        let bar = if progress {
            Progress::stderr(total, "paths")
        } else {
            Progress::hidden(total, "paths")
        };
        let reports = self
            .exps
            .iter()
            .enumerate()
            .map(|(p, exp)| {
                bar.set_message(&format!("point {}/{n}: {}", p + 1, self.describe(p)));
                let obs = exp.run_ticking(threads, 0..exp.blocks(), &bar)?;
                let r = report::summarise(exp, &obs);
                if bar.is_drawn() {
                    // Above the bar, which stays below.
                    for w in &r.summary.warnings {
                        bar.println(&format!("warning: sweep point {}/{n}: {w}", p + 1));
                    }
                } else {
                    report::print_warnings(&r, &format!("sweep point {}/{n}: ", p + 1));
                }
                Ok(r)
            })
            .collect::<Result<Vec<Report>>>()?;
        bar.finish();
        Ok(reports)
    }

    /// The parameters of grid point `p`: `key=value` per axis.
    pub fn describe(&self, p: usize) -> String {
        self.axes
            .iter()
            .zip(&self.grid[p])
            .map(|(a, &i)| format!("{}={}", a.name(), value_text(&a.values[i])))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The cost of the sweep's most expensive point and the total path-steps of all points, on `threads`
    /// workers.
    pub fn resources(&self, threads: usize) -> Option<(Resources, f64)> {
        let all: Vec<Resources> = self.exps.iter().map(|e| e.resources(threads)).collect();
        let total = all.iter().map(|r| r.path_steps).sum();
        let worst = all.into_iter().max_by(|a, b| a.bytes.total_cmp(&b.bytes))?;
        Some((worst, total))
    }

    /// Runs every point and tabulates it.
    pub fn run(&self, threads: usize, progress: bool) -> Result<SweepTable> {
        let reports = self.run_reports(threads, progress)?;
        Ok(self.table(&reports))
    }

    /// The table of the reports of every point (as [`Sweep::run_reports`] returns them).
    pub fn table(&self, reports: &[Report]) -> SweepTable {
        let points = self
            .grid
            .iter()
            .zip(&self.exps)
            .zip(reports)
            .enumerate()
            .map(|(p, ((idx, exp), r))| {
                let n = &exp.resolved().noise;
                SweepPoint {
                    point: p,
                    values: self
                        .axes
                        .iter()
                        .zip(idx)
                        .map(|(a, &i)| (a.name(), value_text(&a.values[i])))
                        .collect(),
                    dynamics: r.summary.dynamics.iter().map(SweepDynamics::from_summary).collect(),
                    noise: Some(SweepNoise {
                        kind: n.kind.name().to_string(),
                        sigma: n.sigma,
                        batch_size: n.batch_size,
                    }),
                }
            })
            .collect();
        let first = self.exps.first();
        let r0 = reports.first();
        SweepTable {
            model: self.name().to_string(),
            seed: first.map(|e| e.seed),
            paths: first.map(|e| e.paths),
            vary: self
                .axes
                .iter()
                .map(|a| (a.name(), a.values.iter().map(value_text).collect()))
                .collect(),
            axes: self.axes.iter().map(Axis::name).collect(),
            saddle_eigenvalues: r0.map(|r| r.summary.saddle_eigenvalues.clone()).unwrap_or_default(),
            t_end: r0.map(|r| r.summary.t_end),
            points,
            sharding: None,
        }
    }
}
