//! `samsde saddles` in d ≥ 10 (issue 13, item 3) through the command line, on the shipped real-network model
//! `models/iris_mlp_sgd_vs_sam.toml` (4 → 4 → 3 tanh MLP on iris, d = 35): the zero-weights saddle is found
//! from the landscape's known point with the closed-form index h · rank(M) = 8 and negative eigenvalues
//! −s_r(M) (each h times; `Mlp::zero_saddle_negative_eigenvalues`), and a `--start FILE.npy` joins the starts.

mod common;

use common::{bin, scratch};
use samsde::model::landscape::mlp::{Activation, Dataset, Loss, Mlp};
use samsde::npy;
use std::path::Path;

fn model() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/iris_mlp_sgd_vs_sam.toml")
}

/// The model file's network, built by the library (standardised iris, hidden [4], tanh, cross-entropy).
fn network() -> Mlp {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv");
    let set = Dataset::from_csv(path, Loss::CrossEntropy).unwrap().standardized().0;
    Mlp::new(set, &[4], Activation::Tanh, Loss::CrossEntropy).unwrap()
}

#[test]
fn saddles_of_the_iris_mlp_have_the_closed_form_index_and_eigenvalues() {
    let out = bin().arg("saddles").arg(model()).arg("--json").output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let points: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let points = points.as_array().expect("a list");
    let net = network();
    let want = net
        .zero_saddle_negative_eigenvalues(1e-9)
        .expect("one hidden tanh layer");
    assert_eq!(want.len(), 8, "h · rank(M) = 4 · 2");
    let x0 = net.zero_saddle().expect("zero saddle");
    let p = points
        .iter()
        .find(|p| {
            let x: Vec<f64> = serde_json::from_value(p["x"].clone()).unwrap();
            x.iter().zip(&x0).all(|(a, b)| (a - b).abs() <= 1e-9)
        })
        .expect("the zero-weights saddle is reported");
    assert_eq!(p["kind"], "saddle");
    assert_eq!(p["index"].as_u64(), Some(8));
    let ev: Vec<f64> = serde_json::from_value(p["eigenvalues"].clone()).unwrap();
    for (k, w) in want.iter().enumerate() {
        assert!(
            (ev[k] - w).abs() <= 1e-9 * w.abs(),
            "eigenvalue {k}: {} vs closed form {w}",
            ev[k]
        );
    }
    assert!(ev[8] > -1e-9, "only 8 negative eigenvalues: {ev:?}");
}

#[test]
fn a_start_from_an_npy_file_joins_the_newton_starts() {
    let dir = scratch("saddles-start");
    std::fs::create_dir_all(&dir).unwrap();
    let net = network();
    // Near the zero-weights saddle: Newton from there converges to it as well.
    let mut x = net.zero_saddle().unwrap();
    x.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v += 1e-3 * ((i % 5) as f64 - 2.0));
    let start = dir.join("theta.npy");
    npy::write(&start, &[x.len()], &x).unwrap();
    let out = bin()
        .arg("saddles")
        .arg(model())
        .arg("--start")
        .arg(&start)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("theta.npy"), "the start is listed: {text}");
    assert!(text.contains("index-8 saddle"), "{text}");
    // A start of the wrong length is a usage error naming the file.
    npy::write(&start, &[3], &[0.0; 3]).unwrap();
    let out = bin()
        .arg("saddles")
        .arg(model())
        .arg("--start")
        .arg(&start)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("theta.npy"));
    let _ = std::fs::remove_dir_all(&dir);
}
