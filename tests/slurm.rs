//! A real Slurm (issue 14): a private one-node cluster (tests/slurm/start-local-cluster.sh, which installs
//! Debian's slurm-wlm and munge when missing), a 3-shard `samsde submit … --wait` whose merged summary.json,
//! CSVs and figures equal the single run's, and a submission whose shard 1 fails, which `--wait` reports (exit
//! status 1, the failed shard and its log named) once Slurm has cancelled the merge job. The cluster is
//! stopped at the end, also when the test fails. Skipped, with the reason printed, only when the start script
//! says Slurm cannot be had on this machine (exit status 77: no apt-get, not root, packages not installable),
//! and not even then when SAMSDE_REQUIRE_SLURM is set (CI sets it).
//!
//! Its own test binary, one test: cargo never runs two clusters for one state folder at once.

mod common;

use common::{bin, scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const MODEL: &str = r#"name = "slurmtest"
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
paths = 1700
seed = 3
x0 = [0.5, 0.01]
[exit]
kind = "ball"
radius = 1.0
[output]
snapshots = 6
sample_paths = 3
"#;

/// The scripts of tests/slurm.
fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slurm").join(name)
}

/// A running cluster; dropping it stops exactly the daemons its start script started.
struct Cluster {
    state: PathBuf,
    conf: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = Command::new(script("stop-local-cluster.sh")).arg(&self.state).output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "stop-local-cluster.sh: {}\n{}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("stop-local-cluster.sh: {e}"),
        }
    }
}

/// Starts the cluster in `state`; None (with the reason printed) when Slurm cannot be had here.
fn start(state: &Path) -> Option<Cluster> {
    let t0 = Instant::now();
    let out = Command::new(script("start-local-cluster.sh"))
        .arg(state)
        .output()
        .expect("run the start script");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(77) {
        let reason = stderr
            .lines()
            .find(|l| l.starts_with("SKIP:"))
            .unwrap_or("SKIP: (no reason given)");
        // CI sets SAMSDE_REQUIRE_SLURM=1: there, a cluster that cannot be had is a failure, not a skip.
        assert!(
            std::env::var_os("SAMSDE_REQUIRE_SLURM").is_none(),
            "Slurm required but {reason}"
        );
        println!("{reason}");
        eprintln!("{reason}");
        return None;
    }
    // From here on the stop script runs even if the start failed half-way.
    let mut cluster = Cluster {
        state: state.to_path_buf(),
        conf: String::new(),
    };
    assert!(
        out.status.success(),
        "start-local-cluster.sh failed ({}):\n{stderr}",
        out.status
    );
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(v) = line.strip_prefix("export SLURM_CONF=") {
            assert!(!v.contains(['\\', '\'', '"', '$']), "unexpected quoting in {line}");
            cluster.conf = v.to_string();
        }
    }
    assert!(
        !cluster.conf.is_empty(),
        "no SLURM_CONF among the exports:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    eprintln!("cluster up in {:.1} s", t0.elapsed().as_secs_f64());
    Some(cluster)
}

fn summary_sans_bookkeeping(dir: &Path) -> Value {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).expect("summary.json")).expect("json");
    for k in ["wall_seconds", "threads", "sharding"] {
        v.as_object_mut().expect("object").remove(k);
    }
    v
}

#[test]
fn sharded_submit_on_a_local_slurm_equals_the_single_run() {
    let d = scratch("slurm");
    // A short state path: the munge socket path must fit in 107 bytes.
    let state = std::env::temp_dir().join(format!("samsde-slurm-test-{}", std::process::id()));
    let Some(cluster) = start(&state) else {
        return;
    };
    let m = d.join("model.toml");
    std::fs::write(&m, MODEL).unwrap();
    let single = d.join("single");
    bin().arg("run").arg(&m).arg("--out").arg(&single).assert().success();

    // Three shards and the merge job, waited for.
    let out = d.join("submitted");
    let t0 = Instant::now();
    let a = bin()
        .env("SLURM_CONF", &cluster.conf)
        .arg("submit")
        .arg(&m)
        .args(["--shards", "3", "--wait", "--sbatch", "--time=5"])
        .arg("--out")
        .arg(&out)
        .timeout(Duration::from_secs(180))
        .assert();
    let o = a.get_output();
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(
        o.status.success(),
        "submit --wait failed ({}):\n{stdout}\n{stderr}",
        o.status
    );
    eprintln!(
        "submit --wait of 3 shards: {:.1} s\n{stdout}",
        t0.elapsed().as_secs_f64()
    );
    assert!(
        stdout.contains("shards: job ") && stdout.contains("merged into"),
        "{stdout}"
    );
    assert_eq!(summary_sans_bookkeeping(&single), summary_sans_bookkeeping(&out));
    for f in [
        "moments.csv",
        "exit_times.csv",
        "basins.csv",
        "paths.csv",
        "config.resolved.toml",
        "width.png",
        "cloud.png",
    ] {
        assert!(
            std::fs::read(single.join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
            "{f} differs"
        );
    }
    let s: Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["sharding"]["shards"], 3);
    let jobs: Value = serde_json::from_str(&std::fs::read_to_string(out.join("slurm/jobs.json")).unwrap()).unwrap();
    let array = jobs["array_job"].as_str().unwrap().to_string();
    for k in 0..3 {
        let log = out.join(format!("slurm/logs/shard-{array}_{k}.out"));
        let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        assert!(
            text.contains(&format!("samsde shard {k}/3")),
            "{}: {text}",
            log.display()
        );
    }

    // A failing shard: the jobs are submitted held; a file then takes shard 1's folder, so that task fails
    // (its output folder exists) once released, and Slurm cancels the merge job. --wait reports it.
    let bad = d.join("failing");
    let t0 = Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_samsde"))
        .env("SLURM_CONF", &cluster.conf)
        .arg("submit")
        .arg(&m)
        .args(["--shards", "3", "--wait", "--sbatch", "--hold"])
        .arg("--out")
        .arg(&bad)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !bad.join("slurm/jobs.json").is_file() {
        assert!(Instant::now() < deadline, "jobs.json never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::create_dir_all(bad.join("shards")).unwrap();
    std::fs::write(bad.join("shards/1"), "in the way").unwrap();
    // jobs.json is complete once it parses.
    let jobs: Value = loop {
        if let Ok(v) = serde_json::from_str(&std::fs::read_to_string(bad.join("slurm/jobs.json")).unwrap()) {
            break v;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let release = Command::new("scontrol")
        .env("SLURM_CONF", &cluster.conf)
        .args([
            "release",
            jobs["array_job"].as_str().unwrap(),
            jobs["merge_job"].as_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        release.status.success(),
        "scontrol release: {}",
        String::from_utf8_lossy(&release.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("submit --wait did not return within 120 s after a shard failed");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    eprintln!(
        "failing submission reported after {:.1} s:\n{stderr}",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("CANCELLED") && stderr.contains("shard 1: FAILED"),
        "{stderr}"
    );
    assert!(stderr.contains("/slurm/logs/shard-"), "{stderr}");
    assert!(!bad.join("summary.json").exists());
    let log = bad.join(format!(
        "slurm/logs/shard-{}_1.out",
        jobs["array_job"].as_str().unwrap()
    ));
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    // The shard's own error, naming its output folder, is in its log.
    assert!(
        text.contains("error: --out ") && text.contains("shards/1"),
        "{}: {text}",
        log.display()
    );
    drop(cluster);
    assert!(!state.exists(), "the stop script leaves no state folder");
}
