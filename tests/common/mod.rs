//! Helpers shared by the ensemble-level test files (`tests/ensemble.rs`, `tests/oracles.rs`).
#![allow(dead_code)]

use samsde::ensemble::{self, Ensemble, Entry, Plan, Region, RunStats, Schedule};
use samsde::model::Model;
use samsde::model::landscape::{Landscape, Quadratic};
use samsde::model::noise::Noise;
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{SolverKind, SolverSpec};
use std::ops::Range;
use std::sync::Arc;

/// Threads of the rayon pool each test uses (the machine has 2 cores; the harness runs tests side by side).
pub const THREADS: usize = 2;

pub fn model(l: impl Landscape + 'static, noise: Noise) -> Model {
    Model::new(Arc::new(l), noise).unwrap()
}

/// 1-D quadratic f = ½λy² (a saddle direction for λ < 0).
pub fn quad1(lambda: f64) -> Quadratic {
    Quadratic::new(&[vec![lambda]], None).unwrap()
}

/// N1 with c = 1 and a negligible regulariser (|λ| ≥ 0.65 in every test that uses it).
pub fn n1(batch: f64) -> Noise {
    Noise::hessian(1.0, batch, 1e-9).unwrap()
}

/// N0: Σ_B = σ²/B · I.
pub fn n0(sigma: f64, batch: f64) -> Noise {
    Noise::isotropic(sigma, batch).unwrap()
}

pub fn em(dt: f64) -> SolverSpec {
    SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    }
}

pub fn spec(kind: DynamicsKind, eta: f64, rho: f64) -> DynamicsSpec {
    DynamicsSpec::new(kind, eta).rho(rho)
}

/// An entry for `spec` on `model` with solver step `dt` (discrete optimizers step by η), `snapshots`
/// equally spaced snapshot times on [0, t_end]; model K is linearised at the origin.
pub fn entry(label: &str, spec: &DynamicsSpec, model: &Model, dt: f64, t_end: f64, snapshots: usize) -> Entry {
    let d = model.dim();
    let b = build(spec, model, &em(dt), &vec![0.0; d], label).unwrap();
    Entry {
        label: label.into(),
        schedule: Schedule::new(b.dt, t_end, snapshots),
        stepper: b.stepper,
    }
}

/// A plan from `start` with the saddle at the origin, no region, no basins, bridge on, blowup 1e8.
pub fn plan(start: Vec<f64>) -> Plan {
    let d = start.len();
    Plan {
        start,
        spread: 0.0,
        saddle: vec![0.0; d],
        region: None,
        bridge: true,
        stop_on_exit: true,
        basins: Vec::new(),
        basin_radius: 0.05,
        stop_on_basin: true,
        blowup: 1e8,
    }
}

/// Slab |y| < L along axis `axis` of a d-dimensional space.
pub fn slab(d: usize, axis: usize, half_width: f64) -> Region {
    let mut n = vec![0.0; d];
    n[axis] = 1.0;
    Region::slab(vec![0.0; d], n, half_width).unwrap()
}

pub fn ens(paths: u64, seed: u64) -> Ensemble {
    Ensemble {
        paths,
        seed,
        sample_paths: 0,
        progress: false,
    }
}

pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

/// `ensemble::run` on a pool of `threads` threads.
pub fn run_on(threads: usize, e: &Ensemble, entries: &[Entry], plan: &Plan, t_end: f64) -> RunStats {
    pool(threads).install(|| ensemble::run(e, entries, plan, t_end))
}

/// `ensemble::run` on the default test pool.
pub fn run(e: &Ensemble, entries: &[Entry], plan: &Plan, t_end: f64) -> RunStats {
    run_on(THREADS, e, entries, plan, t_end)
}

/// `ensemble::run_range` on the default test pool.
pub fn run_range(e: &Ensemble, entries: &[Entry], plan: &Plan, t_end: f64, blocks: Range<u64>) -> RunStats {
    pool(THREADS).install(|| ensemble::run_range(e, entries, plan, t_end, blocks))
}

pub fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string(x).unwrap()
}

/// |got − want| ≤ tol, with a message naming the quantity and the distance in units of `se`.
#[track_caller]
pub fn within(what: &str, got: f64, want: f64, tol: f64, se: f64) {
    eprintln!(
        "{what}: got {got:.6e}, theory {want:.6e}, diff {:+.3e} = {:+.2} SE (SE {se:.2e}, tol {tol:.3e})",
        got - want,
        (got - want) / se
    );
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.8e}, theory {want:.8e}, |diff| {:.3e} > tol {tol:.3e} ({:.2} SE, SE {se:.3e})",
        (got - want).abs(),
        (got - want) / se
    );
}

/// Standard error of a sample covariance entry C_ij of a Gaussian cloud from n paths:
/// √((C_ii C_jj + C_ij²)/(n − 1)).
pub fn cov_se(c: &[Vec<f64>], i: usize, j: usize, n: u64) -> f64 {
    ((c[i][i] * c[j][j] + c[i][j] * c[i][j]) / (n - 1) as f64).sqrt()
}

/// Binomial standard error √(p(1−p)/n).
pub fn binom_se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}
