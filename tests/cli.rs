//! The real binary on small model files: output files and pinned schema, `--set`, `sweep`, thread-count
//! independence, bad inputs (exit status 2, the key named, nothing written), `saddles`, and the report round trip.

mod common;

use common::{bin, scratch};
use samsde::report::Report;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SMALL: &str = r#"# small test model
name = "small"
[landscape]
kind = "quadratic"
hessian = [[1.0, 0.0], [0.0, -0.5]]
[noise]
kind = "isotropic"
sigma = 1.0
[[dynamics]]
label = "SGD"
kind = "sgd"
lr = 0.01
[[dynamics]]
label = "SAM"
kind = "sam"
lr = 0.01
rho = 0.05
[solver]
dt = 0.01
t_end = 2.0
[ensemble]
paths = 300
seed = 5
x0 = [0.5, 0.01]
[exit]
kind = "ball"
radius = 1.0
[output]
snapshots = 11
sample_paths = 4
"#;

fn model(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("model.toml");
    std::fs::write(&p, text).expect("write model");
    p
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().expect("object").keys().cloned().collect()
}

fn set(s: &[&str]) -> BTreeSet<String> {
    s.iter().map(|s| s.to_string()).collect()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary.json")).expect("json")
}

fn header(p: &Path) -> String {
    std::fs::read_to_string(p)
        .expect("csv")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn run_writes_the_pinned_schema() {
    let d = scratch("cli-schema");
    let m = model(&d, SMALL);
    let out = d.join("out");
    bin().args(["run"]).arg(&m).arg("--out").arg(&out).assert().success();
    for f in [
        "summary.json",
        "moments.csv",
        "exit_times.csv",
        "basins.csv",
        "paths.csv",
        "config.resolved.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s = summary(&out);
    assert_eq!(
        keys(&s),
        set(&[
            "samsde_version",
            "model",
            "seed",
            "paths",
            "threads",
            "wall_seconds",
            "landscape",
            "landscape_parameters",
            "variables",
            "noise",
            "noise_parameters",
            "saddle",
            "saddle_eigenvalues",
            "t_end",
            "exit_region",
            "dynamics",
            "warnings"
        ])
    );
    // The model file's [landscape] and [noise] as fields, defaults filled, only the keys of the noise kind.
    assert_eq!(
        s["landscape_parameters"],
        serde_json::json!({"kind": "quadratic", "hessian": [[1.0, 0.0], [0.0, -0.5]], "center": [0.0, 0.0]})
    );
    assert_eq!(
        s["noise_parameters"],
        serde_json::json!({"kind": "isotropic", "batch_size": 1.0, "sigma": 1.0})
    );
    let d0 = &s["dynamics"][0];
    assert_eq!(
        keys(d0),
        set(&[
            "label",
            "kind",
            "lr",
            "rho",
            "momentum",
            "dt",
            "solver",
            "strong_order",
            "structure",
            "notes",
            "final",
            "width",
            "exit",
            "basins",
            "diverged",
            "paired",
            "theory",
            "snr_median"
        ])
    );
    assert_eq!(keys(&d0["final"]), set(&["t", "n", "mean", "cov", "mean_stderr"]));
    assert_eq!(
        keys(&d0["width"]),
        set(&["trace", "trace_stderr", "eigenvalues", "msd", "msd_stderr"])
    );
    assert_eq!(
        keys(&d0["exit"]),
        set(&[
            "exited",
            "censored",
            "censored_fraction",
            "diverged",
            "horizon",
            "mean_time",
            "mean_time_stderr",
            "ci95",
            "restricted_mean_time",
            "restricted_mean_time_stderr",
            "restricted_ci95",
            "median_time",
            "quantiles",
            "estimator",
            "correction"
        ])
    );
    assert_eq!(
        keys(&d0["basins"][0]),
        set(&["label", "point", "count", "probability", "ci95"])
    );
    assert!(s["dynamics"][1]["paired"].is_object());
    assert_eq!(s["paths"], 300);
    assert_eq!(
        header(&out.join("moments.csv")),
        "label,t,n,mean_x,mean_y,cov_x_x,cov_x_y,cov_y_x,cov_y_y,trace,trace_stderr,eig_0,eig_1,msd,msd_stderr,theory_trace,theory_msd,width_ratio,msd_difference,msd_difference_stderr"
    );
    assert_eq!(header(&out.join("exit_times.csv")), "label,t,survival,at_risk,exits");
    assert_eq!(
        header(&out.join("basins.csv")),
        "label,class,count,probability,ci_lo,ci_hi"
    );
    assert_eq!(header(&out.join("paths.csv")), "label,path,t,x,y");
    // An existing folder is not replaced without --force.
    let a = bin().args(["run"]).arg(&m).arg("--out").arg(&out).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--force"));
    bin()
        .args(["run"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
    // The report round-trips through its files.
    let r = Report::read_dir(&out).expect("read");
    let out2 = d.join("out2");
    std::fs::create_dir_all(&out2).expect("dir");
    r.write_dir(&out2).expect("write");
    assert_eq!(Report::read_dir(&out2).expect("read again"), r);
    for f in [
        "summary.json",
        "moments.csv",
        "exit_times.csv",
        "basins.csv",
        "paths.csv",
    ] {
        let (a, b) = (
            std::fs::read_to_string(out.join(f)).ok(),
            std::fs::read_to_string(out2.join(f)).ok(),
        );
        if a != b {
            let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
            let line = a.lines().zip(b.lines()).find(|(x, y)| x != y);
            panic!("{f} differs: {line:?}");
        }
    }
    // The resolved config runs as a model file and reproduces the numbers.
    let out3 = d.join("out3");
    bin()
        .args(["run"])
        .arg(out.join("config.resolved.toml"))
        .arg("--out")
        .arg(&out3)
        .assert()
        .success();
    assert_eq!(summary(&out3)["dynamics"], summary(&out)["dynamics"]);
    // Figures are written with the run and decode as PNG; `plot` re-renders them from the saved data.
    let pngs: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    assert!(!pngs.is_empty(), "no figures");
    for p in &pngs {
        common::assert_figure(p);
        std::fs::remove_file(p).expect("remove");
    }
    bin().args(["plot"]).arg(&out).assert().success();
    for p in &pngs {
        assert!(p.is_file(), "{} not re-rendered", p.display());
    }
    let _ = std::fs::remove_dir_all(&d);
}

fn resolved(dir: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(dir.join("config.resolved.toml")).expect("resolved")).expect("toml")
}

/// summary.json records the landscape and noise parameters as fields: every noise kind carries its own keys
/// (and no other kind's) with the values of the model file or `--set`, defaults filled in (δ of `hessian`, Σ₁ =
/// σ₁² I of `linear`, the double well's depth), so a notebook need not parse the `noise` prose.
#[test]
fn summary_records_the_landscape_and_noise_parameters() {
    let d = scratch("cli-parameters");
    let quadratic = model(&d, SMALL);
    let well = d.join("well.toml");
    std::fs::write(
        &well,
        SMALL.replace(
            "kind = \"quadratic\"\nhessian = [[1.0, 0.0], [0.0, -0.5]]",
            "kind = \"double_well\"",
        ),
    )
    .expect("write model");
    let cases: [(&Path, &[&str], Value, Value); 3] = [
        (
            &quadratic,
            &["noise.kind=hessian", "noise.scale=2.5", "noise.batch_size=4"],
            serde_json::json!({"kind": "quadratic", "hessian": [[1.0, 0.0], [0.0, -0.5]], "center": [0.0, 0.0]}),
            serde_json::json!({"kind": "hessian", "batch_size": 4.0, "scale": 2.5, "delta": 1e-3}),
        ),
        (
            &quadratic,
            &[
                "noise.kind=linear",
                "noise.sigma=0.5",
                "landscape.center=[0.25, -0.5]",
                "ensemble.x0=[0.5, -0.49]",
            ],
            serde_json::json!({"kind": "quadratic", "hessian": [[1.0, 0.0], [0.0, -0.5]], "center": [0.25, -0.5]}),
            serde_json::json!({"kind": "linear", "batch_size": 1.0, "covariance": [[0.25, 0.0], [0.0, 0.25]]}),
        ),
        (
            &well,
            &["noise.sigma=0.3"],
            serde_json::json!({"kind": "double_well", "a": 1.0}),
            serde_json::json!({"kind": "isotropic", "batch_size": 1.0, "sigma": 0.3}),
        ),
    ];
    for (i, (m, sets, landscape, noise)) in cases.iter().enumerate() {
        let out = d.join(format!("out{i}"));
        let mut cmd = bin();
        cmd.arg("run").arg(m).arg("--out").arg(&out).args(["--paths", "32"]);
        for s in *sets {
            cmd.args(["--set", s]);
        }
        cmd.assert().success();
        let s = summary(&out);
        assert_eq!(&s["landscape_parameters"], landscape, "{sets:?}");
        assert_eq!(&s["noise_parameters"], noise, "{sets:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
#[test]
fn set_changes_exactly_the_named_keys() {
    let d = scratch("cli-set");
    let m = model(&d, SMALL);
    let (a, b) = (d.join("a"), d.join("b"));
    bin().args(["run"]).arg(&m).arg("--out").arg(&a).assert().success();
    bin()
        .args(["run"])
        .arg(&m)
        .arg("--out")
        .arg(&b)
        .args([
            "--set",
            "dynamics.SAM.rho=0.2",
            "--set",
            "solver.dt=0.005",
            "--paths",
            "200",
            "--seed",
            "9",
        ])
        .assert()
        .success();
    let (mut ra, rb) = (resolved(&a), resolved(&b));
    ra["dynamics"].as_array_mut().expect("array")[1]
        .as_table_mut()
        .expect("table")
        .insert("rho".into(), toml::Value::Float(0.2));
    ra["solver"]
        .as_table_mut()
        .expect("t")
        .insert("dt".into(), toml::Value::Float(0.005));
    ra["ensemble"]
        .as_table_mut()
        .expect("t")
        .insert("paths".into(), toml::Value::Integer(200));
    ra["ensemble"]
        .as_table_mut()
        .expect("t")
        .insert("seed".into(), toml::Value::Integer(9));
    assert_eq!(ra, rb);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn sweep_varies_only_the_named_key() {
    let d = scratch("cli-sweep");
    let m = model(&d, SMALL);
    let out = d.join("sw");
    bin()
        .args(["sweep"])
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .args(["--vary", "dynamics.SAM.rho=0:0.2:3", "--paths", "100"])
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().expect("headers").clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap_or_else(|| panic!("column {n}"));
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    let rho: Vec<f64> = rows
        .iter()
        .map(|x| x[col("dynamics.SAM.rho")].parse().expect("num"))
        .collect();
    assert_eq!(rho, vec![0.0, 0.1, 0.2]);
    // SGD is untouched by the sweep (same seed at every point); SAM at ρ = 0 equals SGD.
    let sgd: Vec<&str> = rows.iter().map(|x| &x[col("SGD.msd")]).collect();
    assert!(sgd.iter().all(|v| *v == sgd[0]));
    assert_ne!(&rows[2][col("SAM.msd")], &rows[0][col("SAM.msd")]);
    let j: Value = serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("json")).expect("j");
    assert_eq!(j["points"].as_array().map(Vec::len), Some(3));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn thread_count_does_not_change_results() {
    let d = scratch("cli-threads");
    let m = model(&d, &SMALL.replace("paths = 300", "paths = 700"));
    let (a, b) = (d.join("t1"), d.join("t2"));
    bin()
        .args(["run"])
        .arg(&m)
        .arg("--out")
        .arg(&a)
        .args(["--threads", "1"])
        .assert()
        .success();
    bin()
        .args(["run"])
        .arg(&m)
        .arg("--out")
        .arg(&b)
        .args(["--threads", "2"])
        .assert()
        .success();
    let strip = |mut v: Value| {
        let o = v.as_object_mut().expect("object");
        o.remove("wall_seconds");
        o.remove("threads");
        v
    };
    assert_eq!(strip(summary(&a)), strip(summary(&b)));
    for f in ["moments.csv", "exit_times.csv", "basins.csv", "paths.csv"] {
        assert_eq!(std::fs::read(a.join(f)).ok(), std::fs::read(b.join(f)).ok(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bad_inputs_exit_2_name_the_key_and_write_nothing() {
    let d = scratch("cli-bad");
    // (edit, key the message must name)
    let cases: Vec<(String, &str)> = vec![
        (SMALL.replace("dt = 0.01", "dt = -0.01"), "solver.dt"),
        (SMALL.replace("paths = 300", "paths = 0"), "ensemble.paths"),
        (SMALL.replace("dt = 0.01", "dt = nan"), "solver.dt"),
        (SMALL.replace("dt = 0.01", "dtt = 0.01"), "solver.dtt"),
        (SMALL.replace("rho = 0.05", "rhoo = 0.05"), "dynamics.SAM.rhoo"),
        (SMALL.replace("rho = 0.05", "rho = -0.1"), "dynamics.SAM.rho"),
        (SMALL.replace("kind = \"sam\"", "kind = \"samm\""), "dynamics.SAM.kind"),
        (
            SMALL.replace("x0 = [0.5, 0.01]", "x0 = [0.5, 0.01, 0.0]"),
            "ensemble.x0",
        ),
        (SMALL.replace("[0.0, -0.5]]", "[0.3, -0.5]]"), "landscape.hessian"),
        (
            SMALL.replace("lr = 0.01\n[[dynamics]]", "lr = 0.01\nmomentum = 1.0\n[[dynamics]]"),
            "dynamics.SGD.momentum",
        ),
        (
            SMALL.replace("sigma = 1.0", "sigma = 1.0\nbatch_size = 0.5"),
            "noise.batch_size",
        ),
        (
            SMALL.replace("label = \"SAM\"", "label = \"SGD\""),
            "dynamics.SGD.label",
        ),
        (SMALL.replace("dt = 0.01", "dt = \"fast\""), "solver.dt"),
        (
            SMALL.replace("kind = \"isotropic\"", "kind = \"finite_sum\""),
            "noise.kind",
        ),
        (
            SMALL.replace(
                "kind = \"quadratic\"\nhessian = [[1.0, 0.0], [0.0, -0.5]]",
                "kind = \"expression\"\nformula = \"x^2 - (y\"",
            ),
            "landscape.formula",
        ),
        (
            SMALL
                .replace("dt = 0.01", "dt = 0.01\nkind = \"milstein\"")
                .replace("sigma = 1.0", "kind2 = 1"),
            "noise.kind2",
        ),
        (
            SMALL
                .replace("[solver]", "[solver]\nkind = \"milstein\"")
                .replace("kind = \"sam\"", "kind = \"dnsam\""),
            "solver.kind",
        ),
        (
            SMALL.replace("name = \"small\"", "name = \"small\"\nnamee = 1"),
            "namee",
        ),
        (
            SMALL
                .replace("[exit]", "[exit]\nradius = [1.0]")
                .replace("radius = 1.0\n", ""),
            "exit.radius",
        ),
        (
            SMALL.replace(
                "hessian = [[1.0, 0.0], [0.0, -0.5]]",
                "hessian = [[1.0, 0.0], [0.0, -0.5]]\ncenter = [1.0]",
            ),
            "landscape.center",
        ),
        (SMALL.replace("[output]", "[output\n"), "line"),
        (
            SMALL.replace("kind = \"quadratic\"", "kind = \"quadratic\"\nformula = \"x^2\""),
            "landscape.formula",
        ),
    ];
    assert!(cases.len() >= 12);
    for (i, (text, key)) in cases.iter().enumerate() {
        assert_ne!(text, SMALL, "case {i} did not edit the model");
        let m = model(&d, text);
        let out = d.join(format!("out{i}"));
        let a = bin().args(["run"]).arg(&m).arg("--out").arg(&out).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(key), "case {i}: message does not name `{key}`:\n{err}");
        assert!(
            err.contains("model.toml"),
            "case {i}: message does not name the file:\n{err}"
        );
        assert!(!err.contains("panicked"), "case {i}: {err}");
        assert!(!out.exists(), "case {i}: output folder created");
    }
    // Overrides are checked like files.
    let m = model(&d, SMALL);
    for (set, key) in [
        ("solver.dtt=1", "solver.dtt"),
        ("dynamics.SAMM.rho=1", "SAMM"),
        ("dynamics.SAM.rho=-1", "dynamics.SAM.rho"),
    ] {
        let out = d.join("out-set");
        let a = bin()
            .args(["run"])
            .arg(&m)
            .arg("--out")
            .arg(&out)
            .args(["--set", set])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(key), "--set {set}: {err}");
        assert!(!out.exists());
    }
    // Typos get a suggestion; syntax errors a line.
    let m = model(&d, &SMALL.replace("dt = 0.01", "dtt = 0.01"));
    let a = bin().args(["run"]).arg(&m).assert().code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("did you mean `dt`"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn saddles_finds_beale_saddle_and_minimum() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let a = bin()
        .args(["saddles"])
        .arg(models.join("beale_e1.toml"))
        .args(["--json", "--grid", "21"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    let pts = v.as_array().expect("array");
    let near = |p: &Value, x: f64, y: f64| {
        let q = p["x"].as_array().expect("x");
        (q[0].as_f64().unwrap_or(f64::NAN) - x).abs() < 1e-6 && (q[1].as_f64().unwrap_or(f64::NAN) - y).abs() < 1e-6
    };
    assert!(
        pts.iter()
            .any(|p| near(p, 0.0, 1.0) && p["kind"] == "saddle" && p["index"] == 1),
        "{v}"
    );
    assert!(pts.iter().any(|p| near(p, 3.0, 0.5) && p["kind"] == "minimum"), "{v}");
    bin()
        .args(["saddles"])
        .arg(models.join("beale_e1.toml"))
        .assert()
        .success();
}

#[test]
fn theory_prints_closed_forms() {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let a = bin().args(["theory"]).arg(models.join("w1.toml")).assert().success();
    let v: Value = serde_json::from_slice(&a.get_output().stdout).expect("json");
    assert!(
        (v["dynamics"][0]["theory"]["attraction_threshold_rho"]
            .as_f64()
            .unwrap_or(0.0)
            - 2.0)
            .abs()
            < 1e-12
    );
    assert!(v["dynamics"][0]["theory"]["cov"].is_array());
}

#[test]
fn no_arguments_runs_the_embedded_default() {
    let d = scratch("cli-default");
    let a = bin().current_dir(&d).assert().success();
    assert!(String::from_utf8_lossy(&a.get_output().stdout).contains("output/default"));
    let s = summary(&d.join("output").join("default"));
    assert!(s["paths"].as_u64().unwrap_or(0) >= 4000);
    let kinds: Vec<&str> = s["dynamics"]
        .as_array()
        .expect("dynamics")
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["sgd", "sam", "sam_discrete", "usam"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// Signal-to-noise in every run (issue 8): summary.json reports the median of ‖g‖/√tr Σ_B per dynamics; near
/// the saddle of SMALL (x0 = (0.5, 0.01), σ_B = 1) it is ≈ 0.5 < 3, so a `sam_fullbatch` or `dnsam` run warns on
/// stderr and names `sam`, while the `sam` run itself does not warn. Started far away (x0 = (30, 0), ‖g‖ ≈ 30 at
/// first) the median is above 3 and nothing is printed.
#[test]
fn low_signal_to_noise_warns_full_batch_models() {
    let d = scratch("cli-snr");
    for (kind, x0, low, warns) in [
        ("sam_fullbatch", "[0.5, 0.01]", true, true),
        ("dnsam", "[0.5, 0.01]", true, true),
        ("sam", "[0.5, 0.01]", true, false),
        ("sam_fullbatch", "[30.0, 0.0]", false, false),
    ] {
        let text = SMALL
            .replace("kind = \"sam\"", &format!("kind = \"{kind}\""))
            .replace("x0 = [0.5, 0.01]", &format!("x0 = {x0}"))
            .replace("radius = 1.0", "radius = 100.0");
        let m = model(&d, &text);
        let out = d.join(format!("out-{kind}-{low}"));
        let o = bin()
            .args(["run"])
            .arg(&m)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run");
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        let s = summary(&out);
        let snr = s["dynamics"][1]["snr_median"].as_f64().expect("snr_median");
        assert_eq!(s["dynamics"][1]["kind"], kind);
        assert_eq!(snr < 3.0, low, "{kind} from {x0}: median SNR {snr}");
        let warned = err.contains("warning:") && err.contains("kind = \"sam\"");
        assert_eq!(warned, warns, "{kind} from {x0}: stderr {err}");
        if warns {
            let notes = s["dynamics"][1]["notes"].as_array().expect("notes");
            assert!(notes.iter().any(|n| n.as_str().unwrap_or("").starts_with("warning:")));
        }
    }
}
