//! One run of the generalized adaptive multilevel splitting (AMS) algorithm of Bréhier, Gazeau,
//! Goudenège, Lelièvre and Rousset, *Unbiasedness of some generalized adaptive multilevel splitting
//! algorithms*, Ann. Appl. Probab. 26 (2016) 3559–3601.
//!
//! # The algorithm
//!
//! A particle is a path of the Markov chain (X_t) (one [`Process::step`] per t) from a start state X_0 up to
//! the stopping time τ = min{t ≥ 1 : ξ(X_t) < a} ∧ min{t ≥ 0 : ξ(X_t) ≥ b}; its level is
//! Z = max_{0≤t≤τ} ξ(X_t), and it reached B iff Z ≥ b.
//!
//! 1. Draw N particles from the N given start states with independent generators.
//! 2. Iteration q: Z_q = the k-th smallest level. If Z_q ≥ b, stop. Otherwise kill **every** particle with
//!    level ≤ Z_q; K_q ≥ k is their number (ties make K_q > k). If K_q = N, the run is extinct: p̂ = 0.
//! 3. Each killed particle picks a parent uniformly (with replacement) among the N − K_q survivors
//!    (level > Z_q), copies the parent's path up to the first time t* with ξ(X_{t*}) > Z_q, and continues
//!    from X_{t*} with a fresh generator until τ.
//! 4. p̂ = Π_q (1 − K_q/N) · (1/N) #{particles with Z ≥ b}, and for any path functional φ,
//!    γ̂(φ) = Π_q (1 − K_q/N) · (1/N) Σ_n φ(X^n) 1{Z^n ≥ b}.
//!
//! Both are unbiased: E p̂ = P(ξ reaches b before dropping below a), E γ̂(φ) = E[φ(X) 1{reach B}], for any
//! N, any k < N and any ties (Bréhier et al. 2016, Thm 4.1); here φ = duration, which gives the mean length of
//! a successful excursion.
//!
//! # Branching and memory
//!
//! The first time a path exceeds a level is always a time at which its running maximum increases (a
//! *record*), so a particle stores its records (t, ξ) — 16 bytes each — and full states only at
//! *checkpoints*: a checkpoint stores (t, ξ, state, generator state). A checkpoint is taken at the segment
//! start and at every record whose ξ exceeds the last checkpoint's by at least `checkpoint_spacing`. To
//! branch at level Z the child finds the first record above Z, takes the last checkpoint at or before it and
//! replays the parent's steps from there with the saved generator (bit-identical, checked). Spacing 0 stores
//! the state at every record (no replay); spacing ∞ stores only the segment start (memory O(N·state), at
//! most one re-simulation of the parent's segment per branching). A child keeps no part of its parent: the
//! first record of the child above any later level Z' ≥ Z_q is at or after t*, so its segment starts at
//! (t*, ξ(X_{t*})) with its level initialised to ξ(X_{t*}), and times are counted from the excursion start.
//! Buffers of killed particles are reused (`clone_from`), so the step loop does not allocate once they are
//! warm.
//!
//! # Reproducibility
//!
//! Segment generators come from (seed, replica, iteration, particle) and parents are chosen sequentially
//! from one (seed, replica) stream, so the result does not depend on the number of threads that run the
//! killed particles of an iteration in parallel.

use super::seeds::{TAG_PARTICLE, TAG_SELECT, stream_rng};
use super::{AmsError, Coordinate, Process};
use crate::brownian::{self, PathRng};
use rayon::prelude::*;

/// Parameters of one splitting run.
#[derive(Debug, Clone, Copy)]
pub struct SplittingParams {
    /// Number of particles N (≥ 2).
    pub particles: usize,
    /// Number k of particles killed per iteration (1 ≤ k < N); ties may kill more.
    pub killed: usize,
    /// Lower level a: a particle is stopped (failed) at the first t ≥ 1 with ξ(X_t) < a.
    pub a: f64,
    /// Target level b: a particle has succeeded at the first t ≥ 0 with ξ(X_t) ≥ b.
    pub b: f64,
    /// Iteration cap; exceeding it is an error (stopping early would bias the estimate).
    pub max_iterations: usize,
    /// Step cap for one excursion; exceeding it is an error.
    pub max_excursion_steps: u64,
    /// Minimum increase of ξ between stored states (0: every record; ∞: segment starts only).
    pub checkpoint_spacing: f64,
}

/// Result of one splitting run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AmsRun {
    /// p̂ = Π_q (1 − K_q/N) · (successful particles)/N (unbiased).
    pub probability: f64,
    /// γ̂(duration) = Π_q (1 − K_q/N) · (1/N) Σ_n D_n 1{success}, an unbiased estimate of
    /// E[D 1{reach B}], where D is the time (steps × dt) from the start state to B.
    pub weighted_success_time: f64,
    /// Number of iterations (killing steps).
    pub iterations: usize,
    /// Σ_q K_q.
    pub killed_total: usize,
    /// Iterations in which ties made K_q > k.
    pub tied_iterations: usize,
    /// All particles fell to one level (p̂ = 0).
    pub extinct: bool,
    /// Particles that reached B at the end.
    pub successes: usize,
    /// Steps simulated, including replays.
    pub steps: u64,
    /// Steps re-simulated to reach branching points.
    pub replay_steps: u64,
    /// Largest number of stored states (checkpoints) at any time, over all particles.
    pub peak_checkpoints: usize,
    /// Largest number of stored records at any time, over all particles.
    pub peak_records: usize,
}

/// A stored state of a particle.
#[derive(Debug, Clone)]
struct Checkpoint<S> {
    t: u64,
    state: S,
    rng: PathRng,
}

/// A particle: its records and checkpoints since the start of its own segment, its level and its fate.
#[derive(Debug)]
struct Particle<S> {
    cps: Vec<Checkpoint<S>>,
    /// Number of live entries of `cps` (the rest are warm buffers).
    ncp: usize,
    /// (time, ξ) at each increase of the running maximum; strictly increasing in both.
    recs: Vec<(u64, f64)>,
    level: f64,
    end: u64,
    success: bool,
}

impl<S> Default for Particle<S> {
    fn default() -> Self {
        Particle {
            cps: Vec::new(),
            ncp: 0,
            recs: Vec::new(),
            level: f64::NEG_INFINITY,
            end: 0,
            success: false,
        }
    }
}

impl<S: Clone> Particle<S> {
    fn push_checkpoint(&mut self, t: u64, state: &S, rng: &PathRng) {
        if self.ncp < self.cps.len() {
            let c = &mut self.cps[self.ncp];
            c.t = t;
            c.state.clone_from(state);
            c.rng.clone_from(rng);
        } else {
            self.cps.push(Checkpoint {
                t,
                state: state.clone(),
                rng: rng.clone(),
            });
        }
        self.ncp += 1;
    }
}

/// Writes `src` into `dst`, reusing its buffer when there is one.
#[inline]
fn assign<S: Clone>(dst: &mut Option<S>, src: &S) {
    match dst {
        Some(d) => d.clone_from(src),
        None => *dst = Some(src.clone()),
    }
}

/// Simulates a segment from `state` (at excursion time `t0`, with ξ = `xi0`) until it drops below a or
/// reaches b; fills the particle's records and checkpoints. Returns the number of steps.
#[allow(clippy::too_many_arguments)]
fn run_segment<P: Process, C: Coordinate<P::State>>(
    process: &P,
    xi: &C,
    prm: &SplittingParams,
    p: &mut Particle<P::State>,
    state: &mut P::State,
    mut rng: PathRng,
    t0: u64,
    xi0: f64,
    scratch: &mut P::Scratch,
) -> Result<u64, AmsError> {
    p.recs.clear();
    p.ncp = 0;
    p.recs.push((t0, xi0));
    p.push_checkpoint(t0, state, &rng);
    p.level = xi0;
    p.success = xi0 >= prm.b;
    p.end = t0;
    if p.success {
        return Ok(0);
    }
    let mut last_cp = xi0;
    let mut t = t0;
    loop {
        process.step(state, &mut rng, scratch);
        t += 1;
        let x = xi.value(state);
        if x > p.level {
            p.level = x;
            p.recs.push((t, x));
            if x >= last_cp + prm.checkpoint_spacing {
                p.push_checkpoint(t, state, &rng);
                last_cp = x;
            }
            if x >= prm.b {
                p.success = true;
                break;
            }
        } else if x < prm.a {
            break;
        } else if x.is_nan() {
            return Err(AmsError::NonFinite { time: t });
        }
        if t - t0 >= prm.max_excursion_steps {
            return Err(AmsError::ExcursionTooLong {
                steps: prm.max_excursion_steps,
            });
        }
    }
    if !p.level.is_finite() {
        return Err(AmsError::NonFinite { time: t });
    }
    p.end = t;
    Ok(t - t0)
}

/// Reconstructs into `work` the state of `parent` at its first record above `z`; returns (t*, ξ*, replayed
/// steps).
fn branch_point<P: Process, C: Coordinate<P::State>>(
    process: &P,
    xi: &C,
    parent: &Particle<P::State>,
    z: f64,
    work: &mut Option<P::State>,
    scratch: &mut P::Scratch,
) -> Result<(u64, f64, u64), AmsError> {
    let i = parent.recs.partition_point(|r| r.1 <= z);
    let (ts, xs) = parent.recs[i];
    let j = parent.cps[..parent.ncp].partition_point(|c| c.t <= ts) - 1;
    let cp = &parent.cps[j];
    assign(work, &cp.state);
    let w = work.as_mut().expect("assigned above");
    let replay = ts - cp.t;
    if replay > 0 {
        let mut rng = cp.rng.clone();
        for _ in 0..replay {
            process.step(w, &mut rng, scratch);
        }
        let x = xi.value(w);
        if x.to_bits() != xs.to_bits() {
            return Err(AmsError::ReplayMismatch { expected: xs, found: x });
        }
    }
    Ok((ts, xs, replay))
}

/// Runs AMS from the N start states `starts` (one per particle) with generators from (seed, replica, ·).
/// `dt` converts steps to time for [`AmsRun::weighted_success_time`].
pub fn run_splitting<P: Process, C: Coordinate<P::State>>(
    process: &P,
    xi: &C,
    starts: &[P::State],
    prm: &SplittingParams,
    seed: u64,
    replica: u64,
) -> Result<AmsRun, AmsError> {
    let n = prm.particles;
    if starts.len() != n || n < 2 || prm.killed == 0 || prm.killed >= n || prm.a.is_nan() || prm.a >= prm.b {
        return Err(AmsError::InvalidConfig {
            key: "particles",
            message: format!(
                "splitting needs N = starts.len() ≥ 2 (N = {n}, starts = {}), 1 ≤ k < N (k = {}), a < b (a = {}, b = {})",
                starts.len(),
                prm.killed,
                prm.a,
                prm.b
            ),
        });
    }
    let mut parts: Vec<Particle<P::State>> = (0..n).map(|_| Particle::default()).collect();
    let mut steps = 0u64;
    let mut replay_steps = 0u64;

    // Iteration 0: N independent excursions from the start states.
    let init: Vec<Result<u64, AmsError>> = parts
        .par_iter_mut()
        .zip(starts.par_iter())
        .enumerate()
        .map_init(
            || (process.scratch(), None::<P::State>),
            |(sc, work), (i, (p, s0))| {
                assign(work, s0);
                let w = work.as_mut().expect("assigned above");
                let x0 = xi.value(w);
                if x0.is_nan() {
                    return Err(AmsError::NonFinite { time: 0 });
                }
                let rng = stream_rng(seed, &[replica, TAG_PARTICLE, 0, i as u64]);
                run_segment(process, xi, prm, p, w, rng, 0, x0, sc)
            },
        )
        .collect();
    for r in init {
        steps += r?;
    }

    let mut sel = stream_rng(seed, &[replica, TAG_SELECT]);
    let mut buf = vec![0.0; n];
    let mut killed_idx: Vec<usize> = Vec::with_capacity(n);
    let mut survivors: Vec<usize> = Vec::with_capacity(n);
    let mut weight = 1.0f64;
    let mut iterations = 0usize;
    let mut killed_total = 0usize;
    let mut tied_iterations = 0usize;
    let mut extinct = false;
    let mut ncp_total: usize = parts.iter().map(|p| p.ncp).sum();
    let mut nrec_total: usize = parts.iter().map(|p| p.recs.len()).sum();
    let mut peak_checkpoints = ncp_total;
    let mut peak_records = nrec_total;
    let mut jobs: Vec<(usize, usize, Particle<P::State>)> = Vec::with_capacity(n);

    loop {
        for (b, p) in buf.iter_mut().zip(&parts) {
            *b = p.level;
        }
        let (_, zk, _) = buf.select_nth_unstable_by(prm.killed - 1, f64::total_cmp);
        let z = *zk;
        if z >= prm.b {
            break;
        }
        if iterations >= prm.max_iterations {
            return Err(AmsError::MaxIterations { iterations, level: z });
        }
        killed_idx.clear();
        survivors.clear();
        for (i, p) in parts.iter().enumerate() {
            if p.level <= z {
                killed_idx.push(i);
            } else {
                survivors.push(i);
            }
        }
        let kq = killed_idx.len();
        iterations += 1;
        if survivors.is_empty() {
            extinct = true;
            weight = 0.0;
            killed_total += kq;
            break;
        }
        if kq > prm.killed {
            tied_iterations += 1;
        }
        killed_total += kq;
        weight *= 1.0 - kq as f64 / n as f64;

        // Parents are drawn sequentially (reproducible), then the killed particles are taken out of `parts`
        // so that they can be rebuilt in parallel while the survivors are read.
        jobs.clear();
        for &i in &killed_idx {
            let parent = survivors[brownian::index(&mut sel, survivors.len())];
            ncp_total -= parts[i].ncp;
            nrec_total -= parts[i].recs.len();
            jobs.push((i, parent, std::mem::take(&mut parts[i])));
        }
        let q = iterations as u64;
        let parts_ref = &parts;
        let rebuild = |sc: &mut P::Scratch,
                       work: &mut Option<P::State>,
                       (i, parent, child): &mut (usize, usize, Particle<P::State>)|
         -> Result<(u64, u64), AmsError> {
            let (ts, xs, replay) = branch_point(process, xi, &parts_ref[*parent], z, work, sc)?;
            let w = work.as_mut().expect("assigned by branch_point");
            let rng = stream_rng(seed, &[replica, TAG_PARTICLE, q, *i as u64]);
            let s = run_segment(process, xi, prm, child, w, rng, ts, xs, sc)?;
            Ok((s, replay))
        };
        let results: Vec<Result<(u64, u64), AmsError>> = if jobs.len() >= 2 {
            jobs.par_iter_mut()
                .map_init(
                    || (process.scratch(), None::<P::State>),
                    |(sc, w), job| rebuild(sc, w, job),
                )
                .collect()
        } else {
            let mut sc = process.scratch();
            let mut w = None;
            jobs.iter_mut().map(|job| rebuild(&mut sc, &mut w, job)).collect()
        };
        for r in results {
            let (s, rp) = r?;
            steps += s + rp;
            replay_steps += rp;
        }
        for (i, _, child) in jobs.drain(..) {
            ncp_total += child.ncp;
            nrec_total += child.recs.len();
            parts[i] = child;
        }
        peak_checkpoints = peak_checkpoints.max(ncp_total);
        peak_records = peak_records.max(nrec_total);
    }

    let dt = process.time_step();
    let (mut successes, mut dsum) = (0usize, 0.0f64);
    for p in &parts {
        if p.success {
            successes += 1;
            dsum += p.end as f64 * dt;
        }
    }
    let (probability, weighted_success_time) = if extinct {
        (0.0, 0.0)
    } else {
        (weight * successes as f64 / n as f64, weight * dsum / n as f64)
    };
    Ok(AmsRun {
        probability,
        weighted_success_time,
        iterations,
        killed_total,
        tied_iterations,
        extinct,
        successes: if extinct { 0 } else { successes },
        steps,
        replay_steps,
        peak_checkpoints,
        peak_records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// x ← x + drift (+ a uniform kick in [0, 1) when `kick`, + 10⁻³ × the parity of a global call counter when
    /// `impure`).
    struct Line {
        drift: f64,
        kick: bool,
        impure: Option<AtomicU64>,
    }

    impl Process for Line {
        type State = f64;
        type Scratch = ();
        fn scratch(&self) {}
        fn start(&self, _: &mut PathRng) -> f64 {
            0.0
        }
        fn step(&self, x: &mut f64, rng: &mut PathRng, _: &mut ()) {
            *x += self.drift;
            if self.kick {
                *x += (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            }
            if let Some(c) = &self.impure {
                *x += 1e-3 * (c.fetch_add(1, Ordering::Relaxed) % 2) as f64;
            }
        }
        fn time_step(&self) -> f64 {
            0.5
        }
    }

    fn prm(a: f64, b: f64, spacing: f64) -> SplittingParams {
        SplittingParams {
            particles: 8,
            killed: 1,
            a,
            b,
            max_iterations: 1000,
            max_excursion_steps: 1000,
            checkpoint_spacing: spacing,
        }
    }

    fn id(x: &f64) -> f64 {
        *x
    }

    #[test]
    fn all_tied_at_the_start_is_extinction() {
        // Every particle steps from 0 straight below a = 0: all levels equal 0, K = N, p̂ = 0.
        let down = Line {
            drift: -1.0,
            kick: false,
            impure: None,
        };
        let run = run_splitting(&down, &id, &[0.0; 8], &prm(0.0, 3.0, 0.0), 1, 0).unwrap();
        assert!(run.extinct);
        assert_eq!((run.iterations, run.killed_total, run.probability), (1, 8, 0.0));
    }

    #[test]
    fn sure_success_needs_no_iteration() {
        // Deterministic climb 0 → 3 in 3 steps: p̂ = 1 and the success time is 3 steps × dt = 1.5.
        let up = Line {
            drift: 1.0,
            kick: false,
            impure: None,
        };
        let run = run_splitting(&up, &id, &[0.0; 8], &prm(-0.5, 3.0, 0.0), 1, 0).unwrap();
        assert_eq!((run.iterations, run.successes, run.probability), (0, 8, 1.0));
        assert_eq!(run.weighted_success_time, 1.5);
    }

    #[test]
    fn impure_step_is_caught_on_replay() {
        // A step that depends on something besides (state, generator) cannot be replayed: with states stored
        // only at segment starts the first branching must report it.
        let walk = Line {
            drift: -0.5,
            kick: true,
            impure: Some(AtomicU64::new(0)),
        };
        let r = run_splitting(&walk, &id, &[0.0; 8], &prm(-0.4, 5.0, f64::INFINITY), 1, 0);
        assert!(matches!(r, Err(AmsError::ReplayMismatch { .. })), "{r:?}");
    }
}
