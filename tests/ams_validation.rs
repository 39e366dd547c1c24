//! Validation of the AMS estimators (issue 11) against the exact 1-D first-passage values of the spec
//! (O6 integrals; O7, O8, O9, O10), brute force on the same Markov chain, gambler's ruin (ties), and the
//! reproducibility / replay guarantees.
//!
//! Budget: about 25 s in release on 2 idle cores (most of it in the two coverage tests and the dt study);
//! every Monte Carlo tolerance is stated in standard errors or as the 10 %.
//!
//! Euler–Maruyama bias. The exact values are for the continuous process. With smooth noise (O8, O9) the
//! bias at dt = 0.01 is below the resolution of these tests (offline, 100 repetitions of the default
//! configuration: O8 s² = 0.05 −0.4 % ± 0.35 %, O8 s² = 0.1 −0.3 % ± 0.3 %, O9 +0.3 % ± 0.3 %; at dt = 0.04,
//! O8 s² = 0.1 is −1.6 % ± 0.4 %). O10's discontinuous noise makes EM converge with weak order 1/2 and the
//! bias is visible (−5.6 % at dt = 0.01); `o10_piecewise_noise_mfpt_and_dt_bias` shows it and removes it.

mod ams_support;

use ams_support::*;
use samsde::ams::{self, AmsConfig, AmsError, BallCommittor, Estimator, Fallback, MeanExitEstimate, Process, SetA};
use samsde::brownian::PathRng;

const TOL_REL: f64 = 0.10;

fn cfg(seed: u64) -> AmsConfig {
    AmsConfig {
        seed,
        fallback: Fallback::Never,
        ..AmsConfig::default()
    }
}

fn o8(s2: f64, dt: f64) -> Em1d<fn(f64) -> f64, impl Fn(f64) -> f64 + Sync> {
    Em1d::new(double_well_drift as fn(f64) -> f64, move |_| s2.sqrt(), -1.0, dt)
}

fn identity(y: &f64) -> f64 {
    *y
}

fn abs(y: &f64) -> f64 {
    y.abs()
}

/// Asserts |est/exact − 1| < 10 %, |est − exact| < 5 SE, and that the 95 % interval is informative.
fn check_exact(name: &str, est: &MeanExitEstimate, exact: f64) {
    let rel = est.mean_time / exact - 1.0;
    println!(
        "{name}: {:.2} [{:.2}, {:.2}] vs exact {exact:.2} ({:+.2} %), p = {:.3e}, a = {:.4}, iterations {}",
        est.mean_time,
        est.ci95.0,
        est.ci95.1,
        100.0 * rel,
        est.escape_probability,
        est.levels.0,
        est.iterations
    );
    assert_eq!(est.estimator, Estimator::Ams);
    assert!(rel.abs() < TOL_REL, "{name}: relative error {rel}");
    // One estimate must be consistent with the exact value: within 5 standard errors. (That the 95 %
    // interval covers 95 % of the time is the coverage tests' job; asking one run's interval to cover fails
    // one run in twenty whenever the random numbers change — in issue 12 this one missed at −2.2 SE.)
    assert!(
        (est.mean_time - exact).abs() < 5.0 * est.std_error,
        "{name}: {} ± {} is more than 5 SE from {exact}",
        est.mean_time,
        est.std_error
    );
    assert!(
        est.ci95.1 / est.ci95.0 < 1.5,
        "{name}: interval {:?} too wide to mean anything",
        est.ci95
    );
}

#[test]
fn o8_double_well_mfpt_1e5() {
    let exact = exact_mfpt(double_well_drift, |_| 0.05, -2.5, 1.0, -1.0, &[]);
    let est = ams::mean_exit_time(&o8(0.05, 0.01), &identity, 1.0, &cfg(11)).unwrap();
    check_exact("O8 s²=0.05", &est, exact);
}

#[test]
fn o8_double_well_mfpt_730() {
    let exact = exact_mfpt(double_well_drift, |_| 0.1, -2.5, 1.0, -1.0, &[]);
    let est = ams::mean_exit_time(&o8(0.1, 0.01), &identity, 1.0, &cfg(12)).unwrap();
    check_exact("O8 s²=0.1", &est, exact);
}

#[test]
fn o9_usam_trap_mfpt() {
    let d = usam_drift(2.0);
    let exact = exact_mfpt(d, |_| 0.01, 0.0, 1.0, 0.0, &[]);
    let est = ams::mean_exit_time(&Em1d::new(d, |_| 0.1, 0.0, 0.01), &abs, 1.0, &cfg(13)).unwrap();
    check_exact("O9 ρ=2 s²=0.01", &est, exact);
}

#[test]
fn o9_with_a_separate_entrance_level() {
    // Cérou et al.'s two-level form: A = {|y| < 0.1}, excursions start on entering {|y| ≥ 0.2}.
    let d = usam_drift(2.0);
    let exact = exact_mfpt(d, |_| 0.01, 0.0, 1.0, 0.0, &[]);
    let c = AmsConfig {
        set_a: SetA::Level(0.1),
        entry_level: Some(0.2),
        ..cfg(14)
    };
    let est = ams::mean_exit_time(&Em1d::new(d, |_| 0.1, 0.0, 0.01), &abs, 1.0, &c).unwrap();
    assert_eq!(est.levels, (0.1, 0.2, 1.0));
    check_exact("O9 two-level", &est, exact);
}

#[test]
fn o10_piecewise_noise_mfpt_and_dt_bias() {
    // With the discontinuous O10 noise, EM converges with weak order 1/2: offline (20 repetitions each, default
    // config) the relative error was −20 %, −12.3 %, −9.0 %, −5.6 %, −3.6 %, −2.9 % (± 0.7 %) at dt = 0.08, 0.04,
    // 0.02, 0.01, 0.005, 0.0025, i.e. ≈ −0.56·√dt. Here:
    // - dt = 0.0025 (default R = 20): within 10 % of the exact value;
    // - dt = 0.04 (R = 80): the bias is resolved (> 4 SE); dt = 0.01 (R = 80): it has shrunk (> 3 combined SE);
    // - Richardson in √dt, 2·τ(0.01) − τ(0.04), removes it: the extrapolation is within 3 SE of the exact value.
    let exact = exact_mfpt(double_well_drift, |y| o10_sigma(y).powi(2), -2.5, 1.0, -1.0, &[-0.5]);
    let run = |dt: f64, replicas: usize| {
        let c = AmsConfig { replicas, ..cfg(15) };
        ams::mean_exit_time(&Em1d::new(double_well_drift, o10_sigma, -1.0, dt), &identity, 1.0, &c).unwrap()
    };
    let fine = run(0.0025, 20);
    let rel = fine.mean_time / exact - 1.0;
    println!(
        "O10 dt=0.0025: {:.1} {:?} ({:+.2} %)",
        fine.mean_time,
        fine.ci95,
        100.0 * rel
    );
    assert!(rel.abs() < TOL_REL);
    let (coarse, mid) = (run(0.04, 80), run(0.01, 80));
    let extrap = 2.0 * mid.mean_time - coarse.mean_time;
    let se_extrap = (2.0 * mid.std_error).hypot(coarse.std_error);
    println!(
        "O10: dt=0.04 {:.1} ± {:.1}, dt=0.01 {:.1} ± {:.1}, extrapolated {extrap:.1} ± {se_extrap:.1}, exact {exact:.2}",
        coarse.mean_time, coarse.std_error, mid.mean_time, mid.std_error
    );
    assert!(exact - coarse.mean_time > 4.0 * coarse.std_error);
    assert!(mid.mean_time - coarse.mean_time > 3.0 * coarse.std_error.hypot(mid.std_error));
    assert!((extrap - exact).abs() < 3.0 * se_extrap);
}

/// Runs 20 independent repetitions (seeds base..base+20) and counts how often the 95 % interval covers.
fn coverage<P: Process<State = f64>>(p: &P, xi: fn(&f64) -> f64, exact: f64, base: u64) -> usize {
    let mut hits = 0;
    for s in base..base + 20 {
        let est = ams::mean_exit_time(p, &xi, 1.0, &cfg(s)).unwrap();
        hits += usize::from(est.ci95.0 <= exact && exact <= est.ci95.1);
    }
    println!("coverage {hits}/20");
    hits
}

#[test]
fn coverage_o8_1e5_at_least_17_of_20() {
    // At nominal 95 % coverage P(≥ 17 of 20) = 0.98; offline 200 repetitions covered 192 times.
    let exact = exact_mfpt(double_well_drift, |_| 0.05, -2.5, 1.0, -1.0, &[]);
    assert!(coverage(&o8(0.05, 0.01), identity, exact, 100) >= 17);
}

#[test]
fn coverage_o9_at_least_17_of_20() {
    // Offline 200 repetitions covered 188 times.
    let d = usam_drift(2.0);
    let exact = exact_mfpt(d, |_| 0.01, 0.0, 1.0, 0.0, &[]);
    assert!(coverage(&Em1d::new(d, |_| 0.1, 0.0, 0.01), abs, exact, 200) >= 17);
}

/// f = x² − y² with the full-batch SAM drift −(Hx + ρH²x/‖Hx‖) and additive noise s dW (spec O7, 2-D):
/// b = (−2x − 2ρx/r, 2y − 2ρy/r), r = ‖x‖; the normalised term is 0 at r = 0.
fn o7_2d(rho: f64, s2: f64, dt: f64) -> Em2d<impl Fn([f64; 2]) -> [f64; 2] + Sync> {
    Em2d {
        drift: move |x: [f64; 2]| {
            let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
            let g = if r > 0.0 { 2.0 * rho / r } else { 0.0 };
            [-2.0 * x[0] - g * x[0], 2.0 * x[1] - g * x[1]]
        },
        s: s2.sqrt(),
        x0: [0.0, 0.0],
        dt,
    }
}

#[test]
fn o7_2d_sam_agrees_with_direct() {
    // Mean exit time ≈ 18 (spec O7 2-D table: 17.77 ± 0.25 at h = 2.5e−4), entrance points spread in x.
    // AMS (fallback off) and brute force on the same chain must agree within 5 combined SE.
    let p = o7_2d(0.2, 0.02, 0.002);
    let xi = |x: &[f64; 2]| x[1].abs();
    let est = ams::mean_exit_time(&p, &xi, 1.0, &cfg(17)).unwrap();
    let dir = ams::direct_exit_time(&p, &xi, 1.0, 4000, 10_000_000, 17).unwrap();
    let se = est.std_error.hypot(dir.std_error);
    println!(
        "O7 2-D: AMS {:.3} ± {:.3} (p = {:.3e}, T0 = {:.2}, L = {:.3}), direct {:.3} ± {:.3}",
        est.mean_time,
        est.std_error,
        est.escape_probability,
        est.mean_approach_time,
        est.mean_loop_time,
        dir.mean,
        dir.std_error
    );
    assert_eq!(est.estimator, Estimator::Ams);
    assert_eq!(dir.censored, 0);
    assert!((est.mean_time - dir.mean).abs() < 5.0 * se);
    assert!(est.std_error / est.mean_time < 0.05);
}

#[test]
fn o8_agrees_with_direct_on_the_same_chain() {
    // Same Euler chain (dt = 0.02), so the discretisation bias cancels: renewal formula + AMS against brute
    // force, within 5 combined SE.
    let p = o8(0.1, 0.02);
    let est = ams::mean_exit_time(&p, &identity, 1.0, &cfg(18)).unwrap();
    let dir = ams::direct_exit_time(&p, &identity, 1.0, 2000, 100_000_000, 18).unwrap();
    let se = est.std_error.hypot(dir.std_error);
    println!(
        "O8 dt=0.02: AMS {:.2} ± {:.2}, direct {:.2} ± {:.2}",
        est.mean_time, est.std_error, dir.mean, dir.std_error
    );
    assert_eq!(dir.censored, 0);
    assert!((est.mean_time - dir.mean).abs() < 5.0 * se);
}

#[test]
fn fallback_picks_direct_when_b_is_frequent() {
    // O7 1-D, ρ = 0.1, s² = 0.02: exact 3.6068; B is hit in a large fraction of excursions.
    let d = |y: f64| 2.0 * y - 0.2 * y.signum();
    let exact = exact_mfpt(|y| 2.0 * y - 0.2, |_| 0.02, 0.0, 1.0, 0.0, &[]);
    let p = Em1d::new(d, |_| 0.02f64.sqrt(), 0.0, 0.002);
    let c = AmsConfig {
        fallback: Fallback::Auto,
        ..cfg(19)
    };
    let est = ams::mean_exit_time(&p, &abs, 1.0, &c).unwrap();
    println!(
        "O7 1-D ρ=0.1 fallback: {:.4} {:?} vs {exact:.4}",
        est.mean_time, est.ci95
    );
    assert_eq!(est.estimator, Estimator::Direct);
    assert!((est.mean_time / exact - 1.0).abs() < 0.03);
    // Fallback::Never on the same problem: AMS agrees with the direct estimate within 5 combined SE.
    let c = AmsConfig {
        fallback: Fallback::Never,
        ..c
    };
    let a = ams::mean_exit_time(&p, &abs, 1.0, &c).unwrap();
    assert_eq!(a.estimator, Estimator::Ams);
    assert!((a.mean_time - est.mean_time).abs() < 5.0 * a.std_error.hypot(est.std_error));
}

#[test]
fn basin_probability_matches_scale_function() {
    // P(reach B = ball(+1, 0.2) before returning to A = ball(−1, 0.2)) from y0 = −0.6 in the double well with
    // s² = 0.025 (≈ 8.7e−7) against (S(y0) − S(−0.8))/(S(0.8) − S(−0.8)) (spec O6), with the committor-style
    // coordinate ξ = u/(u + v) (levels 0 and 1). EM bias (offline, 40 repetitions each): dt = 0.02 → −6.4 %,
    // 0.01 → −2.7 %, 0.005 → −2.0 %, 0.0025 → −0.5 % ± 0.5 %; relative SE of one estimate ≈ 3.5 %.
    let exact = exact_exit_probability(double_well_drift, |_| 0.025, -0.8, 0.8, -0.6);
    let p = Em1d::new(double_well_drift, |_| 0.025f64.sqrt(), -0.6, 0.0025);
    let bc = BallCommittor {
        a_centre: vec![-1.0],
        a_radius: 0.2,
        b_centre: vec![1.0],
        b_radius: 0.2,
    };
    let xi = |y: &f64| bc.at(std::slice::from_ref(y));
    let est = ams::probability(&p, &xi, 0.0, 1.0, &cfg(20)).unwrap();
    println!(
        "basin: {:.4e} {:?} ± {:.2e} vs exact {exact:.4e}",
        est.probability, est.ci95, est.std_error
    );
    assert!((est.probability / exact - 1.0).abs() < TOL_REL);
    assert!((est.probability - exact).abs() < 5.0 * est.std_error);
}

/// Biased random walk on ℤ: +1 with probability `up`, −1 otherwise. ξ = position: integer levels, so
/// almost every iteration has ties.
struct Walk {
    up: f64,
    x0: f64,
}

impl Process for Walk {
    type State = f64;
    type Scratch = ();
    fn scratch(&self) {}
    fn start(&self, _: &mut PathRng) -> f64 {
        self.x0
    }
    fn step(&self, x: &mut f64, rng: &mut PathRng, _: &mut ()) {
        *x += if samsde::brownian::uniform(rng) < self.up {
            1.0
        } else {
            -1.0
        };
    }
    fn time_step(&self) -> f64 {
        1.0
    }
}

#[test]
fn ties_gamblers_ruin_is_unbiased_for_any_n_and_k() {
    // P(hit 12 before 0 | start 1), up = 0.4: (1 − r)/(1 − r¹²), r = 1.5. Levels are integers, so kills come in
    // tied blocks; the generalized estimator (kill all ≤ Z_q, weight 1 − K_q/N) must stay unbiased even at
    // N = 2. The naive weight (1 − k/N)^Q would be far off, which shows the test can fail.
    let r: f64 = 1.5;
    let exact = (1.0 - r) / (1.0 - r.powi(12));
    let walk = Walk { up: 0.4, x0: 1.0 };
    for (n, k, reps, seed) in [
        (2, 1, 40_000, 31),
        (10, 1, 8_000, 32),
        (10, 4, 8_000, 33),
        (50, 10, 2_000, 34),
    ] {
        let c = AmsConfig {
            particles: n,
            killed: k,
            replicas: reps,
            ..cfg(seed)
        };
        let est = ams::probability(&walk, &identity, 1.0, 12.0, &c).unwrap();
        let naive: Vec<f64> = est
            .runs
            .iter()
            .map(|run| (1.0 - k as f64 / n as f64).powi(run.iterations as i32) * run.successes as f64 / n as f64)
            .collect();
        let naive_mean = naive.iter().sum::<f64>() / naive.len() as f64;
        let ties: usize = est.runs.iter().map(|r| r.tied_iterations).sum();
        println!(
            "N={n} k={k}: {:.4e} ± {:.1e} vs exact {exact:.4e}; naive {naive_mean:.3e}; tied iterations {ties}; extinct {}",
            est.probability, est.std_error, est.extinct_replicas
        );
        assert!((est.probability - exact).abs() < 5.0 * est.std_error);
        assert!(est.std_error / exact < 0.05);
        if n == 2 {
            // K ∈ {1, 2}: a tie is an extinction (p̂ = 0), part of the unbiased estimator.
            assert!(est.extinct_replicas > 0);
        } else {
            assert!(ties > 0);
            assert!((naive_mean - exact).abs() > 10.0 * est.std_error);
        }
    }
}

#[test]
fn same_seed_same_estimate_at_any_thread_count() {
    let d = usam_drift(2.0);
    let p = Em1d::new(d, |_| 0.1, 0.0, 0.01);
    let c = AmsConfig {
        killed: 8,
        replicas: 6,
        ..cfg(22)
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| ams::mean_exit_time(&p, &abs, 1.0, &c).unwrap())
    };
    let key = |e: &MeanExitEstimate| {
        let mut v = vec![
            e.mean_time.to_bits(),
            e.ci95.0.to_bits(),
            e.ci95.1.to_bits(),
            e.levels.0.to_bits(),
        ];
        v.extend(
            e.per_replica
                .iter()
                .map(|r| r.ams.as_ref().unwrap().probability.to_bits()),
        );
        v
    };
    let one = key(&run(1));
    assert_eq!(one, key(&run(2)));
    assert_eq!(one, key(&run(3)));
    // and a different seed gives a different estimate
    let other = ams::mean_exit_time(&p, &abs, 1.0, &AmsConfig { seed: 23, ..c }).unwrap();
    assert_ne!(one[0], other.mean_time.to_bits());
}

#[test]
fn replay_from_sparse_checkpoints_is_bit_identical() {
    // Storing a state at every record (spacing 0), every 0.05 in ξ, or only at segment starts (∞) must give
    // the same estimate bit for bit; sparser storage means fewer stored states and some replayed steps.
    let p = o7_2d(0.2, 0.02, 0.005);
    let xi = |x: &[f64; 2]| x[1].abs();
    let run = |spacing: f64| {
        let c = AmsConfig {
            replicas: 4,
            checkpoint_spacing: spacing,
            ..cfg(24)
        };
        ams::mean_exit_time(&p, &xi, 1.0, &c).unwrap()
    };
    let runs = [run(0.0), run(0.05), run(f64::INFINITY)];
    let stored = |e: &MeanExitEstimate| {
        e.per_replica
            .iter()
            .map(|r| r.ams.as_ref().unwrap().peak_checkpoints)
            .max()
    };
    let replayed = |e: &MeanExitEstimate| {
        e.per_replica
            .iter()
            .map(|r| r.ams.as_ref().unwrap().replay_steps)
            .sum::<u64>()
    };
    for e in &runs[1..] {
        assert_eq!(e.mean_time.to_bits(), runs[0].mean_time.to_bits());
        assert!(replayed(e) > 0);
        assert!(stored(e) < stored(&runs[0]));
    }
    assert_eq!(replayed(&runs[0]), 0);
    assert_eq!(stored(&runs[2]), Some(500), "one state per particle");
}

#[test]
fn invalid_inputs_are_errors() {
    let p = o8(0.1, 0.01);
    let bad = |c: AmsConfig| ams::mean_exit_time(&p, &identity, 1.0, &c);
    assert!(matches!(
        bad(AmsConfig { killed: 500, ..cfg(1) }),
        Err(AmsError::InvalidConfig { .. })
    ));
    assert!(matches!(
        bad(AmsConfig { replicas: 1, ..cfg(1) }),
        Err(AmsError::InvalidConfig { .. })
    ));
    assert!(matches!(
        bad(AmsConfig {
            set_a: SetA::Level(-1.5),
            ..cfg(1)
        }),
        Err(AmsError::StartOutsideA { .. })
    ));
    assert!(matches!(
        bad(AmsConfig {
            max_iterations: 10,
            ..cfg(1)
        }),
        Err(AmsError::MaxIterations { .. })
    ));
}

#[test]
fn o8_through_the_project_stepper_and_exit_coordinate() {
    // The project's S-SGD1 stepper (Euler–Maruyama, dt = 0.01) on the double-well landscape f = ¼y⁴ − ½y² + ½x²
    // with isotropic noise σ₁ = 1, B = 1, η = 0.05 (s² = ησ₁²/B = 0.05 in y; x is an independent OU), driven by
    // `StepperProcess` from the minimum (0, −1). Exit region: the slab |y + 1| < 2 centred there, whose
    // default coordinate is |y + 1| (exit at y = +1; y = −3 is never reached), so E τ = O8 MFPT(−1 → +1).
    use samsde::ams::{ExitCoordinate, StepperProcess};
    use samsde::model::landscape::DoubleWell;
    use samsde::model::noise::Noise;
    use samsde::model::{Model, Region};
    use samsde::setup::{DynamicsKind, DynamicsSpec, build};
    use samsde::solver::{SolverKind, SolverSpec};
    use std::sync::Arc;
    let model = Model::new(Arc::new(DoubleWell::default()), Noise::isotropic(1.0, 1.0).unwrap()).unwrap();
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt: 0.01,
        allow_dropping_areas: false,
    };
    let spec = DynamicsSpec::new(DynamicsKind::Sgd, 0.05);
    let stepper = build(&spec, &model, &solver, &[0.0, 0.0], "dynamics.SGD")
        .unwrap()
        .stepper;
    let start = [0.0, -1.0];
    let process = StepperProcess::new(stepper.as_ref(), &start, 0.0);
    let xi = ExitCoordinate::new(Region::slab(start.to_vec(), vec![0.0, 1.0], 2.0).unwrap());
    let est = ams::mean_exit_time(&process, &xi, xi.target(), &cfg(25)).unwrap();
    let exact = exact_mfpt(double_well_drift, |_| 0.05, -2.5, 1.0, -1.0, &[]);
    check_exact("O8 via the SGD stepper", &est, exact);
}

#[test]
fn brownian_bridge_flag_removes_the_monitoring_bias() {
    // S-USAM trapped at the 1-D saddle f = −y² (λ = −2, ρ = 0.75 > 1/|λ|, η = 0.01, isotropic σ₁² = 50): the
    // linear SDE dY = −κ'Y dt + s dW with κ' = 1, s² = η(1 + ρλ)²σ₁² = 0.125, exit at |y| = 1 (a slab). Its
    // Euler–Maruyama chain at dt = 0.01 is *exactly* the OU process with κ'' = −ln(1 − κ'dt)/dt and
    // s''² = 2κ''s²dt/(1 − (1 − κ'dt)²) sampled every dt, whose exact MFPT (O5 with κ = −κ'') is the target.
    // Checking the exit only at step times misses excursions beyond the boundary between steps (+30 % here);
    // the Brownian-bridge flag of `StepperProcess::with_bridge` removes that bias (what remains is the
    // bridge's O(dt) approximation of the OU bridge).
    use samsde::ams::{ExitCoordinate, StepperProcess};
    use samsde::model::landscape::Quadratic;
    use samsde::model::noise::Noise;
    use samsde::model::{Model, Region};
    use samsde::setup::{DynamicsKind, DynamicsSpec, build};
    use samsde::solver::{SolverKind, SolverSpec};
    use samsde::theory::first_passage::inverted_ou_mfpt;
    use std::sync::Arc;
    let model = Model::new(
        Arc::new(Quadratic::diagonal(&[-2.0]).unwrap()),
        Noise::isotropic(50f64.sqrt(), 1.0).unwrap(),
    )
    .unwrap();
    let dt = 0.01;
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    };
    let spec = DynamicsSpec::new(DynamicsKind::Usam, 0.01).rho(0.75);
    let stepper = build(&spec, &model, &solver, &[0.0], "dynamics.USAM").unwrap().stepper;
    let (k1, s2): (f64, f64) = (1.0, 0.125);
    let k2 = -(1.0 - k1 * dt).ln() / dt;
    let s2_chain = 2.0 * k2 * s2 * dt / (1.0 - (1.0 - k1 * dt).powi(2));
    let exact = inverted_ou_mfpt(-k2, s2_chain, 1.0).unwrap();
    let region = Region::slab(vec![0.0], vec![1.0], 1.0).unwrap();
    let start = [0.0];
    let run = |bridge: bool| {
        let mut p = StepperProcess::new(stepper.as_ref(), &start, 0.0);
        if bridge {
            p = p.with_bridge(&region);
        }
        let xi = ExitCoordinate::new(region.clone()).with_bridge_flag(p.flag_index());
        ams::mean_exit_time(&p, &xi, xi.target(), &cfg(26)).unwrap()
    };
    let (with, without) = (run(true), run(false));
    println!(
        "OU trap at dt = {dt}: exact {exact:.1}; bridge {:.1} ± {:.1}; step times only {:.1} ± {:.1}",
        with.mean_time, with.std_error, without.mean_time, without.std_error
    );
    assert!((with.mean_time - exact).abs() < 5.0 * with.std_error);
    assert!(without.mean_time - exact > 5.0 * without.std_error);
}
