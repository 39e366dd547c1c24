//! The high-dimension benchmark of issue 13: a quadratic saddle in d = 1000 with a full per-sample covariance
//! Σ₁ (N3, m = d noise columns), 1000 paths × 500 S-SGD1 Euler–Maruyama steps, through the ensemble runner
//! with the standard observers (the batched stepper, `stepper::batch`). Prints the wall time, path-steps per
//! second and GFLOP/s of the step's two matrix products (2·d·(d + m) flops per path-step), and, for scale, the
//! one-path general stepper (`SdeStepper` on the same linear SDE) on a few paths.
//!
//! Run with `cargo bench --bench high_dim`; arguments: `--threads T` (default 2), `--d D` (default 1000),
//! `--paths N` (default 1000), `--steps K` (default 500). Target: under 60 s on 2 cores.

use nalgebra::{DMatrix, DVector};
use samsde::ensemble::{self, Ensemble, Entry, PathJob, PathRecord, Plan, Schedule};
use samsde::model::Model;
use samsde::model::landscape::Quadratic;
use samsde::model::noise::Noise;
use samsde::sde::{LinearSde, Sgd};
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{EulerMaruyama, SolverKind, SolverSpec};
use samsde::stats::DynamicsStats;
use samsde::stepper::{SdeStepper, Stepper};
use std::sync::Arc;
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// H = Q diag(λ) Qᵀ with λ evenly from −1 to 2 (a third of the directions unstable) and Q orthogonal (QR of a
/// fixed pseudo-random matrix); Σ₁ = AAᵀ/d + 0.01 I, full.
fn model(d: usize) -> Model {
    let r = |i: usize, j: usize| (((i * 7919 + j * 104_729) % 1_000_003) as f64 / 1_000_003.0) - 0.5;
    let q = DMatrix::from_fn(d, d, r).qr().q();
    let lambda = DVector::from_fn(d, |i, _| -1.0 + 3.0 * i as f64 / (d - 1) as f64);
    let h = &q * DMatrix::from_diagonal(&lambda) * q.transpose();
    let h = (&h + h.transpose()) * 0.5;
    let a = DMatrix::from_fn(d, d, |i, j| r(j + 3, i + 5));
    let s = &a * a.transpose() / d as f64 + DMatrix::identity(d, d) * 0.01;
    let rows = |m: &DMatrix<f64>| -> Vec<f64> { (0..d * d).map(|k| m[(k / d, k % d)]).collect() };
    let quad = Quadratic::from_matrix(&rows(&h), d, None).expect("quadratic");
    let noise = Noise::linear_matrix(&rows(&s), 4.0, d, "noise.covariance").expect("N3");
    Model::new(Arc::new(quad), noise).expect("model")
}

fn main() {
    let threads = arg("--threads", 2);
    let d = arg("--d", 1000);
    let paths = arg("--paths", 1000) as u64;
    let steps = arg("--steps", 500);
    let (eta, dt) = (0.05, 0.01);
    let t0 = Instant::now();
    let model = model(d);
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    };
    let spec = DynamicsSpec::new(DynamicsKind::Sgd, eta);
    let built = build(&spec, &model, &solver, &vec![0.0; d], "dynamics.SGD").expect("builds");
    assert!(built.notes.iter().any(|n| n.contains("batched")), "{:?}", built.notes);
    println!(
        "set-up (H, Σ₁, factor, linear form) d = {d}: {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let t_end = steps as f64 * dt;
    let entries = vec![Entry {
        label: "SGD".into(),
        stepper: built.stepper,
        schedule: Schedule::new(dt, t_end, 11),
    }];
    let start: Vec<f64> = (0..d).map(|i| 1e-2 * ((i % 7) as f64 - 3.0)).collect();
    let plan = Plan {
        start: start.clone(),
        spread: 0.0,
        saddle: vec![0.0; d],
        region: None,
        bridge: false,
        stop_on_exit: false,
        basins: Vec::new(),
        basin_radius: 0.1,
        stop_on_basin: false,
        blowup: 1e8,
    };
    let ens = Ensemble {
        paths,
        seed: 1,
        progress: false,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let fresh = |k: usize| DynamicsStats::new(k, &entries, &plan, t_end, 0);
    let t1 = Instant::now();
    let stats = pool.install(|| ensemble::run(&ens, &entries, &plan, t_end, &fresh));
    let secs = t1.elapsed().as_secs_f64();
    let path_steps = paths as f64 * steps as f64;
    let m = model.columns();
    let flops = 2.0 * (d * (d + m)) as f64 * path_steps;
    let msd = stats[0].moments.at.last().map(|a| a.estimate().msd).unwrap_or(f64::NAN);
    println!(
        "batched: d = {d}, m = {m}, {paths} paths × {steps} steps on {threads} threads: {secs:.2} s \
         ({:.3e} path-steps/s, {:.1} GFLOP/s in the products; MSD at T = {msd:.4e}) — target < 60 s",
        path_steps / secs,
        flops / secs / 1e9
    );
    // The one-path general stepper on the same linear SDE, on a few paths of one thread, for scale.
    let linear = LinearSde::from_sde(&Sgd::new(model.clone(), eta));
    let general = SdeStepper::new(linear, EulerMaruyama, dt);
    let few = 8u64;
    let sched = Schedule::new(dt, t_end, 11);
    let jobs: Vec<PathJob> = (0..few)
        .map(|index| PathJob {
            index,
            seed: 1,
            plan: &plan,
            schedule: &sched,
        })
        .collect();
    let mut recs = vec![PathRecord::new(d, 11); jobs.len()];
    let t2 = Instant::now();
    general.run_paths(&jobs, &mut recs);
    let per = t2.elapsed().as_secs_f64() / (few as f64 * steps as f64);
    println!(
        "general one-path stepper: {:.3e} path-steps/s on 1 thread ({:.1}× fewer than the batched run on {threads})",
        1.0 / per,
        (path_steps / secs) * per
    );
}
