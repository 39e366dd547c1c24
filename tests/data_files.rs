//! Model files that read real-network data (issue 13, item 1): `landscape.hessian_file` / `center_file`,
//! `noise.covariance_file`, `noise.kind = "gradients"` and `kind = "mlp"`. Files are resolved relative to the
//! model file and written back absolute; Σ_B built from them equals the definition (math spec §1: Σ_B = κΣ₁);
//! every bad file stops the run with exit status 2, naming the model file, the key, the data file and the fix.

mod common;

use common::{bin, scratch};
use samsde::model::Noise;
use samsde::npy;
use samsde::setup::{Experiment, Source};
use std::path::Path;

/// A symmetric 5×5 matrix with two negative eigenvalues (a saddle) and a centre.
fn saddle_5() -> (Vec<f64>, Vec<f64>) {
    let d = 5;
    let mut h = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            h[i * d + j] = 0.1 / (1.0 + (i as f64 - j as f64).abs());
        }
        h[i * d + i] = [-1.0, -0.4, 0.3, 0.8, 1.5][i];
    }
    (h, vec![0.5, -0.25, 0.0, 1.0, 2.0])
}

/// Per-sample gradients, N×d, deterministic and of full rank min(N − 1, d).
fn gradients(n: usize, d: usize) -> Vec<f64> {
    (0..n * d)
        .map(|k| {
            let (i, j) = (k / d, k % d);
            ((i * 7 + j * 13) % 11) as f64 / 11.0 - 0.4 + 0.05 * (i as f64).sin() * (j as f64 + 1.0)
        })
        .collect()
}

fn write_model(dir: &Path, body: &str) -> std::path::PathBuf {
    let p = dir.join("model.toml");
    std::fs::write(&p, format!("# test model\nname = \"files\"\n{body}")).expect("write model");
    p
}

const TAIL: &str = r#"
[[dynamics]]
kind = "sgd"
lr = 0.01
[solver]
dt = 0.01
t_end = 0.1
[ensemble]
paths = 8
[output]
snapshots = 3
sample_paths = 0
"#;

/// H and c from `.npy` files next to the model file give the same landscape as inline arrays; the resolved
/// configuration names the files by absolute path and loads again from another folder.
#[test]
fn quadratic_from_files_equals_the_inline_quadratic() {
    let dir = scratch("npy-quadratic");
    let sub = dir.join("arrays");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let (h, c) = saddle_5();
    npy::write(sub.join("H.npy"), &[5, 5], &h).expect("write H");
    npy::write(sub.join("c.npy"), &[5], &c).expect("write c");
    let m = write_model(
        &dir,
        &format!(
            "[landscape]\nkind = \"quadratic\"\nhessian_file = \"arrays/H.npy\"\ncenter_file = \"arrays/c.npy\"\n{TAIL}"
        ),
    );
    let exp = Experiment::load(&Source::read(&m).expect("reads")).expect("loads");
    let l = exp.model.landscape();
    assert_eq!(l.dim(), 5);
    assert_eq!(l.constant_hessian().expect("quadratic"), &h[..]);
    // The saddle is the centre, found by Newton from it: index 2.
    let err: f64 = exp
        .saddle
        .x
        .iter()
        .zip(&c)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err < 1e-12, "saddle {:?} vs centre {c:?}", exp.saddle.x);
    assert_eq!(exp.saddle.kind.label(), "index-2 saddle");
    let rows: Vec<String> = h
        .chunks(5)
        .map(|r| {
            format!(
                "[{}]",
                r.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let inline = write_model(
        &dir.join("arrays"),
        &format!(
            "[landscape]\nkind = \"quadratic\"\nhessian = [{}]\ncenter = {c:?}\n{TAIL}",
            rows.join(", ")
        ),
    );
    let exp2 = Experiment::load(&Source::read(&inline).expect("reads")).expect("loads");
    let x = [0.3, -0.1, 0.7, 0.2, -0.5];
    assert_eq!(l.value(&x), exp2.model.landscape().value(&x));
    let resolved = exp.resolved_toml().expect("toml");
    let abs = std::fs::canonicalize(sub.join("H.npy")).expect("exists");
    assert!(resolved.contains(&abs.display().to_string()), "{resolved}");
    let again = Source::parse("resolved (read from memory: the current folder)", &resolved).expect("parses");
    Experiment::load(&again).expect("absolute paths load from anywhere");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Σ_B of `covariance_file` is Σ₁/B, and Σ_B of `gradients` is κΣ₁ of the file's rows (κ = 1/B with
/// replacement, (N−B)/((N−1)B) without), with m = N noise columns for N ≤ d and the rank of Σ₁ (≤ d) for
/// N > d. Compared entry by entry with Σ₁ computed here from its definition, to 1e−12 relative.
#[test]
fn covariance_and_gradient_files_give_the_defined_sigma_b() {
    let dir = scratch("npy-noise");
    let (h, _) = saddle_5();
    npy::write(dir.join("H.npy"), &[5, 5], &h).expect("write H");
    let d = 5;
    let sigma_b = |exp: &Experiment| exp.model.noise().constant_covariance(d).expect("constant Σ_B");
    let close = |a: &[f64], b: &[f64]| {
        let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let err = a.iter().zip(b).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(err <= 1e-12 * scale, "max error {err:e} (scale {scale})");
    };
    for (n, replacement, batch) in [(3usize, true, 2.0), (40, true, 4.0), (40, false, 4.0)] {
        let g = gradients(n, d);
        npy::write(dir.join("G.npy"), &[n, d], &g).expect("write G");
        let m = write_model(
            &dir,
            &format!(
                "[landscape]\nkind = \"quadratic\"\nhessian_file = \"H.npy\"\n[noise]\nkind = \"gradients\"\n\
                 gradients_file = \"G.npy\"\nbatch_size = {batch}\nreplacement = {replacement}\n{TAIL}"
            ),
        );
        let exp = Experiment::load(&Source::read(&m).expect("reads")).expect("loads");
        let mean: Vec<f64> = (0..d)
            .map(|j| (0..n).map(|i| g[i * d + j]).sum::<f64>() / n as f64)
            .collect();
        let kappa = if replacement {
            1.0 / batch
        } else {
            (n as f64 - batch) / ((n as f64 - 1.0) * batch)
        };
        let want: Vec<f64> = (0..d * d)
            .map(|k| {
                let (a, b) = (k / d, k % d);
                kappa
                    * (0..n)
                        .map(|i| (g[i * d + a] - mean[a]) * (g[i * d + b] - mean[b]))
                        .sum::<f64>()
                    / n as f64
            })
            .collect();
        close(&sigma_b(&exp), &want);
        let cols = exp.model.columns();
        if n <= d {
            assert_eq!(cols, n, "N ≤ d keeps one column per sample");
        } else {
            assert_eq!(cols, d, "N > d: rank-revealing reduction to rank Σ₁ = d");
        }
        // Covariance file: the same Σ₁ written out, divided by B.
        let s1: Vec<f64> = want.iter().map(|v| v / kappa).collect();
        npy::write(dir.join("S.npy"), &[d, d], &s1).expect("write S");
        let m = write_model(
            &dir,
            &format!(
                "[landscape]\nkind = \"quadratic\"\nhessian_file = \"H.npy\"\n[noise]\nkind = \"linear\"\n\
                 covariance_file = \"S.npy\"\nbatch_size = {batch}\n{TAIL}"
            ),
        );
        let exp = Experiment::load(&Source::read(&m).expect("reads")).expect("loads");
        let want_b: Vec<f64> = s1.iter().map(|v| v / batch).collect();
        close(&sigma_b(&exp), &want_b);
        assert!(matches!(exp.model.noise(), Noise::Linear { columns: 5, .. }));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every bad data file stops `samsde run` with exit status 2 before anything is written; the message names the
/// model file, the key (with its line), the data file, what is wrong, and a fix.
#[test]
fn bad_data_files_are_model_errors_with_key_file_and_fix() {
    let dir = scratch("npy-errors");
    let (h, _) = saddle_5();
    npy::write(dir.join("H.npy"), &[5, 5], &h).expect("write H");
    let mut asym = h.clone();
    asym[1] += 0.5;
    npy::write(dir.join("asym.npy"), &[5, 5], &asym).expect("write");
    let mut nan = h.clone();
    nan[7] = f64::NAN;
    npy::write(dir.join("nan.npy"), &[5, 5], &nan).expect("write");
    npy::write(dir.join("rect.npy"), &[5, 4], &h[..20]).expect("write");
    npy::write(dir.join("c4.npy"), &[4], &[0.0; 4]).expect("write");
    npy::write(dir.join("Gt.npy"), &[5, 9], &gradients(9, 5)).expect("write");
    let mut negvar = h.clone();
    negvar[0] = -1.0;
    npy::write(dir.join("negvar.npy"), &[5, 5], &negvar).expect("write");
    std::fs::write(dir.join("text.npy"), "1, 2, 3\n").expect("write");
    // An int64 array, written by hand (header padded to 64 bytes as numpy does).
    let dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (5, 5), }";
    let header = format!("{dict}{}\n", " ".repeat(64 - (10 + dict.len() + 1) % 64));
    let mut int = b"\x93NUMPY\x01\x00".to_vec();
    int.extend_from_slice(&(header.len() as u16).to_le_bytes());
    int.extend_from_slice(header.as_bytes());
    int.extend_from_slice(&[0u8; 200]);
    std::fs::write(dir.join("int.npy"), int).expect("write");
    std::fs::write(dir.join("bad.csv"), "a,b,label\n1,2,0\n3,4,1.5\n").expect("write");
    let quad = |extra: &str| format!("[landscape]\nkind = \"quadratic\"\n{extra}\n");
    let with_noise =
        |noise: &str| format!("[landscape]\nkind = \"quadratic\"\nhessian_file = \"H.npy\"\n[noise]\n{noise}\n");
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            quad("hessian_file = \"asym.npy\""),
            "landscape.hessian_file",
            "not symmetric",
            "(A + A.T) / 2",
        ),
        (
            quad("hessian_file = \"nan.npy\""),
            "landscape.hessian_file",
            "non-finite entr",
            "isfinite",
        ),
        (
            quad("hessian_file = \"rect.npy\""),
            "landscape.hessian_file",
            "square matrix",
            "fix:",
        ),
        (
            quad("hessian_file = \"int.npy\""),
            "landscape.hessian_file",
            "dtype <i8",
            "astype(numpy.float64)",
        ),
        (
            quad("hessian_file = \"text.npy\""),
            "landscape.hessian_file",
            "not an .npy file",
            "numpy.save",
        ),
        (
            quad("hessian_file = \"missing.npy\""),
            "landscape.hessian_file",
            "cannot read",
            "relative to the model file",
        ),
        (
            quad("hessian_file = \"H.npy\"\ncenter_file = \"c4.npy\""),
            "landscape.center_file",
            "length 5",
            "fix:",
        ),
        (
            quad("hessian_file = \"H.npy\"\nhessian = [[1.0]]"),
            "landscape.hessian_file",
            "both",
            "keep one",
        ),
        (
            with_noise("kind = \"gradients\"\ngradients_file = \"Gt.npy\""),
            "noise.gradients_file",
            "d = 5 columns",
            "transposed",
        ),
        (
            with_noise("kind = \"gradients\""),
            "noise.gradients_file",
            "missing",
            "gradients_file = ",
        ),
        (
            with_noise("kind = \"linear\"\ncovariance_file = \"negvar.npy\""),
            "noise.covariance_file",
            "Σ[0, 0] = -1",
            "not a Hessian",
        ),
        (
            with_noise("kind = \"isotropic\"\ngradients_file = \"Gt.npy\""),
            "noise.gradients_file",
            "only read with kind = \"gradients\"",
            "noise.kind",
        ),
        (
            "[landscape]\nkind = \"mlp\"\ndata = \"bad.csv\"".to_string(),
            "landscape.data",
            "line 3",
            "integer classes",
        ),
        (
            "[landscape]\nkind = \"mlp\"\ndata = \"bad.csv\"\nactivation = \"sigmoid\"".to_string(),
            "landscape",
            "unknown variant `sigmoid`",
            "tanh",
        ),
    ];
    for (body, key, what, fix) in cases {
        let m = write_model(&dir, &format!("{body}{TAIL}"));
        let out = dir.join("out");
        let a = bin().args(["run"]).arg(&m).arg("--out").arg(&out).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains("model.toml"), "names the model file: {err}");
        assert!(err.contains(&format!("`{key}")), "names the key {key}: {err}");
        assert!(err.contains("(line "), "gives the line: {err}");
        assert!(err.contains(what), "says what is wrong ({what}): {err}");
        assert!(err.contains(fix), "gives the fix ({fix}): {err}");
        assert!(!out.exists(), "nothing written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sharded run of a model whose data files are relative to the model file: the shards run from the model's
/// folder, `samsde merge` runs from another folder (as the merge job of `samsde submit` does) and reloads
/// the shards' model.toml, which names the data files by absolute path; the merge equals the run in one
/// piece (moments.csv byte for byte).
#[test]
fn shards_with_relative_data_files_merge_from_another_folder() {
    let dir = scratch("npy-shards");
    let (models, elsewhere) = (dir.join("models"), dir.join("elsewhere"));
    std::fs::create_dir_all(models.join("arrays")).expect("mkdir");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let (h, c) = saddle_5();
    npy::write(models.join("arrays/H.npy"), &[5, 5], &h).expect("write H");
    npy::write(models.join("arrays/c.npy"), &[5], &c).expect("write c");
    npy::write(models.join("arrays/G.npy"), &[9, 5], &gradients(9, 5)).expect("write G");
    let body = format!(
        "[landscape]\nkind = \"quadratic\"\nhessian_file = \"arrays/H.npy\"\ncenter_file = \"arrays/c.npy\"\n\
         [noise]\nkind = \"gradients\"\ngradients_file = \"arrays/G.npy\"\n{}",
        TAIL.replace("paths = 8", "paths = 600")
    );
    let m = write_model(&models, &body);
    let single = dir.join("single");
    bin()
        .current_dir(&models)
        .args(["run", "model.toml", "--out"])
        .arg(&single)
        .assert()
        .success();
    let shards: Vec<std::path::PathBuf> = (0..2).map(|k| dir.join(format!("shard{k}"))).collect();
    for (k, s) in shards.iter().enumerate() {
        bin()
            .current_dir(&models)
            .args(["run", "model.toml", "--shard", &format!("{k}/2"), "--out"])
            .arg(s)
            .assert()
            .success();
        let stored = std::fs::read_to_string(s.join("model.toml")).expect("model.toml");
        let abs = std::fs::canonicalize(models.join("arrays/G.npy")).expect("exists");
        assert!(stored.contains(&abs.display().to_string()), "{stored}");
    }
    let merged = dir.join("merged");
    bin()
        .current_dir(&elsewhere)
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    for f in ["moments.csv", "config.resolved.toml"] {
        let (a, b) = (
            std::fs::read(single.join(f)).expect("single"),
            std::fs::read(merged.join(f)).expect("merged"),
        );
        assert!(a == b, "{f} of the merge differs from the single run");
    }
    assert!(m.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
