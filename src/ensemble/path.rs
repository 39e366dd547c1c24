//! The per-step loop of one path. It records what the observers need (positions at snapshot times, the
//! exit time, the first basin reached, divergence) into a reusable [`PathObserver`] and allocates nothing.

use super::region::Region;
use crate::brownian::{self, bridge_rng, path_rng};
use crate::stepper::{Scratch, Stepper};

/// What is shared by all paths of one dynamics in a run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Initial position (before spread).
    pub start: Vec<f64>,
    /// Standard deviation of the isotropic Gaussian perturbation of the start (0: none).
    pub spread: f64,
    /// The saddle d (centre of the MSD).
    pub saddle: Vec<f64>,
    /// Exit region, if exit times are measured.
    pub region: Option<Region>,
    /// Apply the Brownian-bridge crossing correction to exits.
    pub bridge: bool,
    /// Stop a path at its exit.
    pub stop_on_exit: bool,
    /// Centres of the attractors (minima).
    pub basins: Vec<Vec<f64>>,
    /// Radius of each attractor's ball.
    pub basin_radius: f64,
    /// Stop a path when it reaches an attractor.
    pub stop_on_basin: bool,
    /// A path whose state has a non-finite entry or one larger than this in absolute value has diverged.
    pub blowup: f64,
}

/// Step count and snapshot steps of one stepper.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Time per step.
    pub dt: f64,
    /// Number of steps to `t_end`.
    pub steps: usize,
    /// Step index of each snapshot (non-decreasing).
    pub snapshot_steps: Vec<usize>,
}

impl Schedule {
    /// Steps of size `dt` up to `t_end` (rounded to the nearest whole step) and `snapshots` equally spaced
    /// snapshot times from 0 to `t_end`, each at the nearest step.
    pub fn new(dt: f64, t_end: f64, snapshots: usize) -> Self {
        let steps = (t_end / dt).round().max(1.0) as usize;
        let snapshot_steps = (0..snapshots)
            .map(|j| {
                if snapshots == 1 {
                    steps
                } else {
                    ((j as f64 * steps as f64) / (snapshots - 1) as f64).round() as usize
                }
            })
            .collect();
        Schedule {
            dt,
            steps,
            snapshot_steps,
        }
    }
}

/// One path to run.
#[derive(Debug, Clone, Copy)]
pub struct PathJob<'a> {
    /// Path index i (the generator is derived from (seed, i)).
    pub index: u64,
    /// Master seed.
    pub seed: u64,
    /// Shared plan.
    pub plan: &'a Plan,
    /// This stepper's schedule.
    pub schedule: &'a Schedule,
}

/// What one path produced; reused from path to path.
#[derive(Debug, Clone)]
pub struct PathObserver {
    /// Position at each snapshot (row-major, snapshots × d); only rows with `alive` set are meaningful.
    pub snaps: Vec<f64>,
    /// Whether the path was running (not stopped or diverged) at each snapshot.
    pub alive: Vec<bool>,
    /// First exit time from the region, if it happened by `t_end`.
    pub exit_time: Option<f64>,
    /// First attractor reached and when.
    pub basin: Option<(usize, f64)>,
    /// Time of divergence.
    pub diverged_at: Option<f64>,
    /// Position when the path ended.
    pub final_pos: Vec<f64>,
    /// Whether the path was stopped early (exit or basin).
    pub stopped: bool,
    state: Vec<f64>,
    prev: Vec<f64>,
    dir: Vec<f64>,
    scratch: Scratch,
}

impl PathObserver {
    /// Buffers for `stepper` and `snapshots` snapshot times.
    pub fn new<S: Stepper + ?Sized>(stepper: &S, snapshots: usize) -> Self {
        let (n, d) = (stepper.dim(), stepper.position_dim());
        PathObserver {
            snaps: vec![0.0; snapshots * d],
            alive: vec![false; snapshots],
            exit_time: None,
            basin: None,
            diverged_at: None,
            final_pos: vec![0.0; d],
            stopped: false,
            state: vec![0.0; n],
            prev: vec![0.0; d],
            dir: vec![0.0; d],
            scratch: stepper.scratch(),
        }
    }
}

/// Runs one path of `stepper` (see [`Stepper::run_path`]).
pub fn simulate<S: Stepper + ?Sized>(stepper: &S, job: &PathJob, obs: &mut PathObserver) {
    let plan = job.plan;
    let sched = job.schedule;
    let d = stepper.position_dim();
    let dt = sched.dt;
    let mut rng = path_rng(job.seed, job.index);
    let mut brng = bridge_rng(job.seed, job.index);

    obs.state.fill(0.0);
    obs.state[..d].copy_from_slice(&plan.start);
    if plan.spread > 0.0 {
        brownian::fill_normals(&mut rng, &mut obs.dir);
        for i in 0..d {
            obs.state[i] += plan.spread * obs.dir[i];
        }
    }
    obs.alive.fill(false);
    obs.exit_time = None;
    obs.basin = None;
    obs.diverged_at = None;
    obs.stopped = false;

    let mut next_snap = 0;
    let record = |obs: &mut PathObserver, next_snap: &mut usize, k: usize| {
        while *next_snap < sched.snapshot_steps.len() && sched.snapshot_steps[*next_snap] == k {
            let j = *next_snap;
            obs.snaps[j * d..(j + 1) * d].copy_from_slice(&obs.state[..d]);
            obs.alive[j] = true;
            *next_snap += 1;
        }
    };
    record(obs, &mut next_snap, 0);
    if let Some(r) = &plan.region
        && !r.inside(&obs.state[..d])
    {
        obs.exit_time = Some(0.0);
    }
    let r2 = plan.basin_radius * plan.basin_radius;
    let check_region = plan.region.is_some();

    for k in 0..sched.steps {
        if check_region && obs.exit_time.is_none() {
            obs.prev.copy_from_slice(&obs.state[..d]);
        }
        stepper.step(&mut obs.state, &mut rng, &mut obs.scratch);
        let t = (k + 1) as f64 * dt;
        if !obs.state.iter().all(|v| v.abs() <= plan.blowup) {
            // also catches NaN, since NaN <= x is false
            obs.diverged_at = Some(t);
            break;
        }
        if let (Some(region), None) = (&plan.region, obs.exit_time) {
            let pos = &obs.state[..d];
            if !region.inside(pos) {
                obs.exit_time = Some(
                    if plan.bridge && stepper.bridge_variance(&obs.dir, &obs.scratch).is_some() {
                        t - 0.5 * dt
                    } else {
                        t
                    },
                );
            } else if plan.bridge {
                let (scratch, dir, prev) = (&obs.scratch, &mut obs.dir, &obs.prev);
                let p = region.crossing_probability(prev, pos, dt, dir, |u| {
                    stepper.bridge_variance(u, scratch).unwrap_or(0.0)
                });
                if p > 0.0 && brownian::uniform(&mut brng) < p {
                    obs.exit_time = Some(t - 0.5 * dt);
                }
            }
            if obs.exit_time.is_some() && plan.stop_on_exit {
                obs.stopped = true;
            }
        }
        if obs.basin.is_none() {
            let pos = &obs.state[..d];
            for (b, c) in plan.basins.iter().enumerate() {
                let dist2: f64 = pos.iter().zip(c).map(|(a, c)| (a - c) * (a - c)).sum();
                if dist2 < r2 {
                    obs.basin = Some((b, t));
                    if plan.stop_on_basin {
                        obs.stopped = true;
                    }
                    break;
                }
            }
        }
        record(obs, &mut next_snap, k + 1);
        if obs.stopped {
            break;
        }
    }
    obs.final_pos.copy_from_slice(&obs.state[..d]);
}
