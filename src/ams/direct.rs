//! Plain simulation: the pilot that places the set A, the direct phase of each replica (approach times,
//! failed-loop durations, entrance points, hits of B), and the brute-force reference estimator.
//!
//! # The direct phase (one path)
//!
//! The path starts at `Process::start` (which must lie in A = {ξ < a}) and is classified step by step:
//! - **approach**: from a (re)start to the first entrance into {ξ ≥ c} (c = entry level ≥ a); its duration is
//!   one sample of T₀;
//! - **excursion**: from an entrance until ξ < a (failure: the path is back in A) or ξ ≥ b (a hit: the path is
//!   restarted from `Process::start`);
//! - **in A**: from a failure to the next entrance; the time from the entrance that began the failed
//!   excursion to this next entrance is one failed *loop* L.
//!
//! Only loops and entrance points that follow a return to A are kept (the first entrance after a (re)start
//! has the law of the approach, not the stationary law of the renewal cycles); entrance points go through a
//! reservoir sample of fixed size (uniform over all entrances of the path). The path stops right after
//! completing its quota of cycles (counted failed loops plus hits of B), or at `max_steps`.

use super::seeds::{TAG_DIRECT, TAG_PILOT, TAG_POOL, TAG_REFERENCE, stream_rng};
use super::{AmsError, Coordinate, Process, interval};
use crate::brownian::{self, PathRng};
use rayon::prelude::*;

/// Tallies of one direct-phase path, in steps.
#[derive(Debug, Clone, Default)]
pub(crate) struct DirectTally {
    /// Σ and number of approach durations (restart → first entrance).
    pub approach_steps: u64,
    pub approaches: u64,
    /// Σ and number of failed loops that began at a post-return entrance.
    pub loop_steps: u64,
    pub loops: u64,
    /// All entrances into {ξ ≥ c} (first ones included).
    pub entrances: u64,
    /// Hits of B.
    pub hits: u64,
    /// Σ of durations entrance → B of the successful excursions.
    pub success_steps: u64,
    /// Σ of the complete exit times (restart → B) in steps.
    pub exit_steps: u64,
    /// Steps simulated.
    pub steps: u64,
}

impl DirectTally {
    pub(crate) fn add(&mut self, o: &DirectTally) {
        self.approach_steps += o.approach_steps;
        self.approaches += o.approaches;
        self.loop_steps += o.loop_steps;
        self.loops += o.loops;
        self.entrances += o.entrances;
        self.hits += o.hits;
        self.success_steps += o.success_steps;
        self.exit_steps += o.exit_steps;
        self.steps += o.steps;
    }
}

/// Levels of the exit problem: A = {ξ < a}, entrance into {ξ ≥ c}, B = {ξ ≥ b}, a ≤ c < b.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExitLevels {
    pub a: f64,
    pub c: f64,
    pub b: f64,
}

enum Phase {
    Approach { since: u64 },
    Excursion { entered: u64, first: bool },
    InA { entered: u64, first: bool },
}

/// Keeps a uniform sample of `cap` states out of a stream (Algorithm R), reusing buffers.
struct Reservoir<S> {
    items: Vec<S>,
    cap: usize,
    seen: u64,
    rng: PathRng,
}

impl<S: Clone> Reservoir<S> {
    fn offer(&mut self, s: &S) {
        self.seen += 1;
        if self.items.len() < self.cap {
            self.items.push(s.clone());
        } else {
            let j = brownian::index(&mut self.rng, self.seen.min(usize::MAX as u64) as usize);
            if j < self.cap {
                self.items[j].clone_from(s);
            }
        }
    }
}

/// One direct-phase path, run until it has ended `cycles` counted excursions (failed loops plus hits of B);
/// returns its tally and up to `pool` post-return entrance states (or, if it saw no post-return entrance, up
/// to `pool` first entrances).
#[allow(clippy::too_many_arguments)]
pub(crate) fn direct_path<P: Process, C: Coordinate<P::State>>(
    process: &P,
    xi: &C,
    lv: ExitLevels,
    cycles: u64,
    max_steps: u64,
    pool: usize,
    seed: u64,
    replica: u64,
    path: u64,
) -> Result<(DirectTally, Vec<P::State>), AmsError> {
    let mut rng = stream_rng(seed, &[replica, TAG_DIRECT, path]);
    let mut res = Reservoir {
        items: Vec::with_capacity(pool),
        cap: pool,
        seen: 0,
        rng: stream_rng(seed, &[replica, TAG_POOL, path]),
    };
    let mut res_first = Reservoir {
        items: Vec::with_capacity(pool),
        cap: pool,
        seen: 0,
        rng: stream_rng(seed, &[replica, TAG_POOL, path, 1]),
    };
    let mut sc = process.scratch();
    let mut tally = DirectTally::default();
    let mut x = process.start(&mut rng);
    check_start(xi, &x, lv.a)?;
    let mut phase = Phase::Approach { since: 0 };
    let mut restart = 0u64;
    let mut t = 0u64;
    while tally.loops + tally.hits < cycles && t < max_steps {
        process.step(&mut x, &mut rng, &mut sc);
        t += 1;
        let v = xi.value(&x);
        if v.is_nan() {
            return Err(AmsError::NonFinite { time: t });
        }
        match phase {
            Phase::Approach { since } => {
                if v >= lv.c {
                    tally.approach_steps += t - since;
                    tally.approaches += 1;
                    tally.entrances += 1;
                    res_first.offer(&x);
                    phase = Phase::Excursion {
                        entered: t,
                        first: true,
                    };
                }
            }
            Phase::InA { entered, first } => {
                if v >= lv.c {
                    if !first {
                        tally.loop_steps += t - entered;
                        tally.loops += 1;
                    }
                    tally.entrances += 1;
                    res.offer(&x);
                    phase = Phase::Excursion {
                        entered: t,
                        first: false,
                    };
                }
            }
            Phase::Excursion { entered, first } => {
                if v < lv.a {
                    phase = Phase::InA { entered, first };
                }
            }
        }
        if let Phase::Excursion { entered, .. } = phase
            && v >= lv.b
        {
            tally.hits += 1;
            tally.success_steps += t - entered;
            tally.exit_steps += t - restart;
            restart = t;
            x = process.start(&mut rng);
            check_start(xi, &x, lv.a)?;
            phase = Phase::Approach { since: t };
        }
    }
    tally.steps = t;
    let states = if res.items.is_empty() {
        res_first.items
    } else {
        res.items
    };
    Ok((tally, states))
}

fn check_start<S, C: Coordinate<S>>(xi: &C, x: &S, a: f64) -> Result<(), AmsError> {
    let v = xi.value(x);
    if v < a {
        Ok(())
    } else {
        Err(AmsError::StartOutsideA { xi: v, a })
    }
}

/// The q-quantile of ξ over the `steps` states of one pilot path from `Process::start` (restarted, and the
/// state not counted, whenever it reaches B), raised just above ξ(x₀) of the pilot's first start if it is
/// below (so that a deterministic start lies in A). Deterministic in `seed` (stream (seed, pilot)).
pub(crate) fn pilot_quantile<P: Process, C: Coordinate<P::State>>(
    process: &P,
    xi: &C,
    b: f64,
    q: f64,
    steps: u64,
    seed: u64,
) -> Result<f64, AmsError> {
    let mut rng = stream_rng(seed, &[TAG_PILOT]);
    let mut sc = process.scratch();
    let mut x = process.start(&mut rng);
    let xi0 = xi.value(&x);
    let mut vals = Vec::with_capacity(steps as usize);
    for t in 0..steps {
        process.step(&mut x, &mut rng, &mut sc);
        let v = xi.value(&x);
        if v.is_nan() {
            return Err(AmsError::NonFinite { time: t + 1 });
        }
        if v >= b {
            x = process.start(&mut rng);
        } else {
            vals.push(v);
        }
    }
    if vals.is_empty() {
        return Err(AmsError::InvalidConfig {
            key: "a_quantile",
            message: "the pilot path never stayed below b, so no level a can be placed".into(),
        });
    }
    let k = ((q * vals.len() as f64) as usize).min(vals.len() - 1);
    let (_, v, _) = vals.select_nth_unstable_by(k, f64::total_cmp);
    // The start must lie in A = {ξ < a}: raise a just above ξ at the (first) start if the quantile is below it.
    Ok(if xi0 >= *v { xi0.next_up() } else { *v })
}

/// A brute-force estimate of the mean first-passage time from `Process::start` into B = {ξ ≥ b}.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectEstimate {
    /// Mean of the observed exit times (a lower bound if some paths were censored).
    pub mean: f64,
    /// Standard error of the mean (sample sd / √n).
    pub std_error: f64,
    /// Student-t 95 % interval.
    pub ci95: (f64, f64),
    /// Paths simulated.
    pub paths: usize,
    /// Paths that did not reach B within `max_steps` (their time is counted as `max_steps · dt`).
    pub censored: usize,
}

/// Runs `paths` independent paths from `Process::start` until ξ ≥ b (at most `max_steps` steps each; path i
/// uses the stream (seed, reference, i)) and returns the mean exit time. Parallel over paths; the reduction
/// is in path order, so the result does not depend on the thread count.
pub fn direct_exit_time<P: Process, C: Coordinate<P::State>>(
    process: &P,
    xi: &C,
    b: f64,
    paths: usize,
    max_steps: u64,
    seed: u64,
) -> Result<DirectEstimate, AmsError> {
    if paths < 2 {
        return Err(AmsError::InvalidConfig {
            key: "direct_paths",
            message: "direct_exit_time needs at least 2 paths".into(),
        });
    }
    let dt = process.time_step();
    let times: Vec<Result<(f64, bool), AmsError>> = (0..paths)
        .into_par_iter()
        .map_init(
            || process.scratch(),
            |sc, i| {
                let mut rng = stream_rng(seed, &[TAG_REFERENCE, i as u64]);
                let mut x = process.start(&mut rng);
                let v0 = xi.value(&x);
                if v0 >= b {
                    return Ok((0.0, false));
                }
                for t in 1..=max_steps {
                    process.step(&mut x, &mut rng, sc);
                    let v = xi.value(&x);
                    if v >= b {
                        return Ok((t as f64 * dt, false));
                    }
                    if v.is_nan() {
                        return Err(AmsError::NonFinite { time: t });
                    }
                }
                Ok((max_steps as f64 * dt, true))
            },
        )
        .collect();
    let mut xs = Vec::with_capacity(paths);
    let mut censored = 0;
    for r in times {
        let (t, c) = r?;
        xs.push(t);
        censored += c as usize;
    }
    let (mean, se) = interval::mean_se(&xs);
    let h = interval::t975(paths - 1) * se;
    Ok(DirectEstimate {
        mean,
        std_error: se,
        ci95: (mean - h, mean + h),
        paths,
        censored,
    })
}
