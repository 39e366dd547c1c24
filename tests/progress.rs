//! Progress and feedback: the runner reports every finished block (not every wave of blocks), a terminal
//! shows a bar that stays visible at the end (run: paths; sweep: the point and its parameters), a pipe gets
//! no bar bytes at all, and `run` and `sweep` end with the wall time.

mod common;

use common::{bin, scratch};
use samsde::ensemble::{BLOCK, wave_blocks};
use samsde::progress::Tick;
use samsde::setup::{Experiment, Source};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const TINY: &str = r#"# tiny test model
name = "tiny"
[landscape]
kind = "quadratic"
hessian = [[1.0, 0.0], [0.0, -0.5]]
[[dynamics]]
label = "SGD"
kind = "sgd"
lr = 0.01
[solver]
dt = 0.01
t_end = 1.0
[ensemble]
paths = 2000
seed = 1
x0 = [0.5, 0.01]
"#;

fn model(dir: &Path) -> PathBuf {
    let p = dir.join("model.toml");
    std::fs::write(&p, TINY).expect("write model");
    p
}

/// Records every report of the runner.
#[derive(Default)]
struct Calls(Mutex<Vec<u64>>);

impl Tick for Calls {
    fn advance(&self, paths: u64) {
        self.0.lock().expect("lock").push(paths);
    }
}

/// One report per block of 256 paths (the last one partial), adding up to the paths: a bar moves at least
/// once per block, many times per wave of blocks in flight.
#[test]
fn the_runner_reports_every_block() {
    let paths = 40 * BLOCK + 17;
    let mut src = Source::parse("tiny", TINY).expect("parses");
    src.set(&format!("ensemble.paths={paths}")).expect("set");
    let exp = Experiment::load(&src).expect("valid");
    let calls = Calls::default();
    exp.run_ticking(2, 0..exp.blocks(), &calls).expect("runs");
    let mut c = calls.0.into_inner().expect("lock");
    assert_eq!(c.len() as u64, paths.div_ceil(BLOCK), "one report per block");
    assert_eq!(c.iter().sum::<u64>(), paths);
    c.sort_unstable();
    assert_eq!(c[0], 17, "the last block is partial");
    assert!(c[1..].iter().all(|&n| n == BLOCK));
    let wave = wave_blocks(&exp.entries, &exp.plan, 2);
    assert!(wave >= 4, "a wave holds {wave} blocks");
    assert!(
        c.len() as u64 > paths.div_ceil(BLOCK).div_ceil(wave),
        "more reports than waves"
    );
    // A range of blocks reports only its own paths.
    let calls = Calls::default();
    exp.run_ticking(2, 3..7, &calls).expect("runs");
    assert_eq!(calls.0.into_inner().expect("lock"), vec![BLOCK; 4]);
}

/// Without a terminal nothing but the final lines: stderr stays empty (no bar, no carriage return, no escape
/// sequence), and stdout ends with the wall time.
#[test]
fn a_pipe_gets_no_bar_and_the_wall_time() {
    let d = scratch("progress-pipe");
    let m = model(&d);
    let runs: [Vec<String>; 2] = [
        vec![
            "run".into(),
            m.display().to_string(),
            "--out".into(),
            d.join("r").display().to_string(),
        ],
        vec![
            "sweep".into(),
            m.display().to_string(),
            "--vary".into(),
            "dynamics.SGD.lr=0.01,0.02".into(),
            "--out".into(),
            d.join("s").display().to_string(),
        ],
    ];
    for args in runs {
        let a = bin().args(&args).assert().success();
        let out = a.get_output();
        assert!(
            out.stderr.is_empty(),
            "{args:?}: stderr {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.contains('\r') && !stdout.contains('\u{1b}'), "{stdout:?}");
        assert!(
            stdout.lines().last().is_some_and(|l| l.starts_with("wall time: ")),
            "{args:?}: {stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// On a terminal (a pseudo-terminal made by util-linux `script`) the bar is drawn and its final state stays:
/// all paths done; for a sweep, the last point and its parameters.
#[test]
fn a_terminal_gets_a_bar_that_stays() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no /usr/bin/script to make a pseudo-terminal");
        return;
    }
    let d = scratch("progress-tty");
    let m = model(&d);
    let exe = env!("CARGO_BIN_EXE_samsde");
    for (cmd, want) in [
        (
            format!("{exe} run {} --out {}", m.display(), d.join("r").display()),
            "2,000/2,000 paths",
        ),
        (
            format!(
                "{exe} sweep {} --vary dynamics.SGD.lr=0.01,0.02 --out {}",
                m.display(),
                d.join("s").display()
            ),
            "point 2/2: dynamics.SGD.lr=0.02",
        ),
    ] {
        let out = std::process::Command::new("/usr/bin/script")
            .args(["-qefc", &cmd, "/dev/null"])
            .output()
            .expect("script runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd}: {text}");
        assert!(text.contains(want), "{cmd}: no `{want}` in {text:?}");
        assert!(text.contains("4,000/4,000 paths") || !cmd.contains("sweep"), "{text:?}");
        assert!(text.contains("wall time: "), "{text:?}");
    }
    let _ = std::fs::remove_dir_all(&d);
}
