//! Speed benchmark of the rare-event estimator (issue 11): the mean exit time of the O8 double well
//! f = −y²/2 + y⁴/4 with additive noise s² = 0.05 (exact E τ = 1.02·10⁵ time units, MFPT(−1 → +1)), Euler–Maruyama
//! dt = 0.01, by AMS with the default `[ams]` parameters (N = 500, k = 1, R = 20) on 2 threads (target: ±10 %
//! in under 60 s). Prints, per seed, the estimate with its 95 % interval, the error against the exact value
//! (O6 quadrature), the steps simulated and the wall and CPU time.
//!
//! The same problem runs twice: on a hand-written 1-D Euler–Maruyama process (the estimator's own cost), and
//! through the project's S-SGD1 stepper on the 2-D `double_well` landscape f = ¼y⁴ − ½y² + ½x² (η = s²,
//! σ₁ = B = 1; the x-direction is an independent OU) with the exit-region coordinate and the Brownian-bridge
//! flag, i.e. what `samsde run` with `[exit] estimator = "ams"` does.
//!
//! `cargo bench --bench ams -- [threads] [s2 ...]` (defaults: 2 threads; s² = 0.05; 0.035 gives ≈ 10⁷, 0.025
//! ≈ 2·10⁹). `SEEDS=n` sets the number of seeds (default 3), `DT=…` the step.
#[path = "../tests/ams_support/mod.rs"]
mod ams_support;

use ams_support::*;
use samsde::ams::{self, AmsConfig, ExitCoordinate, MeanExitEstimate, StepperProcess};
use samsde::model::landscape::DoubleWell;
use samsde::model::noise::Noise;
use samsde::model::{Model, Region};
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{SolverKind, SolverSpec};
use std::sync::Arc;
use std::time::Instant;

/// utime + stime of this process in seconds (Linux /proc; NaN elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let after = &s[s.rfind(')').map_or(0, |i| i + 2)..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = f[11].parse::<f64>().unwrap_or(f64::NAN) + f[12].parse::<f64>().unwrap_or(f64::NAN);
    ticks / 100.0
}

fn main() {
    // `cargo bench` passes `--bench`; keep only our positional arguments.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let threads: usize = args.first().map_or(2, |s| s.parse().expect("threads"));
    let s2s: Vec<f64> = if args.len() > 1 {
        args[1..].iter().map(|s| s.parse().expect("s²")).collect()
    } else {
        vec![0.05]
    };
    let dt: f64 = std::env::var("DT").map_or(0.01, |v| v.parse().expect("DT"));
    let seeds: u64 = std::env::var("SEEDS").map_or(3, |v| v.parse().expect("SEEDS"));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    let report = |what: &str, s2: f64, exact: f64, est: &MeanExitEstimate, wall: f64, cpu: f64| {
        println!(
            "O8 s² = {s2}, dt = {dt}, {what}: E τ = {:.4e} [{:.4e}, {:.4e}] (±{:.1} %), exact {exact:.4e} (error {:+.1} %), \
             p = {:.2e}, {:.2e} steps, wall {wall:.2} s, CPU {cpu:.2} s, {threads} threads",
            est.mean_time,
            est.ci95.0,
            est.ci95.1,
            50.0 * (est.ci95.1 - est.ci95.0) / est.mean_time,
            100.0 * (est.mean_time / exact - 1.0),
            est.escape_probability,
            est.steps as f64
        );
    };
    for s2 in s2s {
        let exact = exact_mfpt(double_well_drift, |_| s2, -2.5, 1.0, -1.0, &[]);
        let p = Em1d::new(double_well_drift, move |_| s2.sqrt(), -1.0, dt);
        let model = Model::new(
            Arc::new(DoubleWell::default()),
            Noise::isotropic(1.0, 1.0).expect("noise"),
        )
        .expect("model");
        let solver = SolverSpec {
            kind: SolverKind::EulerMaruyama,
            dt,
            allow_dropping_areas: false,
        };
        let spec = DynamicsSpec::new(DynamicsKind::Sgd, s2);
        let stepper = build(&spec, &model, &solver, &[0.0, 0.0], "dynamics.SGD")
            .expect("stepper")
            .stepper;
        let start = [0.0, -1.0];
        let region = Region::slab(start.to_vec(), vec![0.0, 1.0], 2.0).expect("region");
        let sp = StepperProcess::new(stepper.as_ref(), &start, 0.0).with_bridge(&region);
        let xi = ExitCoordinate::new(region).with_bridge_flag(sp.flag_index());
        for seed in 0..seeds {
            let cfg = AmsConfig {
                seed,
                ..AmsConfig::default()
            };
            let (w0, c0) = (Instant::now(), cpu_seconds());
            let est = pool.install(|| ams::mean_exit_time(&p, &|y: &f64| *y, 1.0, &cfg).expect("estimate"));
            report(
                "1-D process",
                s2,
                exact,
                &est,
                w0.elapsed().as_secs_f64(),
                cpu_seconds() - c0,
            );
            let (w0, c0) = (Instant::now(), cpu_seconds());
            let est = pool.install(|| ams::mean_exit_time(&sp, &xi, xi.target(), &cfg).expect("estimate"));
            report(
                "SGD stepper, 2-D",
                s2,
                exact,
                &est,
                w0.elapsed().as_secs_f64(),
                cpu_seconds() - c0,
            );
        }
    }
}
