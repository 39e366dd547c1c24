//! Sharded runs through the real binary (issue 14): `samsde run/sweep --shard K/N` and `samsde merge` give
//! exactly the files of the run in one piece — summary.json equal except `wall_seconds`, `threads` and the
//! `sharding` bookkeeping, every CSV, config.resolved.toml and figure byte for byte — for N ∈ {1, 2, 3, 5, 7},
//! path counts that are not multiples of the block size, shards with more shards than blocks, and any thread
//! counts; a missing, duplicated, foreign or damaged shard is refused with exit status 2 naming its folder;
//! `samsde submit` renders batch scripts that work (run here by bash with a stand-in `sbatch`, and on a real
//! Slurm in tests/slurm.rs).

mod common;

use common::{bin, scratch};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Two dynamics, an exit region (exit-time statistics), sample paths: every output file is written.
const MODEL: &str = r#"name = "shardtest"
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
paths = 2963
seed = 11
x0 = [0.5, 0.01]
[exit]
kind = "ball"
radius = 1.0
[output]
snapshots = 6
sample_paths = 3
"#;

fn write_model(dir: &Path) -> PathBuf {
    let p = dir.join("model.toml");
    std::fs::write(&p, MODEL).expect("write model");
    p
}

/// Runs samsde with `args`, expecting success.
fn ok(args: &[&std::ffi::OsStr]) {
    bin().args(args).assert().success();
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// summary.json without what may differ between a run and its merged shards.
fn summary_sans_bookkeeping(dir: &Path) -> Value {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary.json")).expect("json");
    let o = v.as_object_mut().expect("object");
    for k in ["wall_seconds", "threads", "sharding"] {
        o.remove(k);
    }
    v
}

/// The files at the top of `dir` (subfolders and samsde's marker `.samsde-output.json`, which lists a
/// folder's files, ignored).
fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().expect("type").is_file() && !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect()
}

/// `merged` holds the same files as `single`, each byte for byte, except the JSON summary (`summary.json` or
/// `sweep.json`), which is equal once the bookkeeping is removed.
fn assert_same_output(single: &Path, merged: &Path, summary: &str) {
    assert_eq!(
        files(single),
        files(merged),
        "{} vs {}",
        single.display(),
        merged.display()
    );
    for f in files(single) {
        if f == summary {
            continue;
        }
        let (a, b) = (
            std::fs::read(single.join(&f)).unwrap(),
            std::fs::read(merged.join(&f)).unwrap(),
        );
        assert!(
            a == b,
            "{f} differs between {} and {}",
            single.display(),
            merged.display()
        );
    }
    if summary == "summary.json" {
        assert_eq!(summary_sans_bookkeeping(single), summary_sans_bookkeeping(merged));
    } else {
        let read = |d: &Path| -> Value {
            let mut v: Value = serde_json::from_str(&std::fs::read_to_string(d.join(summary)).unwrap()).unwrap();
            v.as_object_mut().unwrap().remove("sharding");
            v
        };
        assert_eq!(read(single), read(merged));
    }
}

/// Runs the N shards of `model` (with `extra` arguments) into `dir/shards/K`, with 1 or 2 threads in turn;
/// returns their folders.
fn run_shards(cmd: &str, model: &Path, dir: &Path, n: u64, extra: &[&str]) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let out = dir.join("shards").join(k.to_string());
            bin()
                .arg(cmd)
                .arg(model)
                .args(extra)
                .args(["--shard", &format!("{k}/{n}"), "--threads", &(1 + k % 2).to_string()])
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            out
        })
        .collect()
}

fn merge(dirs: &[PathBuf], out: &Path) -> assert_cmd::assert::Assert {
    bin().arg("merge").args(dirs).arg("--out").arg(out).assert()
}

/// 2963 paths = 12 blocks of 256, the last partial; 600 paths = 3 blocks, so N = 5 and 7 have empty shards.
/// Every split merges into the single run's files exactly, and the summary records the split.
#[test]
fn any_shard_split_merges_to_the_single_run_bit_for_bit() {
    let d = scratch("shards-exact");
    let m = write_model(&d);
    for paths in ["2963", "600"] {
        let single = d.join(format!("single-{paths}"));
        ok(&[
            os("run"),
            m.as_os_str(),
            os("--paths"),
            os(paths),
            os("--threads"),
            os("1"),
            os("--out"),
            single.as_os_str(),
        ]);
        for n in [1u64, 2, 3, 5, 7] {
            let dir = d.join(format!("n{n}-{paths}"));
            let shards = run_shards("run", &m, &dir, n, &["--paths", paths]);
            let out = dir.join("merged");
            merge(&shards, &out).success();
            assert_same_output(&single, &out, "summary.json");
            let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
            let meta: Value =
                serde_json::from_str(&std::fs::read_to_string(shards[0].join("shard.json")).unwrap()).unwrap();
            assert_eq!(s["sharding"]["shards"], n, "paths {paths}, N = {n}");
            assert_eq!(s["sharding"]["model_hash"], meta["model_hash"]);
            assert_eq!(s["sharding"]["shard_threads"].as_array().unwrap().len() as u64, n);
            assert_eq!(s["paths"].as_u64().unwrap().to_string(), paths);
        }
    }
}

/// Sweeps split by grid points: 5 points in 2 and 3 shards merge into the single sweep's table and figures.
#[test]
fn sweep_shards_merge_to_the_single_sweep() {
    let d = scratch("shards-sweep");
    let m = write_model(&d);
    let vary = ["--vary", "dynamics.SAM.rho=0:0.2:5", "--paths", "700"];
    let single = d.join("single");
    bin()
        .arg("sweep")
        .arg(&m)
        .args(vary)
        .arg("--out")
        .arg(&single)
        .assert()
        .success();
    for n in [2u64, 3] {
        let dir = d.join(format!("n{n}"));
        let shards = run_shards("sweep", &m, &dir, n, &vary);
        let out = dir.join("merged");
        merge(&shards, &out).success();
        assert_same_output(&single, &out, "sweep.json");
    }
}

/// Runs `merge` expecting exit status 2 with `needle` and the folder `names` in the message, and no output.
fn refused(dirs: &[PathBuf], out: &Path, names: &Path, needle: &str) {
    let a = merge(dirs, out).code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    assert!(
        err.contains(&names.display().to_string()),
        "expected {} named in: {err}",
        names.display()
    );
    assert!(!out.exists(), "{} was written", out.display());
}

#[test]
fn merge_refuses_missing_duplicated_foreign_and_damaged_shards() {
    let d = scratch("shards-refused");
    let m = write_model(&d);
    let p = ["--paths", "900"];
    let s = run_shards("run", &m, &d.join("a"), 3, &p);
    let out = d.join("out");
    // Missing: shard 2 of 3 not given; its expected folder is named.
    refused(&s[..2], &out, &d.join("a/shards/2"), "missing shard: shard 2/3");
    // A folder given that does not exist.
    let gone = d.join("a/shards/9");
    refused(
        &[s[0].clone(), s[1].clone(), gone.clone()],
        &out,
        &gone,
        "shard folder missing",
    );
    // Duplicated.
    refused(
        &[s[0].clone(), s[1].clone(), s[1].clone(), s[2].clone()],
        &out,
        &s[1],
        "duplicated shard",
    );
    // Foreign: another seed, another N, another override, a sweep's shard.
    let seed = run_shards("run", &m, &d.join("seed"), 3, &["--paths", "900", "--seed", "12"]);
    refused(
        &[s[0].clone(), s[1].clone(), seed[2].clone()],
        &out,
        &seed[2],
        "its seed is 12, but 11",
    );
    let n4 = run_shards("run", &m, &d.join("n4"), 4, &p);
    refused(
        &[s[0].clone(), s[1].clone(), n4[2].clone()],
        &out,
        &n4[2],
        "its shard count N is 4, but 3",
    );
    let rho = run_shards(
        "run",
        &m,
        &d.join("rho"),
        3,
        &["--paths", "900", "--set", "dynamics.SAM.rho=0.06"],
    );
    refused(
        &[s[0].clone(), s[1].clone(), rho[2].clone()],
        &out,
        &rho[2],
        "its model hash is",
    );
    let sw = run_shards(
        "sweep",
        &m,
        &d.join("sw"),
        3,
        &["--paths", "900", "--vary", "dynamics.SAM.rho=0.1,0.2,0.3"],
    );
    refused(
        &[s[0].clone(), s[1].clone(), sw[2].clone()],
        &out,
        &sw[2],
        "its kind is sweep, but run",
    );
    // Damaged state: one byte changed.
    let bad = d.join("bad");
    copy_dir(&s[1], &bad);
    let state = bad.join("state.cbor");
    let mut bytes = std::fs::read(&state).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&state, bytes).unwrap();
    refused(
        &[s[0].clone(), bad.clone(), s[2].clone()],
        &out,
        &bad,
        "damaged or replaced",
    );
    // Not a shard folder at all.
    let plain = d.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    refused(
        &[s[0].clone(), plain.clone(), s[2].clone()],
        &out,
        &plain,
        "not a shard folder",
    );
    // The three real shards still merge.
    merge(&s, &out).success();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// `--out` may be the folder that holds the shards (the layout of `samsde submit`): the results are added at
/// its top, the subfolders stay; a second merge needs --force.
#[test]
fn merge_into_the_folder_holding_the_shards_keeps_them() {
    let d = scratch("shards-inplace");
    let m = write_model(&d);
    let single = d.join("single");
    ok(&[
        os("run"),
        m.as_os_str(),
        os("--paths"),
        os("900"),
        os("--out"),
        single.as_os_str(),
    ]);
    let out = d.join("out");
    let s = run_shards("run", &m, &out, 3, &["--paths", "900"]);
    std::fs::create_dir_all(out.join("slurm/logs")).unwrap();
    merge(&s, &out).success();
    assert_same_output(&single, &out, "summary.json");
    let a = merge(&s, &out).code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("--force"));
    bin()
        .arg("merge")
        .args(&s)
        .arg("--out")
        .arg(&out)
        .arg("--force")
        .assert()
        .success();
    assert_same_output(&single, &out, "summary.json");
    assert!(out.join("slurm/logs").is_dir() && s.iter().all(|k| k.join("state.cbor").is_file()));
}

/// A stand-in for `sbatch` that records its arguments and prints a job id (100, 101, …).
fn fake_sbatch(dir: &Path) -> PathBuf {
    let bin_dir = dir.join("fakebin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let log = dir.join("sbatch.log");
    let script = format!(
        "#!/bin/sh\nn=$(wc -l < '{log}' 2>/dev/null || echo 0)\nprintf '%s|' \"$@\" >> '{log}'\necho >> '{log}'\necho $((100 + n))\n",
        log = log.display()
    );
    let p = bin_dir.join("sbatch");
    std::fs::write(&p, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin_dir
}

fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut p = dir.as_os_str().to_owned();
    p.push(":");
    p.push(std::env::var_os("PATH").unwrap_or_default());
    p
}

/// `samsde submit` with a stand-in sbatch: the array is submitted first, the merge job with afterok on it,
/// both with the --sbatch options; jobs.json records the ids. Running the written batch scripts with bash, as
/// Slurm would (array task ids in the environment), gives exactly the single run's results. Then a sweep.
#[test]
fn submit_writes_batch_scripts_that_reproduce_the_run() {
    let d = scratch("shards-submit");
    let m = write_model(&d);
    let fake = fake_sbatch(&d);
    let single = d.join("single");
    ok(&[
        os("run"),
        m.as_os_str(),
        os("--paths"),
        os("1100"),
        os("--out"),
        single.as_os_str(),
    ]);
    let out = d.join("sub mit's %out");
    let a = bin()
        .env("PATH", path_with(&fake))
        .current_dir(&d)
        .arg("submit")
        .arg(&m)
        .args([
            "--shards",
            "3",
            "--paths",
            "1100",
            "--sbatch",
            "--time=5",
            "--sbatch",
            "--comment=it's",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        stdout.contains("shards: job 100 (array 0-2), merge: job 101"),
        "{stdout}"
    );
    let calls = std::fs::read_to_string(d.join("sbatch.log")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    let abs = out.canonicalize().unwrap();
    assert_eq!(
        calls,
        [
            format!(
                "--parsable|--time=5|--comment=it's|{}/slurm/shards.sbatch|",
                abs.display()
            ),
            format!(
                "--parsable|--dependency=afterok:100|--time=5|--comment=it's|{}/slurm/merge.sbatch|",
                abs.display()
            ),
        ]
    );
    let jobs: Value = serde_json::from_str(&std::fs::read_to_string(out.join("slurm/jobs.json")).unwrap()).unwrap();
    assert_eq!(
        (
            jobs["array_job"].as_str(),
            jobs["merge_job"].as_str(),
            jobs["shards"].as_u64()
        ),
        (Some("100"), Some("101"), Some(3))
    );
    assert!(out.join("slurm/logs").is_dir());
    // What Slurm would do: the array tasks, then the merge job, from another working directory.
    for k in 0..3 {
        let st = std::process::Command::new("bash")
            .arg(out.join("slurm/shards.sbatch"))
            .current_dir("/")
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_JOB_ID", "100")
            .env("SLURM_CPUS_PER_TASK", "2")
            .status()
            .unwrap();
        assert!(st.success(), "shard {k}");
    }
    let st = std::process::Command::new("bash")
        .arg(out.join("slurm/merge.sbatch"))
        .current_dir("/")
        .env("SLURM_JOB_ID", "101")
        .status()
        .unwrap();
    assert!(st.success());
    assert_same_output(&single, &out, "summary.json");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["sharding"]["shard_threads"], serde_json::json!([2, 2, 2]));
    // A task run outside an array refuses to start.
    let st = std::process::Command::new("bash")
        .arg(out.join("slurm/shards.sbatch"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert!(!st.status.success());

    // Submitting again into the same folder: refused without --force; with it, the earlier submission (its
    // shards, logs, jobs.json and merged results) is replaced, but not if someone else's file is in it.
    std::fs::write(out.join("slurm/logs/shard-100_0.out"), "a log").unwrap();
    let again = |force: bool| {
        let mut c = bin();
        c.env("PATH", path_with(&fake))
            .arg("submit")
            .arg(&m)
            .args(["--shards", "2", "--paths", "1100"]);
        if force {
            c.arg("--force");
        }
        c.arg("--out").arg(&out).assert()
    };
    again(false).code(2);
    std::fs::write(out.join("thesis.tex"), "mine").unwrap();
    again(true).code(2);
    assert!(out.join("thesis.tex").is_file() && out.join("summary.json").is_file());
    std::fs::remove_file(out.join("thesis.tex")).unwrap();
    again(true).success();
    assert!(!out.join("summary.json").exists() && !out.join("shards").exists());
    assert!(
        std::fs::read_to_string(out.join("slurm/shards.sbatch"))
            .unwrap()
            .contains("--array=0-1")
    );

    // A sweep: the array tasks share the grid points, the merge job writes the table.
    let sweep_single = d.join("sweep-single");
    let vary = ["--vary", "dynamics.SAM.rho=0.0,0.1,0.2,0.3", "--paths", "300"];
    bin()
        .arg("sweep")
        .arg(&m)
        .args(vary)
        .arg("--out")
        .arg(&sweep_single)
        .assert()
        .success();
    let sout = d.join("sweep-out");
    bin()
        .env("PATH", path_with(&fake))
        .arg("submit")
        .arg(&m)
        .args(["--shards", "2"])
        .args(vary)
        .arg("--out")
        .arg(&sout)
        .assert()
        .success();
    let script = std::fs::read_to_string(sout.join("slurm/shards.sbatch")).unwrap();
    assert!(
        script.contains(" sweep '") && script.contains("'--vary' 'dynamics.SAM.rho=0.0,0.1,0.2,0.3'"),
        "{script}"
    );
    for k in 0..2 {
        let st = std::process::Command::new("bash")
            .arg(sout.join("slurm/shards.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .env("SLURM_ARRAY_JOB_ID", "102")
            .status()
            .unwrap();
        assert!(st.success());
    }
    assert!(
        std::process::Command::new("bash")
            .arg(sout.join("slurm/merge.sbatch"))
            .env("SLURM_JOB_ID", "103")
            .status()
            .unwrap()
            .success()
    );
    assert_same_output(&sweep_single, &sout, "sweep.json");
}

/// --dry-run prints both sbatch commands and scripts and writes nothing (no Slurm needed); bad arguments are
/// refused with exit status 2 before anything is written.
#[test]
fn submit_dry_run_and_refusals() {
    let d = scratch("shards-submit-refused");
    let m = write_model(&d);
    let out = d.join("out");
    let a = bin()
        .env("PATH", "/nonexistent")
        .arg("submit")
        .arg(&m)
        .args(["--shards", "4", "--dry-run", "--sbatch", "--partition=debug"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    for needle in [
        "#SBATCH --array=0-3",
        "--dependency=afterok:",
        "'--partition=debug'",
        "--shard \"${SLURM_ARRAY_TASK_ID}/4\"",
        "merge \"${shards[@]}\"",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert!(text.contains(&std::path::absolute(&out).unwrap().display().to_string()));
    assert!(!out.exists());
    let refuse = |args: &[&str], needle: &str, path: Option<&str>| {
        let mut c = bin();
        if let Some(p) = path {
            c.env("PATH", p);
        }
        let a = c
            .arg("submit")
            .arg(&m)
            .args(args)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err}");
        assert!(!out.exists());
    };
    refuse(
        &["--shards", "2", "--sbatch", "--array=0-9"],
        "sets --array itself",
        None,
    );
    refuse(
        &["--shards", "2", "--sbatch", "short"],
        "expected one sbatch option",
        None,
    );
    refuse(&["--shards", "0"], "≥ 1", None);
    refuse(&["--shards", "13"], "only 12 blocks", None);
    refuse(&["--shards", "2", "--set", "solver.dt=-1"], "solver.dt", None);
    refuse(&["--shards", "2"], "sbatch not found", Some("/nonexistent"));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let a = bin()
        .env("PATH", path_with(&fake_sbatch(&d)))
        .arg("submit")
        .arg(&m)
        .args(["--shards", "2"])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("already exists"));
}
