//! `samsde sweep` figures and table on the real binary: a 1-axis sweep writes the line figures that apply
//! (valid, non-blank PNGs) and the 95 % interval columns; a 2-axis sweep writes `phase_<label>.png`;
//! `samsde plot` on a sweep folder re-renders the figures from `sweep.json` without simulating.

mod common;

use common::{assert_figure, bin, scratch};
use std::path::Path;

const SMALL: &str = r#"name = "small"
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
dt = 0.02
t_end = 2.0
[ensemble]
paths = 100
seed = 5
x0 = [0.5, 0.01]
[exit]
kind = "ball"
radius = 1.0
[output]
snapshots = 5
sample_paths = 0
"#;

const LINE_FIGS: [&str; 4] = [
    "sweep_msd.png",
    "sweep_exit_time.png",
    "sweep_trapped.png",
    "sweep_escape.png",
];

#[test]
fn one_axis_sweep_writes_line_figures_and_ci_columns_and_plot_rerenders() {
    let d = scratch("sweep-one");
    let m = d.join("model.toml");
    std::fs::write(&m, SMALL).expect("model");
    let out = d.join("sw");
    bin()
        .arg("sweep")
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .args(["--vary", "dynamics.SAM.rho=0:0.2:3", "--threads", "2"])
        .assert()
        .success();
    for f in LINE_FIGS {
        assert_figure(&out.join(f));
    }
    assert!(!out.join("phase_SAM.png").exists());

    // The CSV keeps its columns and adds the 95 % intervals, which bracket the estimates.
    let text = std::fs::read_to_string(out.join("sweep.csv")).expect("sweep.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().expect("headers").clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x == n)
            .unwrap_or_else(|| panic!("column {n} in {h:?}"))
    };
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&h[0], "point");
    assert_eq!(&h[1], "dynamics.SAM.rho");
    assert_eq!(&h[2], "SGD.msd");
    let num = |row: &csv::StringRecord, c: &str| -> f64 { row[col(c)].parse().unwrap_or_else(|_| panic!("{c}")) };
    for row in &rows {
        for l in ["SGD", "SAM"] {
            let (lo, p, hi) = (
                num(row, &format!("{l}.p_trapped_ci_lo")),
                num(row, &format!("{l}.p_trapped")),
                num(row, &format!("{l}.p_trapped_ci_hi")),
            );
            assert!(0.0 <= lo && lo <= p && p <= hi && hi <= 1.0, "{l}: {lo} {p} {hi}");
            // Paths are censored at T here, so the column is the restricted mean (never called a mean),
            // with the censored fraction beside it.
            let (lo, m, hi) = (
                num(row, &format!("{l}.exit_restricted_mean_time_ci_lo")),
                num(row, &format!("{l}.exit_restricted_mean_time")),
                num(row, &format!("{l}.exit_restricted_mean_time_ci_hi")),
            );
            assert!(lo <= m && m <= hi, "{l}: {lo} {m} {hi}");
            let f = num(row, &format!("{l}.censored_fraction"));
            assert!(f > 0.0 && f <= 1.0, "{l}: censored fraction {f}");
            assert!(!h.iter().any(|c| *c == format!("{l}.exit_mean_time")));
        }
    }
    // The interval columns come after every original column, and the rare-event columns (added later) after them.
    let first_ci = h.iter().position(|x| x.contains("_ci_")).expect("a CI column");
    let first_ams = h
        .iter()
        .position(|x| x.ends_with(".exit_estimator"))
        .expect("AMS columns");
    assert!(h.iter().take(first_ams).skip(first_ci).all(|x| x.contains("_ci_")));
    assert!(h.iter().skip(first_ams).all(|x| {
        ["exit_estimator", "escape_probability", "ams_iterations"]
            .iter()
            .any(|c| x.contains(c))
    }));

    // Numbers are numbers in sweep.json: the axis values and the estimates.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("json")).expect("json");
    assert!(
        j["points"][0]["values"]["dynamics.SAM.rho"].is_number(),
        "{}",
        j["points"][0]["values"]
    );
    assert!(j["vary"]["dynamics.SAM.rho"][0].is_number());
    assert!(j["points"][0]["dynamics"][0]["msd"].is_number());

    // `samsde plot` re-renders the figures from sweep.json alone.
    for f in LINE_FIGS {
        std::fs::remove_file(out.join(f)).expect("remove");
    }
    std::fs::remove_file(out.join("sweep.csv")).expect("remove csv");
    bin().arg("plot").arg(&out).assert().success();
    for f in LINE_FIGS {
        assert_figure(&out.join(f));
    }
    assert!(!out.join("summary.json").exists(), "plot must not simulate");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn two_axis_sweep_writes_phase_diagram_and_plot_rerenders_it() {
    let d = scratch("sweep-two");
    let m = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/rho_batch_phase.toml");
    let out = d.join("phase");
    bin()
        .arg("sweep")
        .arg(&m)
        .arg("--out")
        .arg(&out)
        .args([
            "--vary",
            "dynamics.SAM.rho=0.1,0.6",
            "--vary",
            "noise.batch_size=1,16",
            "--paths",
            "60",
            "--threads",
            "2",
        ])
        .assert()
        .success();
    let phase = out.join("phase_SAM.png");
    assert_figure(&phase);
    for f in LINE_FIGS {
        assert!(!out.join(f).exists(), "{f} is for one varied key");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).expect("json")).expect("json");
    assert_eq!(j["axes"][0], "dynamics.SAM.rho");
    assert_eq!(j["points"].as_array().map(Vec::len), Some(4));
    // Deep in the attracting region (ρ = 0.6, B = 16: σ_B = 0.25 < √(2/π)·0.6·2 ≈ 0.96) SAM stays trapped;
    // far outside (ρ = 0.1, B = 1) it escapes.
    let p = |i: usize| {
        j["points"][i]["dynamics"][0]["basins"]["trapped"]
            .as_f64()
            .expect("p_trapped")
    };
    assert!(p(3) > 0.9, "trapped at rho 0.6, B 16: {}", p(3));
    assert!(p(0) < 0.1, "trapped at rho 0.1, B 1: {}", p(0));

    std::fs::remove_file(&phase).expect("remove");
    bin().arg("plot").arg(&out).assert().success();
    assert_figure(&phase);
    let _ = std::fs::remove_dir_all(&d);
}
