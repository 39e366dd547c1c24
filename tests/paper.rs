//! `samsde paper --quick` end to end: REPORT.md is written, its E1 and E2 rows all say "yes", and every figure
//! it lists decodes as a PNG.

mod common;

use common::{assert_figure, bin, scratch};
use std::path::PathBuf;

/// The agreement cells of the table rows of section `id` ("yes"/"no").
fn verdicts(report: &str, id: &str) -> Vec<String> {
    let head = format!("## {id} — ");
    let start = report.find(&head).unwrap_or_else(|| panic!("no section {id}"));
    let body = &report[start + head.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| claim"))
        .map(|l| {
            l.trim_end_matches('|')
                .rsplit('|')
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn paper_quick_writes_report_with_e1_e2_agreeing_and_png_figures() {
    let out = scratch("paper");
    let assert = bin().args(["paper", "--quick", "--out"]).arg(&out).assert().success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    let report_path = out.join("REPORT.md");
    assert!(report_path.is_file(), "no REPORT.md; stdout:\n{stdout}");
    assert!(stdout.contains("REPORT.md"), "the report path is printed:\n{stdout}");
    let report = std::fs::read_to_string(&report_path).unwrap();
    for id in ["E1", "E2"] {
        let v = verdicts(&report, id);
        assert!(v.len() >= 4, "{id}: too few rows: {v:?}");
        assert!(
            v.iter().all(|x| x == "yes"),
            "{id} rows must all agree: {v:?}\n{report}"
        );
    }
    // Every figure printed exists and is a real figure (a PNG of the plot module's size, not blank).
    let figs: Vec<PathBuf> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with(".png"))
        .map(PathBuf::from)
        .collect();
    assert!(figs.len() >= 8, "expected the study's figures, got {figs:?}");
    for f in &figs {
        assert_figure(f);
    }
    for name in [
        "e1_beale_trajectories.png",
        "e1_grad_cos.png",
        "e1_wp.png",
        "e2_trajectories.png",
    ] {
        assert!(out.join("figures").join(name).is_file(), "missing {name}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
