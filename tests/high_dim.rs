//! High dimension (issue 13): the batched stepper against the general path, path by path; its results do not
//! depend on which paths share a batch or on the thread count; and a 40-D quadratic saddle read from `.npy`
//! files, whose S-SGD1 and S-USAM moments at T agree with the exact law of their Euler–Maruyama recursion
//! (math spec O1: m⁺ = (I − A dt)m, C⁺ = (I − A dt)C(I − A dt)ᵀ + S dt) within 5 standard errors per coordinate.

mod common;

use common::{ens, pool, run_on, scratch};
use nalgebra::{DMatrix, DVector};
use samsde::ensemble::{BLOCK, PathJob, PathRecord, Plan, Region, Schedule};
use samsde::model::landscape::{Landscape, Quadratic};
use samsde::model::{Model, Noise};
use samsde::npy;
use samsde::sde::{Kim, SamFullbatch, Sgd, Usam};
use samsde::setup::{DynamicsKind, DynamicsSpec, Experiment, Source, build};
use samsde::solver::{EulerMaruyama, SolverKind, SolverSpec};
use samsde::stepper::{Discrete, DiscreteKind, SdeStepper, Stepper};
use samsde::theory::ou::{LinearKind, em_moments, linear_model};
use std::sync::Arc;

/// A deterministic orthogonal matrix (QR of a fixed matrix) times diag(λ) times its transpose.
fn rotated(lambda: &[f64]) -> Vec<f64> {
    let d = lambda.len();
    let a = DMatrix::from_fn(d, d, |i, j| {
        ((i * 17 + j * 29 + 3) % 31) as f64 / 31.0 - 0.5 + if i == j { 1.0 } else { 0.0 }
    });
    let q = a.qr().q();
    let h = &q * DMatrix::from_diagonal(&DVector::from_column_slice(lambda)) * q.transpose();
    let h = (&h + h.transpose()) * 0.5;
    (0..d * d).map(|k| h[(k / d, k % d)]).collect()
}

/// A full, well-conditioned per-sample covariance Σ₁ = (AAᵀ + I)/d (row-major).
fn full_cov(d: usize) -> Vec<f64> {
    let a = DMatrix::from_fn(d, d, |i, j| ((i * 7 + j * 11) % 13) as f64 / 13.0 - 0.45);
    let s = (&a * a.transpose() + DMatrix::identity(d, d)) / d as f64;
    (0..d * d).map(|k| s[(k / d, k % d)]).collect()
}

/// A 10-D quadratic saddle (index 2) centred off the origin, with full N3 noise.
fn saddle_model() -> Model {
    let lambda = [-1.2, -0.3, 0.2, 0.5, 0.8, 1.0, 1.3, 1.7, 2.0, 2.5];
    let d = lambda.len();
    let c: Vec<f64> = (0..d).map(|i| 0.1 * i as f64 - 0.3).collect();
    let q = Quadratic::from_matrix(&rotated(&lambda), d, Some(&c)).expect("quadratic");
    let noise = Noise::linear_matrix(&full_cov(d), 4.0, d, "noise.covariance").expect("N3");
    Model::new(Arc::new(q), noise).expect("model")
}

fn em(dt: f64) -> SolverSpec {
    SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    }
}

fn run_paths(stepper: &dyn Stepper, plan: &Plan, schedule: &Schedule, paths: std::ops::Range<u64>) -> Vec<PathRecord> {
    let jobs: Vec<PathJob> = paths
        .map(|index| PathJob {
            index,
            seed: 11,
            plan,
            schedule,
        })
        .collect();
    let mut recs = vec![PathRecord::new(plan.start.len(), schedule.snapshot_steps.len()); jobs.len()];
    stepper.run_paths(&jobs, &mut recs);
    recs
}

fn plan(model: &Model, region: Option<Region>) -> Plan {
    let d = model.dim();
    let start: Vec<f64> = (0..d).map(|i| 0.05 * (i as f64 - 4.0)).collect();
    Plan {
        start,
        spread: 0.0,
        saddle: vec![0.0; d],
        region,
        bridge: true,
        stop_on_exit: false,
        basins: Vec::new(),
        basin_radius: 0.1,
        stop_on_basin: false,
        blowup: 1e8,
    }
}

/// Every kind the builder hands to the batched stepper follows the general path (the one-path SDE stepper with
/// Euler–Maruyama, or the discrete optimizer) path by path: same normals, same states at every snapshot to
/// 1e−12 relative (the arithmetic differs only in rounding), and the same exit times out of a ball.
#[test]
fn batched_stepper_follows_the_general_path() {
    let model = saddle_model();
    let d = model.dim();
    let (eta, rho, eps, dt) = (0.05, 0.3, 1e-12, 0.01);
    let general: Vec<(DynamicsKind, Box<dyn Stepper>)> = vec![
        (
            DynamicsKind::Sgd,
            Box::new(SdeStepper::new(Sgd::new(model.clone(), eta), EulerMaruyama, dt)),
        ),
        (
            DynamicsKind::Usam,
            Box::new(SdeStepper::new(Usam::new(model.clone(), eta, rho), EulerMaruyama, dt)),
        ),
        (
            DynamicsKind::SamFullbatch,
            Box::new(SdeStepper::new(
                SamFullbatch::new(model.clone(), eta, rho, eps),
                EulerMaruyama,
                dt,
            )),
        ),
        (
            DynamicsKind::Kim,
            Box::new(SdeStepper::new(
                Kim::new(model.landscape().as_ref(), model.noise(), &vec![0.0; d], eta, rho),
                EulerMaruyama,
                dt,
            )),
        ),
        (
            DynamicsKind::SgdDiscrete,
            Box::new(Discrete::new(model.clone(), DiscreteKind::Sgd, eta, rho, 0.0, eps)),
        ),
        (
            DynamicsKind::UsamDiscrete,
            Box::new(Discrete::new(model.clone(), DiscreteKind::Usam, eta, rho, 0.0, eps)),
        ),
        (
            DynamicsKind::SamDiscrete,
            Box::new(Discrete::new(model.clone(), DiscreteKind::Sam, eta, rho, 0.0, eps)),
        ),
    ];
    let ball = Region::ball(vec![0.0; d], 0.6).expect("ball");
    for (kind, reference) in general {
        let spec = DynamicsSpec::new(kind, eta).rho(rho);
        let built = build(&spec, &model, &em(dt), &vec![0.0; d], "dynamics.X").expect("builds");
        assert!(
            built.notes.iter().any(|n| n.contains("batched stepper")),
            "{kind:?} should be batched: {:?}",
            built.notes
        );
        let schedule = Schedule::new(built.dt, 3.0, 5);
        let p = plan(&model, Some(ball.clone()));
        let got = run_paths(built.stepper.as_ref(), &p, &schedule, 0..24);
        let want = run_paths(reference.as_ref(), &p, &schedule, 0..24);
        let mut exits = 0;
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.alive, w.alive, "{kind:?}");
            let scale = w.snaps.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let err = g
                .snaps
                .iter()
                .zip(&w.snaps)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                err <= 1e-12 * scale,
                "{kind:?}: max state difference {err:e} (scale {scale})"
            );
            assert_eq!(g.exit_time, w.exit_time, "{kind:?}");
            exits += usize::from(w.exit_time.is_some());
        }
        eprintln!("{kind:?}: {exits} of 24 paths left the ball");
        assert!(
            exits > 0,
            "{kind:?}: no path left the ball, so exit times were not compared"
        );
    }
}

/// A path is bit-identical whether it runs in a block of 256 paths or alone in a batch of 3 (each column of a
/// GEMM is computed from that column alone), and a whole run is bit-identical on 1 and 2 threads.
#[test]
fn batched_results_do_not_depend_on_the_batch_or_the_threads() {
    let model = saddle_model();
    let d = model.dim();
    let spec = DynamicsSpec::new(DynamicsKind::Usam, 0.05).rho(0.3);
    let built = build(&spec, &model, &em(0.01), &vec![0.0; d], "dynamics.X").expect("builds");
    let schedule = Schedule::new(0.01, 1.0, 3);
    let p = plan(&model, None);
    let block = run_paths(built.stepper.as_ref(), &p, &schedule, 0..BLOCK);
    let few = run_paths(built.stepper.as_ref(), &p, &schedule, 100..103);
    for (k, r) in few.iter().enumerate() {
        assert_eq!(r.snaps, block[100 + k].snaps, "path {}", 100 + k);
    }
    let entries = || {
        vec![samsde::ensemble::Entry {
            label: "USAM".into(),
            stepper: build(&spec, &model, &em(0.01), &vec![0.0; d], "dynamics.X")
                .unwrap()
                .stepper,
            schedule: schedule.clone(),
        }]
    };
    let e = ens(600, 3);
    let one = run_on(1, &e, &entries(), &p, 1.0);
    let two = run_on(2, &e, &entries(), &p, 1.0);
    assert_eq!(common::json(&one), common::json(&two));
    drop(pool(1));
}

/// A 40-D saddle (H with 6 negative eigenvalues, a centre and a full Σ₁, all from `.npy` files) run through a
/// model file: at T the mean and variance of every coordinate, for S-SGD1 and S-USAM, agree with the exact
/// law of the Euler–Maruyama recursion of the linear SDE (O1 mapping A = H (+ρH²), S = ηΣ_B (USAM:
/// η(I+ρH)Σ_B(I+ρH))) within 5 standard errors: SE(mean) = √(Cᵢᵢ/n), SE(variance) = Cᵢᵢ√(2/(n−1)) (the
/// recursion is exactly Gaussian). 2 × 40 × 2 comparisons at 5 SE: a false alarm has probability ≈ 1e−4.
#[test]
fn npy_saddle_in_40_dimensions_matches_the_exact_em_moments() {
    let d = 40;
    let lambda: Vec<f64> = (0..d)
        .map(|i| {
            if i < 6 {
                -0.2 - 0.1 * i as f64
            } else {
                0.1 * (i - 5) as f64
            }
        })
        .collect();
    let h = rotated(&lambda);
    let c: Vec<f64> = (0..d).map(|i| (i as f64 * 0.37).sin()).collect();
    let s1 = full_cov(d);
    let dir = scratch("npy-40d");
    npy::write(dir.join("H.npy"), &[d, d], &h).expect("H");
    npy::write(dir.join("theta.npy"), &[d], &c).expect("c");
    npy::write(dir.join("S.npy"), &[d, d], &s1).expect("S");
    let (eta, rho, batch, dt, t_end, paths): (f64, f64, f64, f64, f64, u64) = (0.1, 0.4, 2.0, 0.01, 1.0, 4000);
    let text = format!(
        "# 40-D saddle from files\nname = \"npy40\"\n[landscape]\nkind = \"quadratic\"\nhessian_file = \"H.npy\"\n\
         center_file = \"theta.npy\"\n[noise]\nkind = \"linear\"\ncovariance_file = \"S.npy\"\nbatch_size = {batch}\n\
         [[dynamics]]\nkind = \"sgd\"\nlr = {eta}\n[[dynamics]]\nkind = \"usam\"\nlr = {eta}\nrho = {rho}\n\
         [solver]\ndt = {dt}\nt_end = {t_end}\n[ensemble]\npaths = {paths}\nseed = 4\nstart = \"saddle\"\n\
         offset = [{}]\n[output]\nsnapshots = 2\nsample_paths = 0\n",
        (0..d)
            .map(|i| format!("{:.3}", 0.05 * ((i % 5) as f64 - 2.0)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(dir.join("model.toml"), text).expect("model");
    let exp = Experiment::load(&Source::read(&dir.join("model.toml")).expect("reads")).expect("loads");
    assert_eq!(exp.saddle.kind.label(), "index-6 saddle");
    assert!(
        exp.meta
            .iter()
            .all(|m| m.notes.iter().any(|n| n.contains("batched stepper")))
    );
    let obs = exp.run(2, false).expect("runs");
    let hm = DMatrix::from_row_slice(d, d, &h);
    let sigma_b = DMatrix::from_row_slice(d, d, &s1) / batch;
    let x0 = DVector::from_iterator(d, exp.plan.start.iter().zip(&c).map(|(a, b)| a - b));
    let steps = (t_end / dt).round() as usize;
    for (k, (kind, label)) in [(LinearKind::Sgd, "SGD"), (LinearKind::Usam, "USAM")]
        .into_iter()
        .enumerate()
    {
        let (a, s) = linear_model(kind, &hm, &sigma_b, eta, rho).expect("O1 mapping");
        let (m, cov) = em_moments(&a, &s, &x0, dt, steps).expect("EM moments");
        let e = obs.stats[k].moments.at.last().expect("snapshot at T").estimate();
        assert_eq!(e.n, paths);
        let n = paths as f64;
        let (mut worst_mean, mut worst_var) = (0.0f64, 0.0f64);
        for i in 0..d {
            let want_mean = m[i] + c[i];
            let se_mean = (cov[(i, i)] / n).sqrt();
            let zm = (e.mean[i] - want_mean) / se_mean;
            let se_var = cov[(i, i)] * (2.0 / (n - 1.0)).sqrt();
            let zv = (e.variances[i] - cov[(i, i)]) / se_var;
            assert!(
                zm.abs() < 5.0,
                "{label} mean x{i}: {} vs {want_mean} ({zm:+.2} SE)",
                e.mean[i]
            );
            assert!(
                zv.abs() < 5.0,
                "{label} variance x{i}: {} vs {} ({zv:+.2} SE)",
                e.variances[i],
                cov[(i, i)]
            );
            worst_mean = worst_mean.max(zm.abs());
            worst_var = worst_var.max(zv.abs());
        }
        eprintln!("{label}: worst |z| over 40 coordinates: mean {worst_mean:.2}, variance {worst_var:.2}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The landscape trait's Hessian–vector product of a quadratic is H v, without the d×d copy.
#[test]
fn quadratic_hessian_vector_is_h_times_v() {
    let lambda = [-1.0, 0.5, 2.0];
    let h = rotated(&lambda);
    let q = Quadratic::from_matrix(&h, 3, None).unwrap();
    let v = [0.3, -1.0, 2.0];
    let mut hv = [0.0; 3];
    q.hessian_vector(&[9.0, 9.0, 9.0], &v, &mut hv);
    for i in 0..3 {
        let want: f64 = (0..3).map(|j| h[i * 3 + j] * v[j]).sum();
        assert!((hv[i] - want).abs() < 1e-15);
    }
}

/// O1 in the eigenbasis (O(d²) per time, used by the report above d = 8) equals the matrix-exponential form
/// (Van Loan) rotated, for S-USAM on the 10-D saddle: mean and every covariance entry to 1e−10 relative, also
/// for a direction with aᵢ + aⱼ = 0 (a zero eigenvalue of A; the integral is then t).
#[test]
fn eigenbasis_ou_moments_equal_van_loan() {
    use samsde::theory::ou::{ou_moments, ou_moments_eigenbasis};
    let model = saddle_model();
    let d = model.dim();
    let (eta, rho, t) = (0.05, 0.3, 1.7);
    let sp = model.spectral().expect("quadratic");
    let q = DMatrix::from_row_slice(d, d, &sp.vectors);
    let sigma_b = DMatrix::from_row_slice(d, d, &model.noise().constant_covariance(d).unwrap());
    let h = DMatrix::from_row_slice(d, d, model.landscape().constant_hessian().unwrap());
    let (a, s) = linear_model(LinearKind::Usam, &h, &sigma_b, eta, rho).unwrap();
    let x0 = DVector::from_fn(d, |i, _| 0.1 * i as f64 - 0.4);
    let (m, c) = ou_moments(&a, &s, &x0, t).unwrap();
    let av: Vec<f64> = sp.values.iter().map(|l| l + rho * l * l).collect();
    let s_rot = q.transpose() * &s * &q;
    let s_rot: Vec<f64> = (0..d * d).map(|k| s_rot[(k / d, k % d)]).collect();
    let y0 = q.transpose() * &x0;
    let (y, cr) = ou_moments_eigenbasis(&av, &s_rot, y0.as_slice(), t, true).unwrap();
    let mean = &q * DVector::from_vec(y);
    let cov = &q * DMatrix::from_row_slice(d, d, &cr) * q.transpose();
    assert!((&mean - &m).amax() <= 1e-10 * m.amax(), "mean");
    assert!((&cov - &c).amax() <= 1e-10 * c.amax(), "cov {:e}", (&cov - &c).amax());
    // a = (−1, 1): a₀ + a₁ = 0 gives C̃₀₁ = S̃₀₁ t.
    let (_, c2) = ou_moments_eigenbasis(&[-1.0, 1.0], &[1.0, 0.5, 0.5, 2.0], &[0.0, 0.0], 2.0, true).unwrap();
    assert_eq!(c2[1], 0.5 * 2.0);
    assert!((c2[0] - (2.0f64 * 2.0).exp_m1() / 2.0).abs() < 1e-12);
}
