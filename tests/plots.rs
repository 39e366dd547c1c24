//! Figures rendered from a synthetic report: every PNG decodes with the expected size and is not blank;
//! degenerate data (NaN, empty, single points, zero ranges, d = 1, d = 3) does not panic.

mod common;

use common::{assert_figure, assert_svg, scratch, svg_texts};
use samsde::model::landscape::Quadratic;
use samsde::plot::chart::{self, Figure, Mark, Series};
use samsde::plot::phase::phase_diagram;
use samsde::plot::render_all;
use samsde::report::*;
use samsde::stats::{BasinEstimate, ExitEstimate};

/// Small deterministic generator (LCG + Box–Muller) so the test needs no extra crates.
struct Gen(u64);
impl Gen {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn dynamics_summary(label: &str, kind: &str, rho: f64, exit_mean: f64, basins: Vec<BasinEstimate>) -> DynamicsSummary {
    DynamicsSummary {
        label: label.into(),
        kind: kind.into(),
        lr: 0.01,
        rho,
        momentum: 0.0,
        dt: 0.01,
        solver: "euler_maruyama".into(),
        strong_order: Some(0.5),
        structure: Some("additive".into()),
        notes: vec![],
        final_moments: FinalMoments {
            t: 2.0,
            n: 40,
            mean: Some(vec![0.0, 0.0]),
            cov: Some(vec![vec![1.0, 0.0], vec![0.0, 1.0]]),
            mean_stderr: Some(vec![0.1, 0.1]),
        },
        width: Width {
            trace: Some(1.0),
            trace_stderr: Some(0.1),
            eigenvalues: Some(vec![0.5, 0.5]),
            msd: Some(1.0),
            msd_stderr: Some(0.1),
        },
        exit: Some(ExitSummary {
            estimate: ExitEstimate {
                exited: 30,
                censored: 10,
                censored_fraction: Some(0.25),
                horizon: 2.0,
                restricted_mean_time: Some(exit_mean),
                restricted_mean_time_stderr: Some(0.05),
                restricted_ci95: Some([exit_mean - 0.1, exit_mean + 0.1]),
                median_time: Some(exit_mean),
                estimator: "restricted_mean".into(),
                ..ExitEstimate::default()
            },
            correction: "none".into(),
            ams: None,
        }),
        basins,
        diverged: 0,
        paired: None,
        theory: Some(Theory {
            exit_mean_time: Some(exit_mean * 1.1),
            ..Theory::default()
        }),
        snr_median: Some(0.5),
    }
}

/// Two dynamics of dX = (−x, y) dt + σ dW (the gradient flow of f = (x² − y²)/2 plus noise), 40 paths each.
fn synthetic_report() -> Report {
    let (n, dt, steps, every) = (40usize, 0.01, 200usize, 10usize);
    let mut g = Gen(7);
    let mut moments = Vec::new();
    let mut survival = Vec::new();
    let mut basins = Vec::new();
    let mut paths = Vec::new();
    let mut dyn_summaries = Vec::new();
    for (label, kind, sigma, rho) in [("SGD", "sgd", 0.3, 0.0), ("USAM", "usam", 0.6, 0.05)] {
        let mut x = vec![[0.0f64, 0.0f64]; n];
        let mut exit: Vec<Option<f64>> = vec![None; n];
        for s in 0..=steps {
            let t = s as f64 * dt;
            if s > 0 {
                for (k, p) in x.iter_mut().enumerate() {
                    p[0] += -p[0] * dt + sigma * dt.sqrt() * g.normal();
                    p[1] += p[1] * dt + sigma * dt.sqrt() * g.normal();
                    if exit[k].is_none() && p[1].abs() > 1.0 {
                        exit[k] = Some(t);
                    }
                }
            }
            if s % every == 0 {
                let nf = n as f64;
                let m = [
                    x.iter().map(|p| p[0]).sum::<f64>() / nf,
                    x.iter().map(|p| p[1]).sum::<f64>() / nf,
                ];
                let mut c = [0.0; 4];
                for p in &x {
                    let d = [p[0] - m[0], p[1] - m[1]];
                    for i in 0..2 {
                        for j in 0..2 {
                            c[2 * i + j] += d[i] * d[j] / (nf - 1.0);
                        }
                    }
                }
                let msd = x.iter().map(|p| p[0] * p[0] + p[1] * p[1]).sum::<f64>() / nf;
                let v = sigma * sigma / 2.0;
                moments.push(MomentRow {
                    label: label.into(),
                    t,
                    n: n as u64,
                    mean: m.to_vec(),
                    cov: c.to_vec(),
                    trace: c[0] + c[3],
                    trace_stderr: (c[0] + c[3]) * (2.0 / nf).sqrt(),
                    eigenvalues: vec![c[0].min(c[3]), c[0].max(c[3])],
                    msd,
                    msd_stderr: msd * (2.0 / nf).sqrt(),
                    theory_trace: Some(v * (1.0 - (-2.0 * t).exp()) + v * ((2.0 * t).exp() - 1.0)),
                    theory_msd: Some(v * (1.0 - (-2.0 * t).exp()) + v * ((2.0 * t).exp() - 1.0)),
                    width_ratio: None,
                    msd_difference: None,
                    msd_difference_stderr: None,
                });
                for (k, p) in x.iter().enumerate() {
                    paths.push(PathRow {
                        label: label.into(),
                        path: k as u64,
                        t,
                        x: p.to_vec(),
                    });
                }
            }
        }
        // Kaplan–Meier without censoring before T: S drops by 1/n at each exit time.
        let mut times: Vec<f64> = exit.iter().flatten().copied().collect();
        times.sort_by(f64::total_cmp);
        let mut at_risk = n as u64;
        survival.push(SurvivalRow {
            label: label.into(),
            t: 0.0,
            survival: 1.0,
            at_risk,
            exits: 0,
        });
        for t in &times {
            survival.push(SurvivalRow {
                label: label.into(),
                t: *t,
                survival: (at_risk - 1) as f64 / n as f64,
                at_risk,
                exits: 1,
            });
            at_risk -= 1;
        }
        let up = x.iter().zip(&exit).filter(|(p, e)| e.is_some() && p[1] > 0.0).count() as u64;
        let down = x.iter().zip(&exit).filter(|(p, e)| e.is_some() && p[1] <= 0.0).count() as u64;
        let trapped = n as u64 - up - down;
        let mut est = Vec::new();
        for (class, count, point) in [
            ("min_up", up, Some(vec![0.0, 1.5])),
            ("min_down", down, Some(vec![0.0, -1.5])),
            ("trapped", trapped, None),
        ] {
            let [lo, hi] = samsde::stats::basins::clopper_pearson(count, n as u64);
            let p = count as f64 / n as f64;
            basins.push(BasinRow {
                label: label.into(),
                class: class.into(),
                count,
                probability: p,
                ci_lo: lo,
                ci_hi: hi,
            });
            est.push(BasinEstimate {
                label: class.into(),
                point,
                count,
                probability: p,
                ci95: [lo, hi],
            });
        }
        let mean_exit = times.iter().sum::<f64>() / times.len().max(1) as f64;
        dyn_summaries.push(dynamics_summary(label, kind, rho, mean_exit, est));
    }
    Report {
        summary: Summary {
            samsde_version: "0.1.0".into(),
            model: "quadratic saddle".into(),
            seed: 7,
            paths: n as u64,
            threads: 1,
            wall_seconds: 0.1,
            landscape: "quadratic".into(),
            variables: vec!["x".into(), "y".into()],
            noise: "isotropic".into(),
            landscape_parameters: None,
            noise_parameters: None,
            saddle: vec![0.0, 0.0],
            saddle_eigenvalues: vec![-1.0, 1.0],
            t_end: 2.0,
            exit_region: None,
            dynamics: dyn_summaries,
            warnings: vec![],
            sharding: None,
        },
        moments,
        survival,
        basins,
        paths,
    }
}

const NAMES: [&str; 5] = [
    "trajectories.png",
    "cloud.png",
    "width.png",
    "exit_times.png",
    "basins.png",
];

#[test]
fn render_all_writes_every_figure() {
    let dir = scratch("plots-all");
    let report = synthetic_report();
    let f = Quadratic::diagonal(&[1.0, -1.0]).unwrap();
    let written = render_all(&report, Some(&f), &dir).unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, NAMES);
    for p in &written {
        assert_figure(p);
    }
    if std::env::var_os("SAMSDE_KEEP_PLOTS").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("figures in {}", dir.display());
    }
}

#[test]
fn line_chart_and_phase_diagram() {
    let dir = scratch("plots-sweep");
    let mut series: Vec<Series> = ["SGD", "USAM", "SAM"]
        .iter()
        .enumerate()
        .map(|(k, l)| {
            let pts: Vec<(f64, f64, f64, f64)> = (0..8)
                .map(|i| {
                    let rho = 0.1 * i as f64;
                    let y = 1.0 / (1.0 + (k as f64 + 1.0) * rho);
                    (rho, y, y - 0.05, y + 0.05)
                })
                .collect();
            Series::measured(*l, k, &pts)
        })
        .collect();
    let closed: Vec<(f64, f64)> = (0..=70)
        .map(|i| (0.01 * i as f64, 1.0 / (1.0 + 0.01 * i as f64)))
        .collect();
    series.push(Series::new("closed form", 0, Mark::Dashed, closed));
    let p = dir.join("sweep.png");
    let fig = Figure {
        title: "quadratic saddle: escape vs ρ".into(),
        x_label: "radius ρ".into(),
        y_label: "escape probability".into(),
        hlines: vec![0.5],
        series,
        ..Figure::default()
    };
    chart::render(&fig, &p).unwrap();
    assert_figure(&p);

    let xs: Vec<f64> = (0..20).map(|i| 0.01 + 0.01 * i as f64).collect();
    let ys: Vec<f64> = (0..15).map(|i| 0.1 * i as f64).collect();
    let values: Vec<Vec<f64>> = ys
        .iter()
        .map(|&rho| {
            xs.iter()
                .map(|&eta| 1.0 / (1.0 + (8.0 * (rho - 20.0 * eta)).exp()))
                .collect()
        })
        .collect();
    let boundary = |eta: f64| 20.0 * eta;
    let p = dir.join("phase.png");
    phase_diagram(
        &p,
        "learning rate η",
        "radius ρ",
        &xs,
        &ys,
        &values,
        Some(&boundary),
        "USAM at a saddle: P(escape)",
    )
    .unwrap();
    assert_figure(&p);
    if std::env::var_os("SAMSDE_KEEP_PLOTS").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn degenerate_data_does_not_panic() {
    let dir = scratch("plots-degenerate");
    // Empty report: nothing applies, nothing written.
    let mut empty = synthetic_report();
    empty.moments.clear();
    empty.survival.clear();
    empty.basins.clear();
    empty.paths.clear();
    for d in &mut empty.summary.dynamics {
        d.basins.clear();
    }
    assert!(render_all(&empty, None, &dir).unwrap().is_empty());

    // NaN everywhere, single points, zero ranges.
    let mut bad = synthetic_report();
    bad.moments.truncate(1);
    bad.moments[0].trace = f64::NAN;
    bad.moments[0].msd_stderr = f64::INFINITY;
    bad.moments[0].cov = vec![f64::NAN; 4];
    bad.paths.truncate(3);
    bad.paths[1].x = vec![f64::NAN, 1.0];
    bad.survival = vec![SurvivalRow {
        label: "SGD".into(),
        t: 0.5,
        survival: f64::NAN,
        at_risk: 3,
        exits: 0,
    }];
    bad.basins.truncate(1);
    bad.basins[0].ci_hi = f64::NAN;
    bad.summary.dynamics[0].theory = None;
    let f = Quadratic::diagonal(&[1.0, -1.0]).unwrap();
    render_all(&bad, Some(&f), &dir).unwrap();

    // All values identical (zero ranges).
    let mut flat = synthetic_report();
    for m in &mut flat.moments {
        m.t = 1.0;
        m.trace = 0.0;
        m.msd = 0.0;
        m.mean = vec![0.0, 0.0];
        m.cov = vec![0.0; 4];
    }
    for p in &mut flat.paths {
        p.x = vec![0.0, 0.0];
    }
    render_all(&flat, Some(&f), &dir).unwrap();

    // Charts with nothing finite, or nothing at all.
    let nan = Figure {
        series: vec![Series::measured("a", 0, &[(f64::NAN, 1.0, 0.0, 2.0)])],
        ..Figure::default()
    };
    chart::render(&nan, &dir.join("s.png")).unwrap();
    chart::render(&Figure::default(), &dir.join("s0.png")).unwrap();
    phase_diagram(
        &dir.join("p.png"),
        "η",
        "ρ",
        &[0.1],
        &[0.2],
        &[vec![f64::NAN]],
        None,
        "t",
    )
    .unwrap();
    phase_diagram(&dir.join("p2.png"), "η", "ρ", &[0.1, 0.2], &[0.2], &[], None, "t").unwrap();
    assert!(phase_diagram(&dir.join("p3.png"), "η", "ρ", &[], &[0.2], &[], None, "t").is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dimension_one_and_three() {
    let dir = scratch("plots-dims");
    // d = 1: no trajectories or cloud.
    let mut one = synthetic_report();
    one.summary.variables = vec!["x".into()];
    for m in &mut one.moments {
        m.mean.truncate(1);
        m.cov.truncate(1);
    }
    for p in &mut one.paths {
        p.x.truncate(1);
    }
    let w = render_all(&one, None, &dir).unwrap();
    let names: Vec<_> = w.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
    assert_eq!(names, ["width.png", "exit_times.png", "basins.png"]);

    // d = 3 with a 2-D landscape: first two coordinates, no contours.
    let mut three = synthetic_report();
    three.summary.variables = vec!["a".into(), "b".into(), "c".into()];
    for m in &mut three.moments {
        let c = m.cov.clone();
        m.mean.push(0.0);
        m.cov = vec![c[0], c[1], 0.0, c[2], c[3], 0.0, 0.0, 0.0, 1.0];
    }
    for p in &mut three.paths {
        p.x.push(0.5);
    }
    let f = Quadratic::diagonal(&[1.0, -1.0]).unwrap();
    let w = render_all(&three, Some(&f), &dir).unwrap();
    assert_eq!(w.len(), 5);
    assert_figure(&dir.join("trajectories.png"));
    assert_figure(&dir.join("cloud.png"));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- hostile values (no hangs)

/// The values every series is poisoned with: NaN, ±∞, 0 and ±1e300 (and the largest f64).
const HOSTILE: [f64; 7] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, 1e300, -1e300, f64::MAX];

/// Value `k` of a poisoned field: every third entry is hostile (cycling through [`HOSTILE`], shifted per
/// field so that rows mix them), the others keep `v`; with `all`, every entry is hostile.
fn poison(v: f64, k: usize, field: usize, all: bool) -> f64 {
    if all || k.is_multiple_of(3) {
        HOSTILE[(k / 3 + field) % HOSTILE.len()]
    } else {
        v
    }
}

/// The synthetic report with every number of every row and of the summary poisoned.
fn hostile_report(all: bool) -> Report {
    let mut r = synthetic_report();
    let p = |v: f64, k: usize, f: usize| poison(v, k, f, all);
    for (k, m) in r.moments.iter_mut().enumerate() {
        m.t = p(m.t, k, 0);
        m.mean.iter_mut().for_each(|v| *v = p(*v, k, 1));
        m.cov.iter_mut().enumerate().for_each(|(j, v)| *v = p(*v, k, 2 + j));
        m.trace = p(m.trace, k, 3);
        m.trace_stderr = p(m.trace_stderr, k, 4);
        m.msd = p(m.msd, k, 5);
        m.msd_stderr = p(m.msd_stderr, k, 6);
        m.theory_trace = m.theory_trace.map(|v| p(v, k, 7));
        m.theory_msd = m.theory_msd.map(|v| p(v, k, 8));
        m.eigenvalues.iter_mut().for_each(|v| *v = p(*v, k, 9));
    }
    for (k, s) in r.survival.iter_mut().enumerate() {
        s.t = p(s.t, k, 0);
        s.survival = p(s.survival, k, 1);
    }
    for (k, b) in r.basins.iter_mut().enumerate() {
        b.probability = p(b.probability, k, 0);
        b.ci_lo = p(b.ci_lo, k, 1);
        b.ci_hi = p(b.ci_hi, k, 2);
    }
    for (k, q) in r.paths.iter_mut().enumerate() {
        q.t = p(q.t, k, 0);
        q.x.iter_mut().enumerate().for_each(|(j, v)| *v = p(*v, k, 1 + j));
    }
    r.summary.saddle = vec![HOSTILE[4], HOSTILE[0]];
    r.summary.t_end = HOSTILE[1];
    for (k, d) in r.summary.dynamics.iter_mut().enumerate() {
        if let Some(e) = d.exit.as_mut() {
            e.estimate.mean_time = Some(HOSTILE[(k + 1) % HOSTILE.len()]);
            e.estimate.ci95 = Some([HOSTILE[k + 2], HOSTILE[k + 4]]);
        }
        if let Some(t) = d.theory.as_mut() {
            t.exit_mean_time = Some(HOSTILE[k + 4]);
        }
        for (j, b) in d.basins.iter_mut().enumerate() {
            b.point = Some(vec![HOSTILE[(j + k) % HOSTILE.len()], 1.0]);
        }
    }
    r
}

/// A landscape whose value is NaN, ±∞, 0 or 1e300 on bands of the plane (and x² − y² elsewhere).
#[derive(Debug)]
struct HostileLandscape;
impl samsde::model::landscape::Landscape for HostileLandscape {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        let band = (x[0] * 3.0).floor();
        if band.is_finite() && band.rem_euclid(3.0) == 0.0 {
            HOSTILE[(band.abs() as usize) % HOSTILE.len()]
        } else {
            x[0] * x[0] - x[1] * x[1]
        }
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        g[0] = 2.0 * x[0];
        g[1] = -2.0 * x[1];
    }
    fn hessian(&self, _: &[f64], h: &mut [f64]) {
        h.copy_from_slice(&[2.0, 0.0, 0.0, -2.0]);
    }
    fn third(&self, _: &[f64], _: &[f64], t: &mut [f64]) {
        t.iter_mut().for_each(|v| *v = 0.0);
    }
    fn name(&self) -> &'static str {
        "hostile"
    }
}

/// A sweep table over `axes` (key, values) with two dynamics whose every result is poisoned.
fn hostile_sweep(axes: &[(&str, Vec<f64>)], all: bool) -> samsde::sweep::SweepTable {
    use samsde::sweep::{SweepDynamics, SweepNoise, SweepPoint, SweepTable};
    use std::collections::BTreeMap;
    let n: usize = axes.iter().map(|a| a.1.len()).product();
    let points = (0..n)
        .map(|i| {
            let mut values = BTreeMap::new();
            let mut rest = i;
            for (key, vals) in axes.iter().rev() {
                values.insert(key.to_string(), vals[rest % vals.len()].to_string());
                rest /= vals.len();
            }
            let dynamics = [("SAM", "sam_discrete"), ("USAM", "usam")]
                .iter()
                .enumerate()
                .map(|(j, (label, kind))| {
                    let k = i + 5 * j;
                    let p = |v: f64, f: usize| poison(v, k, f, all);
                    let (pt, lo, hi) = (p(0.3, 0), p(0.2, 1), p(0.4, 2));
                    SweepDynamics {
                        label: label.to_string(),
                        kind: kind.to_string(),
                        rho: Some(p(0.1 * i as f64, 3)),
                        msd: p(1.0 + i as f64, 4),
                        msd_stderr: p(0.1, 5),
                        trace: p(1.0, 6),
                        exit_mean_time: Some(p(2.0 + i as f64, 7)),
                        exit_mean_time_stderr: Some(p(0.1, 8)),
                        exit_mean_time_ci95: Some([p(1.8, 9), p(2.2 + i as f64, 10)]),
                        // 30 of 40 censored: the figure shows the restricted mean.
                        exit_restricted_mean_time: Some(p(2.0 + i as f64, 7)),
                        exit_restricted_mean_time_stderr: Some(p(0.1, 8)),
                        exit_restricted_mean_time_ci95: Some([p(1.8, 9), p(2.2 + i as f64, 10)]),
                        censored_fraction: Some(0.75),
                        exited: Some(10),
                        censored: Some(30),
                        basins: BTreeMap::from([("trapped".to_string(), pt), ("unresolved".to_string(), 1.0 - pt)]),
                        basins_ci95: BTreeMap::from([("trapped".to_string(), [lo, hi])]),
                        diverged: 0,
                        exit_estimator: None,
                        escape_probability: None,
                        escape_probability_ci95: None,
                        ams_iterations: None,
                    }
                })
                .collect();
            SweepPoint {
                point: i,
                values,
                dynamics,
                noise: Some(SweepNoise {
                    kind: "isotropic".into(),
                    sigma: poison(1.0, i, 11, all),
                    batch_size: poison(4.0, i, 12, all),
                }),
            }
        })
        .collect();
    SweepTable {
        model: "hostile".into(),
        seed: Some(1),
        paths: Some(40),
        vary: axes
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(f64::to_string).collect()))
            .collect(),
        axes: axes.iter().map(|a| a.0.to_string()).collect(),
        saddle_eigenvalues: vec![HOSTILE[0], -2.0, HOSTILE[4]],
        t_end: Some(HOSTILE[4]),
        points,
        sharding: None,
    }
}

/// Line charts (every mark, with bars and fixed ranges) as the paper figures build them, all poisoned.
fn hostile_charts(all: bool) -> Vec<Figure> {
    let pts = |f: usize| -> Vec<(f64, f64)> {
        (0..24)
            .map(|k| (poison(k as f64, k, f, all), poison((k as f64).sin(), k, f + 1, all)))
            .collect()
    };
    let measured: Vec<(f64, f64, f64, f64)> = (0..24)
        .map(|k| {
            let p = |v: f64, f: usize| poison(v, k, f, all);
            (p(k as f64, 0), p(0.5, 1), p(0.4, 2), p(0.6, 3))
        })
        .collect();
    let bars: Vec<(f64, f64, f64)> = (0..24)
        .map(|k| {
            (
                poison(k as f64, k, 4, all),
                poison(-1.0, k, 5, all),
                poison(1.0, k, 6, all),
            )
        })
        .collect();
    let series = vec![
        Series::new("line", 0, Mark::Line, pts(0)),
        Series::new("dashed", 1, Mark::Dashed, pts(1)),
        Series::new("points", 2, Mark::Points, pts(2)).with_bars(bars),
        Series::new("line and points", 3, Mark::LinePoints, pts(3)),
        Series::measured("measured", 4, &measured),
    ];
    let mut out = Vec::new();
    for (x_range, y_range) in [
        (None, None),
        (Some((HOSTILE[0], 1.0)), Some((HOSTILE[1], HOSTILE[2]))),
        (Some((HOSTILE[5], HOSTILE[4])), Some((0.0, 0.0))),
        (Some((1.0, -1.0)), Some((HOSTILE[6], HOSTILE[6]))),
    ] {
        out.push(Figure {
            title: "hostile".into(),
            x_range,
            y_range,
            vlines: HOSTILE.to_vec(),
            hlines: HOSTILE.to_vec(),
            series: series.clone(),
            ..Figure::default()
        });
    }
    out
}

/// Runs `f` on another thread and fails if it has not returned within 60 s (a hang), or if it panicked.
fn finishes<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what}: did not finish within 60 s (a hang)"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            let e = h.join().expect_err("the sender is gone only if the thread panicked");
            std::panic::resume_unwind(e)
        }
    }
}

fn assert_png(p: &std::path::Path) {
    let (w, h, px) = common::decode_png(p);
    assert_eq!((w, h), common::FIGURE_SIZE, "{}", p.display());
    assert_eq!(px.len(), (w * h) as usize, "{}", p.display());
}

/// Issue 9: every figure kind with NaN, ±∞, 0 and 1e300 in every series finishes (generous 60 s guard per
/// kind, not a timing assertion) and writes a decodable PNG. `default.toml` with t_end = 700 used to hang in
/// plotters' log-axis tick loop when the closed-form trace overflowed.
#[test]
fn hostile_values_render_every_figure_kind() {
    let dir = scratch("plots-hostile");
    for all in [false, true] {
        let tag = if all { "all" } else { "mixed" };
        // Run figures, with and without a landscape whose values are hostile too.
        let d = dir.join(format!("run-{tag}"));
        let written = finishes(&format!("run figures ({tag})"), move || {
            let report = hostile_report(all);
            let mut w = render_all(&report, Some(&HostileLandscape), &d).unwrap();
            w.extend(render_all(&report, None, &d.join("plain")).unwrap());
            w
        });
        assert!(!written.is_empty(), "{tag}: no run figure written");
        written.iter().for_each(|p| assert_png(p));

        // Sweep figures: one axis (line figures) and two axes (phase diagrams with O3 / O12 boundaries).
        for (name, axes) in [
            (
                "sweep1",
                vec![("dynamics.SAM.rho", vec![0.0, 0.1, 0.2, 1e300, 0.4, 0.5, -1e300, 0.7])],
            ),
            (
                "sweep2",
                vec![
                    ("dynamics.SAM.rho", vec![0.0, 0.2, 1e300, 0.6]),
                    ("noise.batch_size", vec![1.0, 2.0, 0.0, 64.0]),
                ],
            ),
        ] {
            let d = dir.join(format!("{name}-{tag}"));
            std::fs::create_dir_all(&d).unwrap();
            let what = format!("{name} figures ({tag})");
            let written = finishes(&what, move || {
                samsde::plot::sweep::render_all(&hostile_sweep(&axes, all), &d).unwrap()
            });
            assert!(!written.is_empty(), "{what}: nothing written");
            written.iter().for_each(|p| assert_png(p));
        }

        // Phase diagrams drawn directly, with hostile grids, cells and boundaries.
        let d = dir.join(format!("phase-{tag}"));
        std::fs::create_dir_all(&d).unwrap();
        let written = finishes(&format!("phase diagrams ({tag})"), move || {
            let xs: Vec<f64> = (0..8).map(|k| poison(0.1 * k as f64, k, 0, all)).collect();
            let ys: Vec<f64> = (0..6).map(|k| poison(0.2 * k as f64, k, 1, all)).collect();
            let values: Vec<Vec<f64>> = (0..6)
                .map(|j| (0..8).map(|i| poison(0.1 * i as f64, i + j, 2, all)).collect())
                .collect();
            let boundary = |x: f64| {
                if x > 0.3 {
                    1.0 / x
                } else {
                    HOSTILE[(x * 10.0).abs() as usize % 7]
                }
            };
            let mut out = Vec::new();
            for (k, b) in [Some(&boundary as &dyn Fn(f64) -> f64), None].into_iter().enumerate() {
                let p = d.join(format!("phase{k}.png"));
                phase_diagram(&p, "x", "y", &xs, &ys, &values, b, "hostile").unwrap();
                out.push(p);
            }
            out
        });
        written.iter().for_each(|p| assert_png(p));

        // The chart layer of the paper figures: every mark, bars, fixed hostile ranges, hostile rule lines.
        let d = dir.join(format!("chart-{tag}"));
        std::fs::create_dir_all(&d).unwrap();
        let written = finishes(&format!("charts ({tag})"), move || {
            hostile_charts(all)
                .iter()
                .enumerate()
                .map(|(k, fig)| {
                    let p = d.join(format!("chart{k}.png"));
                    chart::render(fig, &p).unwrap();
                    p
                })
                .collect::<Vec<_>>()
        });
        written.iter().for_each(|p| assert_png(p));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 9, `--format svg`: every run figure, sweep figure (one and two varied keys), chart and phase
/// diagram written as SVG is well-formed XML of the figure size with its text as `<text>` elements — also
/// with NaN, ±∞, 0 and 1e300 in every series, where no non-finite coordinate may reach the file
/// (`common::assert_svg`).
#[test]
fn svg_figures_are_well_formed_also_with_hostile_values() {
    use samsde::plot::Format;
    let dir = scratch("plots-svg");
    let f = Quadratic::diagonal(&[1.0, -1.0]).unwrap();
    let written = samsde::plot::render_all_as(&synthetic_report(), Some(&f), &dir.join("run"), Format::Svg).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, NAMES.map(|n| n.replace(".png", ".svg")));
    let mut all_written = written;
    for all in [false, true] {
        let tag = if all { "all" } else { "mixed" };
        let d = dir.join(format!("hostile-run-{tag}"));
        all_written.extend(
            samsde::plot::render_all_as(&hostile_report(all), Some(&HostileLandscape), &d, Format::Svg).unwrap(),
        );
        for (name, axes) in [
            (
                "sweep1",
                vec![("dynamics.SAM.rho", vec![0.0, 0.1, 0.2, 1e300, 0.4, 0.5, -1e300, 0.7])],
            ),
            (
                "sweep2",
                vec![
                    ("dynamics.SAM.rho", vec![0.0, 0.2, 1e300, 0.6]),
                    ("noise.batch_size", vec![1.0, 2.0, 0.0, 64.0]),
                ],
            ),
        ] {
            let d = dir.join(format!("{name}-{tag}"));
            std::fs::create_dir_all(&d).unwrap();
            let w = samsde::plot::sweep::render_all_as(&hostile_sweep(&axes, all), &d, Format::Svg).unwrap();
            assert!(!w.is_empty(), "{name} ({tag}): no SVG written");
            all_written.extend(w);
        }
        for (k, fig) in hostile_charts(all).iter().enumerate() {
            let p = dir.join(format!("chart-{tag}-{k}.svg"));
            chart::render(fig, &p).unwrap();
            all_written.push(p);
        }
    }
    let xs: Vec<f64> = (0..6).map(|i| 0.1 * i as f64).collect();
    let values: Vec<Vec<f64>> = (0..6)
        .map(|j| (0..6).map(|i| ((i + j) % 4) as f64 / 3.0).collect())
        .collect();
    let boundary = |x: f64| 0.5 - x;
    let p = dir.join("phase.svg");
    phase_diagram(&p, "x", "y", &xs, &xs, &values, Some(&boundary), "phase").unwrap();
    all_written.push(p);
    assert!(
        all_written.iter().all(|p| p.extension().is_some_and(|e| e == "svg")),
        "{all_written:?}"
    );
    for p in &all_written {
        assert_svg(p);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 9, "theory on top and visible": a closed form drawn exactly over the measured curve it describes
/// (same points, same dynamics colour) stays visible — the chart draws closed forms (dashed, in the darker
/// shade `style::darker`) after the data. Counted in the left half of the figure (the legend, with its own
/// dashed swatch, is in a column on the right); drawn under the thicker data line it would be hidden.
#[test]
fn closed_forms_are_drawn_over_the_data() {
    use samsde::plot::style;
    let dir = scratch("plots-on-top");
    let pts: Vec<(f64, f64, f64, f64)> = (0..=10)
        .map(|i| (0.1 * i as f64, 0.1 * i as f64, 0.1 * i as f64, 0.1 * i as f64))
        .collect();
    let line: Vec<(f64, f64)> = (0..=200).map(|i| (0.005 * i as f64, 0.005 * i as f64)).collect();
    let fig = Figure {
        title: "closed form over data".into(),
        series: vec![
            Series::measured("simulated", 0, &pts),
            Series::new("closed form", 0, Mark::Dashed, line),
        ],
        ..Figure::default()
    };
    let p = dir.join("on_top.png");
    chart::render(&fig, &p).unwrap();
    let (w, _, px) = common::decode_png(&p);
    let dark = style::darker(style::color(0));
    let want = [dark.0, dark.1, dark.2];
    let visible = px
        .iter()
        .enumerate()
        .filter(|(k, c)| (k % w as usize) < w as usize / 2 && c[..3] == want)
        .count();
    assert!(
        visible > 300,
        "only {visible} pixels of the closed form's colour are visible over the data"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 9, "legends that do not cover data": the page puts the legend in a column to the right of the
/// plot area (no overlap, whatever the legend's length) and the notes under it.
#[test]
fn the_legend_column_and_the_notes_lie_outside_the_plot_area() {
    use plotters::prelude::*;
    use samsde::plot::canvas;
    use samsde::plot::legend::Entry;
    let (w, h) = common::FIGURE_SIZE;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
    for n in [1, 4, 30] {
        let entries: Vec<Entry> = (0..n)
            .map(|k| Entry::line(format!("dynamics number {k} with a rather long legend label"), BLACK, 3))
            .collect();
        let notes = vec!["A note under the plot that explains what a reader needs to know.".to_string(); 3];
        let page = canvas::page_with_legend(&root, "a title", &notes, &entries, 0).unwrap();
        let (px, py) = page.plot.get_base_pixel();
        let (pw, ph) = page.plot.dim_in_pixel();
        let side = page.side.expect("a legend column");
        let (sx, _) = side.get_base_pixel();
        assert!(
            px + pw as i32 <= sx,
            "{n} entries: plot [{px}, {}) overlaps the legend column at {sx}",
            px + pw as i32
        );
        assert!(
            pw >= w / 2,
            "{n} entries: the plot keeps at least half the width ({pw} px)"
        );
        assert!(
            py + ph as i32 + 3 * 17 <= h as i32,
            "{n} entries: no room for the notes under the plot (plot ends at {})",
            py + ph as i32
        );
    }
}

/// The numbers among `texts` (tick labels, value labels: texts that are a number and nothing else).
fn numbers(texts: &[String]) -> Vec<f64> {
    texts.iter().filter_map(|t| t.trim().parse::<f64>().ok()).collect()
}

/// Issue 9, read off the SVG text of the figures (every label is a `<text>` there):
/// - human names: a model named `paper_e1_beale` is titled "E1 Beale", basin classes `min_up`/`min_down` read
///   "min up (0, 1.5)"; no raw identifier appears in any run figure;
/// - the trajectory plot has a labelled colour bar for f ("f(x, y)") and, like the cloud plot, the exit
///   region in its legend;
/// - probability axes are [0, 1]: every number on the basin figure and on the sweep's trapping and escape
///   figures (ticks on both axes, ρ ∈ [0, 0.5], and value labels) lies in [0, 1], and both 0 and 1 are
///   ticks — also when the probabilities of the sweep are NaN, ±∞, 0 or 1e300 at every third point.
#[test]
fn figure_text_has_human_names_labelled_colour_bar_exit_region_and_probability_axes_in_0_1() {
    use samsde::model::Region;
    use samsde::plot::Format;
    let dir = scratch("plots-text");
    let mut report = synthetic_report();
    report.summary.model = "paper_e1_beale".into();
    report.summary.exit_region = Some(Region::Ball {
        center: vec![0.0, 0.0],
        radius: 1.0,
    });
    let f = Quadratic::diagonal(&[1.0, -1.0]).unwrap();
    let written = samsde::plot::render_all_as(&report, Some(&f), &dir, Format::Svg).unwrap();
    assert_eq!(written.len(), NAMES.len());
    for p in &written {
        let texts = svg_texts(p);
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(texts[0].starts_with("E1 Beale"), "{name}: title {:?}", texts[0]);
        for raw in ["paper_e1_beale", "min_up", "min_down"] {
            assert!(
                !texts.iter().any(|t| t.contains(raw)),
                "{name}: raw name {raw:?} in {texts:?}"
            );
        }
    }
    let texts = svg_texts(&dir.join("trajectories.svg"));
    assert!(texts.iter().any(|t| t == "f(x, y)"), "no colour-bar label: {texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("exit region (‖x − d‖ < 1")),
        "{texts:?}"
    );
    let texts = svg_texts(&dir.join("cloud.svg"));
    assert!(texts.iter().any(|t| t.starts_with("exit region")), "{texts:?}");
    let texts = svg_texts(&dir.join("basins.svg"));
    assert!(texts.iter().any(|t| t.starts_with("min up (0, 1.5)")), "{texts:?}");

    let sweep = dir.join("sweep");
    std::fs::create_dir_all(&sweep).unwrap();
    let rho: Vec<f64> = (0..6).map(|k| 0.1 * k as f64).collect();
    let table = hostile_sweep(&[("dynamics.SAM.rho", rho)], false);
    samsde::plot::sweep::render_all_as(&table, &sweep, Format::Svg).unwrap();
    for p in [
        dir.join("basins.svg"),
        sweep.join("sweep_trapped.svg"),
        sweep.join("sweep_escape.svg"),
    ] {
        let nums = numbers(&svg_texts(&p));
        assert!(
            nums.iter().all(|v| (0.0..=1.0).contains(v)),
            "{}: a number outside [0, 1]: {nums:?}",
            p.display()
        );
        assert!(
            nums.contains(&0.0) && nums.contains(&1.0),
            "{}: ticks {nums:?}",
            p.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
