//! Benchmark workloads W1–W4 (`bench/numpy_baseline.py` holds their numpy versions; W3 is full-batch
//! SAM (`sam_fullbatch`), kept so that speed stays comparable, W4 the mini-batch SAM SDE `sam` in W3's setting,
//! shorter: T = 2, 4000 paths, because its numpy version evaluates the moment table every step), run by samsde and,
//! alternately on the same machine, by numpy when `python3 -c "import numpy"` works (set SAMSDE_BENCH_PYTHON
//! to choose the interpreter). Prints path-steps per second, the ratio, and the fraction of the normal-sampling
//! bound (each rep runs samsde and the bound alternately twice and keeps the faster run of each). Run with
//! `cargo bench --bench workloads`.
//! Arguments: workload names (default W1 W2 W3 W4 and `whole`), `--reps N` (default 3), `--threads T`.
//!
//! `whole`: whole-process wall times of `samsde run` (the binary of this build, output into a temporary
//! folder, figures and files included) on W2 and W3 beside the whole numpy process (interpreter start
//! included), W3 with the Brownian-bridge correction off and on in alternating pairs, and the scale target of issue 12:
//! 10⁶ paths × 10³ steps of 2-D `sam_fullbatch` (W3's model with T = 1).

use samsde::ensemble::{self, Ensemble, Entry, Plan, Region, Schedule};
use samsde::model::Model;
use samsde::model::landscape::Quadratic;
use samsde::model::noise::Noise;
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{SolverKind, SolverSpec};
use samsde::stats::DynamicsStats;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

struct Workload {
    name: &'static str,
    h: [f64; 2],
    kind: DynamicsKind,
    rho: f64,
    x0: [f64; 2],
    dt: f64,
    t_end: f64,
    paths: u64,
    radius: Option<f64>,
}

const W: [Workload; 4] = [
    Workload {
        name: "W1",
        h: [1.0, -0.5],
        kind: DynamicsKind::Usam,
        rho: 0.5,
        x0: [1.0, 0.01],
        dt: 0.01,
        t_end: 10.0,
        paths: 10_000,
        radius: None,
    },
    Workload {
        name: "W2",
        h: [1.0, -0.5],
        kind: DynamicsKind::Usam,
        rho: 0.5,
        x0: [1.0, 0.01],
        dt: 0.01,
        t_end: 10.0,
        paths: 100_000,
        radius: None,
    },
    Workload {
        name: "W3",
        h: [1.0, -1.0],
        kind: DynamicsKind::SamFullbatch,
        rho: 0.05,
        x0: [0.5, 0.0],
        dt: 0.001,
        t_end: 20.0,
        paths: 10_000,
        radius: Some(2.0),
    },
    Workload {
        name: "W4",
        h: [1.0, -1.0],
        kind: DynamicsKind::Sam,
        rho: 0.05,
        x0: [0.5, 0.0],
        dt: 0.001,
        t_end: 2.0,
        paths: 4_000,
        radius: Some(2.0),
    },
];

/// Runs a workload once; returns (seconds, path-steps, a statistic for a sanity line).
fn run_samsde(w: &Workload, seed: u64) -> (f64, f64, String) {
    let model = Model::new(
        Arc::new(Quadratic::diagonal(&w.h).unwrap()),
        Noise::isotropic(1.0, 1.0).unwrap(),
    )
    .unwrap();
    let spec = DynamicsSpec::new(w.kind, 0.01).rho(w.rho);
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt: w.dt,
        allow_dropping_areas: false,
    };
    let built = build(&spec, &model, &solver, &[0.0, 0.0], "dynamics").unwrap();
    let schedule = Schedule::new(w.dt, w.t_end, 2);
    let plan = Plan {
        start: w.x0.to_vec(),
        spread: 0.0,
        saddle: vec![0.0, 0.0],
        region: w.radius.map(|r| Region::ball(vec![0.0, 0.0], r).unwrap()),
        bridge: false,
        stop_on_exit: true,
        basins: vec![],
        basin_radius: 0.1,
        stop_on_basin: false,
        blowup: 1e12,
    };
    let entries = vec![Entry {
        label: w.name.into(),
        stepper: built.stepper,
        schedule: schedule.clone(),
    }];
    let ens = Ensemble {
        paths: w.paths,
        seed,
        progress: false,
    };
    let fresh = |k: usize| DynamicsStats::new(k, &entries, &plan, w.t_end, 0);
    let t0 = Instant::now();
    let stats = ensemble::run(&ens, &entries, &plan, w.t_end, &fresh);
    let secs = t0.elapsed().as_secs_f64();
    let st = &stats[0];
    match &st.exit {
        Some(ex) => {
            // path-steps actually taken: exited paths stop at their exit step (as numpy drops them).
            let e = ex.estimate();
            let exit_sum: f64 = ex.events.iter().map(|&(t, c)| t * c as f64).sum();
            let steps = exit_sum / w.dt + ex.censored as f64 * schedule.steps as f64;
            (
                secs,
                steps,
                format!(
                    "exited {} mean τ {:.4} ± {:.4}",
                    e.exited,
                    e.mean_time.unwrap_or(f64::NAN),
                    e.mean_time_stderr.unwrap_or(f64::NAN)
                ),
            )
        }
        None => {
            let m = st.moments.at[1].estimate();
            (
                secs,
                (w.paths * schedule.steps as u64) as f64,
                format!("mean {:.5?} var {:.5?}", m.mean, [m.cov[0][0], m.cov[1][1]]),
            )
        }
    }
}

/// The normal-sampling bound: path-steps per second when a step only draws its two normals (per-path
/// generators in the SIMD lanes of `LaneNormals`, `KERNEL_LANES` paths at a time as the kernels draw them, the same rayon parallelism and block
/// size as samsde), i.e. the cost of the randomness alone.
fn normal_bound(paths: u64, steps: usize) -> f64 {
    use rayon::prelude::*;
    use samsde::brownian::{LaneNormals, LaneRng, path_rng};
    use samsde::stepper::kernel::KERNEL_LANES as L;
    let t0 = Instant::now();
    let total: f64 = (0..paths.div_ceil(256))
        .into_par_iter()
        .map(|b| {
            let mut acc = [0.0; L];
            let last = ((b + 1) * 256).min(paths);
            let mut i = b * 256;
            while i < last {
                let lanes = LaneRng::<L>::from_lanes(std::array::from_fn(|l| path_rng(7, i + l as u64)));
                let mut z = LaneNormals::<L, 128>::new(lanes);
                for _ in 0..steps {
                    let rows = z.next_rows(2);
                    for (a, (z0, z1)) in acc.iter_mut().zip(rows[0].iter().zip(&rows[1])) {
                        *a += z0 + z1;
                    }
                }
                i += L as u64;
            }
            acc.iter().sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    std::hint::black_box(total);
    (paths as f64 * steps as f64) / t0.elapsed().as_secs_f64()
}

fn run_numpy(python: &str, name: &str) -> Option<(f64, String)> {
    let out = Command::new(python)
        .args(["bench/numpy_baseline.py", name, "--reps", "1"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some((v["path_steps_per_second"].as_f64()?, v["stats"].to_string()))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut names = vec![];
    let mut reps = 3;
    let mut threads = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => reps = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--threads" => threads = it.next().and_then(|v| v.parse().ok()),
            s if s.starts_with('W') || s == "whole" => names.push(s.to_string()),
            _ => {}
        }
    }
    if names.is_empty() {
        names = ["W1", "W2", "W3", "W4", "whole"].map(String::from).to_vec();
    }
    if let Some(t) = threads {
        rayon::ThreadPoolBuilder::new().num_threads(t).build_global().unwrap();
    }
    let python = std::env::var("SAMSDE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let have_numpy = Command::new(&python)
        .args(["-c", "import numpy"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    println!(
        "threads: {}   numpy: {}",
        rayon::current_num_threads(),
        if have_numpy {
            python.as_str()
        } else {
            "not found (ratios skipped)"
        }
    );
    println!(
        "{:<4} {:>5} {:>16} {:>16} {:>8} {:>14} {:>9}",
        "load", "rep", "samsde Mstep/s", "numpy Mstep/s", "ratio", "bound Mstep/s", "of bound"
    );
    for w in W.iter().filter(|w| names.iter().any(|n| n == w.name)) {
        let (mut ours, mut theirs, mut fracs) = (vec![], vec![], vec![]);
        for r in 0..reps {
            // samsde and the bound alternately, twice, keeping the faster of each pair: the machine's
            // interference only ever slows a run down, and each side gets the same two chances.
            let steps_of = (w.t_end / w.dt).round() as usize;
            let (mut rate, mut bound, mut stat) = (0.0f64, 0.0f64, String::new());
            for _ in 0..2 {
                let (secs, steps, st) = run_samsde(w, r as u64);
                rate = rate.max(steps / secs);
                stat = st;
                bound = bound.max(normal_bound(w.paths, steps_of));
            }
            ours.push(rate);
            let np = if have_numpy { run_numpy(&python, w.name) } else { None };
            if let Some((rate, _)) = &np {
                theirs.push(*rate);
            }
            fracs.push(rate / bound);
            println!(
                "{:<4} {:>5} {:>16.1} {:>16} {:>8} {:>14.1} {:>8.0}%   {stat}",
                w.name,
                r,
                rate / 1e6,
                np.as_ref().map_or("-".into(), |(r, _)| format!("{:.1}", r / 1e6)),
                np.as_ref().map_or("-".into(), |(r2, _)| format!("{:.1}x", rate / r2)),
                bound / 1e6,
                100.0 * rate / bound
            );
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        let (o, t, f) = (med(&mut ours), med(&mut theirs), med(&mut fracs));
        println!(
            "{:<4} median samsde {:.1} M path-steps/s ({:.0}% of the normal-sampling bound){}",
            w.name,
            o.unwrap_or(0.0) / 1e6,
            100.0 * f.unwrap_or(0.0),
            t.map_or(String::new(), |t| format!(
                ", numpy {:.1} M/s, ratio {:.1}x",
                t / 1e6,
                o.unwrap_or(0.0) / t
            ))
        );
    }
    if names.iter().any(|n| n == "whole") {
        whole_process(have_numpy.then_some(python.as_str()), reps, threads);
    }
}

/// Wall seconds of one process (None if it failed).
fn wall(cmd: &mut Command) -> Option<f64> {
    let t0 = Instant::now();
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("{:?} failed: {}", cmd, String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(t0.elapsed().as_secs_f64())
}

/// The whole-process comparisons (see the module docs); medians of `reps` alternating runs.
fn whole_process(python: Option<&str>, reps: usize, threads: Option<usize>) {
    let exe = env!("CARGO_BIN_EXE_samsde");
    let out = std::env::temp_dir().join(format!("samsde-bench-{}", std::process::id()));
    let cases: [(&str, &str, &[&str], Option<&str>); 3] = [
        ("W2", "models/w2.toml", &[], Some("W2")),
        ("W3", "models/w3.toml", &[], Some("W3")),
        (
            "scale 1e6x1e3",
            "models/w3.toml",
            &["--paths", "1000000", "--set", "solver.t_end=1"],
            None,
        ),
    ];
    println!();
    println!(
        "whole process (`samsde run`, output written to a temporary folder; numpy: `python3 bench/numpy_baseline.py NAME --reps 1`)"
    );
    println!("{:<14} {:>10} {:>10} {:>8}", "case", "samsde s", "numpy s", "ratio");
    for (name, model, extra, np) in cases {
        let (mut ours, mut theirs) = (vec![], vec![]);
        for _ in 0..reps {
            let mut c = Command::new(exe);
            c.args(["run", model, "--force", "--out"]).arg(&out).args(extra);
            if let Some(t) = threads {
                c.args(["--threads", &t.to_string()]);
            }
            ours.extend(wall(&mut c));
            if let (Some(py), Some(w)) = (python, np) {
                theirs.extend(wall(Command::new(py).args([
                    "bench/numpy_baseline.py",
                    w,
                    "--reps",
                    "1",
                ])));
            }
        }
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied()
        };
        let (o, t) = (med(&mut ours), med(&mut theirs));
        println!(
            "{name:<14} {:>10} {:>10} {:>8}",
            o.map_or("-".into(), |o| format!("{o:.2}")),
            t.map_or("-".into(), |t| format!("{t:.2}")),
            o.zip(t).map_or("-".into(), |(o, t)| format!("{:.1}x", t / o))
        );
    }
    // The bridge's overhead from runs with it off and on alternating (pairs close in time see the same
    // machine).
    let (mut off, mut on) = (vec![], vec![]);
    for _ in 0..reps.max(5) {
        for (bridge, times) in [("false", &mut off), ("true", &mut on)] {
            let mut c = Command::new(exe);
            c.args(["run", "models/w3.toml", "--force", "--out"]).arg(&out);
            c.args(["--set", &format!("exit.bridge={bridge}")]);
            if let Some(t) = threads {
                c.args(["--threads", &t.to_string()]);
            }
            times.extend(wall(&mut c));
        }
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    if let (Some(off), Some(on)) = (med(&mut off), med(&mut on)) {
        println!(
            "Brownian-bridge overhead on W3 (whole process, {} alternating pairs, medians {off:.3} s off, {on:.3} s on): {:+.0}%",
            reps.max(5),
            100.0 * (on / off - 1.0)
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
