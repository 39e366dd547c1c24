//! Output folders are never a way to lose data (the real binary in scratch folders): `--force` replaces only a
//! folder samsde wrote (its marker, nothing foreign), never the current folder, its ancestors, the home folder
//! or the root (also through `..` and symbolic links); an unwritable `--out` is reported before anything is
//! simulated; two runs on one folder exclude each other (a lock), and temporary folders of killed runs are
//! removed by the next run. The default job and `paper` follow the same rule.

mod common;

use common::{bin, scratch};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A model that runs in well under a second.
const TINY: &str = r#"# tiny test model
name = "tiny"
[landscape]
kind = "quadratic"
hessian = [[1.0, 0.0], [0.0, -0.5]]
[[dynamics]]
kind = "sgd"
lr = 0.01
[solver]
dt = 0.01
t_end = 1.0
[ensemble]
paths = 64
seed = 1
x0 = [0.5, 0.01]
[output]
snapshots = 5
sample_paths = 2
"#;

/// Writes the tiny model with `paths` paths into `dir`.
fn model(dir: &Path, paths: u64) -> PathBuf {
    let p = dir.join("model.toml");
    std::fs::write(&p, TINY.replace("paths = 64", &format!("paths = {paths}"))).expect("write model");
    p
}

/// Every file and folder under `dir` with the contents of the files (symbolic links as their target).
fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let p = e.expect("entry").path();
            let meta = std::fs::symlink_metadata(&p).expect("meta");
            let rel = p.strip_prefix(dir).expect("inside").to_path_buf();
            if meta.file_type().is_symlink() {
                out.insert(rel, format!("-> {}", std::fs::read_link(&p).expect("link").display()));
            } else if meta.is_dir() {
                out.insert(rel, "/".into());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read_to_string(&p).unwrap_or_else(|_| "<binary>".into()));
            }
        }
    }
    out
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

/// Entries of `dir` whose names start with `.NAME.` (temporary folders, old folders, locks of output `NAME`).
fn leftovers(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|f| f.starts_with(&format!(".{name}.")))
        .collect()
}

#[test]
fn force_never_touches_the_current_folder_its_ancestors_home_or_root() {
    let d = scratch("out-places");
    let work = d.join("work");
    let home = d.join("home");
    for f in [&work, &home, &work.join("sub")] {
        std::fs::create_dir_all(f).expect("dir");
    }
    model(&work, 64);
    std::fs::write(work.join("notes.txt"), "my notes").expect("notes");
    std::fs::write(home.join("thesis.tex"), "my thesis").expect("thesis");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&work, d.join("link")).expect("symlink");
    let before = tree(&d);
    let cases: Vec<(String, &str)> = vec![
        (".".into(), "current folder"),
        ("./".into(), "current folder"),
        ("sub/..".into(), "current folder"),
        ("..".into(), "ancestor of the current folder"),
        ("../..".into(), "ancestor of the current folder"),
        (work.display().to_string(), "current folder"),
        (
            format!("{}/sub/../..", work.display()),
            "ancestor of the current folder",
        ),
        (d.join("link").display().to_string(), "current folder"),
        ("../link/sub/..".into(), "current folder"),
        (home.display().to_string(), "home folder"),
        (format!("{}/..", home.display()), "ancestor of the current folder"),
        ("/".into(), "root folder"),
    ];
    for (out, why) in &cases {
        for force in [true, false] {
            let mut cmd = bin();
            cmd.current_dir(&work)
                .env("HOME", &home)
                .args(["run", "model.toml", "--out", out]);
            if force {
                cmd.arg("--force");
            }
            let a = cmd.assert().code(2);
            let err = stderr(&a);
            assert!(
                err.contains(&format!("--out {out}")),
                "{out}: names the user's path:\n{err}"
            );
            assert!(err.contains(why), "{out}: says why ({why}):\n{err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
    // The same for sweep, the default job's rule (through --out) and paper.
    let a = bin()
        .current_dir(&work)
        .env("HOME", &home)
        .args([
            "sweep",
            "model.toml",
            "--vary",
            "dynamics.SGD.lr=0.01,0.02",
            "--out",
            ".",
            "--force",
        ])
        .assert()
        .code(2);
    assert!(stderr(&a).contains("current folder"), "{}", stderr(&a));
    let a = bin()
        .current_dir(&work)
        .env("HOME", &home)
        .args(["paper", "--quick", "--out", ".."])
        .assert()
        .code(2);
    assert!(stderr(&a).contains("ancestor of the current folder"), "{}", stderr(&a));
    assert_eq!(tree(&d), before, "nothing may change");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn force_replaces_only_folders_samsde_wrote() {
    let d = scratch("out-force");
    let m = model(&d, 64);
    let run = |out: &Path, force: bool| {
        let mut cmd = bin();
        cmd.current_dir(&d).arg("run").arg(&m).arg("--out").arg(out);
        if force {
            cmd.arg("--force");
        }
        cmd.assert()
    };
    // A folder of someone else's files, even one looking like results.
    let foreign = d.join("thesis");
    std::fs::create_dir_all(foreign.join("data")).expect("dir");
    std::fs::write(foreign.join("data").join("thesis.tex"), "chapter 1").expect("tex");
    std::fs::write(foreign.join("summary.json"), "{}").expect("json");
    let before = tree(&d);
    let a = run(&foreign, true).code(2);
    assert!(
        stderr(&a).contains("data/thesis.tex"),
        "names a foreign file:\n{}",
        stderr(&a)
    );
    let a = run(&foreign, false).code(2);
    assert!(stderr(&a).contains("--force"), "{}", stderr(&a));
    let a = bin()
        .current_dir(&d)
        .arg("sweep")
        .arg(&m)
        .args(["--vary", "dynamics.SGD.lr=0.01,0.02", "--force", "--out"])
        .arg(&foreign)
        .assert()
        .code(2);
    assert!(stderr(&a).contains("thesis.tex"), "{}", stderr(&a));
    assert_eq!(tree(&d), before, "the foreign folder is untouched");

    // samsde's own folder: refused without --force, replaced with it; its marker lists every file.
    let out = d.join("res");
    run(&out, false).success();
    let marker = out.join(".samsde-output.json");
    let listed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&marker).expect("marker")).expect("json");
    assert_eq!(listed["kind"], "run");
    assert_eq!(listed["complete"], true);
    let files: Vec<&str> = listed["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    for f in ["summary.json", "config.resolved.toml", "moments.csv", "width.png"] {
        assert!(files.contains(&f), "marker lists {f}: {files:?}");
    }
    assert_eq!(
        files.len(),
        std::fs::read_dir(&out).expect("dir").count() - 1,
        "{files:?}"
    );
    run(&out, false).code(2);
    // A file added to it afterwards makes it someone's again.
    std::fs::write(out.join("my_analysis.ipynb"), "{}").expect("notebook");
    let before = tree(&d);
    let a = run(&out, true).code(2);
    assert!(stderr(&a).contains("my_analysis.ipynb"), "{}", stderr(&a));
    assert_eq!(tree(&d), before);
    std::fs::remove_file(out.join("my_analysis.ipynb")).expect("rm");
    // A stale figure of the old folder does not survive the replacement; nothing is left beside it.
    std::fs::write(out.join("width.png"), "old").expect("png");
    let files_before: Vec<String> = files.iter().map(|s| s.to_string()).collect();
    run(&out, true).success();
    assert_ne!(std::fs::read(out.join("width.png")).expect("png"), b"old");
    assert!(Path::new(&out.join("summary.json")).is_file());
    assert_eq!(leftovers(&d, "res"), Vec::<String>::new());
    // A folder written before the marker existed (its key files and samsde's file names only) is samsde's.
    std::fs::remove_file(&marker).expect("rm marker");
    run(&out, true).success();
    assert!(marker.is_file());
    // Without its key files, or with a foreign name, it is not.
    std::fs::remove_file(&marker).expect("rm marker");
    std::fs::write(out.join("model.toml"), TINY).expect("model");
    run(&out, true).code(2);
    assert!(out.join("model.toml").is_file());
    // An existing empty folder is used without --force.
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    run(&empty, false).success();
    assert!(empty.join("summary.json").is_file());
    assert_eq!(files_before.len(), files.len());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn unwritable_out_is_reported_before_the_run() {
    let d = scratch("out-unwritable");
    // 10⁹ paths: hours of simulation, so an answer within the timeout means nothing was simulated.
    let m = model(&d, 1_000_000_000);
    std::fs::write(d.join("a_file"), "data").expect("file");
    let mut cases: Vec<PathBuf> = vec![d.join("a_file"), d.join("a_file").join("sub")];
    if cfg!(target_os = "linux") {
        cases.push(PathBuf::from("/proc/samsde-x"));
        cases.push(PathBuf::from("/sys/samsde-x/y"));
    }
    // A read-only folder (not read-only to root: then it is skipped, /sys stands in for it).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = d.join("ro");
        std::fs::create_dir_all(&ro).expect("dir");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        if std::fs::write(ro.join("probe"), "").is_err() {
            cases.push(ro.join("out"));
        }
    }
    for out in &cases {
        let t0 = Instant::now();
        let a = bin()
            .arg("run")
            .arg(&m)
            .arg("--out")
            .arg(out)
            .timeout(Duration::from_secs(120))
            .assert()
            .code(2);
        let err = stderr(&a);
        assert!(
            err.contains(&out.display().to_string()),
            "names {}:\n{err}",
            out.display()
        );
        assert!(err.matches("os error").count() <= 1, "the OS error once:\n{err}");
        assert!(err.lines().count() <= 2, "{err}");
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{}: took {:?}",
            out.display(),
            t0.elapsed()
        );
    }
    assert_eq!(std::fs::read_to_string(d.join("a_file")).expect("file"), "data");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(d.join("ro"), std::fs::Permissions::from_mode(0o755));
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_second_run_on_the_same_folder_fails_and_a_killed_runs_temporary_folder_is_removed() {
    let d = scratch("out-lock");
    let big = d.join("big");
    std::fs::create_dir_all(&big).expect("dir");
    let m_big = model(&big, 1_000_000_000);
    let m = model(&d, 64);
    let out = d.join("res");
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_samsde"))
        .arg("run")
        .arg(&m_big)
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let tmp = d.join(format!(".res.tmp-{}", first.id()));
    let t0 = Instant::now();
    while !tmp.is_dir() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the first run never created {}",
            tmp.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The second run fails at once, whatever its options.
    for force in [false, true] {
        let mut cmd = bin();
        cmd.arg("run").arg(&m).arg("--out").arg(&out);
        if force {
            cmd.arg("--force");
        }
        let a = cmd.timeout(Duration::from_secs(60)).assert().code(2);
        assert!(stderr(&a).contains("another samsde run"), "{}", stderr(&a));
    }
    assert!(!out.exists(), "the second run wrote nothing");
    first.kill().expect("kill");
    first.wait().expect("wait");
    assert!(tmp.is_dir(), "a killed run leaves its temporary folder");
    // A leftover of a dead process that is not samsde's is kept.
    let not_ours = d.join(".res.tmp-999999999");
    std::fs::create_dir_all(&not_ours).expect("dir");
    std::fs::write(not_ours.join("keep.txt"), "mine").expect("file");
    bin().arg("run").arg(&m).arg("--out").arg(&out).assert().success();
    assert!(!tmp.exists(), "the next run removes the dead run's temporary folder");
    assert!(out.join("summary.json").is_file());
    assert_eq!(leftovers(&d, "res"), vec![".res.tmp-999999999".to_string()]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn default_job_and_paper_replace_only_their_own_folders() {
    let d = scratch("out-default");
    let mine = d.join("output").join("default");
    std::fs::create_dir_all(&mine).expect("dir");
    std::fs::write(mine.join("draft.md"), "my draft").expect("file");
    let paper = d.join("paper");
    std::fs::create_dir_all(paper.join("figures")).expect("dir");
    std::fs::write(paper.join("figures").join("fig1.pdf"), "mine").expect("file");
    let before = tree(&d);
    let a = bin().current_dir(&d).timeout(Duration::from_secs(60)).assert().code(2);
    assert!(stderr(&a).contains("draft.md"), "{}", stderr(&a));
    let a = bin()
        .current_dir(&d)
        .args(["paper", "--quick", "--out", "paper"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("figures/fig1.pdf"), "{}", stderr(&a));
    assert_eq!(tree(&d), before);
    let _ = std::fs::remove_dir_all(&d);
}
