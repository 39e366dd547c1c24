//! Single-thread step micro-benchmark: path-steps per second of `Stepper::step` for S-USAM and S-SAM with
//! Euler–Maruyama on the 2-D quadratic saddle H = diag(1, −0.5) with N0 noise (the W1/W3 settings of
//! `benches/workloads.rs`, one path). USAM on a quadratic with constant noise is built through `build` and so
//! runs on the linear fast path; SAM is not affine and evaluates gradient and Hessian each step.
//! Run with `cargo bench --bench step`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use samsde::brownian::path_rng;
use samsde::dynamics::{DynamicsKind, DynamicsSpec, Model, SolverKind, SolverSpec, build};
use samsde::landscape::Quadratic;
use samsde::noise::Noise;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// Steps per measured iteration: long enough to amortise the timer, short enough to keep x near the saddle.
const STEPS: u64 = 10_000;

fn bench_step(c: &mut Criterion) {
    let model = Model {
        landscape: Arc::new(Quadratic::diagonal(&[1.0, -0.5]).unwrap()),
        noise: Noise::isotropic(1.0, 8.0).unwrap(),
    };
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt: 1e-3,
        allow_dropping_areas: false,
    };
    let mut group = c.benchmark_group("step");
    group.throughput(Throughput::Elements(STEPS));
    for (name, kind, rho) in [("usam", DynamicsKind::Usam, 0.5), ("sam", DynamicsKind::Sam, 0.05)] {
        let spec = DynamicsSpec::new(kind, 0.01).rho(rho);
        let built = build(&spec, &model, &solver, &[0.0, 0.0], "bench").expect("valid bench setup");
        let stepper = built.stepper;
        let mut scratch = stepper.scratch();
        let mut rng = path_rng(1, 0);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut x = [0.1, 0.01];
                for _ in 0..STEPS {
                    stepper.step(&mut x, &mut rng, &mut scratch);
                }
                black_box(x)
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = bench_step
}
criterion_main!(benches);
