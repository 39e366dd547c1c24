//! The multi-path kernels (issue 12, `stepper::kernel`) write exactly the path records of the scalar lane
//! loop (`stepper::lanes::simulate`), bit for bit, for every fixed-size stepper (linear SGD/USAM, full-batch
//! SAM, S-SAM-mb), in 1–4 dimensions, at every lane width and every ISA level this CPU runs, with and
//! without start spread, snapshots, exit regions (ball, box, slab; stop or not; Brownian bridge on or
//! off), basins (stop or not) and divergence.

use samsde::brownian::{Isa, path_rng};
use samsde::ensemble::{PathJob, PathRecord, Plan, Region, Schedule};
use samsde::model::Model;
use samsde::model::landscape::Quadratic;
use samsde::model::noise::Noise;
use samsde::sde::sam_moments::IsotropicMoments;
use samsde::sde::{LinearSde, Usam};
use samsde::stepper::fixed::FixedStepper;
use samsde::stepper::fixed_sam::FixedSam;
use samsde::stepper::kernel::{LaneStep, simulate_with};
use samsde::stepper::{Stepper, lanes};
use std::sync::Arc;

fn records(n: usize, d: usize, sched: &Schedule) -> Vec<PathRecord> {
    vec![PathRecord::new(d, sched.snapshot_steps.len()); n]
}

/// The bits of a record (so that NaN = NaN and −0 ≠ +0).
fn bits(r: &PathRecord) -> String {
    let b = |v: &f64| v.to_bits();
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} {}",
        r.snaps.iter().map(b).collect::<Vec<_>>(),
        r.alive,
        r.exit_time.map(|t| t.to_bits()),
        r.basin.map(|(i, t)| (i, t.to_bits())),
        r.diverged_at.map(|t| t.to_bits()),
        r.final_pos.iter().map(b).collect::<Vec<_>>(),
        r.stopped
    )
}

/// Scenarios: (name, plan, schedule); `d` the dimension, `scale` the size of the region around the saddle.
fn plans(d: usize, scale: f64) -> Vec<(&'static str, Plan, Schedule)> {
    let base = Plan {
        start: (0..d).map(|i| 0.05 * (i as f64 + 1.0)).collect(),
        ..Plan::at_origin(d)
    };
    let sched = Schedule::new(0.01, 3.0, 11);
    let ball = Region::ball(vec![0.0; d], scale).unwrap();
    let boxed = Region::boxed(vec![0.0; d], (0..d).map(|i| scale * (1.0 + 0.3 * i as f64)).collect()).unwrap();
    let slab = Region::slab(vec![0.0; d], (0..d).map(|i| 1.0 + i as f64).collect(), 0.8 * scale).unwrap();
    let corner: Vec<f64> = (0..d).map(|i| if i == d - 1 { 1.5 * scale } else { 0.0 }).collect();
    vec![
        ("free", base.clone(), sched.clone()),
        (
            "spread, many snapshots",
            Plan {
                spread: 0.2,
                ..base.clone()
            },
            Schedule::new(0.01, 2.0, 201),
        ),
        (
            "ball, stop, bridge",
            Plan {
                spread: 0.1,
                region: Some(ball.clone()),
                bridge: true,
                stop_on_exit: true,
                ..base.clone()
            },
            sched.clone(),
        ),
        (
            "ball, stop, no bridge",
            Plan {
                region: Some(ball),
                stop_on_exit: true,
                ..base.clone()
            },
            sched.clone(),
        ),
        (
            "box, go on, bridge",
            Plan {
                spread: 0.1,
                region: Some(boxed),
                bridge: true,
                ..base.clone()
            },
            sched.clone(),
        ),
        (
            "slab, bridge, basins (stop)",
            Plan {
                spread: 0.3,
                region: Some(slab),
                bridge: true,
                basins: vec![corner.clone(), corner.iter().map(|v| -v).collect()],
                basin_radius: 0.4 * scale,
                stop_on_basin: true,
                ..base.clone()
            },
            sched.clone(),
        ),
        (
            "start outside (some paths), stop",
            Plan {
                spread: 1.0 * scale,
                region: Some(Region::ball(vec![0.0; d], scale).unwrap()),
                stop_on_exit: true,
                ..base.clone()
            },
            sched.clone(),
        ),
        (
            "divergence",
            Plan {
                spread: 0.2,
                blowup: 3.0 * scale,
                region: Some(Region::ball(vec![0.0; d], 100.0 * scale).unwrap()),
                ..base.clone()
            },
            Schedule::new(0.05, 20.0, 7),
        ),
    ]
}

/// Every path record of the kernel at lane width L and level `isa` equals the scalar lane loop's.
fn check_width<S: LaneStep<N> + Stepper, const N: usize, const L: usize>(name: &str, stepper: &S, scale: f64) -> usize {
    let mut cases = 0;
    for (what, plan, sched) in plans(N, scale) {
        // 45 paths: lanes take new paths at different steps; indices need not be consecutive.
        let jobs: Vec<PathJob> = (0..45u64)
            .map(|i| PathJob {
                index: 3 * i + 1,
                seed: 17,
                plan: &plan,
                schedule: &sched,
            })
            .collect();
        let mut want = records(jobs.len(), N, &sched);
        lanes::simulate(stepper, &jobs, &mut want);
        for isa in Isa::ALL.into_iter().filter(|i| i.available()) {
            let mut got = records(jobs.len(), N, &sched);
            simulate_with::<S, N, L>(isa, stepper, &jobs, &mut got);
            for (p, (a, b)) in want.iter().zip(&got).enumerate() {
                assert_eq!(bits(a), bits(b), "{name}, {what}, L = {L}, {isa:?}, path {p}");
            }
            cases += 1;
        }
    }
    cases
}

/// [`check_width`] at several widths, and the stepper's own [`Stepper::run_paths`] (for [`FixedStepper`]
/// the kernel compiled for its structure) against the scalar lane loop.
fn check<S: LaneStep<N> + Stepper, const N: usize>(name: &str, stepper: &S, scale: f64) -> usize {
    for (what, plan, sched) in plans(N, scale) {
        let jobs: Vec<PathJob> = (0..45u64)
            .map(|i| PathJob {
                index: 2 * i,
                seed: 5,
                plan: &plan,
                schedule: &sched,
            })
            .collect();
        let mut want = records(jobs.len(), N, &sched);
        lanes::simulate(stepper, &jobs, &mut want);
        let mut got = records(jobs.len(), N, &sched);
        stepper.run_paths(&jobs, &mut got);
        for (p, (a, b)) in want.iter().zip(&got).enumerate() {
            assert_eq!(bits(a), bits(b), "{name}, {what}, run_paths, path {p}");
        }
    }
    check_width::<S, N, 1>(name, stepper, scale)
        + check_width::<S, N, 4>(name, stepper, scale)
        + check_width::<S, N, 8>(name, stepper, scale)
        + check_width::<S, N, 16>(name, stepper, scale)
}

/// A saddle Hessian in dimension N: eigenvalues 1, −0.5, 0.8, −1.2, with some coupling unless `diagonal`.
fn hessian<const N: usize>(diagonal: bool) -> Vec<f64> {
    let diag = [1.0, -0.5, 0.8, -1.2];
    let mut h = vec![0.0; N * N];
    for i in 0..N {
        h[i * N + i] = diag[i];
        if i + 1 < N && !diagonal {
            h[i * N + i + 1] = 0.2;
            h[(i + 1) * N + i] = 0.2;
        }
    }
    h
}

/// Every fixed-size stepper on a coupled saddle with a full S and an offset g₀, and (the structured variants
/// of [`FixedStepper`]) on a diagonal saddle with a diagonal S, with and without an offset.
fn all_steppers<const N: usize>() -> usize {
    let mut cases = 0;
    for (structure, diagonal, offset) in [
        ("coupled", false, true),
        ("diagonal", true, true),
        ("diagonal", true, false),
    ] {
        let h = hessian::<N>(diagonal);
        let rows: Vec<Vec<f64>> = h.chunks(N).map(<[f64]>::to_vec).collect();
        let center: Vec<f64> = (0..N)
            .map(|i| if offset { 0.1 + 0.05 * i as f64 } else { 0.0 })
            .collect();
        let model = Model::new(
            Arc::new(Quadratic::new(&rows, Some(&center)).unwrap()),
            Noise::isotropic(1.0, 4.0).unwrap(),
        )
        .unwrap();
        let usam = LinearSde::from_sde(&Usam::new(model, 0.1, 0.3));
        let linear = FixedStepper::<N>::linear(&usam, 0.01).unwrap();
        let off = if diagonal { 0.0 } else { 0.05 };
        let s: Vec<f64> = (0..N * N).map(|k| if k % (N + 1) == 0 { 0.4 } else { off }).collect();
        let g0: Vec<f64> = (0..N)
            .map(|i| if offset { 0.01 * (i + 1) as f64 } else { 0.0 })
            .collect();
        let sam_fb = FixedStepper::<N>::sam(&h, &g0, &s, 0.3, 1e-12, 0.01).unwrap();
        let name = |k: &str| format!("{k} {N}-D {structure}, offset {offset}");
        cases += check(&name("usam"), &linear, 0.5) + check(&name("sam_fullbatch"), &sam_fb, 0.5);
        if !diagonal {
            let table = Arc::new(IsotropicMoments::new(N).unwrap());
            let sam_mb = FixedSam::<N>::new(table, &h, &g0, 0.5, 0.3, 0.1, 0.01).unwrap();
            cases += check(&name("sam"), &sam_mb, 0.5);
        }
    }
    cases
}

#[test]
fn kernel_records_equal_the_scalar_lane_loop() {
    let cases = all_steppers::<1>() + all_steppers::<2>() + all_steppers::<3>() + all_steppers::<4>();
    let levels = Isa::ALL.into_iter().filter(|i| i.available()).count();
    assert_eq!(cases, 4 * 7 * 4 * 8 * levels);
}

/// The Brownian-bridge crossing probability of a face is exp(−2ab/(v dt)) below the negligible exponent and
/// exactly 0 (no uniform drawn) at or above it (p ≤ 1e-15).
#[test]
fn negligible_crossings_are_exactly_zero() {
    use samsde::model::region::NEGLIGIBLE_EXPONENT;
    assert!((NEGLIGIBLE_EXPONENT - 15.0 * 10f64.ln()).abs() < 1e-14);
    // A 1-D ball (one face per end, no 1 − (1 − p) cancellation): from the centre (a = 1) to 1 − b.
    let ball = Region::ball(vec![0.0], 1.0).unwrap();
    let mut dir = [0.0];
    let (v, dt) = (0.5, 0.01);
    for b in [0.01, 0.05, 0.08, 0.0863, 0.0864, 0.1, 0.5] {
        let (x0, x1) = (0.0, 1.0 - b);
        let e = 2.0 * 1.0 * (1.0 - x1) / (v * dt);
        let p = ball.crossing_probability(&[x0], &[x1], dt, &mut dir, |_| v);
        if e < NEGLIGIBLE_EXPONENT {
            assert!((p / (-e).exp() - 1.0).abs() < 1e-12, "b = {b}: p = {p}, exponent {e}");
        } else {
            assert_eq!(p, 0.0, "b = {b}: exponent {e} is negligible");
        }
    }
}

/// The fixed-size fast paths of `usam` and `sam_fullbatch` (as `setup::build` picks them) follow the general
/// path `SdeStepper<_, EulerMaruyama>` up to rounding, on a coupled saddle (the general structure) and on a
/// diagonal one (the products with the zero off-diagonal entries skipped), centred at the origin and off it:
/// 2000 steps from the same normals differ by < 1e-10 (the two evaluate the drift in a different order;
/// rounding alone, amplified by at most e^{|λ|T} ≈ e^{2.6} over T = 2).
#[test]
fn fast_paths_equal_the_general_path() {
    use samsde::sde::SamFullbatch;
    use samsde::setup::{DEFAULT_EPSILON, DynamicsKind, DynamicsSpec, build};
    use samsde::solver::{EulerMaruyama, SolverKind, SolverSpec};
    use samsde::stepper::SdeStepper;
    let (lr, rho, dt) = (0.01, 0.3, 1e-3);
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    };
    for diagonal in [false, true] {
        for center in [None, Some(vec![0.1, -0.05])] {
            let h = hessian::<2>(diagonal);
            let rows: Vec<Vec<f64>> = h.chunks(2).map(<[f64]>::to_vec).collect();
            let m = Model::new(
                Arc::new(Quadratic::new(&rows, center.as_deref()).unwrap()),
                Noise::isotropic(1.0, 4.0).unwrap(),
            )
            .unwrap();
            for kind in [DynamicsKind::Usam, DynamicsKind::SamFullbatch] {
                let built = build(&DynamicsSpec::new(kind, lr).rho(rho), &m, &solver, &[0.0, 0.0], "x").unwrap();
                assert!(built.notes.iter().any(|n| n.contains("fast path")), "{:?}", built.notes);
                let general: Box<dyn Stepper> = match kind {
                    DynamicsKind::Usam => Box::new(SdeStepper::new(Usam::new(m.clone(), lr, rho), EulerMaruyama, dt)),
                    _ => Box::new(SdeStepper::new(
                        SamFullbatch::new(m.clone(), lr, rho, DEFAULT_EPSILON),
                        EulerMaruyama,
                        dt,
                    )),
                };
                let (mut a, mut b) = (vec![0.05, 0.02], vec![0.05, 0.02]);
                let (mut sa, mut sb) = (built.stepper.scratch(), general.scratch());
                let (mut ra, mut rb) = (path_rng(4, 0), path_rng(4, 0));
                for _ in 0..2000 {
                    built.stepper.step(&mut a, &mut ra, &mut sa);
                    general.step(&mut b, &mut rb, &mut sb);
                }
                let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                assert!(
                    (a[0] - 0.05).abs() + (a[1] - 0.02).abs() > 0.01,
                    "the path must move: {a:?}"
                );
                assert!(
                    diff < 1e-10,
                    "{kind:?}, diagonal {diagonal}, centre {center:?}: {a:?} vs {b:?}"
                );
            }
        }
    }
}
