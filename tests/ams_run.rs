//! `[exit] estimator = "ams"` through the model file, `samsde run`, summary.json and `samsde sweep` (issue 11):
//! the reported mean exit time against the closed form the report itself prints (O5), the summary and sweep
//! fields, reproducibility at any thread count, the refusal to shard, `[ams]` errors that name their key, and
//! basin probabilities of rare escapes against brute force where brute force can reach.

mod common;

use common::{bin, scratch};
use samsde::setup::{Experiment, Source};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// USAM trapped at the saddle of f = ½x² − y² (ρ = 0.75 > 1/|λ₋|): along y the linear SDE
/// dY = −κ'Y dt + s dW with κ' = |λ₋|(ρ|λ₋| − 1) = 1 and s² = η(1 + ρλ₋)²σ₁² = 0.125; exit from |y| < 1.
/// SGD (not trapped) beside it. The report's `theory.exit_mean_time` is O5's exact value.
const TRAP: &str = r#"
name = "trap"
[landscape]
kind = "quadratic"
hessian = [[1.0, 0.0], [0.0, -2.0]]
[noise]
kind = "isotropic"
sigma = 7.0710678118654755
[[dynamics]]
label = "SGD"
kind = "sgd"
lr = 0.01
[[dynamics]]
label = "USAM"
kind = "usam"
lr = 0.01
rho = 0.75
[solver]
dt = 2e-3
t_end = 5.0
[ensemble]
paths = 256
seed = 4
start = "saddle"
[exit]
kind = "slab"
normal = [0.0, 1.0]
half_width = 1.0
estimator = "ams"
[output]
snapshots = 11
sample_paths = 0
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn run_reports_the_ams_mean_exit_time_beside_the_closed_form() {
    let d = scratch("ams-run");
    let m = write(&d, "trap.toml", TRAP);
    let out = d.join("out");
    bin()
        .args(["run", "--threads", "2"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let s = summary(&out);
    let usam = &s["dynamics"][1];
    let e = &usam["exit"];
    assert_eq!(e["estimator"], "ams");
    assert_eq!(e["correction"], "brownian_bridge");
    let a = &e["ams"];
    for k in [
        "method",
        "escape_probability",
        "escape_probability_ci95",
        "iterations",
        "particles",
        "killed",
        "replicas",
        "extinct_replicas",
        "coordinate",
        "level_a",
        "entry_level",
        "exit_level",
        "mean_approach_time",
        "mean_loop_time",
        "mean_success_time",
        "direct_exits",
        "direct_entrances",
        "steps",
        "seconds",
        "ensemble_estimator",
        "ensemble_mean_time",
        "basins",
    ] {
        assert!(!a[k].is_null() || k == "exit_level", "exit.ams.{k} missing: {a}");
    }
    assert_eq!(a["method"], "ams");
    assert_eq!((a["particles"].as_u64(), a["replicas"].as_u64()), (Some(500), Some(20)));
    assert!(a["iterations"].as_u64().unwrap() > 1000);
    assert_eq!(a["exit_level"].as_f64(), Some(1.0));
    // The ensemble sees (almost) no exit by t_end = 5: its own estimate is a restricted mean, kept for comparison.
    assert_eq!(a["ensemble_estimator"], "restricted_mean");
    let p = a["escape_probability"].as_f64().unwrap();
    let pci: Vec<f64> = a["escape_probability_ci95"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(pci[0] < p && p < pci[1] && p < 1e-2, "{p} {pci:?}");
    // Against O5's exact value (the report's own closed form). Euler–Maruyama at dt = 2e-3 shortens it by
    // ≈ (κ'L²/s²)·κ'dt/2 = 0.8 % (the chain's stationary variance is s²/(2κ' − κ'²dt)); allowed: 5 SE + 1 %.
    let m = e["mean_time"].as_f64().unwrap();
    let se = e["mean_time_stderr"].as_f64().unwrap();
    let exact = usam["theory"]["exit_mean_time"].as_f64().unwrap();
    let ci: Vec<f64> = e["ci95"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    eprintln!("USAM trap: AMS {m:.1} ± {se:.1} {ci:?}, O5 exact {exact:.1}");
    assert!(exact > 500.0, "{exact}");
    assert!((m - exact).abs() < 5.0 * se + 0.01 * exact);
    assert!(ci[0] < m && m < ci[1] && ci[1] / ci[0] < 1.3);
    // SGD escapes fast: AMS falls back to its direct phase, which agrees with O5 as well.
    let sgd = &s["dynamics"][0]["exit"];
    assert_eq!(sgd["estimator"], "direct_restarts");
    assert_eq!(sgd["ams"]["method"], "direct_restarts");
    let (m, se) = (
        sgd["mean_time"].as_f64().unwrap(),
        sgd["mean_time_stderr"].as_f64().unwrap(),
    );
    let exact = s["dynamics"][0]["theory"]["exit_mean_time"].as_f64().unwrap();
    assert!((m - exact).abs() < 5.0 * se + 0.01 * exact, "SGD {m} ± {se} vs {exact}");
    // The figures still render from the saved folder.
    bin().args(["plot"]).arg(&out).assert().success();
}

#[test]
fn same_seed_same_estimate_at_any_thread_count() {
    let src = Source::parse("trap.toml", TRAP)
        .and_then(|mut s| {
            s.set("ams.replicas=4")?;
            s.set("ams.particles=100")?;
            s.set("dynamics.USAM.rho=0.7")?;
            Ok(s)
        })
        .unwrap();
    let exp = Experiment::load(&src).unwrap();
    let key = |threads: usize| {
        let o = exp.run(threads, false).unwrap();
        o.ams
            .iter()
            .map(|a| (a.exit.mean_time.to_bits(), a.exit.ci95.1.to_bits(), a.exit.iterations))
            .collect::<Vec<_>>()
    };
    let one = key(1);
    assert_eq!(one, key(2));
    assert_eq!(one, key(3));
}

#[test]
fn ams_runs_are_not_split_into_shards_of_paths() {
    let src = Source::parse("trap.toml", TRAP)
        .and_then(|mut s| {
            s.set("ensemble.paths=512")?;
            Ok(s)
        })
        .unwrap();
    let exp = Experiment::load(&src).unwrap();
    assert_eq!(exp.blocks(), 2);
    let e = exp.run_blocks(2, false, 0..1).expect_err("a shard is refused");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("estimator = \"ams\""), "{e}");
    assert!(exp.run_shard(2, false, 0..1).is_err());
    // `samsde run --shard` refuses before it writes anything.
    let d = scratch("ams-shard");
    let m = write(&d, "trap.toml", TRAP);
    let out = d.join("shard");
    let a = bin()
        .args(["run", "--shard", "1/2", "--paths", "512"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("cannot be split into shards"));
    assert!(!out.exists());
}

#[test]
fn sweep_tabulates_the_ams_estimates() {
    let d = scratch("ams-sweep");
    let m = write(&d, "trap.toml", TRAP);
    let out = d.join("sweep");
    bin()
        .args(["sweep", "--threads", "2"])
        .arg(&m)
        .args([
            "--vary",
            "dynamics.USAM.rho=0.7,0.8",
            "--set",
            "ams.replicas=6",
            "--set",
            "ams.particles=200",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r[col("USAM.exit_estimator")], "ams");
        assert_eq!(r[col("SGD.exit_estimator")], "direct_restarts");
        let p: f64 = r[col("USAM.escape_probability")].parse().unwrap();
        let lo: f64 = r[col("USAM.escape_probability_ci_lo")].parse().unwrap();
        assert!(lo <= p && p > 0.0 && p < 0.1);
        assert!(r[col("USAM.ams_iterations")].parse::<u64>().unwrap() > 0);
    }
    let t = |r: &Vec<&str>| r[col("USAM.exit_mean_time")].parse::<f64>().unwrap();
    // O5: κ' = 2(2ρ − 1), s² = 0.5(2ρ − 1)²: the exponent κ'/s² = 4/(2ρ − 1) falls with ρ, so does the time.
    assert!(t(&rows[0]) > 3.0 * t(&rows[1]), "{} vs {}", t(&rows[0]), t(&rows[1]));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["points"][0]["dynamics"][1]["exit_estimator"], "ams");
}

/// `[ams]` mistakes are model-file errors (exit status 2) that name the key, with nothing written.
#[test]
fn bad_ams_tables_name_their_key() {
    let d = scratch("ams-errors");
    let cases: [(&str, &str); 6] = [
        ("[ams]\nparticle = 300\n", "ams.particle"),
        ("[ams]\nparticles = 1\n", "ams.particles"),
        ("[ams]\nkilled = 500\n", "ams.killed"),
        ("[ams]\na_quantile = 1.5\n", "ams.a_quantile"),
        ("[ams]\ncoordinate = \"abs(y\"\n", "ams.coordinate"),
        ("[ams]\na_level = -1.0\n", "ams.a_level"),
    ];
    for (i, (extra, key)) in cases.iter().enumerate() {
        let m = write(&d, &format!("bad{i}.toml"), &format!("{TRAP}{extra}"));
        let out = d.join(format!("out{i}"));
        let a = bin().args(["run"]).arg(&m).arg("--out").arg(&out).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(key), "{extra}: {err}");
        assert!(err.contains("line"), "{extra}: the line is named: {err}");
        assert!(!out.exists(), "nothing is written");
    }
    // A formula over a variable the landscape does not have.
    let m = write(&d, "badvar.toml", &format!("{TRAP}[ams]\ncoordinate = \"abs(z)\"\n"));
    let a = bin().args(["run"]).arg(&m).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("ams.coordinate"));
}

/// A formula coordinate only ranks states inside the region; the exit stays the region's boundary, so the
/// estimate agrees with the default coordinate's within the combined interval.
#[test]
fn a_formula_coordinate_estimates_the_same_exit() {
    let load = |extra: &[&str]| {
        let mut s = Source::parse("trap.toml", TRAP).unwrap();
        for e in extra {
            s.set(e).unwrap();
        }
        s.set("dynamics.USAM.rho=0.7").unwrap();
        Experiment::load(&s).unwrap()
    };
    let a = load(&[]).run(2, false).unwrap();
    let b = load(&["ams.coordinate=\"y^2 + 0.01*x^2\""]).run(2, false).unwrap();
    let (ea, eb) = (&a.ams[1].exit, &b.ams[1].exit);
    eprintln!(
        "default {:.1} ± {:.1}, formula {:.1} ± {:.1}",
        ea.mean_time, ea.std_error, eb.mean_time, eb.std_error
    );
    assert!(b.ams[1].coordinate.contains("y^2"));
    assert!((ea.mean_time - eb.mean_time).abs() < 5.0 * ea.std_error.hypot(eb.std_error));
}

/// SGD in a shallow local minimum at the origin (f''(0) = 1) between two deeper wells at y = ±1.2, with
/// barriers at y = +0.5 (lower) and y = −0.6: f' = y(y − 0.5)(y + 0.6)(y² − 1.44)/0.432, s² = ησ₁² = 0.05
/// (Kramers: E τ ≈ 37 to reach a barrier).
const WELLS: &str = r#"
name = "wells"
[landscape]
kind = "expression"
formula = "(y^6/6 + 0.02*y^5 - 0.435*y^4 - 0.048*y^3 + 0.216*y^2)/0.432"
variables = ["y"]
[noise]
kind = "isotropic"
sigma = 2.23606797749979
[saddle]
point = [0.0]
[[dynamics]]
label = "SGD"
kind = "sgd"
lr = 0.01
[solver]
dt = 0.01
t_end = 1000.0
[ensemble]
paths = 4000
seed = 8
start = "saddle"
[exit]
kind = "ball"
radius = 0.8
estimator = "ams"
[basins]
points = [[-1.2], [1.2]]
radius = 0.2
stop = true
[output]
snapshots = 3
sample_paths = 0
"#;

/// Where escapes end: AMS's shares p_k/Σp_j (one committor-style AMS run per attractor from the entrance
/// sample) against brute force (4000 paths run until they reach a well, on the same Euler chain) within 5
/// combined SE, and both against the exact 1-D split (S(0) − S(−1))/(S(1) − S(−1)) of the scale function
/// (O6) within 5 SE plus 1 % for the time step.
#[test]
fn basin_shares_of_rare_escapes_agree_with_brute_force_and_the_scale_function() {
    use samsde::theory::first_passage::{DEFAULT_GRID, exit_probability_right};
    let fp = |y: f64| y * (y - 0.5) * (y + 0.6) * (y * y - 1.44) / 0.432;
    let exact = exit_probability_right(|y| -fp(y), |_| 0.05, -1.0, 1.0, 0.0, DEFAULT_GRID).unwrap();
    let src = Source::parse("wells.toml", WELLS).unwrap();
    let exp = Experiment::load(&src).unwrap();
    let obs = exp.run(2, false).unwrap();
    let a = &obs.ams[0];
    assert_eq!(a.basins.len(), 2);
    let right = &a.basins[1].estimate;
    let share = right.share.unwrap();
    let (lo, hi) = right.share_ci95.unwrap();
    let share_se = (hi - lo) / (2.0 * 2.093); // Student t, 19 degrees of freedom
    // Brute force: the ensemble's first attractor reached.
    let counts = &obs.stats[0].basins;
    let est = counts.estimate(&exp.basin_labels);
    let count = |label: &str| est.iter().find(|b| b.label == label).map_or(0, |b| b.count);
    let (left_n, right_n) = (count(&exp.basin_labels[0].0), count(&exp.basin_labels[1].0));
    let n = (left_n + right_n) as f64;
    assert!(n > 3990.0, "every path reached a well: {est:?}");
    let p_bf = right_n as f64 / n;
    let se_bf = (p_bf * (1.0 - p_bf) / n).sqrt();
    eprintln!(
        "right-well share: AMS {share:.4} ± {share_se:.4} (p₊ = {:.3e}, p₋ = {:.3e}, escape p = {:.3e}), brute force {p_bf:.4} ± {se_bf:.4}, exact {exact:.4}; E τ = {:.1}",
        right.probability.probability,
        a.basins[0].estimate.probability.probability,
        a.exit.escape_probability,
        a.exit.mean_time
    );
    assert!((share - p_bf).abs() < 5.0 * share_se.hypot(se_bf));
    assert!((p_bf - exact).abs() < 5.0 * se_bf + 0.01);
    assert!((share - exact).abs() < 5.0 * share_se + 0.01);
    assert!(share_se < 0.02, "informative: {share_se}");
    // Reaching a well means leaving the exit region first (the wells lie outside it).
    let sum = right.probability.probability + a.basins[0].estimate.probability.probability;
    let se_sum = right
        .probability
        .std_error
        .hypot(a.basins[0].estimate.probability.std_error);
    let p_exit = &a.exit;
    let se_exit = p_exit
        .escape_probability_ci95
        .map_or(0.0, |(l, h)| (h - l) / (2.0 * 2.093));
    assert!(sum < p_exit.escape_probability + 5.0 * se_sum.hypot(se_exit));
}

/// A sweep of an AMS model shards by grid point: `sweep --shard K/N` + `merge` give the AMS estimates of the
/// unsharded point, bit for bit.
#[test]
fn a_sweep_with_ams_shards_by_grid_point() {
    let d = scratch("ams-sweep-shards");
    let m = write(&d, "trap.toml", TRAP);
    let common = [
        "--vary",
        "dynamics.USAM.rho=0.8,0.9",
        "--set",
        "ams.replicas=4",
        "--set",
        "ams.particles=100",
        "--threads",
        "2",
    ];
    let mut dirs = Vec::new();
    for k in 0..2 {
        let out = d.join(format!("shard{k}"));
        bin()
            .args(["sweep", "--shard", &format!("{k}/2")])
            .arg(&m)
            .args(common)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        dirs.push(out);
    }
    let merged = d.join("merged");
    bin()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let json: Value = serde_json::from_str(&std::fs::read_to_string(merged.join("sweep.json")).unwrap()).unwrap();
    for (i, rho) in ["0.8", "0.9"].iter().enumerate() {
        let mut src = Source::parse(m.to_str().unwrap(), TRAP).unwrap();
        for s in [
            "ams.replicas=4",
            "ams.particles=100",
            &format!("dynamics.USAM.rho={rho}"),
        ] {
            src.set(s).unwrap();
        }
        let obs = Experiment::load(&src).unwrap().run(1, false).unwrap();
        let got = &json["points"][i]["dynamics"][1];
        assert_eq!(got["exit_estimator"], "ams");
        assert_eq!(
            got["exit_mean_time"].as_f64(),
            Some(obs.ams[1].exit.mean_time),
            "point {i}"
        );
        assert_eq!(
            got["escape_probability"].as_f64(),
            Some(obs.ams[1].exit.escape_probability)
        );
    }
}
