//! Single-thread step micro-benchmark: path-steps per second of `Stepper::step` for S-USAM, S-SAM-mb (`sam`)
//! and full-batch SAM (`sam_fullbatch`) with Euler–Maruyama on the 2-D quadratic saddle H = diag(1, −0.5) with
//! N0 noise (the W1/W3/W4 settings of `benches/workloads.rs`, one path). On a quadratic with constant noise all
//! are built onto a fixed-size fast path (`stepper::fixed`, `stepper::fixed_sam`); the `_double_well` cases run
//! through the general path (landscape gradient and Hessian through the `Landscape` trait every step), and
//! `normals` is the baseline: the two normal draws alone, so the cost of a step beyond its randomness is the
//! difference. Run with `cargo bench --bench step`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use samsde::brownian::path_rng;
use samsde::model::Model;
use samsde::model::landscape::{DoubleWell, Landscape, Quadratic};
use samsde::model::noise::Noise;
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{SolverKind, SolverSpec};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// Steps per measured iteration: long enough to amortise the timer, short enough to keep x near the saddle.
const STEPS: u64 = 10_000;

fn bench_step(c: &mut Criterion) {
    let model = Model::new(
        Arc::new(Quadratic::diagonal(&[1.0, -0.5]).unwrap()),
        Noise::isotropic(1.0, 8.0).unwrap(),
    )
    .unwrap();
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt: 1e-3,
        allow_dropping_areas: false,
    };
    let mut group = c.benchmark_group("step");
    group.throughput(Throughput::Elements(STEPS));
    let well = Model::new(
        Arc::new(DoubleWell::default()) as Arc<dyn Landscape>,
        Noise::isotropic(1.0, 8.0).unwrap(),
    )
    .unwrap();
    let cases = [
        ("usam", DynamicsKind::Usam, 0.5, &model),
        ("sam", DynamicsKind::Sam, 0.05, &model),
        ("sam_fullbatch", DynamicsKind::SamFullbatch, 0.05, &model),
        ("sam_double_well", DynamicsKind::Sam, 0.05, &well),
        ("sam_fullbatch_double_well", DynamicsKind::SamFullbatch, 0.05, &well),
    ];
    for (name, kind, rho, model) in cases {
        let spec = DynamicsSpec::new(kind, 0.01).rho(rho);
        let built = build(&spec, model, &solver, &[0.0, 0.0], "bench").expect("valid bench setup");
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
    let mut rng = path_rng(1, 0);
    group.bench_function("normals", |b| {
        b.iter(|| {
            let mut z = [0.0; 2];
            let mut acc = 0.0;
            for _ in 0..STEPS {
                samsde::brownian::fill_normals(&mut rng, &mut z);
                acc += z[0] + z[1];
            }
            black_box(acc)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = bench_step
}
criterion_main!(benches);
