//! Statistics that are never invented (issue 9), through the real binary: missing values are null in
//! summary.json and empty cells in the CSV files; diverged paths are warned about, counted as exits at their
//! divergence time, and withhold the width; exit-time quantiles are order statistics of the exit times in
//! exit_times.csv; the last snapshot is exactly t_end; a "saddle" that is a minimum is warned about; f not
//! finite on the plotted region is said.

mod common;

use common::{bin, scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn model(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("model.toml");
    std::fs::write(&p, text).expect("write model");
    p
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary")).expect("json")
}

/// Rows of a CSV file as (header, rows of strings).
fn csv(p: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(p).expect("csv");
    let h = r.headers().expect("header").iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.expect("row").iter().map(String::from).collect())
        .collect();
    (h, rows)
}

fn col(h: &[String], name: &str) -> usize {
    h.iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("column {name} in {h:?}"))
}

/// USAM with ρ = 100 on f = x²/2 (A = H + ρH² = 101): Euler at dt = 0.05 multiplies x by −4.05 per step, so
/// every path blows up; SGD beside it (factor 0.95) does not. The ball of radius 1e7 is beyond the blow-up bound
/// 1e6, so it is left only by diverging.
const DIVERGING: &str = r#"# every USAM path diverges
name = "diverging"
[landscape]
kind = "quadratic"
hessian = [[1.0]]
[noise]
kind = "isotropic"
sigma = 0.1
[[dynamics]]
label = "SGD"
kind = "sgd"
lr = 0.1
[[dynamics]]
label = "USAM"
kind = "usam"
lr = 0.1
rho = 100.0
[solver]
dt = 0.05
t_end = 5.0
[ensemble]
paths = 200
seed = 3
x0 = [0.5]
blowup = 1e6
[exit]
kind = "ball"
radius = 1e7
[output]
snapshots = 6
"#;

#[test]
fn diverged_paths_are_warned_counted_as_exits_and_withhold_the_width() {
    let d = scratch("never-invented-diverging");
    let m = model(&d, DIVERGING);
    let out = d.join("out");
    let a = bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("warning: USAM: 200 of 200 paths diverged") && err.contains("Fix:"),
        "stderr: {err}"
    );
    assert!(!err.contains("warning: SGD"), "SGD did not diverge: {err}");
    let s = summary(&out);
    let (sgd, usam) = (&s["dynamics"][0], &s["dynamics"][1]);
    assert_eq!(usam["diverged"], 200);
    // No path is running at t_end: nothing is invented.
    for k in ["mean", "cov", "mean_stderr"] {
        assert!(usam["final"][k].is_null(), "final.{k} = {}", usam["final"][k]);
    }
    for k in ["trace", "trace_stderr", "eigenvalues", "msd", "msd_stderr"] {
        assert!(usam["width"][k].is_null(), "width.{k} = {}", usam["width"][k]);
    }
    assert_eq!(usam["final"]["n"], 0);
    // Every diverged path exits at its divergence time: none is censored or dropped, and the times are
    // early (|x| > 1e6 needs log(2e6)/log(4.05) ≈ 10 steps = 0.5).
    let ex = &usam["exit"];
    assert_eq!(
        (ex["exited"].as_u64(), ex["censored"].as_u64(), ex["diverged"].as_u64()),
        (Some(200), Some(0), Some(200))
    );
    assert_eq!(ex["estimator"], "mean");
    let med = ex["median_time"].as_f64().expect("a median");
    assert!(med > 0.2 && med < 1.0, "median {med}");
    assert!(
        usam["basins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["label"] == "diverged" && b["count"] == 200)
    );
    // SGD is complete and reported.
    assert!(sgd["width"]["trace"].as_f64().is_some_and(|v| v > 0.0));
    assert_eq!(sgd["diverged"], 0);
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("USAM: 200 of 200"))
    );
    // moments.csv: empty cells (not 0, not NaN) where nothing is running; the first row (t = 0) is complete.
    let (h, rows) = csv(&out.join("moments.csv"));
    let usam_rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "USAM").collect();
    let last = usam_rows.last().unwrap();
    for c in ["mean_x", "cov_x_x", "trace", "trace_stderr", "eig_0", "msd"] {
        assert_eq!(last[col(&h, c)], "", "{c} at t_end");
    }
    assert_eq!(last[col(&h, "n")], "0");
    assert!(usam_rows[0][col(&h, "mean_x")].parse::<f64>().is_ok());
    for r in &rows {
        assert!(
            r.iter().all(|v| !v.eq_ignore_ascii_case("nan") && !v.contains("inf")),
            "{r:?}"
        );
    }
    // `samsde plot` reads the empty cells and nulls back.
    std::fs::remove_file(out.join("width.png")).ok();
    bin().arg("plot").arg(&out).assert().success();
}

/// An inverted OU (f = −x²) that exits a slab, run long enough that most paths exit.
const EXITING: &str = r#"# exit times from the inverted OU
name = "exiting"
[landscape]
kind = "quadratic"
hessian = [[-2.0]]
[noise]
kind = "isotropic"
sigma = 1.0
[[dynamics]]
label = "SGD"
kind = "sgd"
lr = 0.02
[solver]
dt = 0.01
t_end = 2.0
[ensemble]
paths = 501
seed = 9
x0 = [0.0]
[exit]
kind = "ball"
radius = 1.0
bridge = false
[output]
snapshots = 5
"#;

/// The median and quantiles are exact order statistics of the exit times that exit_times.csv lists at every
/// event time: τ₍⌈qn⌉₎ is the first event time at which the cumulative exits reach ⌈qn⌉.
#[test]
fn exit_quantiles_are_order_statistics_of_the_km_events() {
    let d = scratch("never-invented-exits");
    let m = model(&d, EXITING);
    let out = d.join("out");
    bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
    let s = summary(&out);
    let ex = &s["dynamics"][0]["exit"];
    let (h, rows) = csv(&out.join("exit_times.csv"));
    assert_eq!(h, ["label", "t", "survival", "at_risk", "exits"]);
    let (t, surv, risk, exits): (Vec<f64>, Vec<f64>, Vec<u64>, Vec<u64>) = (
        rows.iter().map(|r| r[1].parse().unwrap()).collect(),
        rows.iter().map(|r| r[2].parse().unwrap()).collect(),
        rows.iter().map(|r| r[3].parse().unwrap()).collect(),
        rows.iter().map(|r| r[4].parse().unwrap()).collect(),
    );
    let n = 501u64;
    let exited: u64 = exits.iter().sum();
    assert_eq!(Some(exited), ex["exited"].as_u64());
    assert_eq!(exited + ex["censored"].as_u64().unwrap(), n);
    assert!(ex["censored"].as_u64().unwrap() > 0, "some paths are censored at T = 2");
    assert_eq!(
        ex["mean_time"],
        Value::Null,
        "with censored paths the mean is not reported"
    );
    assert!(ex["restricted_mean_time"].as_f64().is_some());
    // At every event time: at risk = n − exits before, S = (at risk − exits)/n; times strictly increase.
    let mut before = 0;
    for i in 0..t.len() {
        assert_eq!(risk[i], n - before, "row {i}");
        assert!(
            (surv[i] - (risk[i] - exits[i]) as f64 / n as f64).abs() < 1e-15,
            "row {i}"
        );
        before += exits[i];
        if i > 0 {
            assert!(t[i] > t[i - 1], "times must increase: {} then {}", t[i - 1], t[i]);
        }
    }
    assert_eq!(t.last().copied(), Some(2.0), "the curve ends at the horizon");
    // Every distinct step time at which a path exited has its own row: more rows than a 400-bin grid would
    // give paths of this size, and far more than a handful.
    assert!(exits.iter().filter(|&&e| e > 0).count() > 50);
    let order_stat = |q: f64| {
        let k = (q * n as f64 - 1e-9).ceil() as u64;
        let mut cum = 0;
        t.iter().zip(&exits).find_map(|(&ti, &e)| {
            cum += e;
            (e > 0 && cum >= k).then_some(ti)
        })
    };
    assert_eq!(ex["median_time"].as_f64(), order_stat(0.5));
    for qv in ex["quantiles"].as_array().unwrap() {
        let q = qv[0].as_f64().unwrap();
        assert_eq!(qv[1].as_f64(), order_stat(q), "q = {q}");
    }
    // The restricted mean is the area under the KM curve.
    let area: f64 = t.windows(2).zip(&surv).map(|(w, s)| s * (w[1] - w[0])).sum();
    let rm = ex["restricted_mean_time"].as_f64().unwrap();
    assert!((area - rm).abs() < 1e-9 * rm, "{area} vs {rm}");
}

/// dt = 0.3 does not divide t_end = 1: the SDE runs 4 steps of 0.25 and the last snapshot is exactly 1 (no
/// 0.8999999999999999), with no repeated snapshot time although 11 were asked for; both are warned about. A
/// discrete optimizer with η = 0.3 stops at its last whole step, t = 0.9, and says so.
#[test]
fn the_last_snapshot_is_t_end_and_no_time_repeats() {
    let d = scratch("never-invented-dt");
    let text = EXITING
        .replace("dt = 0.01\nt_end = 2.0", "dt = 0.3\nt_end = 1.0")
        .replace("snapshots = 5", "snapshots = 11");
    let m = model(&d, &text);
    let out = d.join("out");
    let a = bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("does not divide") && err.contains("dt = 0.25"), "{err}");
    assert!(err.contains("output.snapshots = 11"), "{err}");
    let (h, rows) = csv(&out.join("moments.csv"));
    let ts: Vec<&str> = rows.iter().map(|r| r[col(&h, "t")].as_str()).collect();
    assert_eq!(ts, ["0", "0.25", "0.5", "0.75", "1"]);
    assert_eq!(summary(&out)["dynamics"][0]["final"]["t"], 1.0);
    assert_eq!(summary(&out)["dynamics"][0]["dt"], 0.25);

    let text = text.replace(
        "[solver]",
        "[[dynamics]]\nlabel = \"GD\"\nkind = \"sgd_discrete\"\nlr = 0.3\n[solver]",
    );
    let m = model(&d, &text);
    let out = d.join("out2");
    let a = bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("dynamics.GD") && err.contains("t = 0.9"), "{err}");
    let (h, rows) = csv(&out.join("moments.csv"));
    for label in ["SGD", "GD"] {
        let ts: Vec<f64> = rows
            .iter()
            .filter(|r| r[0] == label)
            .map(|r| r[col(&h, "t")].parse().unwrap())
            .collect();
        assert!(ts.windows(2).all(|w| w[1] > w[0]), "{label}: {ts:?}");
        let want = if label == "SGD" { 1.0 } else { 0.9 };
        assert!((ts.last().unwrap() - want).abs() < 1e-15, "{label}: {ts:?}");
    }
}

/// `x² + y²` has a minimum at the origin, not a saddle: the run says so.
#[test]
fn a_minimum_chosen_as_the_saddle_is_warned_about() {
    let d = scratch("never-invented-minimum");
    let text = r#"# a bowl
name = "bowl"
[landscape]
kind = "expression"
formula = "x^2 + y^2"
[noise]
kind = "isotropic"
sigma = 0.1
[[dynamics]]
kind = "sgd"
lr = 0.01
[solver]
dt = 0.01
t_end = 0.1
[ensemble]
paths = 8
"#;
    let m = model(&d, text);
    let a = bin()
        .arg("run")
        .arg(&m)
        .arg("--out")
        .arg(d.join("out"))
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("warning:") && err.contains("is a minimum (index 0"),
        "{err}"
    );
    assert!(
        summary(&d.join("out"))["warnings"][0]
            .as_str()
            .unwrap()
            .contains("minimum")
    );
}

/// DNSAM at the saddle: with ε = 1e-12 its diffusion ρ‖H‖/ε blows nearly every path up, and the width is then
/// withheld (null) with a warning; the default ε = √tr Σ_B(d) (here √2) runs every path, says so in the notes,
/// and writes the effective ε into config.resolved.toml.
#[test]
fn dnsam_epsilon_defaults_to_the_noise_scale() {
    let d = scratch("never-invented-dnsam");
    let text = r#"# DNSAM from the saddle
name = "dnsam"
[landscape]
kind = "quadratic"
hessian = [[1.0, 0.0], [0.0, -0.5]]
[noise]
kind = "isotropic"
sigma = 1.0
[[dynamics]]
label = "D"
kind = "dnsam"
lr = 0.01
rho = 0.05
[solver]
dt = 0.01
t_end = 2.0
[ensemble]
paths = 300
seed = 1
x0 = [0.0, 0.0]
"#;
    let m = model(&d, text);
    let out = d.join("default");
    let a = bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(!err.contains("diverged"), "{err}");
    let s = summary(&out);
    let dy = &s["dynamics"][0];
    assert_eq!(dy["diverged"], 0);
    assert!(dy["width"]["trace"].as_f64().is_some_and(|v| v > 0.0));
    let notes = dy["notes"].to_string();
    assert!(notes.contains("DNSAM ε = √tr Σ_B(d) = 1.414214e0"), "{notes}");
    let resolved = std::fs::read_to_string(out.join("config.resolved.toml")).unwrap();
    assert!(resolved.contains("epsilon = 1.4142135623730951"), "{resolved}");

    let out = d.join("tiny");
    let a = bin()
        .arg("run")
        .arg(&m)
        .args(["--set", "dynamics.D.epsilon=1e-12", "--out"])
        .arg(&out)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains("paths diverged") && err.contains("withheld") && err.contains("epsilon"),
        "{err}"
    );
    let dy = &summary(&out)["dynamics"][0];
    assert!(dy["diverged"].as_u64().unwrap() > 3, "{}", dy["diverged"]);
    assert!(dy["width"]["trace"].is_null() && dy["final"]["mean"].is_null());
}

/// f = x² − y² + 0·log(x + 0.5) is NaN for x < −0.5 (its gradient, 2x and −2y plus 0·1/(x + 0.5), is finite),
/// and the paths start at x = −1: the run says on stderr and in summary.warnings that f is not finite on part
/// of the region trajectories.png draws, and the share it names is that of the grid columns with x ≤ −0.5 in
/// the box it names (within one column, the box being printed to 5 digits). The same run without the log term
/// says nothing of the kind.
#[test]
fn f_not_finite_on_the_plotted_region_is_said() {
    let d = scratch("never-invented-domain");
    let text = r#"# f undefined left of x = -0.5
name = "domain"
[landscape]
kind = "expression"
formula = "x^2 - y^2 + 0*log(x + 0.5)"
[noise]
kind = "isotropic"
sigma = 0.1
[[dynamics]]
kind = "sgd"
lr = 0.01
[solver]
dt = 0.01
t_end = 0.5
[ensemble]
paths = 8
x0 = [-1.0, 0.0]
"#;
    for (formula, said) in [("x^2 - y^2 + 0*log(x + 0.5)", true), ("x^2 - y^2", false)] {
        let m = model(&d, &text.replace("x^2 - y^2 + 0*log(x + 0.5)", formula));
        let out = d.join(if said { "nan" } else { "finite" });
        let a = bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        let warned = summary(&out)["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w.as_str())
            .find(|w| w.starts_with("f is not finite"))
            .map(String::from);
        assert_eq!(warned.is_some(), said, "{formula}: {warned:?}");
        assert_eq!(err.contains("warning: f is not finite"), said, "{formula}: {err}");
        let Some(w) = warned else { continue };
        assert!(w.contains("grey") && w.contains("Fix:") && w.contains("= NaN"), "{w}");
        // "at P % of the grid points of the region …, [lo, hi] × …"
        let share: f64 = w
            .split("at ")
            .nth(1)
            .unwrap()
            .split(" %")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let bx = w.split('[').nth(1).unwrap().split(']').next().unwrap();
        let (lo, hi): (f64, f64) = {
            let v: Vec<f64> = bx.split(", ").map(|s| s.parse().unwrap()).collect();
            (v[0], v[1])
        };
        let cols = (0..101).filter(|&i| lo + (hi - lo) * i as f64 / 100.0 <= -0.5).count();
        let expected = 100.0 * cols as f64 / 101.0;
        assert!(
            (share - expected).abs() <= 100.0 / 101.0 + 1e-9,
            "share {share} % vs {expected} % of the columns of [{lo}, {hi}] left of −0.5"
        );
        assert!(lo < -1.0 && hi > -0.5, "box [{lo}, {hi}]");
    }
}

/// A key varied twice (in two `--vary`, or twice in one `K1+K2`) is refused with exit status 2 and nothing
/// written: the last axis would silently win and the grid would list points that were never run. (Empty model
/// files and labels outside letters, digits, '_', '-' are tests/resources.rs, seeds_threads_empty_files_and_labels.)
/// The same sweep with the key varied once runs.
#[test]
fn a_key_varied_twice_is_refused() {
    let d = scratch("never-invented-vary");
    let m = model(
        &d,
        r#"# one SGD
name = "vary"
[landscape]
kind = "quadratic"
hessian = [[1.0]]
[[dynamics]]
label = "GD"
kind = "sgd"
lr = 0.1
[solver]
dt = 0.1
t_end = 0.2
[ensemble]
paths = 4
"#,
    );
    for (vary, says) in [
        (
            ["--vary", "solver.t_end=0.2,0.3", "--vary", "solver.t_end=0.4,0.5"],
            "solver.t_end is varied twice",
        ),
        (
            [
                "--vary",
                "solver.t_end+solver.t_end=0.2,0.3",
                "--vary",
                "ensemble.paths=4,5",
            ],
            "solver.t_end appears twice",
        ),
    ] {
        let out = d.join("out");
        let a = bin()
            .arg("sweep")
            .arg(&m)
            .args(vary)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(says), "{vary:?}: {err}");
        assert!(!out.exists(), "{vary:?}: something was written");
    }
    let out = d.join("ok");
    bin()
        .arg("sweep")
        .arg(&m)
        .args(["--vary", "solver.t_end=0.2,0.3", "--vary", "ensemble.paths=4,5"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let (_, rows) = csv(&out.join("sweep.csv"));
    assert_eq!(rows.len(), 4);
}
