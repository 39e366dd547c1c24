//! Multi-path kernels (issue 12): [`KERNEL_LANES`] paths advance together, their states in structure-of-arrays
//! form `x[i][l]` (coordinate i of lane l), their increments drawn by the SIMD normal sampler
//! ([`crate::brownian::LaneNormals`], one stream per path), and the per-step checks (divergence, exit region,
//! Brownian-bridge pre-check, basins) evaluated for all lanes at once. Only a lane with something to record
//! leaves the vector code, for the scalar handling of [`super::lanes`].
//!
//! # Same results as the scalar lane loop
//! A step rule implements [`LaneStep::step_lanes`] once, generically in the lane count L, and its scalar
//! [`super::Stepper::step`] is the L = 1 case of the same code, so every lane performs the scalar step's
//! floating-point operations in the scalar step's order (no FMA: Rust never contracts a·b + c; sqrt and
//! division are correctly rounded on every ISA). A lane's path draws its start spread and every increment
//! from its own stream `path_rng(seed, i)` (the start spread on the scalar generator, which is then handed
//! to the lane), and its bridge uniforms from `bridge_rng(seed, i)`. The vector checks compute what
//! [`Region::inside`] and the basin test compute, in the same order, so they flag exactly the lanes the
//! scalar test would, and the flagged lanes are then handled by the same scalar code. Hence
//! [`simulate`] writes the [`PathRecord`]s that [`super::lanes::simulate`] writes, bit for bit, at any lane
//! width, ISA level and thread count (tests/kernels.rs), and shards of a run stay exact.
//!
//! # Brownian bridge nearly free
//! A step that stays inside the region is tested for a crossing in between only when the crossing
//! probability can reach [`crate::model::region::NEGLIGIBLE_EXPONENT`] (p ≥ 1e-15; smaller faces are
//! exactly 0 in [`Region::crossing_probability`], and a step with p = 0 draws nothing). A face's exponent is
//! 2ab/(v dt), a and b the distances of the step's ends to it; with v̄ ≥ v a bound on the variance rate
//! ([`LaneStep::variance_bound`]) it reaches the threshold only if an end lies within D = √(threshold·v̄·dt/2)
//! of a face. The kernel marks a position *far* when it is farther than D (plus a relative 1e-9 and an
//! absolute 1e-12 of the region's size, which absorb every rounding) from every face, by one compare per
//! lane that needs no square root (‖x − c‖² < (R − D)² for a ball, |xᵢ − cᵢ| < hᵢ − D for a box,
//! |n·(x − c)| < w − D for a slab); a step whose two ends are far has p = 0 in the exact test too, so the
//! vector pre-check skips only steps the scalar test skips, at the cost of a compare and a mask per step.

//! # ISA
//! The driver is compiled three times: with AVX-512F, with AVX2 and portable, chosen at run time like the
//! normal sampler's kernels ([`Isa::detect`]); the results are the same bits on all three.

use super::lanes::{PathJob, PathRecord, Plan, Schedule};
use crate::brownian::{self, Isa, LaneNormals, LaneRng, bridge_rng, path_rng};
use crate::model::Region;
use crate::model::region::NEGLIGIBLE_EXPONENT;

/// Paths a kernel advances together: 16 f64, two AVX-512 registers (four AVX2 registers) per coordinate, so
/// that each coordinate's step is two independent dependency chains and their latencies overlap.
pub const KERNEL_LANES: usize = 16;

/// Normal rows drawn per refill of a kernel's lane buffer (blocks of 64–256 rows keep the sampler at its
/// full SIMD speed; 64 rows of 16 lanes, 8 KiB, stay in L1 beside the step's data).
const ROWS: usize = 64;

/// A step rule of an SDE (so the Brownian-bridge correction applies) for L paths at once in dimension N
/// (state = position, N noise columns).
pub trait LaneStep<const N: usize>: Sync {
    /// One step of every lane: `x[i][l]` is coordinate i of lane l, `z[j][l]` the j-th standard normal of
    /// lane l's step (j < N). Lane l's arithmetic is exactly that of the scalar step on lane l's values.
    fn step_lanes<const L: usize>(&self, x: &mut [[f64; L]; N], z: &[[f64; L]]);
    /// A bound v̄ ≥ dirᵀσσᵀdir for every unit dir and every state (the Brownian-bridge pre-check), if known.
    fn variance_bound(&self) -> Option<f64>;
    /// dirᵀσσᵀdir with σ at the step's start `x_prev` (the value [`Stepper::bridge_variance`] gives after
    /// a step from `x_prev`).
    fn variance_at(&self, x_prev: &[f64; N], dir: &[f64]) -> f64;
}

/// Runs the paths `jobs` of `stepper` into `records` (same length) with the multi-path kernel: the same
/// records as [`super::lanes::simulate`] (module docs). Every job must share one plan and schedule.
pub fn simulate<S: LaneStep<N>, const N: usize>(stepper: &S, jobs: &[PathJob], records: &mut [PathRecord]) {
    simulate_with::<S, N, KERNEL_LANES>(Isa::detect(), stepper, jobs, records)
}

/// [`simulate`] with L lanes and the vector code limited to `isa` (for tests and benchmarks: the records
/// do not depend on either).
///
/// # Panics
/// If this CPU cannot run `isa`.
pub fn simulate_with<S: LaneStep<N>, const N: usize, const L: usize>(
    isa: Isa,
    stepper: &S,
    jobs: &[PathJob],
    records: &mut [PathRecord],
) {
    assert!(isa.available(), "{isa:?} is not supported by this CPU");
    assert!(L <= 64, "lane masks hold at most 64 lanes");
    #[cfg(target_arch = "x86_64")]
    {
        match isa {
            // SAFETY: the CPU supports the features (checked above).
            Isa::Avx512 => return unsafe { drive_avx512::<S, N, L>(isa, stepper, jobs, records) },
            // SAFETY: as above.
            Isa::Avx2 => return unsafe { drive_avx2::<S, N, L>(isa, stepper, jobs, records) },
            Isa::Portable => {}
        }
    }
    drive::<S, N, L>(isa, stepper, jobs, records)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn drive_avx512<S: LaneStep<N>, const N: usize, const L: usize>(
    isa: Isa,
    stepper: &S,
    jobs: &[PathJob],
    records: &mut [PathRecord],
) {
    drive::<S, N, L>(isa, stepper, jobs, records)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn drive_avx2<S: LaneStep<N>, const N: usize, const L: usize>(
    isa: Isa,
    stepper: &S,
    jobs: &[PathJob],
    records: &mut [PathRecord],
) {
    drive::<S, N, L>(isa, stepper, jobs, records)
}

/// The region in fixed size, with the thresholds of the bridge pre-check's *far* test (module docs).
#[derive(Clone, Copy)]
enum LaneRegion<const N: usize> {
    /// ‖x − c‖² < r2 inside; < far far.
    Ball { c: [f64; N], r2: f64, far: f64 },
    /// |xᵢ − cᵢ| < hᵢ inside; < farᵢ far.
    Box { c: [f64; N], h: [f64; N], far: [f64; N] },
    /// |n·(x − c)| < w inside; < far far.
    Slab { c: [f64; N], n: [f64; N], w: f64, far: f64 },
}

impl<const N: usize> LaneRegion<N> {
    /// The region with its far thresholds for the distance `d` ≥ 0 (+∞: no position is far).
    fn new(r: &Region, d: f64) -> Self {
        let arr = |v: &[f64]| -> [f64; N] { std::array::from_fn(|i| v[i]) };
        // The margin: relative 1e-9 on d and 1e-12 of the size on top (the roundings of the thresholds, of
        // the compares and of the exact test's a and b are all below 1e-15 of the size).
        let margin = |size: f64| d * (1.0 + 1e-9) + 1e-12 * size;
        match r {
            Region::Ball { center, radius } => {
                let rf = radius - margin(*radius);
                LaneRegion::Ball {
                    c: arr(center),
                    r2: radius * radius,
                    far: if rf > 0.0 { rf * rf } else { -1.0 },
                }
            }
            Region::Box { center, half_widths } => {
                let size = half_widths.iter().fold(0.0f64, |a, &b| a.max(b));
                LaneRegion::Box {
                    c: arr(center),
                    h: arr(half_widths),
                    far: std::array::from_fn(|i| half_widths[i] - margin(size)),
                }
            }
            Region::Slab {
                center,
                normal,
                half_width,
            } => LaneRegion::Slab {
                c: arr(center),
                n: arr(normal),
                w: *half_width,
                far: half_width - margin(*half_width),
            },
        }
    }

    /// Bit l of the first mask set when lane l is outside (exactly `!`[`Region::inside`], NaN included; L ≤
    /// 64), of the second when it is far from every face (module docs; computed only with `far`).
    #[inline(always)]
    fn check<const L: usize>(&self, x: &[[f64; L]; N], far: bool) -> (u64, u64) {
        let (mut outside, mut farther) = (0u64, 0u64);
        match self {
            LaneRegion::Ball { c, r2, far: f } => {
                let mut s = [0.0; L];
                for i in 0..N {
                    for l in 0..L {
                        let a = x[i][l] - c[i];
                        s[l] = if i == 0 { a * a } else { s[l] + a * a };
                    }
                }
                for l in 0..L {
                    let inside = s[l] < *r2; // false for NaN
                    outside |= u64::from(!inside) << l;
                    farther |= u64::from(far & (s[l] < *f)) << l;
                }
            }
            LaneRegion::Box { c, h, far: f } => {
                let mut all = [true; L];
                for i in 0..N {
                    for l in 0..L {
                        let a = (x[i][l] - c[i]).abs();
                        let inside = a < h[i];
                        outside |= u64::from(!inside) << l;
                        all[l] &= a < f[i];
                    }
                }
                for l in 0..L {
                    farther |= u64::from(far & all[l]) << l;
                }
            }
            LaneRegion::Slab { c, n, w, far: f } => {
                let mut s = [0.0; L];
                for i in 0..N {
                    for l in 0..L {
                        let a = (x[i][l] - c[i]) * n[i];
                        s[l] = if i == 0 { a } else { s[l] + a };
                    }
                }
                for l in 0..L {
                    let inside = s[l].abs() < *w;
                    outside |= u64::from(!inside) << l;
                    farther |= u64::from(far & (s[l].abs() < *f)) << l;
                }
            }
        }
        (outside, farther)
    }
}

/// Per-lane bookkeeping of the path a lane runs.
#[derive(Clone, Copy)]
struct LaneState {
    /// Index into `jobs`/`records` ([`IDLE`]: none).
    job: usize,
    /// Steps taken.
    k: usize,
    /// Index of the next snapshot.
    next_snap: usize,
    /// Step of the next scheduled event (snapshot or the last step).
    due: usize,
    /// Whether the exit is still to be watched (region set and no exit yet).
    watch_exit: bool,
    /// Whether basins are still to be watched.
    watch_basin: bool,
}

const IDLE: usize = usize::MAX;

/// Records every snapshot due at step k (as `Lane::record`) and sets the step of the lane's next event.
#[inline]
fn record<const N: usize>(st: &mut LaneState, sched: &Schedule, rec: &mut PathRecord, pos: &[f64; N]) {
    while st.next_snap < sched.snapshot_steps.len() && sched.snapshot_steps[st.next_snap] == st.k {
        let j = st.next_snap;
        rec.snaps[j * N..(j + 1) * N].copy_from_slice(pos);
        rec.alive[j] = true;
        st.next_snap += 1;
    }
    st.due = sched
        .snapshot_steps
        .get(st.next_snap)
        .copied()
        .unwrap_or(usize::MAX)
        .min(sched.steps);
}

#[inline(always)]
fn column<const N: usize, const L: usize>(x: &[[f64; L]; N], l: usize) -> [f64; N] {
    std::array::from_fn(|i| x[i][l])
}

/// Sum over i of (x[i][l] − c[i])², in the order of [`Region::inside`] and of the basin test.
#[inline(always)]
fn dist2<const N: usize, const L: usize>(x: &[[f64; L]; N], c: &[f64; N]) -> [f64; L] {
    let mut s = [0.0; L];
    for i in 0..N {
        for l in 0..L {
            let a = x[i][l] - c[i];
            s[l] = if i == 0 { a * a } else { s[l] + a * a };
        }
    }
    s
}

/// The state of one kernel run over a list of jobs.
struct Kernel<'a, 'j, S, const N: usize, const L: usize> {
    stepper: &'a S,
    jobs: &'a [PathJob<'j>],
    plan: &'j Plan,
    sched: &'j Schedule,
    region: Option<LaneRegion<N>>,
    bridge: bool,
    basins: Vec<[f64; N]>,
    basin_r2: f64,
    normals: LaneNormals<L, ROWS>,
    brng: LaneRng<L>,
    x: [[f64; L]; N],
    prev: [[f64; L]; N],
    /// Bit l set when lane l's position is far from every face (bridge pre-check).
    far: u64,
    lanes: [LaneState; L],
    next_job: usize,
}

impl<'a, 'j, S: LaneStep<N>, const N: usize, const L: usize> Kernel<'a, 'j, S, N, L> {
    #[inline(always)]
    fn new(isa: Isa, stepper: &'a S, jobs: &'a [PathJob<'j>]) -> Option<Self> {
        let first = jobs.first()?;
        let (plan, sched): (&'j Plan, &'j Schedule) = (first.plan, first.schedule);
        debug_assert!(
            jobs.iter()
                .all(|j| std::ptr::eq(j.plan, plan) && std::ptr::eq(j.schedule, sched))
        );
        // Ends farther than D from a face give 2ab/(v dt) > 2D²/(v̄ dt) = NEGLIGIBLE_EXPONENT (module docs);
        // without a variance bound no position is far and every inside step is tested exactly.
        let d = stepper
            .variance_bound()
            .map_or(f64::INFINITY, |v| (NEGLIGIBLE_EXPONENT * v * sched.dt / 2.0).sqrt());
        let region = plan.region.as_ref().map(|r| LaneRegion::<N>::new(r, d));
        let bridge = plan.bridge && region.is_some();
        let idle = LaneState {
            job: IDLE,
            k: 0,
            next_snap: 0,
            due: usize::MAX,
            watch_exit: false,
            watch_basin: false,
        };
        Some(Kernel {
            stepper,
            jobs,
            plan,
            sched,
            region,
            bridge,
            basins: plan.basins.iter().map(|b| std::array::from_fn(|i| b[i])).collect(),
            basin_r2: plan.basin_radius * plan.basin_radius,
            normals: LaneNormals::new(LaneRng::from_lanes(std::array::from_fn(|_| path_rng(0, 0))).with_isa(isa)),
            brng: LaneRng::from_lanes(std::array::from_fn(|_| path_rng(0, 0))).with_isa(isa),
            x: [[0.0; L]; N],
            prev: [[0.0; L]; N],
            far: 0,
            lanes: [idle; L],
            next_job: 0,
        })
    }

    /// Starts the next job that does not end at step 0 in lane l (as `Lane::begin`: the start spread on the
    /// path's scalar generator, which is then handed to the lane); the lane idles when none is left.
    #[inline(always)]
    fn begin(&mut self, l: usize, records: &mut [PathRecord]) {
        let plan = self.plan;
        while self.next_job < self.jobs.len() {
            let p = self.next_job;
            self.next_job += 1;
            let job = &self.jobs[p];
            let rec = &mut records[p];
            let mut rng = path_rng(job.seed, job.index);
            let mut pos: [f64; N] = std::array::from_fn(|i| plan.start[i]);
            if plan.spread > 0.0 {
                let mut dir = [0.0; N];
                brownian::fill_normals(&mut rng, &mut dir);
                for i in 0..N {
                    pos[i] += plan.spread * dir[i];
                }
            }
            rec.alive.fill(false);
            rec.exit_time = None;
            rec.basin = None;
            rec.diverged_at = None;
            rec.stopped = false;
            let mut st = LaneState {
                job: p,
                k: 0,
                next_snap: 0,
                due: 0,
                watch_exit: plan.region.is_some(),
                watch_basin: !plan.basins.is_empty(),
            };
            record(&mut st, self.sched, rec, &pos);
            if let Some(r) = &plan.region
                && !r.inside(&pos)
            {
                rec.exit_time = Some(0.0);
                st.watch_exit = false;
                if plan.stop_on_exit {
                    rec.stopped = true;
                    rec.final_pos.copy_from_slice(&pos);
                    continue;
                }
            }
            for i in 0..N {
                self.x[i][l] = pos[i];
            }
            if let Some(reg) = &self.region {
                let one: [[f64; 1]; N] = std::array::from_fn(|i| [pos[i]]);
                let (_, far) = reg.check(&one, true);
                self.far = (self.far & !(1 << l)) | (far << l);
            }
            self.normals.reseed_lane(l, &rng);
            self.brng.set_lane(l, &bridge_rng(job.seed, job.index));
            self.lanes[l] = st;
            return;
        }
        self.lanes[l].job = IDLE;
        for row in self.x.iter_mut() {
            row[l] = 0.0;
        }
    }

    /// Divergence after a step (`taken` steps into the burst): records and ends the lanes with a
    /// non-finite entry or one beyond the blow-up bound (as `Lane::observe`); idle lanes are reset.
    /// Returns whether a running lane ended.
    #[cold]
    fn diverged(&mut self, taken: usize, records: &mut [PathRecord]) -> bool {
        let blowup = self.plan.blowup;
        let mut ended = false;
        for l in 0..L {
            if (0..N).all(|i| self.x[i][l].abs() <= blowup) {
                continue;
            }
            let st = &mut self.lanes[l];
            if st.job != IDLE {
                let rec = &mut records[st.job];
                let t = self.sched.time(st.k + taken);
                rec.diverged_at = Some(t);
                if self.plan.region.is_some() && rec.exit_time.is_none() {
                    rec.exit_time = Some(t);
                }
                rec.final_pos.copy_from_slice(&column(&self.x, l));
                st.job = IDLE;
                ended = true;
            }
            for row in self.x.iter_mut() {
                row[l] = 0.0;
            }
        }
        ended
    }

    /// The exit and basin tests of the lanes the vector checks flagged (bit l of `hit`; as
    /// `Lane::watch_events`, which finds nothing on the other lanes: inside, in no basin, and a crossing
    /// probability of exactly 0); returns whether a lane was stopped.
    #[inline(never)]
    fn watch_events(&mut self, taken: usize, outside: u64, hit: u64, records: &mut [PathRecord]) -> bool {
        let (plan, sched) = (self.plan, self.sched);
        let mut stopped = false;
        let mut dir = [0.0; N];
        for l in 0..L {
            let st = &mut self.lanes[l];
            if st.job == IDLE || (hit >> l) & 1 == 0 {
                continue;
            }
            let rec = &mut records[st.job];
            let k = st.k + taken;
            let pos = column(&self.x, l);
            if st.watch_exit
                && let Some(r) = &plan.region
            {
                if (outside >> l) & 1 == 1 {
                    rec.exit_time = Some(if self.bridge { sched.mid_time(k) } else { sched.time(k) });
                } else if self.bridge {
                    let p_prev = column(&self.prev, l);
                    let stepper = self.stepper;
                    let p =
                        r.crossing_probability(&p_prev, &pos, sched.dt, &mut dir, |u| stepper.variance_at(&p_prev, u));
                    if p > 0.0 && self.brng.uniform_lane(l) < p {
                        rec.exit_time = Some(sched.mid_time(k));
                    }
                }
                if rec.exit_time.is_some() {
                    st.watch_exit = false;
                    if plan.stop_on_exit {
                        rec.stopped = true;
                    }
                }
            }
            if st.watch_basin {
                for (b, c) in self.basins.iter().enumerate() {
                    let d2: f64 = pos.iter().zip(c).map(|(a, c)| (a - c) * (a - c)).sum();
                    if d2 < self.basin_r2 {
                        rec.basin = Some((b, sched.time(k)));
                        st.watch_basin = false;
                        if plan.stop_on_basin {
                            rec.stopped = true;
                        }
                        break;
                    }
                }
            }
            stopped |= rec.stopped;
        }
        stopped
    }

    /// Bit l set when lane l runs a path that still watches the exit, and the basins (L ≤ 64).
    #[inline(always)]
    fn watch_masks(&self) -> (u64, u64) {
        let (mut exit, mut basin) = (0, 0);
        for (l, st) in self.lanes.iter().enumerate() {
            let live = st.job != IDLE;
            exit |= u64::from(live && st.watch_exit) << l;
            basin |= u64::from(live && st.watch_basin) << l;
        }
        (exit, basin)
    }

    /// Runs every job (module docs).
    #[inline(always)]
    fn run(&mut self, records: &mut [PathRecord]) {
        for l in 0..L {
            self.begin(l, records);
        }
        let blowup = self.plan.blowup;
        let watch = self.region.is_some() || !self.basins.is_empty();
        loop {
            // Steps until the next scheduled event of any running lane.
            let mut burst = usize::MAX;
            for st in self.lanes.iter().filter(|s| s.job != IDLE) {
                burst = burst.min(st.due - st.k);
            }
            if burst == usize::MAX {
                break;
            }
            // Which lanes watch the exit and the basins, as plain masks for the vector checks (lanes change
            // at the end of a burst, and in `diverged` and `watch_events`, after which they are read again).
            let (mut watch_exit, mut watch_basin) = self.watch_masks();
            let mut taken = 0;
            // The lanes' positions in a local (registers) during the burst; `self.x` is brought up to date
            // before the out-of-line handlers, which read it (and `diverged` resets lanes in it).
            let mut x = self.x;
            while taken < burst {
                if self.bridge {
                    self.prev = x;
                }
                let z = self.normals.next_rows(N);
                self.stepper.step_lanes(&mut x, z);
                taken += 1;
                // Any non-finite entry or one beyond the blow-up bound (NaN fails `<=`).
                let mut ok = true;
                for row in x.iter() {
                    for v in row.iter() {
                        ok &= v.abs() <= blowup;
                    }
                }
                let mut ended = false;
                if !ok {
                    self.x = x;
                    ended = self.diverged(taken, records);
                    x = self.x;
                    (watch_exit, watch_basin) = self.watch_masks();
                }
                if watch {
                    // Bit l: lane l's new position is outside, or (bridge) too near the boundary to skip
                    // the crossing test, or in a basin; branch-free bit masks, so the compares stay vector
                    // compares.
                    let mut hit = 0u64;
                    let mut outside = 0u64;
                    if let Some(reg) = &self.region {
                        let far;
                        (outside, far) = reg.check(&x, self.bridge);
                        let mut look = outside;
                        if self.bridge {
                            // a step is skipped only when both its ends are far
                            look |= !(self.far & far);
                            self.far = far;
                        }
                        hit |= look & watch_exit;
                    }
                    for c in &self.basins {
                        let s = dist2(&x, c);
                        let mut look = 0u64;
                        for l in 0..L {
                            look |= u64::from(s[l] < self.basin_r2) << l;
                        }
                        hit |= look & watch_basin;
                    }
                    if hit != 0 {
                        self.x = x;
                        ended |= self.watch_events(taken, outside, hit, records);
                        (watch_exit, watch_basin) = self.watch_masks();
                    }
                }
                if ended {
                    break;
                }
            }
            self.x = x;
            // Snapshots, stops and ends at the step reached (as `Lane::observe`, after the watch); lanes whose
            // path ended take the next job. When every lane's path ended (paths of one length end together),
            // no lane needs its buffered normals: they are dropped, so the new paths start on a fresh block
            // instead of topping up the old one lane by lane.
            for l in 0..L {
                let st = &mut self.lanes[l];
                if st.job != IDLE {
                    st.k += taken;
                    let rec = &mut records[st.job];
                    let pos = column(&self.x, l);
                    if st.k == st.due {
                        record(st, self.sched, rec, &pos);
                    }
                    if !(rec.stopped || st.k >= self.sched.steps) {
                        continue;
                    }
                    rec.final_pos.copy_from_slice(&pos);
                    st.job = IDLE;
                }
            }
            if self.lanes.iter().all(|st| st.job == IDLE) {
                self.normals.discard();
            }
            for l in 0..L {
                if self.lanes[l].job == IDLE && self.next_job < self.jobs.len() {
                    self.begin(l, records);
                }
            }
        }
    }
}

/// The multi-path loop (module docs).
#[inline(always)]
fn drive<S: LaneStep<N>, const N: usize, const L: usize>(
    isa: Isa,
    stepper: &S,
    jobs: &[PathJob],
    records: &mut [PathRecord],
) {
    if let Some(mut k) = Kernel::<S, N, L>::new(isa, stepper, jobs) {
        k.run(records);
    }
}
